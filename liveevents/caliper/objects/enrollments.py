"""Enrollments, enrollment states and account associations (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from liveevents.caliper.shapes import Field, Shape, copy, date, entity_id, extensions, section_urn_of, urn_of

__all__ = [
    "ENROLLMENT_CREATED",
    "ENROLLMENT_STATE",
    "ENROLLMENT_UPDATED",
    "USER_ACCOUNT_ASSOCIATION",
]


_ENROLLMENT_EXTENSIONS = extensions(
    urn_of("course_id", "course", "course_id"),
    section_urn_of("course_section_id"),
    copy("limit_privileges_to_course_section"),
    copy("type"),
    urn_of("user_id", "user", "user_id"),
    copy("user_name"),
    copy("workflow_state"),
    entity_id("enrollment_id"),
)


def _enrollment(*dates: Field) -> Shape:
    return Shape("enrollment", "enrollment_id", "Entity", *dates, _ENROLLMENT_EXTENSIONS)


ENROLLMENT_CREATED = _enrollment(date("dateCreated", "created_at"))
ENROLLMENT_UPDATED = _enrollment(date("dateCreated", "created_at"), date("dateModified", "updated_at"))

#: enrollment_state_created and enrollment_state_updated.
ENROLLMENT_STATE = Shape(
    "enrollment", "enrollment_id", "Entity",
    extensions(
        copy("access_is_current"),
        copy("restricted_access"),
        copy("state"),
        copy("state_is_current"),
        date("state_valid_until"),
        entity_id("enrollment_id"),
    ),
    date("startedAtTime", "state_started_at"),
)  # fmt: skip

# The only documented object without entity_id (T14).
USER_ACCOUNT_ASSOCIATION = Shape(
    "account", "account_id", "Entity",
    date("dateCreated", "created_at"),
    date("dateModified", "updated_at"),
    extensions(copy("is_admin"), urn_of("user_id", "user", "user_id")),
)  # fmt: skip
