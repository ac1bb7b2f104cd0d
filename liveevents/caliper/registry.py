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
from liveevents.caliper.vocabulary import PERSON_ACTOR_TYPES

__all__ = ["MAPPINGS", "EventMapping", "UnmappedEventError", "caliper_event_types"]


@dataclass(frozen=True, slots=True)
class EventMapping:
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

    def object_in(self, *, strict: bool) -> ObjectBuilder:
        """The object's builder in the strict profile (``strict``) or the documented one."""
        return self.strict_object if strict and self.strict_object is not None else self.object

    @property
    def person_required(self) -> bool:
        """A request's actor is a Person even when Canvas does not name the user (``user:0``)."""
        return self.caliper_type in PERSON_ACTOR_TYPES


MAPPINGS: dict[str, EventMapping] = {
    "asset_accessed": EventMapping("NavigationEvent", "NavigatedTo", navigation.asset_object),
    "assignment_created": EventMapping("Event", "Created", assignments.ASSIGNMENT_CREATED),
    "assignment_override_created": EventMapping("Event", "Created", assignments.ASSIGNMENT_OVERRIDE),
    "assignment_override_updated": EventMapping("Event", "Modified", assignments.ASSIGNMENT_OVERRIDE),
    "assignment_updated": EventMapping("Event", "Modified", assignments.ASSIGNMENT_UPDATED),
    "attachment_created": EventMapping("Event", "Created", attachments.ATTACHMENT_CREATED, body_context, body_actor=True),
    "attachment_deleted": EventMapping("Event", "Deleted", attachments.ATTACHMENT_CHANGED, body_context, body_actor=True),
    "attachment_updated": EventMapping("Event", "Modified", attachments.ATTACHMENT_CHANGED, body_context, body_actor=True),
    "course_created": EventMapping("Event", "Created", courses.COURSE_CREATED),
    "course_updated": EventMapping("Event", "Modified", courses.COURSE_UPDATED),
    "discussion_entry_created": EventMapping("MessageEvent", "Posted", discussions.DISCUSSION_ENTRY, body_actor=True),
    "discussion_topic_created": EventMapping("ThreadEvent", "Created", discussions.DISCUSSION_TOPIC, body_context),
    "enrollment_created": EventMapping("Event", "Created", enrollments.ENROLLMENT_CREATED, enrollment_section),
    "enrollment_state_created": EventMapping("Event", "Created", enrollments.ENROLLMENT_STATE),
    "enrollment_state_updated": EventMapping("Event", "Modified", enrollments.ENROLLMENT_STATE),
    "enrollment_updated": EventMapping("Event", "Modified", enrollments.ENROLLMENT_UPDATED, enrollment_section),
    "grade_change": EventMapping(
        "GradeEvent", "Graded", grading.GRADED_ATTEMPT, actor=grading.grade_change_actor, generated=grading.graded_score
    ),
    "group_category_created": EventMapping("Event", "Created", groups.GROUP_CATEGORY, body_context),
    "group_created": EventMapping("Event", "Created", groups.GROUP, body_context),
    "group_membership_created": EventMapping(
        "Event", "Created", groups.GROUP_MEMBERSHIP, strict_object=groups.GROUP_MEMBERSHIP_STRICT
    ),
    "logged_in": EventMapping("SessionEvent", "LoggedIn", sessions.session_application),
    "logged_out": EventMapping("SessionEvent", "LoggedOut", sessions.session_application),
    "quiz_created": EventMapping("Event", "Created", quizzes.QUIZ_CREATED),
    "quiz_submitted": EventMapping("AssessmentEvent", "Submitted", quizzes.quiz_attempt),
    "quiz_updated": EventMapping("Event", "Modified", quizzes.QUIZ_UPDATED),
    "submission_created": EventMapping("AssignableEvent", "Submitted", submissions.SUBMISSION_CREATED, body_actor=True),
    "submission_updated": EventMapping("Event", "Modified", submissions.SUBMISSION_UPDATED),
    "syllabus_updated": EventMapping("Event", "Modified", courses.syllabus, syllabus_course),
    "user_account_association_created": EventMapping("Event", "Created", enrollments.USER_ACCOUNT_ASSOCIATION),
    "wiki_page_created": EventMapping("Event", "Created", wiki.WIKI_PAGE),
    "wiki_page_deleted": EventMapping("Event", "Deleted", wiki.WIKI_PAGE),
    "wiki_page_updated": EventMapping("Event", "Modified", wiki.WIKI_PAGE),
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
