"""The Canvas delivery format: ``{"metadata": ..., "body": ...}``, as Instructure sends it."""

from __future__ import annotations

from typing import Any

from liveevents.canvas.record import CanvasEvent, parse_record
from liveevents.canvas.redaction import redact_url

__all__ = ["canvas_message"]

# Metadata keys that can hold a URL with an ``access_token`` query parameter (a bearer token).
_URL_KEYS = ("url", "referrer")


def canvas_message(record: object, *, redact_tokens: bool = True) -> dict[str, Any]:
    """Return the Canvas-format message for a raw record (either shape).

    ``metadata`` and ``body`` are passed through unchanged, except that with
    ``redact_tokens`` (the default) the value of any ``access_token`` query parameter in
    ``metadata.url`` and ``metadata.referrer`` becomes ``[FILTERED]``: Canvas puts API
    tokens there, and a subscriber has no business receiving them.
    """
    event = record if isinstance(record, CanvasEvent) else parse_record(record)
    metadata = event.metadata
    if redact_tokens:
        metadata = dict(metadata)
        for key in _URL_KEYS:
            value = metadata.get(key)
            if isinstance(value, str):
                metadata[key] = redact_url(value)
    return {"metadata": metadata, "body": event.body}
