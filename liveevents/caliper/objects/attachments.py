"""Files: attachment_created / _updated / _deleted (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from liveevents.caliper.shapes import Field, Shape, copy, date, entity_id, extensions, identifier, text

__all__ = ["ATTACHMENT_CHANGED", "ATTACHMENT_CREATED"]


def _attachment(timestamp: Field) -> Shape:
    return Shape(
        "attachment", "attachment_id", "Document",
        text("name", "display_name"),
        timestamp,
        extensions(
            identifier("context_id"),
            copy("context_type"),
            copy("filename"),
            identifier("folder_id"),
            entity_id("attachment_id"),
        ),
        text("mediaType", "content_type"),
    )  # fmt: skip


ATTACHMENT_CREATED = _attachment(date("dateCreated", "updated_at"))
#: attachment_updated and attachment_deleted.
ATTACHMENT_CHANGED = _attachment(date("dateModified", "updated_at"))
