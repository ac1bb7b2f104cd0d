"""The store interface: the durable event log, the quarantine and the streams.

Every implementation (SQLite embedded, PostgreSQL multi-node) keeps the same promises:

* :meth:`Store.append` returns only once its events and rejections are durable (committed and
  fsynced); concurrent calls may share one transaction, never a partial one.
* Sequence numbers are positive integers, strictly increasing in commit order and never reused
  (also after a purge), so ``after=<last seen>`` is a complete cursor.
* After a commit, :meth:`Store.wait_for_events` wakes up waiters in this process (and, for
  PostgreSQL, in every process sharing the database).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

T = TypeVar("T")

__all__ = [
    "NewEvent",
    "PrePurgeHook",
    "Rejection",
    "Stats",
    "Store",
    "StoreClosed",
    "StoreError",
    "StoreOverloaded",
    "StoredEvent",
    "QuarantinedRecord",
    "StreamExists",
    "StreamInfo",
]


class StoreError(Exception):
    """The store cannot take or give data right now (nothing was committed)."""


# Called by every purge, before it deletes, with its cut-off (epoch ms): whoever still needs an
# event received before it records what it needs now (delivery: the events a subscription has not
# had become failed deliveries), since the event is gone once the hook returns.
PrePurgeHook = Callable[[int], Awaitable[None]]


class StoreOverloaded(StoreError):
    """Too many records wait for the writer; the caller should ask its client to retry."""


class StoreClosed(StoreError):
    """The store is shutting down or closed."""


class StreamExists(StoreError):
    """``create_stream`` for a name that already exists."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A validated event to append to the log."""

    stream: str
    event_name: str
    event_time: str  # normalised YYYY-MM-DDTHH:MM:SS.sssZ
    partition_key: str
    data: bytes  # the record exactly as received
    source: str  # "kinesis" | "http" | ...
    access_key_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvent(NewEvent):
    """An event of the log: what was appended, with its sequence number and commit time."""

    sequence: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that failed validation, kept with the reason (``RecordError`` field/value/rule)."""

    source: str
    data: bytes
    field: str
    value: str  # a readable rendering of the offending value
    rule: str
    stream: str | None = None
    partition_key: str | None = None
    access_key_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuarantinedRecord(Rejection):
    """A record of the quarantine: the rejection, with its id and commit time."""

    id: int
    received_at: datetime


@dataclass(frozen=True, slots=True)
class StreamInfo:
    name: str
    shard_count: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Stats:
    events_stored: int
    records_rejected: int
    events_by_name: dict[str, int]
    events_by_stream: dict[str, int]
    last_sequence: int
    oldest_received_at: datetime | None
    newest_received_at: datetime | None


class Store(Protocol):
    """What the service needs from a store.  All methods are coroutines safe to call concurrently.

    For tables of their own, other parts of the service use :meth:`write` and :meth:`read` with
    SQL written for both databases (``PLACEHOLDER`` is ``?`` for SQLite, ``%s`` for PostgreSQL)
    and add their DDL to both migration lists (``store/sqlite_schema.py``, ``store/postgres_schema.py``).
    """

    PLACEHOLDER: ClassVar[str]

    async def open(self) -> None:
        """Create or migrate the schema and start background machinery (the writer)."""
        ...

    async def close(self) -> None:
        """Finish every accepted append (drain), then release connections."""
        ...

    @property
    def last_sequence(self) -> int:
        """The highest committed sequence number this process knows of (0 when empty)."""
        ...

    async def append(self, events: Sequence[NewEvent], rejections: Sequence[Rejection] = ()) -> list[int]:
        """Commit ``events`` and ``rejections`` durably; return the events' sequence numbers in order.

        Raises :class:`StoreOverloaded` (nothing queued) or :class:`StoreError` (nothing committed).
        """
        ...

    @property
    def pending_records(self) -> int:
        """Records accepted by :meth:`append` and not yet committed."""
        ...

    async def write(self, work: Callable[[Any], T]) -> T:
        """Run ``work(connection)`` on the writer thread in its own transaction, committed on return
        (rolled back if it raises).  Serialised with appends: keep it short."""
        ...

    async def read(self, work: Callable[[Any], T]) -> T:
        """Run ``work(connection)`` on a worker thread with a reading connection (sees every commit
        that returned before the call)."""
        ...

    async def wait_for_events(self, after: int, timeout: float) -> int:
        """Wait until an event with sequence > ``after`` is committed or ``timeout`` s pass.

        Returns :attr:`last_sequence` (compare with ``after`` to see whether anything arrived).
        """
        ...

    async def read_events(
        self,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int = 1000,
        names: Collection[str] | None = None,
        stream: str | None = None,
        since: str | None = None,
        until: str | None = None,
        newest_first: bool = False,
    ) -> list[StoredEvent]:
        """Events with ``after`` < sequence < ``before``, in sequence order (or the newest ``limit``
        first), optionally only ``names``/``stream`` and ``since`` <= event_time < ``until``
        (normalised timestamps).  ``names=[]`` matches nothing."""
        ...

    async def get_event(self, sequence: int) -> StoredEvent | None: ...

    async def read_quarantine(
        self, *, after: int = 0, before: int | None = None, limit: int = 100, newest_first: bool = False
    ) -> list[QuarantinedRecord]: ...

    async def stats(self) -> Stats: ...

    async def create_stream(self, name: str, shard_count: int) -> StreamInfo:
        """Raises :class:`StreamExists`."""
        ...

    async def ensure_stream(self, name: str, shard_count: int = 1) -> StreamInfo: ...

    async def get_stream(self, name: str) -> StreamInfo | None: ...

    async def list_streams(self) -> list[StreamInfo]: ...

    def before_purge(self, hook: PrePurgeHook) -> None:
        """Have every :meth:`purge` await ``hook(cutoff_ms)`` before it deletes anything."""
        ...

    async def purge(self, received_before: datetime) -> tuple[int, int]:
        """Delete events and quarantined records received before the cut-off; return both counts.

        The hooks registered with :meth:`before_purge` run first, with the cut-off in epoch
        milliseconds; if one fails the purge raises :class:`StoreError` and deletes nothing."""
        ...
