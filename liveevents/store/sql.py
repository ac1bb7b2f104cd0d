"""What the SQLite and PostgreSQL stores share: the tables' columns, the queries and every
:class:`~liveevents.store.base.Store` method that is plain SQL.

A subclass provides the connection handling: ``read(work)`` (``work(connection)`` on a
worker thread), what the writer thread runs (``_commit_appends``, ``_run_task``,
``_close_connection``; the subclass's ``open`` calls ``_start_writer``) and ``PLACEHOLDER``.  sqlite3 and psycopg connections both offer
``execute(sql, params)`` returning a cursor with ``fetchone``/``fetchall``/``rowcount``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import closing
from datetime import datetime, timezone
from typing import Any, TypeVar

from liveevents.store.base import (
    NewEvent,
    PrePurgeHook,
    QuarantinedRecord,
    Rejection,
    Stats,
    StoreClosed,
    StoreError,
    StoredEvent,
    StreamExists,
    StreamInfo,
)
from liveevents.store.notify import CommitSignal
from liveevents.store.writer import Append, GroupCommitWriter, Task

__all__ = ["EVENT_COLUMNS", "QUARANTINE_INSERT_COLUMNS", "SqlStore", "append_count_changes", "count_upsert", "now_ms", "require_known_schema"]

T = TypeVar("T")

EVENT_COLUMNS = "seq, stream, received_at, event_name, event_time, partition_key, data, source, access_key_id"
QUARANTINE_INSERT_COLUMNS = "received_at, source, data, field, value, rule, stream, partition_key, access_key_id"
QUARANTINE_COLUMNS = "id, " + QUARANTINE_INSERT_COLUMNS
STREAM_COLUMNS = "name, shard_count, created_at"
PURGE_CHUNK = 5_000


def require_known_schema(database: str, version: int, known: int) -> None:
    """Refuse a database whose schema a newer liveevents has migrated past what this one knows:
    running on it could misread its tables, and (PostgreSQL, several nodes) marking it with the
    older version would make a newer node migrate it again."""
    if version > known:
        raise StoreError(
            f"{database} has schema version {version}, written by a newer liveevents; this version knows "
            f"versions up to {known}: upgrade liveevents on this node (or use another database)"
        )


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc)


def event_row(sequence: int, received_ms: int, event: NewEvent) -> tuple[Any, ...]:
    return (sequence, event.stream, received_ms, event.event_name, event.event_time, event.partition_key, event.data, event.source, event.access_key_id)


def rejection_row(received_ms: int, rejection: Rejection) -> tuple[Any, ...]:
    r = rejection
    return (received_ms, r.source, r.data, r.field, r.value, r.rule, r.stream, r.partition_key, r.access_key_id)


def count_upsert(placeholder: str) -> str:
    """SQL adding ``records`` to a ``log_counts`` row (parameters: log, stream, event_name, records)."""
    p = placeholder
    return (
        f"INSERT INTO log_counts (log, stream, event_name, records) VALUES ({p}, {p}, {p}, {p}) "
        "ON CONFLICT (log, stream, event_name) DO UPDATE SET records = log_counts.records + excluded.records"
    )


def count_changes(events: Iterable[tuple[str, str]], quarantined: int, sign: int = 1) -> list[tuple[str, str, str, int]]:
    """``log_counts`` changes for events given as (stream, event name) and a number of
    quarantined records; ``sign=-1`` for removals."""
    changes = [("events", stream, name, sign * number) for (stream, name), number in sorted(Counter(events).items())]
    if quarantined:
        changes.append(("quarantine", "", "", sign * quarantined))
    return changes


def append_count_changes(jobs: Iterable[Append]) -> list[tuple[str, str, str, int]]:
    jobs = list(jobs)
    events = ((event.stream, event.event_name) for job in jobs for event in job.events)
    return count_changes(events, sum(len(job.rejections) for job in jobs))


def _stored_event(row: Sequence[Any]) -> StoredEvent:
    sequence, stream, received_ms, event_name, event_time, partition_key, data, source, access_key_id = row
    return StoredEvent(stream, event_name, event_time, partition_key, bytes(data), source, access_key_id, sequence=sequence, received_at=_datetime(received_ms))


def _quarantined(row: Sequence[Any]) -> QuarantinedRecord:
    identifier, received_ms, source, data, field, value, rule, stream, partition_key, access_key_id = row
    return QuarantinedRecord(source, bytes(data), field, value, rule, stream, partition_key, access_key_id, id=identifier, received_at=_datetime(received_ms))


def _stream(row: Sequence[Any]) -> StreamInfo:
    name, shard_count, created_ms = row
    return StreamInfo(name, shard_count, _datetime(created_ms))


class SqlStore(ABC):
    PLACEHOLDER = "?"

    def __init__(self) -> None:
        self._signal = CommitSignal()
        self._writer: GroupCommitWriter | None = None
        self._pre_purge: list[PrePurgeHook] = []

    # -- provided by the subclass ------------------------------------------------------------

    max_pending_records: int

    @abstractmethod
    async def read(self, work: Callable[[Any], T]) -> T:
        """Run ``work(connection)`` on a worker thread with a reading connection."""

    @abstractmethod
    def _commit_appends(self, jobs: list[Append]) -> list[list[int]]:
        """On the writer thread: commit ``jobs`` in one transaction; their sequence numbers."""

    @abstractmethod
    def _run_task(self, work: Callable[[Any], T]) -> T:
        """On the writer thread: ``work(connection)`` in its own committed transaction."""

    @abstractmethod
    def _close_connection(self) -> None:
        """On the writer thread, as it exits: close the writing connection."""

    # -- writes ----------------------------------------------------------------------------------

    @property
    def last_sequence(self) -> int:
        return self._signal.last_sequence

    @property
    def pending_records(self) -> int:
        return self._writer.pending_records if self._writer else 0

    async def append(self, events: Sequence[NewEvent], rejections: Sequence[Rejection] = ()) -> list[int]:
        if not events and not rejections:
            return []
        return await asyncio.wrap_future(self._submit(Append(events, rejections)))

    async def write(self, work: Callable[[Any], T]) -> T:
        """Run ``work(connection)`` on the writer thread inside its own committed transaction."""
        return await asyncio.wrap_future(self._submit(Task(work)))

    def _start_writer(self, name: str) -> None:
        self._writer = GroupCommitWriter(
            name=name,
            max_pending_records=self.max_pending_records,
            commit_appends=self._commit_appends,
            run_task=self._run_task,
            on_exit=self._close_connection,
        )
        self._writer.start()

    def _submit(self, job: Append | Task) -> concurrent.futures.Future[Any]:
        if self._writer is None:
            raise StoreClosed("the store is not open")
        return self._writer.submit(job)

    async def _close_writer(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)

    # -- reads -----------------------------------------------------------------------------------

    async def wait_for_events(self, after: int, timeout: float) -> int:
        return await self._signal.wait(after, timeout)

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
        p = self.PLACEHOLDER
        by_time = since is not None or until is not None
        # By time: a bound on seq would make SQLite walk the log by seq, reading every event
        # before the time range; "+seq" keeps the bounds out of index choice, so the event_time
        # index finds the matches (covering: it holds seq) and only the page is fetched.
        key = "+seq" if by_time else "seq"
        clauses = [f"{key} > {p}"]
        parameters: list[Any] = [after]
        if names is not None and len(names) > 1 and not newest_first and stream is None and since is None and until is None:
            # A cursor read for several names (delivery): one index range scan per name, merged.
            # With a plain IN list SQLite collects and sorts every match after the cursor before
            # applying LIMIT, which makes reading far behind the head quadratic.
            bound = "" if before is None else f" AND seq < {p}"
            scans = " UNION ALL ".join(
                f"SELECT seq FROM (SELECT seq FROM events WHERE event_name = {p} AND seq > {p}{bound} ORDER BY seq LIMIT {p}) AS n{index}"
                for index in range(len(names))
            )
            clauses.append(f"seq IN ({scans})")
            for name in names:
                parameters.extend((name, after, *(() if before is None else (before,)), limit))
        elif names is not None:
            if not names:
                return []
            clauses.append(f"event_name IN ({', '.join([p] * len(names))})")
            parameters.extend(names)
        for clause, value in ((f"{key} <", before), ("stream =", stream), ("event_time >=", since), ("event_time <", until)):
            if value is not None:
                clauses.append(f"{clause} {p}")
                parameters.append(value)
        parameters.append(limit)
        order = "DESC" if newest_first else "ASC"
        where = " AND ".join(clauses)
        if by_time:
            query = f"SELECT {EVENT_COLUMNS} FROM events WHERE seq IN (SELECT seq FROM events WHERE {where} ORDER BY seq {order} LIMIT {p}) ORDER BY seq {order}"
        else:
            query = f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY seq {order} LIMIT {p}"
        rows = await self.read(lambda connection: connection.execute(query, parameters).fetchall())
        return [_stored_event(row) for row in rows]

    async def get_event(self, sequence: int) -> StoredEvent | None:
        query = f"SELECT {EVENT_COLUMNS} FROM events WHERE seq = {self.PLACEHOLDER}"
        row = await self.read(lambda connection: connection.execute(query, (sequence,)).fetchone())
        return None if row is None else _stored_event(row)

    async def read_quarantine(
        self, *, after: int = 0, before: int | None = None, limit: int = 100, newest_first: bool = False
    ) -> list[QuarantinedRecord]:
        """Quarantined records with ``after < id < before``, oldest first (or newest first)."""
        p = self.PLACEHOLDER
        upper = "" if before is None else f" AND id < {p}"
        query = f"SELECT {QUARANTINE_COLUMNS} FROM quarantine WHERE id > {p}{upper} ORDER BY id {'DESC' if newest_first else 'ASC'} LIMIT {p}"
        parameters = (after, limit) if before is None else (after, before, limit)
        rows = await self.read(lambda connection: connection.execute(query, parameters).fetchall())
        return [_quarantined(row) for row in rows]

    async def stats(self) -> Stats:
        def collect(connection: Any) -> Stats:
            counts = connection.execute("SELECT log, stream, event_name, records FROM log_counts WHERE records > 0 ORDER BY event_name").fetchall()
            by_name: Counter[str] = Counter()
            by_stream: Counter[str] = Counter()
            rejected = 0
            for log, stream, event_name, records in counts:
                if log == "events":
                    by_name[event_name] += records
                    by_stream[stream] += records
                else:
                    rejected += records
            oldest = connection.execute("SELECT received_at FROM events ORDER BY seq LIMIT 1").fetchone()
            newest = connection.execute("SELECT received_at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            return Stats(
                events_stored=by_name.total(),
                records_rejected=rejected,
                events_by_name=dict(by_name),
                events_by_stream=dict(sorted(by_stream.items())),
                last_sequence=self.last_sequence,
                oldest_received_at=_datetime(oldest[0]) if oldest else None,
                newest_received_at=_datetime(newest[0]) if newest else None,
            )

        return await self.read(collect)

    # -- streams ---------------------------------------------------------------------------------

    async def create_stream(self, name: str, shard_count: int) -> StreamInfo:
        p = self.PLACEHOLDER
        insert = f"INSERT INTO streams ({STREAM_COLUMNS}) VALUES ({p}, {p}, {p}) ON CONFLICT (name) DO NOTHING RETURNING {STREAM_COLUMNS}"
        row = await self.write(lambda connection: connection.execute(insert, (name, shard_count, now_ms())).fetchone())
        if row is None:
            raise StreamExists(name)
        return _stream(row)

    async def ensure_stream(self, name: str, shard_count: int = 1) -> StreamInfo:
        try:
            return await self.create_stream(name, shard_count)
        except StreamExists:
            existing = await self.get_stream(name)
            assert existing is not None  # streams are never deleted
            return existing

    async def get_stream(self, name: str) -> StreamInfo | None:
        query = f"SELECT {STREAM_COLUMNS} FROM streams WHERE name = {self.PLACEHOLDER}"
        row = await self.read(lambda connection: connection.execute(query, (name,)).fetchone())
        return None if row is None else _stream(row)

    async def list_streams(self) -> list[StreamInfo]:
        rows = await self.read(lambda connection: connection.execute(f"SELECT {STREAM_COLUMNS} FROM streams ORDER BY name").fetchall())
        return [_stream(row) for row in rows]

    # -- retention -------------------------------------------------------------------------------

    def before_purge(self, hook: PrePurgeHook) -> None:
        self._pre_purge.append(hook)

    async def purge(self, received_before: datetime) -> tuple[int, int]:
        cutoff = int(received_before.timestamp() * 1000)
        for hook in self._pre_purge:
            try:
                await hook(cutoff)
            except StoreError:
                raise
            except Exception as error:  # noqa: BLE001 - whatever it is, nothing may be deleted unrecorded
                raise StoreError(f"purge postponed: {getattr(hook, '__qualname__', hook)} failed: {error!r}") from error
        counts = []
        for table, key in (("events", "seq"), ("quarantine", "id")):
            # received_at never decreases along the key, so the rows to purge are a prefix: delete
            # it in chunks, each its own short transaction, so that appends go on in between.
            statement = (
                f"DELETE FROM {table} WHERE {key} <= (SELECT max({key}) FROM "
                f"(SELECT {key}, received_at FROM {table} ORDER BY {key} LIMIT {PURGE_CHUNK}) AS head WHERE received_at < {self.PLACEHOLDER}) "
                f"RETURNING {'stream, event_name' if table == 'events' else 'id'}"
            )
            chunk = functools.partial(self._purge_chunk, table, statement, cutoff)
            total = 0
            while deleted := await self.write(chunk):
                total += deleted
            counts.append(total)
        return counts[0], counts[1]

    def _purge_chunk(self, table: str, statement: str, cutoff: int, connection: Any) -> int:
        # The counts drop by what the DELETE itself returns: another node may purge the same rows.
        deleted = connection.execute(statement, (cutoff,)).fetchall()
        if table == "events":
            changes = count_changes([(stream, name) for stream, name in deleted], 0, sign=-1)
        else:
            changes = count_changes((), len(deleted), sign=-1)
        if changes:
            with closing(connection.cursor()) as cursor:
                cursor.executemany(count_upsert(self.PLACEHOLDER), changes)
        return len(deleted)
