"""The embedded store: one SQLite file in WAL mode with a single writer thread.

Why a writer thread: SQLite allows one writer at a time, and a commit costs an fsync.  All
writes go through one thread (:mod:`liveevents.store.writer`) which commits every append
waiting in its queue in one transaction (group commit): under load many ``PutRecords`` calls
share one fsync, and no call is answered before the commit that holds its records
(``synchronous=FULL``: the WAL is fsynced at each commit, so ``kill -9`` or a power cut loses
nothing acknowledged).  Readers use their own connections on worker threads and never block
the writer (WAL).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from liveevents.store.base import StoreError
from liveevents.store.sql import (
    EVENT_COLUMNS,
    QUARANTINE_INSERT_COLUMNS,
    SqlStore,
    append_count_changes,
    count_upsert,
    event_row,
    now_ms,
    rejection_row,
    require_known_schema,
)
from liveevents.store.sqlite_schema import MIGRATIONS
from liveevents.store.writer import Append

__all__ = ["DATABASE_FILE", "SQLiteStore"]

T = TypeVar("T")

DATABASE_FILE = "liveevents.sqlite3"


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA busy_timeout=10000")
    return connection


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (event data is sensitive), in a
    directory of the same kind.  SQLite gives the -wal and -shm files the database file's mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            # Made by an earlier version with the umask's mode.
            file.chmod(0o600)


class SQLiteStore(SqlStore):
    """:class:`liveevents.store.base.Store` on one SQLite file (``<data_dir>/liveevents.sqlite3``).

    Extension points for other tables (delivery state): append DDL to
    :data:`liveevents.store.sqlite_schema.MIGRATIONS`, write with :meth:`write` (runs on the
    writer thread, own transaction) and read with :meth:`read` (a reader connection).
    """

    PLACEHOLDER = "?"

    def __init__(self, path: Path, *, max_pending_records: int = 200_000) -> None:
        super().__init__()
        self.path = path
        self.max_pending_records = max_pending_records
        self._connection: sqlite3.Connection | None = None
        self._next_sequence = 1
        self._last_received_ms = 0
        self._readers: list[sqlite3.Connection] = []
        self._reader_local = threading.local()
        self._readers_lock = threading.Lock()

    def check(self) -> None:
        """Read an existing database file once, read-only: ``StoreError`` in one line when it is
        not an SQLite database (or is damaged) or a newer liveevents wrote it, so a start fails
        clearly before anything else is set up.  A missing file is fine: it will be created."""
        if not self.path.exists():
            return
        if not self.path.is_file():
            raise StoreError(f"cannot use the database file {self.path}: it is not a regular file (a directory?)")
        try:
            connection = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                (version,) = connection.execute("PRAGMA user_version").fetchone()
                (tables,) = connection.execute("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise StoreError(f"cannot use the database file {self.path}: {error} (not an SQLite database, or damaged)") from None
        if version == 0 and tables:
            raise StoreError(
                f"cannot use the database file {self.path}: it holds {tables} table(s) but no liveevents schema "
                "(another application's database?); name a new file or an empty one"
            )
        require_known_schema(f"the database file {self.path}", version, len(MIGRATIONS))

    async def open(self) -> None:
        await asyncio.to_thread(self._open)
        self._start_writer("liveevents-sqlite-writer")

    def _open(self) -> None:
        _create_private(self.path)
        connection = _connect(self.path)
        (version,) = connection.execute("PRAGMA user_version").fetchone()
        require_known_schema(f"the database file {self.path}", version, len(MIGRATIONS))
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # executescript commits on its own; the version bump goes in the same script.
            connection.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
        # AUTOINCREMENT's high-water mark survives purges: numbers are never handed out twice.
        row = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        last = row[0] if row else 0
        self._next_sequence = last + 1
        (newest,) = connection.execute("SELECT max(received_at) FROM (SELECT max(received_at) AS received_at FROM events UNION ALL SELECT max(received_at) FROM quarantine)").fetchone()
        self._last_received_ms = newest or 0
        self._signal.publish(last)
        self._connection = connection

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        await self._close_writer()
        with self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
        self._reader_local = threading.local()

    # -- on the writer thread --------------------------------------------------------------------

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
        # Stamped here rather than on arrival so that it never decreases along seq (retention relies on it).
        received_ms = max(now_ms(), self._last_received_ms)
        event_rows: list[tuple[Any, ...]] = []
        sequences: list[list[int]] = []
        sequence = self._next_sequence
        for job in jobs:
            sequences.append(list(range(sequence, sequence + len(job.events))))
            for event in job.events:
                event_rows.append(event_row(sequence, received_ms, event))
                sequence += 1
        rejection_rows = [rejection_row(received_ms, rejection) for job in jobs for rejection in job.rejections]
        try:
            connection.execute("BEGIN IMMEDIATE")
            if event_rows:
                connection.executemany(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", event_rows)
            if rejection_rows:
                connection.executemany(f"INSERT INTO quarantine ({QUARANTINE_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rejection_rows)
            connection.executemany(count_upsert(self.PLACEHOLDER), append_count_changes(jobs))
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
