"""A raw Canvas live event, read from either of its two shapes, with input validation.

Canvas publishes ``{"attributes": {...}, "body": {...}}`` to Kinesis; Instructure delivers
``{"metadata": {...}, "body": {...}}``.  Both carry the same event: ``attributes`` *is*
``metadata``.  Every rejection is a :class:`RecordError` naming the field, the value and
the rule it broke, so a bad record can be quarantined with a reason a human can act on.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from liveevents.timestamps import normalize_timestamp

__all__ = ["CanvasEvent", "RecordError", "decode_record", "parse_record"]

# Canvas event names are snake_case, some namespaced with a dot
# (``outcomes.retry_outcome_alignment_clone``).
EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,127}")
_SHAPES = ("attributes", "metadata")


class RecordError(ValueError):
    """A raw record that cannot be read as a Canvas live event.

    ``field`` is a dotted path into the record (``"attributes.event_time"``; ``""`` for the
    record itself), ``value`` the offending value (``None`` when missing) and ``rule`` a
    short statement of what was expected.
    """

    def __init__(self, field: str, value: Any, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        where = field or "record"
        super().__init__(f"{where}: {_describe(value)}: {rule}")


def _describe(value: Any) -> str:
    if value is _MISSING:
        return "missing"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "missing"})()


@dataclass(frozen=True, slots=True)
class CanvasEvent:
    """One Canvas live event: ``metadata`` (Kinesis ``attributes``) and ``body``, unchanged."""

    metadata: dict[str, Any]
    body: dict[str, Any]

    @property
    def event_name(self) -> str:
        return self.metadata["event_name"]

    @property
    def event_time(self) -> str:
        """``metadata.event_time`` normalised to ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC)."""
        return normalize_timestamp(self.metadata["event_time"])

    @property
    def event_id(self) -> str:
        """A version-4-format UUID that is the same for the same event, whatever its shape.

        Instructure's ids are random; ours are derived from the canonical JSON of the event
        (sorted keys), so every subscription, retry and replay carries the same id and
        consumers can de-duplicate.
        """
        canonical = orjson.dumps({"metadata": self.metadata, "body": self.body}, option=orjson.OPT_SORT_KEYS)
        return str(uuid.UUID(bytes=hashlib.sha256(canonical).digest()[:16], version=4))


def parse_record(record: object) -> CanvasEvent:
    """Validate a decoded raw record and return it as a :class:`CanvasEvent`."""
    if not isinstance(record, dict):
        raise RecordError("", record, f"a record must be a JSON object, not {_json_type(record)}")
    shapes = [key for key in _SHAPES if key in record]
    if len(shapes) != 1:
        rule = (
            "a record has either 'attributes' (Kinesis shape) or 'metadata' (delivered shape), not both"
            if shapes
            else "a record needs 'attributes' (Kinesis shape) or 'metadata' (delivered shape)"
        )
        raise RecordError("", sorted(record)[:8], rule)
    shape = shapes[0]
    unknown = sorted(set(record) - {shape, "body"})
    if unknown:
        raise RecordError(unknown[0], record[unknown[0]], f"unknown top-level key; a record holds only '{shape}' and 'body'")
    metadata = record[shape]
    if not isinstance(metadata, dict):
        raise RecordError(shape, metadata, f"must be a JSON object, not {_json_type(metadata)}")
    body = record.get("body", _MISSING)
    if body is _MISSING:
        raise RecordError("body", _MISSING, "a record needs a 'body' object")
    if not isinstance(body, dict):
        raise RecordError("body", body, f"must be a JSON object, not {_json_type(body)}")

    event_name = metadata.get("event_name", _MISSING)
    if not isinstance(event_name, str) or not EVENT_NAME.fullmatch(event_name):
        raise RecordError(
            f"{shape}.event_name",
            event_name,
            "required: a Canvas event name such as 'asset_accessed' (letters, digits, '_', '.', up to 128 characters)",
        )
    event_time = metadata.get("event_time", _MISSING)
    if not isinstance(event_time, str):
        raise RecordError(f"{shape}.event_time", event_time, "required: an ISO 8601 timestamp string such as '2019-11-01T19:11:05.222Z'")
    try:
        normalize_timestamp(event_time)
    except ValueError as error:
        raise RecordError(f"{shape}.event_time", event_time, str(error).split(" ", 1)[1]) from None
    return CanvasEvent(metadata, body)


def decode_record(data: bytes | str) -> CanvasEvent:
    """Decode a record's JSON bytes and validate it (``RecordError`` for bad JSON too)."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise RecordError("", _preview(data), f"not valid JSON ({error})") from None
    return parse_record(record)


def _preview(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray, memoryview)) else data
    return text if len(text) <= 80 else text[:77] + "..."


def _json_type(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
    return type(value).__name__
