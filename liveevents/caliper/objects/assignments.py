"""Assignments and assignment overrides (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from liveevents.caliper.shapes import Shape, copy, date, entity_id, extensions, identifier, score, text

__all__ = ["ASSIGNMENT_CREATED", "ASSIGNMENT_OVERRIDE", "ASSIGNMENT_UPDATED"]

# The created event's body has no created_at: dateCreated comes from updated_at, as documented.
ASSIGNMENT_CREATED = Shape(
    "assignment", "assignment_id", "AssignableDigitalResource",
    text("name", "title"),
    text("description"),
    date("dateCreated", "updated_at"),
    extensions(date("lock_at"), entity_id("assignment_id")),
    date("dateToShow", "unlock_at"),
    date("dateToSubmit", "due_at"),
    score("maxScore", "points_possible"),
)  # fmt: skip

ASSIGNMENT_UPDATED = Shape(
    "assignment", "assignment_id", "AssignableDigitalResource",
    text("name", "title"),
    text("description"),
    date("dateModified", "updated_at"),
    extensions(date("lock_at"), copy("workflow_state"), entity_id("assignment_id")),
    date("dateToShow", "unlock_at"),
    date("dateToSubmit", "due_at"),
    score("maxScore", "points_possible"),
)  # fmt: skip

# entity_id second, course_section_id/group_id (schema-listed, never exemplified) after type.
ASSIGNMENT_OVERRIDE = Shape(
    "assignment_override", "assignment_override_id", "Entity",
    extensions(
        date("lock_at"),
        entity_id("assignment_override_id"),
        identifier("assignment_id"),
        copy("all_day"),
        date("all_day_date"),
        copy("type"),
        identifier("course_section_id"),
        identifier("group_id"),
        copy("workflow_state"),
    ),
    date("dateToShow", "unlock_at"),
    date("dateToSubmit", "due_at"),
)  # fmt: skip
