"""The one table of the Canvas → Caliper mapping: for each of the 32 event types Instructure
documents in Caliper form, its Caliper type and action, the builder of its object, where its
group comes from, and any exception to the shared actor rule (``canvas-to-caliper.md`` §2, §4, §5).

Everything shared (actor, extensions, edApp, group, membership, session, referrer, ids, times)
is applied by ``liveevents.caliper.envelope`` to every row alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from liveevents.caliper.actor import ActorRule
from liveevents.caliper.context import ContextSource, body_context, enrollment_section, metadata_context, syllabus_course
from liveevents.caliper.objects import (
    assignments,
    attachments,
    courses,
    discussions,
    enrollments,
    grading,
    groups,
    navigation,
    quizzes,
    sessions,
    submissions,
    wiki,
)
from liveevents.caliper.shapes import ObjectBuilder

__all__ = ["MAPPINGS", "Mapping", "UnmappedEventError", "caliper_event_types"]


@dataclass(frozen=True, slots=True)
class Mapping:
    """How one Canvas event type becomes a Caliper event."""

    caliper_type: str
    action: str
    object: ObjectBuilder
    #: Where the group (and the membership's organization) comes from.
    context: ContextSource = metadata_context
    #: The body's ``user_id`` is the actor when the metadata names no user (§4.4 rule 2).
    body_actor: bool = False
    #: Replaces the shared actor rule (grade_change only).
    actor: ActorRule | None = None
    generated: ObjectBuilder | None = None
    #: The object in the strict profile, where it differs from the documented one.
    strict_object: ObjectBuilder | None = None


MAPPINGS: dict[str, Mapping] = {
    "asset_accessed": Mapping("NavigationEvent", "NavigatedTo", navigation.asset_object),
    "assignment_created": Mapping("Event", "Created", assignments.ASSIGNMENT_CREATED),
    "assignment_override_created": Mapping("Event", "Created", assignments.ASSIGNMENT_OVERRIDE),
    "assignment_override_updated": Mapping("Event", "Modified", assignments.ASSIGNMENT_OVERRIDE),
    "assignment_updated": Mapping("Event", "Modified", assignments.ASSIGNMENT_UPDATED),
    "attachment_created": Mapping("Event", "Created", attachments.ATTACHMENT_CREATED, body_context, body_actor=True),
    "attachment_deleted": Mapping("Event", "Deleted", attachments.ATTACHMENT_CHANGED, body_context, body_actor=True),
    "attachment_updated": Mapping("Event", "Modified", attachments.ATTACHMENT_CHANGED, body_context, body_actor=True),
    "course_created": Mapping("Event", "Created", courses.COURSE_CREATED),
    "course_updated": Mapping("Event", "Modified", courses.COURSE_UPDATED),
    "discussion_entry_created": Mapping("MessageEvent", "Posted", discussions.DISCUSSION_ENTRY, body_actor=True),
    "discussion_topic_created": Mapping("ThreadEvent", "Created", discussions.DISCUSSION_TOPIC, body_context),
    "enrollment_created": Mapping("Event", "Created", enrollments.ENROLLMENT_CREATED, enrollment_section),
    "enrollment_state_created": Mapping("Event", "Created", enrollments.ENROLLMENT_STATE),
    "enrollment_state_updated": Mapping("Event", "Modified", enrollments.ENROLLMENT_STATE),
    "enrollment_updated": Mapping("Event", "Modified", enrollments.ENROLLMENT_UPDATED, enrollment_section),
    "grade_change": Mapping(
        "GradeEvent", "Graded", grading.GRADED_ATTEMPT, actor=grading.grade_change_actor, generated=grading.graded_score
    ),
    "group_category_created": Mapping("Event", "Created", groups.GROUP_CATEGORY, body_context),
    "group_created": Mapping("Event", "Created", groups.GROUP, body_context),
    "group_membership_created": Mapping(
        "Event", "Created", groups.GROUP_MEMBERSHIP, strict_object=groups.GROUP_MEMBERSHIP_STRICT
    ),
    "logged_in": Mapping("SessionEvent", "LoggedIn", sessions.session_application),
    "logged_out": Mapping("SessionEvent", "LoggedOut", sessions.session_application),
    "quiz_created": Mapping("Event", "Created", quizzes.QUIZ_CREATED),
    "quiz_submitted": Mapping("AssessmentEvent", "Submitted", quizzes.quiz_attempt),
    "quiz_updated": Mapping("Event", "Modified", quizzes.QUIZ_UPDATED),
    "submission_created": Mapping("AssignableEvent", "Submitted", submissions.SUBMISSION_CREATED, body_actor=True),
    "submission_updated": Mapping("Event", "Modified", submissions.SUBMISSION_UPDATED),
    "syllabus_updated": Mapping("Event", "Modified", courses.syllabus, syllabus_course),
    "user_account_association_created": Mapping("Event", "Created", enrollments.USER_ACCOUNT_ASSOCIATION),
    "wiki_page_created": Mapping("Event", "Created", wiki.WIKI_PAGE),
    "wiki_page_deleted": Mapping("Event", "Deleted", wiki.WIKI_PAGE),
    "wiki_page_updated": Mapping("Event", "Modified", wiki.WIKI_PAGE),
}

_EVENT_TYPES = frozenset(MAPPINGS)


def caliper_event_types() -> frozenset[str]:
    """The Canvas event types that have a Caliper form (a Caliper subscription may select only these)."""
    return _EVENT_TYPES


class UnmappedEventError(ValueError):
    """A Caliper form was asked for an event type Instructure documents in Canvas format only."""

    def __init__(self, event_name: str) -> None:
        self.event_name = event_name
        super().__init__(
            f"no Caliper mapping for event type {event_name!r}: Instructure documents a Caliper form for "
            f"{len(MAPPINGS)} event types only; the Canvas format is available for every event type"
        )
