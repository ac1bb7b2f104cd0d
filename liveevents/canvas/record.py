"""A raw Canvas live event, read from either of its two shapes, with input validation.

Canvas publishes ``{"attributes": {...}, "body": {...}}`` to Kinesis; Instructure delivers
``{"metadata": {...}, "body": {...}}``.  Both carry the same event: ``attributes`` *is*
``metadata``.  Every rejection is a :class:`RecordError` naming the field, the value and
the rule it broke, so a bad record can be quarantined with a reason a human can act on.
"""

from __future__ import annotations

import math
import re
from hashlib import sha256
from typing import Any

import orjson

from liveevents.canvas.catalog import CANVAS_EVENT_TYPES
from liveevents.timestamps import TimestampError, normalize_timestamp

__all__ = ["MAX_DEPTH", "MISSING", "CanvasEvent", "RecordError", "check_nesting", "decode_record", "describe_value", "load_record", "parse_record"]

# Canvas event names are snake_case, some namespaced with a dot
# (``outcomes.retry_outcome_alignment_clone``).
EVENT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,127}")
_EVENT_NAME_RULE = "a Canvas event name such as 'asset_accessed' (a letter, then letters, digits, '_', '.', ':' or '-'; up to 128 characters)"
_EVENT_TIME_RULE = "an ISO 8601 timestamp string such as '2019-11-01T19:11:05.222Z'"
_SHAPES = ("attributes", "metadata")
# Canvas records nest a few levels.  Much deeper ones are refused at ingest rather than stored
# (check_nesting): orjson writes at most 254 levels (the event id, every delivery) and the
# inspection API's redaction walks a record recursively, so a record of a few hundred levels
# could be stored but never delivered nor listed.
MAX_DEPTH = 64


class RecordError(ValueError):
    """A raw record that cannot be read as a Canvas live event.

    ``field`` is a dotted path into the record (``"attributes.event_time"``; ``""`` for the
    record itself), ``value`` the offending value (:data:`MISSING` when the field is absent,
    so an explicit ``null`` stays distinguishable) and ``rule`` a short statement of what was
    expected.  The message shows the value as JSON (``null``, ``"x"``, ``3``) or ``missing``.
    """

    def __init__(self, field: str, value: Any, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        where = field or "record"
        super().__init__(f"{where}: {describe_value(value)}: {rule}")


def describe_value(value: Any, limit: int = 120) -> str:
    """``value`` as short text: JSON when it is JSON, else its ``repr`` (``missing``)."""
    if value is MISSING:
        return "missing"
    try:
        # orjson writes NaN and infinities as null: show them as Python does instead.
        text = repr(value) if type(value) is float and not math.isfinite(value) else orjson.dumps(value).decode()
    except TypeError as error:  # not JSON (only from Python callers), or nested beyond orjson's 254 levels
        too_deep = f"({_json_type(value)} nested too deeply to show)"
        if "Recursion limit" in str(error):  # its repr would be a wall of brackets, or overflow
            text = too_deep
        else:
            try:
                text = repr(value)
            except RecursionError:  # nested beyond Python's recursion limit, with a non-JSON value inside
                text = too_deep
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: The ``value`` of a :class:`RecordError` about an absent field (its repr is ``missing``).
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "missing", "__slots__": ()})()


class CanvasEvent:
    """One Canvas live event: ``metadata`` (Kinesis ``attributes``) and ``body``, unchanged.

    Read-only by contract (not enforced: a frozen class costs a quarter of a microsecond per
    event to build): the normalised ``event_time`` and the ``event_id`` are computed once.
    Two events are equal when their metadata and bodies are.
    """

    __slots__ = ("_event_id", "_event_time", "body", "metadata")

    def __init__(self, metadata: dict[str, Any], body: dict[str, Any], event_time: str | None = None) -> None:
        self.metadata = metadata
        self.body = body
        # metadata.event_time already normalised by parse_record (it validates it anyway).
        self._event_time = event_time
        self._event_id: str | None = None

    def __eq__(self, other: object) -> bool:
        if type(other) is not CanvasEvent:
            return NotImplemented
        return self.metadata == other.metadata and self.body == other.body

    __hash__ = None  # type: ignore[assignment]  # dicts inside: not hashable

    def __repr__(self) -> str:
        return f"CanvasEvent(metadata={self.metadata!r}, body={self.body!r})"

    @property
    def event_name(self) -> str:
        return self.metadata["event_name"]

    @property
    def event_time(self) -> str:
        """``metadata.event_time`` normalised to ``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC)."""
        return self._event_time or normalize_timestamp(self.metadata["event_time"])

    @property
    def known_event_time(self) -> str | None:
        """:attr:`event_time` if already normalised (by :func:`parse_record`), else ``None``
        (as for :attr:`event_time`, an empty one counts as not given)."""
        return self._event_time or None

    @property
    def known_event_id(self) -> str | None:
        """:attr:`event_id` if already computed, else ``None`` (the compiled writer then
        computes it, without raising for an event that cannot be written as JSON)."""
        return self._event_id

    @property
    def event_id(self) -> str:
        """A version-4-format UUID that is the same for the same event, whatever its shape.

        Instructure's ids are random; ours are derived from the canonical JSON of the event
        (sorted keys), so every subscription, retry and replay carries the same id and
        consumers can de-duplicate.
        """
        event_id = self._event_id
        if event_id is None:
            event_id = self._event_id = _event_id(self)
        return event_id


def _event_id(event: CanvasEvent) -> str:
    try:
        canonical = orjson.dumps({"metadata": event.metadata, "body": event.body}, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as error:  # values that are not JSON (Python callers), or nested beyond 254 levels
        raise RecordError("", event.event_name, f"the event cannot be written as JSON ({error})") from None
    digest = sha256(canonical).hexdigest()
    # The first 128 bits as a UUID with the version (4) and RFC 4122 variant (10xx) bits set,
    # formatted by hand: uuid.UUID() costs as much as the hashing.
    return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-{_VARIANT[digest[16]]}{digest[17:20]}-{digest[20:32]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def parse_record(record: object) -> CanvasEvent:
    """Validate a decoded raw record and return it as a :class:`CanvasEvent`."""
    # Fast path for the well-formed record (nearly all of them); anything unusual takes the
    # full validation below, which names what is wrong.
    if type(record) is dict and len(record) == 2:
        body = record.get("body")
        metadata = record.get("attributes")
        if metadata is None:
            metadata = record.get("metadata")
        if type(metadata) is dict and type(body) is dict:
            event_name = metadata.get("event_name")
            event_time = metadata.get("event_time")
            if type(event_name) is str and type(event_time) is str and (event_name in CANVAS_EVENT_TYPES or EVENT_NAME.fullmatch(event_name)):
                try:
                    return CanvasEvent(metadata, body, normalize_timestamp(event_time))
                except TimestampError:  # _validate names the rule
                    pass
    return _validate(record)


def _validate(record: object) -> CanvasEvent:
    if not isinstance(record, dict):
        raise RecordError("", record, f"a record must be a JSON object, not {_json_type(record)}")
    shapes = [key for key in _SHAPES if key in record]
    if len(shapes) != 1:
        # The value shown is the record's top-level keys (its content may be large, or secret).
        rule = (
            "a record has either 'attributes' (Kinesis shape) or 'metadata' (delivered shape), not both (its top-level keys are shown)"
            if shapes
            else "a record needs 'attributes' (Kinesis shape) or 'metadata' (delivered shape) (its top-level keys are shown)"
        )
        raise RecordError("", sorted(record)[:8], rule)
    shape = shapes[0]
    unknown = sorted(set(record) - {shape, "body"})
    if unknown:
        raise RecordError(unknown[0], record[unknown[0]], f"unknown top-level key; a record holds only '{shape}' and 'body'")
    metadata = record[shape]
    if not isinstance(metadata, dict):
        raise RecordError(shape, metadata, f"must be a JSON object, not {_json_type(metadata)}")
    body = record.get("body", MISSING)
    if body is MISSING:
        raise RecordError("body", MISSING, "a record needs a 'body' object")
    if not isinstance(body, dict):
        raise RecordError("body", body, f"must be a JSON object, not {_json_type(body)}")

    event_name = metadata.get("event_name", MISSING)
    if not isinstance(event_name, str) or not EVENT_NAME.fullmatch(event_name):
        raise RecordError(f"{shape}.event_name", event_name, _unreadable(event_name, _EVENT_NAME_RULE))
    event_time = metadata.get("event_time", MISSING)
    if not isinstance(event_time, str):
        raise RecordError(f"{shape}.event_time", event_time, _unreadable(event_time, _EVENT_TIME_RULE))
    try:
        normalized = normalize_timestamp(event_time)
    except TimestampError as error:
        raise RecordError(f"{shape}.event_time", event_time, error.rule) from None
    return CanvasEvent(metadata, body, normalized)


def decode_record(data: bytes | str) -> CanvasEvent:
    """Decode a record's JSON bytes and validate it (``RecordError`` for bad JSON too)."""
    return parse_record(load_record(data))


def load_record(data: bytes | bytearray | memoryview | str) -> Any:
    """The JSON value of a record's bytes (``RecordError`` when they are not JSON)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise RecordError("", _preview(data), f"not valid JSON ({error})") from None


def check_nesting(data: bytes | str, record: object) -> None:
    """Refuse ``record`` (decoded from ``data``) if objects and arrays nest more than
    :data:`MAX_DEPTH` levels in it.  For what is stored: the transform itself handles any depth
    orjson can write (an event id it cannot write is a ``RecordError`` of its own)."""
    # Nesting needs as many brackets: counting them (C speed, ~1 µs for a Canvas record) spares
    # nearly every record the walk.
    brackets = data.count(b"[") + data.count(b"{") if isinstance(data, bytes) else data.count("[") + data.count("{")
    if brackets <= MAX_DEPTH:
        return
    rule = f"objects and arrays may nest at most {MAX_DEPTH} levels deep"
    # Iterative: a recursive walk would overflow on exactly the records it is there to refuse.
    # The error names the offender down to its second level (below, the path is '.0' repeated).
    pending: list[tuple[object, int, tuple[str, ...], object]] = [(record, 1, (), record)]
    while pending:
        value, depth, path, named_value = pending.pop()
        items = value.items() if type(value) is dict else enumerate(value) if type(value) is list else ()
        for key, item in items:
            if type(item) is dict or type(item) is list:
                item_path, item_named = ((*path, str(key)), item) if len(path) < 2 else (path, named_value)
                if depth == MAX_DEPTH:
                    raise RecordError(".".join(item_path), item_named, rule)
                pending.append((item, depth + 1, item_path, item_named))


def _unreadable(value: object, expected: str) -> str:
    """The rule an unreadable required field broke: "required" only when it is absent or null
    (a present value of the wrong type or form was not forgotten, it is wrong: say what it is)."""
    if value is MISSING or value is None:
        return f"required: {expected}"
    if isinstance(value, str):
        return f"must be {expected}"
    return f"must be {expected}, not {_json_type(value)}"


def _preview(data: bytes | bytearray | memoryview | str) -> str:
    text = bytes(data).decode("utf-8", "replace") if isinstance(data, (bytes, bytearray, memoryview)) else data
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
