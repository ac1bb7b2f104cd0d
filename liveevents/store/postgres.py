"""The multi-node store: PostgreSQL (psycopg 3), shared by several service processes.

Same tables and promises as the SQLite store.  Per process, appends go through one writer
thread with group commit (:mod:`liveevents.store.writer`), each commit durable on the server
(``synchronous_commit = on``) before any caller is answered.  Across processes, every append
transaction first takes one advisory lock and only then draws its sequence numbers, so sequence
order is commit order on every node: a reader's ``after=<last seen>`` cursor never skips an
event that commits later with a smaller number.  Commits are announced with ``NOTIFY`` on a
channel named after the schema; each process listens and wakes its local waiters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import ConnectionPool

from liveevents.delivery.urls import mask_url
from liveevents.store.base import StoreClosed, StoreError
from liveevents.store.postgres_schema import MIGRATIONS
from liveevents.store.sql import (
    EVENT_COLUMNS,
    QUARANTINE_INSERT_COLUMNS,
    SqlStore,
    append_count_changes,
    count_upsert,
    event_row,
    rejection_row,
    require_known_schema,
)
from liveevents.store.writer import Append

__all__ = ["PostgresStore"]

T = TypeVar("T")
log = logging.getLogger(__name__)

# Advisory lock keys (any bigint, fixed for the project).
APPEND_LOCK = 0x4C4956455F415050  # "LIVE_APP"
MIGRATE_LOCK = 0x4C4956455F4D4947  # "LIVE_MIG"
_NOW_MS = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
_OWN_TABLES = ("streams", "events", "quarantine")  # made by the first migration


def _one_line(error: psycopg.Error) -> str:
    return " ".join(str(error).split())  # libpq's messages span lines


class PostgresStore(SqlStore):
    """:class:`liveevents.store.base.Store` on PostgreSQL at ``url`` (schema: the connection's
    ``search_path``, e.g. ``?options=-csearch_path%3Dliveevents``).

    Extension points as for SQLite: append DDL to
    :data:`liveevents.store.postgres_schema.MIGRATIONS`, write with :meth:`write` (writer
    thread, own transaction), read with :meth:`read` (a pooled connection, autocommit).
    """

    PLACEHOLDER = "%s"

    def __init__(self, url: str, *, max_pending_records: int = 200_000, readers: int = 4) -> None:
        super().__init__()
        self.url = url
        self.max_pending_records = max_pending_records
        self._readers = readers
        self._connection: psycopg.Connection[Any] | None = None
        self._pool: ConnectionPool | None = None
        self._channel = "liveevents_events"
        self._listening = threading.Event()
        self._closing = threading.Event()
        self._listener: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def check(self, timeout_seconds: int = 10) -> None:
        """Connect once and disconnect: ``StoreError`` in one line when the server cannot be reached
        or refuses the login, or a newer liveevents migrated the schema, so a start fails clearly
        before anything else is set up."""
        try:
            connection = psycopg.connect(self.url, connect_timeout=timeout_seconds, autocommit=True)
        except psycopg.Error as error:
            raise StoreError(f"cannot connect to PostgreSQL at {mask_url(self.url)}: {_one_line(error)}") from None
        with connection:
            try:
                self._require_usable_schema(connection, self._schema_version(connection))
            except psycopg.Error as error:
                raise StoreError(f"cannot read the liveevents schema of {self._database_name()}: {_one_line(error)}") from None

    def _database_name(self) -> str:
        return f"the PostgreSQL database at {mask_url(self.url)}"

    def _require_usable_schema(self, connection: psycopg.Connection[Any], version: int) -> None:
        """``StoreError`` when a newer liveevents migrated the schema, or when, before the first
        migration, tables of liveevents' names are there already (another application's)."""
        require_known_schema(self._database_name(), version, len(MIGRATIONS))
        if version == 0:
            taken = [name for name in _OWN_TABLES if connection.execute("SELECT to_regclass(%s)", (name,)).fetchone() != (None,)]
            if taken:
                raise StoreError(
                    f"{self._database_name()} already has tables named {', '.join(taken)} but no liveevents schema "
                    "(another application's?): use another database, or another schema through search_path"
                )

    @staticmethod
    def _schema_version(connection: psycopg.Connection[Any]) -> int:
        """The applied migration count of the connection's schema (0 before the first start)."""
        if connection.execute("SELECT to_regclass('liveevents_schema')").fetchone() == (None,):
            return 0
        row = connection.execute("SELECT version FROM liveevents_schema").fetchone()
        return row[0] if row else 0

    async def open(self) -> None:
        await asyncio.to_thread(self._open)
        self._start_writer("liveevents-postgres-writer")
        self._listener = threading.Thread(target=self._listen, name="liveevents-postgres-listener", daemon=True)
        self._listener.start()
        await asyncio.to_thread(self._listening.wait, 10)

    def _open(self) -> None:
        connection = self._writer_connection()
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            connection.execute("CREATE TABLE IF NOT EXISTS liveevents_schema (version integer NOT NULL)")
            row = connection.execute("SELECT version FROM liveevents_schema").fetchone()
            if row is None:
                connection.execute("INSERT INTO liveevents_schema (version) VALUES (0)")
            version = row[0] if row else 0
            self._require_usable_schema(connection, version)
            for script in MIGRATIONS[version:]:
                connection.execute(script)
            connection.execute("UPDATE liveevents_schema SET version = %s", (len(MIGRATIONS),))
        (schema,) = connection.execute("SELECT current_schema()").fetchone() or ("public",)
        self._channel = f"liveevents_events_{schema}"
        self._signal.publish(self._committed_sequence(connection))
        self._pool = ConnectionPool(self.url, min_size=1, max_size=self._readers, kwargs={"autocommit": True}, open=True, name="liveevents-readers")

    def _writer_connection(self) -> psycopg.Connection[Any]:
        if self._connection is None or self._connection.closed or self._connection.broken:
            self._connection = psycopg.connect(self.url, autocommit=True)
            self._connection.execute("SET synchronous_commit = on")
        return self._connection

    @staticmethod
    def _committed_sequence(connection: psycopg.Connection[Any]) -> int:
        (last, called) = connection.execute("SELECT last_value, is_called FROM events_seq").fetchone() or (0, False)
        return last if called else 0

    def _close_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        await self._close_writer()
        self._closing.set()
        if self._listener is not None:
            await asyncio.to_thread(self._listener.join, 10)
        if self._pool is not None:
            await asyncio.to_thread(self._pool.close)

    def _listen(self) -> None:
        """Turn NOTIFYs from every process into local wake-ups; reconnect when the server goes away."""
        while not self._closing.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {self._channel}")
                    # Whatever committed while not listening.
                    self._signal.publish(self._committed_sequence(connection))
                    self._listening.set()
                    while not self._closing.is_set():
                        for notice in connection.notifies(timeout=0.25):
                            self._signal.publish(int(notice.payload))
            except psycopg.Error as error:
                log.warning("PostgreSQL listener lost its connection (retrying): %s", error)
                self._closing.wait(1.0)

    # -- on the writer thread --------------------------------------------------------------------

    def _run_task(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        connection = self._writer_connection()
        with connection.transaction():
            return work(connection)

    def _commit_appends(self, jobs: list[Append]) -> list[list[int]]:
        count = sum(len(job.events) for job in jobs)
        try:
            connection = self._writer_connection()
            with connection.transaction():
                connection.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
                # received_at must not decrease along seq (retention relies on it), whatever the nodes' clocks.
                (received_ms,) = connection.execute(
                    f"SELECT greatest({_NOW_MS}, coalesce((SELECT received_at FROM events ORDER BY seq DESC LIMIT 1), 0), "
                    "coalesce((SELECT received_at FROM quarantine ORDER BY id DESC LIMIT 1), 0))"
                ).fetchone()  # type: ignore[misc]
                last = 0
                if count:
                    (last,) = connection.execute("SELECT setval('events_seq', nextval('events_seq') + %s - 1)", (count,)).fetchone()  # type: ignore[misc]
                sequence = last - count + 1
                sequences: list[list[int]] = []
                with connection.cursor() as cursor:
                    with cursor.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as copy:
                        for job in jobs:
                            sequences.append(list(range(sequence, sequence + len(job.events))))
                            for event in job.events:
                                copy.write_row(event_row(sequence, received_ms, event))
                                sequence += 1
                    rejections = [rejection for job in jobs for rejection in job.rejections]
                    if rejections:
                        with cursor.copy(f"COPY quarantine ({QUARANTINE_INSERT_COLUMNS}) FROM STDIN") as copy:
                            for rejection in rejections:
                                copy.write_row(rejection_row(received_ms, rejection))
                    cursor.executemany(count_upsert(self.PLACEHOLDER), append_count_changes(jobs))
                if count:
                    connection.execute("SELECT pg_notify(%s, %s)", (self._channel, str(last)))
        except psycopg.Error as error:
            raise StoreError(f"the event log could not be written: {error}") from error
        if count:
            self._signal.publish(last)
        return sequences

    # -- reads -----------------------------------------------------------------------------------

    async def read(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run ``work(connection)`` on a worker thread with a pooled autocommit connection."""
        return await asyncio.to_thread(self._with_reader, work)

    def _with_reader(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        if self._pool is None:
            raise StoreClosed("the store is not open")
        try:
            with self._pool.connection() as connection:
                return work(connection)
        except psycopg.OperationalError as error:
            raise StoreError(f"the event log cannot be read: {error}") from error
