"""One incoming record → a :class:`NewEvent` to store, or a :class:`Rejection` to quarantine.

Shared by every ingest path (Kinesis API, HTTP), so that a record gets the same verdict and
the same reason (``RecordError`` field/value/rule) whichever way it arrived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from liveevents.canvas.record import RecordError, check_nesting, describe_value, load_record, parse_record
from liveevents.ingest.metrics import IngestMetrics
from liveevents.store.base import NewEvent, Rejection, Store

__all__ = ["MAX_RECORD_BYTES", "Origin", "check_record", "commit", "reject", "render_value"]

_VALUE_PREVIEW = 200
# Per record, data plus partition key, as on AWS Kinesis (Canvas itself stops at 1,000,000).
MAX_RECORD_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a batch of records came from (the same for every record in one request)."""

    source: str
    stream: str
    access_key_id: str | None = None


def check_record(data: bytes, partition_key: str | None, origin: Origin, *, field: str = "") -> NewEvent | Rejection:
    """Validate ``data`` as a Canvas live event.  ``partition_key=None``: take it as Canvas does
    (the record's ``user_id``, else empty).  ``field`` names where the bytes sit in the request,
    for the size rule ("" for the record as a whole)."""
    size = len(data) + (0 if partition_key is None else len(partition_key.encode()))
    if size > MAX_RECORD_BYTES:
        rule = f"data plus partition key must be at most {MAX_RECORD_BYTES} bytes (1 MiB), not {size}"
        return reject(data, partition_key, origin, RecordError(field, f"{size} bytes", rule))
    try:
        record = load_record(data)
        check_nesting(data, record)
        event = parse_record(record)
        event_time = event.event_time
    except RecordError as error:
        return reject(data, partition_key, origin, error)
    if partition_key is None:
        user_id = event.metadata.get("user_id")
        partition_key = "" if user_id is None else str(user_id)
    return NewEvent(
        stream=origin.stream,
        event_name=event.event_name,
        event_time=event_time,
        partition_key=_storable(partition_key),
        data=data,
        source=origin.source,
        access_key_id=origin.access_key_id,
    )


def reject(data: bytes, partition_key: str | None, origin: Origin, error: RecordError) -> Rejection:
    return Rejection(
        source=origin.source,
        data=data,
        field=_storable(error.field),
        value=render_value(error.value),
        rule=error.rule,
        stream=origin.stream,
        partition_key=None if partition_key is None else _storable(partition_key),
        access_key_id=origin.access_key_id,
    )


def _storable(text: str) -> str:
    """``text`` with each NUL as its JSON escape ``\\u0000``: PostgreSQL text cannot hold NUL
    (the record's own bytes keep it), and a client's key or field name must not fail the batch."""
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


def render_value(value: Any) -> str:
    """The offending value as short text: JSON when it is JSON, else its ``repr`` (``missing``)."""
    return describe_value(value, _VALUE_PREVIEW)


async def commit(store: Store, verdicts: Sequence[NewEvent | Rejection], metrics: IngestMetrics) -> list[int | None]:
    """Store the good records and quarantine the bad ones in one durable append.

    Returns, per verdict, the sequence number of a stored event or ``None`` for a rejection.
    Store errors propagate (nothing of the batch was committed).
    """
    events = [verdict for verdict in verdicts if isinstance(verdict, NewEvent)]
    rejections = [verdict for verdict in verdicts if isinstance(verdict, Rejection)]
    with metrics.append_seconds.time():
        sequences = iter(await store.append(events, rejections))
    if verdicts:
        source = verdicts[0].source
        metrics.records.labels(source, "stored").inc(len(events))
        metrics.records.labels(source, "quarantined").inc(len(rejections))
    return [next(sequences) if isinstance(verdict, NewEvent) else None for verdict in verdicts]
