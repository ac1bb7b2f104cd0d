"""Management API, read side: stats, the event log and the quarantine (admin token).

Records are answered with bearer tokens in their URLs blanked (``access_token=[FILTERED]``);
``raw=true`` asks for the bytes exactly as received, tokens included.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from liveevents.api.auth import require_admin
from liveevents.api.errors import ProblemReport
from liveevents.api.params import Cursor, KeyPath, refuse_nul
from liveevents.api.redaction import redact_bytes, redact_json, redact_text
from liveevents.api.runtime import Runtime, get_runtime
from liveevents.delivery.latency import LatencyHistogram
from liveevents.delivery.state import DeliveryState
from liveevents.store.base import QuarantinedRecord, StoredEvent
from liveevents.timestamps import TimestampError, normalize_timestamp

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin), Depends(refuse_nul)], tags=["inspection"])

RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RawQuery = Annotated[
    bool,
    Query(
        description="false (default): access_token query values in the record's URLs are replaced by [FILTERED]; "
        "true: the record exactly as received, bearer tokens included"
    ),
]


class LatencyBucket(BaseModel):
    le_seconds: float = Field(description="the bucket's upper bound")
    count: int = Field(description="deliveries that took at most le_seconds (cumulative, as Prometheus' le buckets)")


class DeliveryLatency(BaseModel):
    """From the event's arrival in the log to its delivery (a first attempt or a retry; replays are
    not measured), over the subscription's life, every node included.  The same buckets as
    ``liveevents_delivery_latency_seconds`` in ``/metrics`` (which counts one process since its start)."""

    count: int = Field(description="deliveries measured (the +Inf bucket)")
    sum_seconds: float = Field(description="their summed latency: sum_seconds / count is the mean")
    p50_seconds: float | None = Field(
        description="half the deliveries took at most this long: the upper bound of the bucket holding the median "
        "(null when none was measured, or above the last bound)"
    )
    p90_seconds: float | None = Field(description="90 % took at most this long (a bucket bound, as p50_seconds)")
    p99_seconds: float | None = Field(description="99 % took at most this long (a bucket bound, as p50_seconds)")
    buckets: list[LatencyBucket] = Field(description="every finite bucket, ascending; deliveries above the last are count minus its count")

    @classmethod
    def of(cls, histogram: LatencyHistogram) -> DeliveryLatency:
        return cls(
            count=histogram.count,
            sum_seconds=histogram.sum_seconds,
            p50_seconds=histogram.quantile(0.5),
            p90_seconds=histogram.quantile(0.9),
            p99_seconds=histogram.quantile(0.99),
            buckets=[LatencyBucket(le_seconds=bound, count=count) for bound, count in histogram.cumulative],
        )


class SubscriptionStats(BaseModel):
    id: str
    name: str
    active: bool
    delivered: int = Field(description="deliveries that succeeded")
    failed: int = Field(description="deliveries given up on (retries exhausted, or no form in the format)")
    retrying: int = Field(description="deliveries waiting for a retry")
    backlog: int = Field(description="matching events stored and not yet handed to the destination")
    cursor: int = Field(description="every matching event up to this sequence number is delivered or waiting for a retry")
    latency: DeliveryLatency


class Stats(BaseModel):
    events_stored: int = Field(description="events in the log (within retention)")
    records_rejected: int = Field(description="records in the quarantine (within retention)")
    events_by_name: dict[str, int]
    events_by_stream: dict[str, int]
    last_sequence: int = Field(description="the highest sequence number handed out")
    oldest_received_at: datetime | None
    newest_received_at: datetime | None
    streams: list[str]
    retention_days: float
    subscriptions: list[SubscriptionStats]


class Event(BaseModel):
    sequence_number: str
    stream: str
    received_at: datetime
    event_name: str
    event_time: str
    partition_key: str
    source: str
    access_key_id: str | None
    record: dict[str, Any] = Field(
        description="the record as received ({attributes, body} or {metadata, body}); access_token values [FILTERED] unless raw=true"
    )


class EventPage(BaseModel):
    events: list[Event]
    next_cursor: str | None = Field(description="pass as 'after' (or 'before' with newest_first) for the next page; null at the end")


class Quarantined(BaseModel):
    id: int
    received_at: datetime
    source: str
    stream: str | None
    partition_key: str | None
    access_key_id: str | None
    field: str = Field(description="where the record is wrong ('' for the record as a whole)")
    value: str = Field(description="the offending value, as JSON text or 'missing' (access_token values [FILTERED] unless raw=true)")
    rule: str = Field(description="what was expected")
    data: str = Field(description="the record bytes as text (invalid UTF-8 replaced; access_token values [FILTERED] unless raw=true)")
    data_base64: str = Field(description="the record bytes (exactly as received with raw=true, else with access_token values [FILTERED])")


class QuarantinePage(BaseModel):
    records: list[Quarantined]
    next_cursor: str | None


@router.get("/stats", response_model=Stats)
async def stats(runtime: RuntimeDep) -> Stats:
    """The log's counts, and per subscription the delivered / failed / retrying counts, the backlog
    and the delivery latency histogram (store-wide: every node, since the subscription was created)."""
    counts = await runtime.store.stats()
    streams = await runtime.store.list_streams()
    return Stats(
        **asdict(counts),
        streams=[stream.name for stream in streams],
        retention_days=runtime.settings.retention_days,
        subscriptions=[
            SubscriptionStats(**_copied(SubscriptionStats, stats, "latency"), latency=DeliveryLatency.of(stats.latency))
            for stats in await DeliveryState(runtime.store).stats()
        ],
    )


def _timestamp(value: str) -> str:
    try:
        return normalize_timestamp(value)
    except TimestampError as error:
        # A custom error keeps the rule as it is (a ValueError's would read "Value error, ...").
        raise PydanticCustomError("timestamp", "{rule}", {"rule": error.rule}) from None


# Read by FastAPI's validation, so a bad one is answered 422 with field, value and rule, together
# with any other bad query parameter (limit, newest_first).
Timestamp = Annotated[str, AfterValidator(_timestamp)]

_BAD_QUERY: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemReport, "description": "Every query parameter that cannot be read: field (query.<name>), value, rule"}
}


@router.get("/events", response_model=EventPage, responses=_BAD_QUERY)
async def list_events(
    runtime: RuntimeDep,
    name: Annotated[
        list[str] | None,
        Query(
            description="event names to include (repeatable). Any name is accepted, not only the documented Canvas "
            "event types (Canvas adds new ones): a name the log has never stored, a typo too, matches nothing"
        ),
    ] = None,
    stream: Annotated[str | None, Query()] = None,
    since: Annotated[Timestamp | None, Query(description="event_time >= since (ISO 8601)")] = None,
    until: Annotated[Timestamp | None, Query(description="event_time < until (ISO 8601)")] = None,
    after: Annotated[Cursor | None, Query(description="cursor: sequence numbers greater than this")] = None,
    before: Annotated[Cursor | None, Query(description="cursor: sequence numbers less than this")] = None,
    newest_first: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    raw: RawQuery = False,
) -> EventPage:
    events = await runtime.store.read_events(
        after=after or 0,
        before=before,
        limit=limit,
        names=name,
        stream=stream,
        since=since,
        until=until,
        newest_first=newest_first,
    )
    next_cursor = str(events[-1].sequence) if len(events) == limit else None
    return EventPage(events=[_event(event, raw) for event in events], next_cursor=next_cursor)


@router.get("/events/{sequence}", response_model=Event, responses={404: {"description": "No such event (never stored, or purged)"}})
async def get_event(runtime: RuntimeDep, sequence: KeyPath, raw: RawQuery = False) -> Event:
    event = await runtime.store.get_event(sequence)
    if event is None:
        raise HTTPException(status_code=404, detail=f"no event with sequence number {sequence} (never stored, or purged)")
    return _event(event, raw)


@router.get("/quarantine", response_model=QuarantinePage, responses=_BAD_QUERY)
async def list_quarantine(
    runtime: RuntimeDep,
    after: Annotated[Cursor | None, Query(description="cursor: ids greater than this")] = None,
    before: Annotated[Cursor | None, Query(description="cursor: ids less than this (the next page of newest_first)")] = None,
    newest_first: Annotated[bool, Query(description="the latest rejections first (page on with before)")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    raw: RawQuery = False,
) -> QuarantinePage:
    records = await runtime.store.read_quarantine(
        after=after or 0, before=before, limit=limit, newest_first=newest_first
    )
    next_cursor = str(records[-1].id) if len(records) == limit else None
    return QuarantinePage(records=[_quarantined(record, raw) for record in records], next_cursor=next_cursor)


def _copied(model: type[BaseModel], source: object, *computed: str) -> dict[str, Any]:
    """The fields of ``model`` taken as they are from ``source``: all but the ``computed`` ones."""
    return {name: getattr(source, name) for name in model.model_fields if name not in computed}


def _event(event: StoredEvent, raw: bool) -> Event:
    record = orjson.loads(event.data)
    return Event(
        **_copied(Event, event, "sequence_number", "record"),
        sequence_number=str(event.sequence),
        record=record if raw else redact_json(record),
    )


def _quarantined(record: QuarantinedRecord, raw: bool) -> Quarantined:
    data = record.data if raw else redact_bytes(record.data)
    return Quarantined(
        **_copied(Quarantined, record, "value", "data", "data_base64"),
        value=record.value if raw else redact_text(record.value),
        data=data.decode("utf-8", "replace"),
        data_base64=base64.b64encode(data).decode(),
    )
