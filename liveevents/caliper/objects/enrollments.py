"""Enrollments, enrollment states and account associations (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from liveevents.caliper.shapes import Body, Field, Shape, copy, date, entity_id, extensions, urn_of
from liveevents.caliper.values import optional_id, section_urn

__all__ = [
    "ENROLLMENT_CREATED",
    "ENROLLMENT_STATE",
    "ENROLLMENT_UPDATED",
    "USER_ACCOUNT_ASSOCIATION",
]


def _course_section(body: Body) -> str | None:
    course_id = optional_id(body, "course_id")
    section_id = optional_id(body, "course_section_id")
    if course_id is None or section_id is None:
        return None
    return section_urn(course_id, section_id)


_ENROLLMENT_EXTENSIONS = extensions(
    urn_of("course_id", "course", "course_id"),
    ("course_section_id", _course_section),
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
