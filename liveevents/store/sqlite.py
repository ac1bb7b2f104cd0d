"""The embedded store: one SQLite file in WAL mode with a single writer thread.

Why a writer thread: SQLite allows one writer at a time, and a commit costs an fsync.  All
writes go through one thread (:mod:`liveevents.store.writer`) which commits every append
waiting in its queue in one transaction (group commit): under load many ``PutRecords`` calls
share one fsync, and no call is answered before the commit that holds its records
(``synchronous=FULL``: the WAL is fsynced at each commit, so ``kill -9`` or a power cut loses
nothing acknowledged).  Readers use
their own connections on worker threads and never block the writer (WAL).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from liveevents.store.base import (
    NewEvent,
    QuarantinedRecord,
    Rejection,
    Stats,
    StoreClosed,
    StoredEvent,
    StoreError,
    StreamExists,
    StreamInfo,
)
from liveevents.store.notify import CommitSignal
from liveevents.store.sqlite_schema import MIGRATIONS
from liveevents.store.writer import Append, GroupCommitWriter, Task

__all__ = ["SQLiteStore", "DATABASE_FILE"]

T = TypeVar("T")

DATABASE_FILE = "liveevents.sqlite3"
PURGE_CHUNK = 5_000

_EVENT_COLUMNS = "seq, stream, received_at, event_name, event_time, partition_key, data, source, access_key_id"
_QUARANTINE_INSERT_COLUMNS = "received_at, source, data, field, value, rule, stream, partition_key, access_key_id"
_QUARANTINE_COLUMNS = "id, " + _QUARANTINE_INSERT_COLUMNS


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc)


class SQLiteStore:
    """:class:`liveevents.store.base.Store` on one SQLite file (``<data_dir>/liveevents.sqlite3``).

    Extension points for other tables (delivery state): append DDL to
    :data:`liveevents.store.sqlite_schema.MIGRATIONS`, write with :meth:`write` (runs on the
    writer thread, own transaction) and read with :meth:`read` (a reader connection).
    """

    def __init__(self, path: Path, *, max_pending_records: int = 200_000) -> None:
        self.path = path
        self.max_pending_records = max_pending_records
        self._signal = CommitSignal()
        self._writer: GroupCommitWriter | None = None
        self._connection: sqlite3.Connection | None = None
        self._next_sequence = 1
        self._last_received_ms = 0
        self._readers: list[sqlite3.Connection] = []
        self._reader_local = threading.local()
        self._readers_lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        await asyncio.to_thread(self._open)
        self._writer = GroupCommitWriter(
            name="liveevents-sqlite-writer",
            max_pending_records=self.max_pending_records,
            commit_appends=self._commit_appends,
            run_task=self._run_task,
            on_exit=self._close_connection,
        )
        self._writer.start()

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = _connect(self.path)
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own; the version bump goes in the same script.
            connection.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
        row = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        last = row[0] if row else 0
        self._next_sequence = last + 1
        (newest,) = connection.execute("SELECT max(received_at) FROM events").fetchone()
        self._last_received_ms = newest or 0
        self._signal.publish(last)
        self._connection = connection

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        if self._writer is not None:
            await asyncio.to_thread(self._writer.close)
        with self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
        self._reader_local = threading.local()

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

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` on the writer thread inside its own committed transaction."""
        return await asyncio.wrap_future(self._submit(Task(work)))

    def _submit(self, job: Append | Task) -> concurrent.futures.Future[Any]:
        if self._writer is None:
            raise StoreClosed("the store is not open")
        return self._writer.submit(job)

    def _run_task(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connection
        assert connection is not None
        try:
            connection.execute("BEGIN IMMEDIATE")
            result = work(connection)
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        return result

    def _commit_appends(self, jobs: list[Append]) -> list[list[int]]:
        connection = self._connection
        assert connection is not None
        received_ms = max(_now_ms(), self._last_received_ms)
        event_rows: list[tuple[Any, ...]] = []
        rejection_rows: list[tuple[Any, ...]] = []
        sequences: list[list[int]] = []
        sequence = self._next_sequence
        for job in jobs:
            first = sequence
            for event in job.events:
                event_rows.append(
                    (sequence, event.stream, received_ms, event.event_name, event.event_time, event.partition_key, event.data, event.source, event.access_key_id)
                )
                sequence += 1
            sequences.append(list(range(first, sequence)))
            rejection_rows.extend(
                (received_ms, r.source, r.data, r.field, r.value, r.rule, r.stream, r.partition_key, r.access_key_id) for r in job.rejections
            )
        try:
            connection.execute("BEGIN IMMEDIATE")
            if event_rows:
                connection.executemany(f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", event_rows)
            if rejection_rows:
                connection.executemany(f"INSERT INTO quarantine ({_QUARANTINE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rejection_rows)
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise StoreError(f"the event log could not be written: {error}") from error
        self._next_sequence = sequence
        self._last_received_ms = received_ms
        if event_rows:
            self._signal.publish(sequence - 1)
        return sequences

    # -- reads -----------------------------------------------------------------------------------

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` on a worker thread with a read-only connection."""
        return await asyncio.to_thread(self._with_reader, work)

    def _with_reader(self, work: Callable[[sqlite3.Connection], T]) -> T:
        reader: sqlite3.Connection | None = getattr(self._reader_local, "connection", None)
        if reader is None:
            reader = _connect(self.path)
            reader.execute("PRAGMA query_only=ON")
            self._reader_local.connection = reader
            with self._readers_lock:
                self._readers.append(reader)
        return work(reader)

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
        clauses = ["seq > ?"]
        parameters: list[Any] = [after]
        if names is not None:
            if not names:
                return []
            clauses.append(f"event_name IN ({', '.join('?' * len(names))})")
            parameters.extend(names)
        for clause, value in (("seq < ?", before), ("stream = ?", stream), ("event_time >= ?", since), ("event_time < ?", until)):
            if value is not None:
                clauses.append(clause)
                parameters.append(value)
        order = "DESC" if newest_first else "ASC"
        query = f"SELECT {_EVENT_COLUMNS} FROM events WHERE {' AND '.join(clauses)} ORDER BY seq {order} LIMIT ?"
        parameters.append(limit)
        rows = await self.read(lambda connection: connection.execute(query, parameters).fetchall())
        return [_stored_event(row) for row in rows]

    async def get_event(self, sequence: int) -> StoredEvent | None:
        row = await self.read(lambda c: c.execute(f"SELECT {_EVENT_COLUMNS} FROM events WHERE seq = ?", (sequence,)).fetchone())
        return None if row is None else _stored_event(row)

    async def read_quarantine(self, *, after: int = 0, limit: int = 100) -> list[QuarantinedRecord]:
        query = f"SELECT {_QUARANTINE_COLUMNS} FROM quarantine WHERE id > ? ORDER BY id LIMIT ?"
        rows = await self.read(lambda c: c.execute(query, (after, limit)).fetchall())
        return [QuarantinedRecord(row[0], _datetime(row[1]), *row[2:]) for row in rows]

    async def stats(self) -> Stats:
        def collect(connection: sqlite3.Connection) -> Stats:
            by_name = dict(connection.execute("SELECT event_name, count(*) FROM events GROUP BY event_name ORDER BY event_name").fetchall())
            by_stream = dict(connection.execute("SELECT stream, count(*) FROM events GROUP BY stream ORDER BY stream").fetchall())
            (rejected,) = connection.execute("SELECT count(*) FROM quarantine").fetchone()
            oldest = connection.execute("SELECT received_at FROM events ORDER BY seq LIMIT 1").fetchone()
            newest = connection.execute("SELECT received_at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            return Stats(
                events_stored=sum(by_name.values()),
                records_rejected=rejected,
                events_by_name=by_name,
                events_by_stream=by_stream,
                last_sequence=self.last_sequence,
                oldest_received_at=_datetime(oldest[0]) if oldest else None,
                newest_received_at=_datetime(newest[0]) if newest else None,
            )

        return await self.read(collect)

    # -- streams ---------------------------------------------------------------------------------

    async def create_stream(self, name: str, shard_count: int) -> StreamInfo:
        def insert(connection: sqlite3.Connection) -> StreamInfo:
            created = _now_ms()
            try:
                connection.execute("INSERT INTO streams (name, shard_count, created_at) VALUES (?, ?, ?)", (name, shard_count, created))
            except sqlite3.IntegrityError:
                raise StreamExists(name) from None
            return StreamInfo(name, shard_count, _datetime(created))

        return await self.write(insert)

    async def ensure_stream(self, name: str, shard_count: int = 1) -> StreamInfo:
        try:
            return await self.create_stream(name, shard_count)
        except StreamExists:
            existing = await self.get_stream(name)
            assert existing is not None  # streams are never deleted
            return existing

    async def get_stream(self, name: str) -> StreamInfo | None:
        row = await self.read(lambda c: c.execute("SELECT name, shard_count, created_at FROM streams WHERE name = ?", (name,)).fetchone())
        return None if row is None else StreamInfo(row[0], row[1], _datetime(row[2]))

    async def list_streams(self) -> list[StreamInfo]:
        rows = await self.read(lambda c: c.execute("SELECT name, shard_count, created_at FROM streams ORDER BY name").fetchall())
        return [StreamInfo(name, shards, _datetime(created)) for name, shards, created in rows]

    # -- retention -------------------------------------------------------------------------------

    async def purge(self, received_before: datetime) -> tuple[int, int]:
        cutoff = int(received_before.timestamp() * 1000)
        counts = []
        for table, key in (("events", "seq"), ("quarantine", "id")):
            # received_at never decreases along the key, so the rows to purge are a prefix: delete
            # it in chunks, each its own short transaction, so that appends go on in between.
            chunk = (
                f"DELETE FROM {table} WHERE {key} <= (SELECT max({key}) FROM "
                f"(SELECT {key}, received_at FROM {table} ORDER BY {key} LIMIT {PURGE_CHUNK}) WHERE received_at < ?)"
            )
            total = 0
            while deleted := await self.write(lambda connection: connection.execute(chunk, (cutoff,)).rowcount):
                total += deleted
            counts.append(total)
        return counts[0], counts[1]


def _stored_event(row: tuple[Any, ...]) -> StoredEvent:
    sequence, stream, received_ms, *rest = row
    return StoredEvent(sequence, stream, _datetime(received_ms), *rest)
