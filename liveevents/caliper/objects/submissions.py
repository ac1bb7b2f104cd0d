"""Assignment submissions as Attempts (``canvas-to-caliper.md`` §5.1, §5.2)."""

from __future__ import annotations

from liveevents.caliper.shapes import Shape, copy, count, date, entity_id, extensions, reference, text

__all__ = ["ASSIGNEE", "ASSIGNABLE", "SUBMISSION_CREATED", "SUBMISSION_UPDATED"]

ASSIGNEE = reference("assignee", "user", "user_id", "Person")
ASSIGNABLE = reference("assignable", "assignment", "assignment_id", "AssignableDigitalResource")


SUBMISSION_CREATED = Shape(
    "submission", "submission_id", "Attempt",
    # Policy: submitted_at, falling back to updated_at (equal in the documented example).
    date("dateCreated", "submitted_at", "updated_at"),
    extensions(copy("submission_type"), copy("url"), entity_id("submission_id")),
    ASSIGNEE,
    ASSIGNABLE,
    count("count", "attempt"),
    text("body"),
)  # fmt: skip

# No body and no url: the event's schema lists only entity_id and submission_type.
SUBMISSION_UPDATED = Shape(
    "submission", "submission_id", "Attempt",
    date("dateModified", "updated_at"),
    extensions(copy("submission_type"), entity_id("submission_id")),
    ASSIGNEE,
    ASSIGNABLE,
    count("count", "attempt"),
)  # fmt: skip
