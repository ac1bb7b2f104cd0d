"""The event log, on both stores (SQLite, PostgreSQL): durable appends, sequence numbers, reads,
quarantine, retention, wake-ups."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from liveevents.config import ConfigError, Settings
from liveevents.store.base import NewEvent, Rejection, StoreClosed, StoreError, StoreOverloaded, StreamExists
from liveevents.store.factory import store_from_settings
from liveevents.store.sqlite import DATABASE_FILE, SQLiteStore
from tests.helpers.postgres import postgres_schema_url

Store = Any  # SQLiteStore | PostgresStore: both offer write/read/PLACEHOLDER besides the Store protocol


def event(name: str = "asset_accessed", time: str = "2024-03-05T10:20:30.123Z", *, stream: str = "live-events", data: bytes = b"{}") -> NewEvent:
    return NewEvent(stream=stream, event_name=name, event_time=time, partition_key="42", data=data, source="kinesis", access_key_id="AKID")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Store]:
    """A factory of unopened stores on one database (a fresh SQLite file, or a fresh schema)."""
    if request.param == "sqlite":
        return lambda **options: SQLiteStore(tmp_path / DATABASE_FILE, **options)
    from liveevents.store.postgres import PostgresStore

    url = request.getfixturevalue("postgres_url")
    return lambda **options: PostgresStore(url, **options)


@pytest.fixture
def postgres_url() -> Any:
    with postgres_schema_url() as url:
        yield url


def run(test: Callable[[Store], Awaitable[None]], make_store: Callable[..., Store], **options: int) -> None:
    async def main() -> None:
        store = make_store(**options)
        await store.open()
        try:
            await test(store)
        finally:
            await store.close()

    asyncio.run(main())


def test_append_returns_increasing_sequences_and_keeps_every_field(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        first = await store.append([event(data=b'{"n":1}'), event("grade_change", data=b'{"n":2}')])
        second = await store.append([event(data=b'{"n":3}')])
        assert first == [1, 2] and second == [3]
        assert store.last_sequence == 3
        stored = await store.get_event(2)
        assert stored is not None
        assert (stored.sequence, stored.stream, stored.event_name, stored.event_time, stored.partition_key, stored.data, stored.source, stored.access_key_id) == (
            2, "live-events", "grade_change", "2024-03-05T10:20:30.123Z", "42", b'{"n":2}', "kinesis", "AKID",
        )
        assert abs(stored.received_at - datetime.now(timezone.utc)) < timedelta(seconds=10)

    run(check, make_store)


def test_concurrent_appends_all_commit_with_distinct_contiguous_sequences(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        batches = [[event(data=f'{{"b":{b},"i":{i}}}'.encode()) for i in range(50)] for b in range(40)]
        results = await asyncio.gather(*(store.append(batch) for batch in batches))
        for result in results:
            assert result == list(range(result[0], result[0] + 50))
        assert sorted(sequence for result in results for sequence in result) == list(range(1, 2001))
        stored = await store.get_event(results[7][3])
        assert stored is not None and stored.data == b'{"b":7,"i":3}'

    run(check, make_store)


def test_sequences_are_never_reused_after_purge_and_reopen(make_store: Callable[..., Store]) -> None:
    async def fill(store: Store) -> None:
        await store.append([event(), event(), event()])
        assert await store.purge(datetime.now(timezone.utc) + timedelta(seconds=5)) == (3, 0)
        assert (await store.stats()).events_stored == 0

    async def reopen(store: Store) -> None:
        assert store.last_sequence == 3
        assert await store.append([event()]) == [4]

    run(fill, make_store)
    run(reopen, make_store)


def test_purge_keeps_what_is_younger_than_the_cutoff(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        await store.append([event()] * 3, [Rejection("http", b"x", "", '"x"', "not JSON")])
        # Age the first two events and the rejection as if received two days ago.
        old = int((datetime.now(timezone.utc) - timedelta(days=2)).timestamp() * 1000)
        p = store.PLACEHOLDER
        await store.write(lambda c: c.execute(f"UPDATE events SET received_at = {p} WHERE seq <= 2", (old,)))
        await store.write(lambda c: c.execute(f"UPDATE quarantine SET received_at = {p}", (old,)))
        assert await store.purge(datetime.now(timezone.utc) - timedelta(days=1)) == (2, 1)
        assert [stored.sequence for stored in await store.read_events()] == [3]
        assert await store.read_quarantine() == []

    run(check, make_store)


def test_purge_awaits_its_hooks_with_the_cutoff_first_and_deletes_nothing_when_one_fails(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        await store.append([event("logged_in"), event("grade_change")])
        seen: list[tuple[int, list[int]]] = []

        async def record_first(cutoff_ms: int) -> None:
            seen.append((cutoff_ms, [stored.sequence for stored in await store.read_events()]))

        async def refuse(cutoff_ms: int) -> None:
            raise ConnectionError("the notification database is away")

        store.before_purge(record_first)
        store.before_purge(refuse)
        cutoff = datetime(2100, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
        with pytest.raises(StoreError, match="the notification database is away"):
            await store.purge(cutoff)
        assert seen == [(4102542245678, [1, 2])]
        assert [stored.sequence for stored in await store.read_events()] == [1, 2]

    run(check, make_store)


def test_rejections_are_quarantined_with_their_reason(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        rejection = Rejection(
            source="kinesis", data=b'{"attributes": {}}', field="attributes.event_name", value="missing",
            rule="required: a Canvas event name", stream="live-events", partition_key="7", access_key_id="AKID",
        )
        assert await store.append([event()], [rejection]) == [1]
        (quarantined,) = await store.read_quarantine()
        assert (quarantined.id, quarantined.source, quarantined.data, quarantined.field, quarantined.value, quarantined.rule) == (
            1, "kinesis", b'{"attributes": {}}', "attributes.event_name", "missing", "required: a Canvas event name",
        )
        assert (quarantined.stream, quarantined.partition_key, quarantined.access_key_id) == ("live-events", "7", "AKID")
        stats = await store.stats()
        assert (stats.events_stored, stats.records_rejected) == (1, 1)

    run(check, make_store)


def test_read_events_filters_and_pages(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        await store.create_stream("other", 2)
        await store.append(
            [
                event("logged_in", "2024-01-01T00:00:00.000Z"),
                event("asset_accessed", "2024-01-02T00:00:00.000Z"),
                event("grade_change", "2024-01-03T00:00:00.000Z"),
                event("asset_accessed", "2024-01-04T00:00:00.000Z", stream="other"),
                event("asset_accessed", "2024-01-05T00:00:00.000Z"),
            ]
        )

        async def sequences(**query: object) -> list[int]:
            return [stored.sequence for stored in await store.read_events(**query)]  # type: ignore[arg-type]

        assert await sequences() == [1, 2, 3, 4, 5]
        assert await sequences(names=["asset_accessed"]) == [2, 4, 5]
        assert await sequences(names=["asset_accessed", "logged_in"], after=2) == [4, 5]
        assert await sequences(names=[]) == []
        assert await sequences(stream="other") == [4]
        assert await sequences(since="2024-01-02T00:00:00.000Z", until="2024-01-04T00:00:00.000Z") == [2, 3]
        assert await sequences(limit=2) == [1, 2]
        assert await sequences(after=2, limit=2) == [3, 4]
        assert await sequences(newest_first=True, limit=2) == [5, 4]
        assert await sequences(newest_first=True, before=4, limit=2) == [3, 2]
        stats = await store.stats()
        assert stats.events_by_name == {"asset_accessed": 3, "grade_change": 1, "logged_in": 1}
        assert stats.events_by_stream == {"live-events": 4, "other": 1}
        assert stats.last_sequence == 5

    run(check, make_store)


def test_streams_create_list_and_refuse_duplicates(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        created = await store.create_stream("alpha", 3)
        assert (created.name, created.shard_count) == ("alpha", 3)
        with pytest.raises(StreamExists):
            await store.create_stream("alpha", 1)
        ensured = await store.ensure_stream("alpha", 1)
        assert ensured.shard_count == 3
        await store.ensure_stream("beta")
        assert [(s.name, s.shard_count) for s in await store.list_streams()] == [("alpha", 3), ("beta", 1)]
        assert await store.get_stream("gamma") is None

    run(check, make_store)


def test_overload_refuses_before_queueing_and_the_store_recovers(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        with pytest.raises(StoreOverloaded):
            await store.append([event()] * 11)
        assert await store.append([event()] * 10) == list(range(1, 11))
        assert store.pending_records == 0

    run(check, make_store, max_pending_records=10)


def test_waiters_wake_on_commit_and_time_out_otherwise(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        assert await store.wait_for_events(after=0, timeout=0.05) == 0
        waiter = asyncio.create_task(store.wait_for_events(after=0, timeout=10))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        started = asyncio.get_running_loop().time()
        await store.append([event(), event()])
        assert await waiter == 2
        assert asyncio.get_running_loop().time() - started < 1
        # Already past: answers at once.
        assert await store.wait_for_events(after=1, timeout=10) == 2

    run(check, make_store)


def test_sqlite_commits_are_in_the_file_at_once(tmp_path: Path) -> None:
    """What append acknowledged is in the database file for any other connection (WAL committed)."""

    async def check(store: Store) -> None:
        await store.append([event(data=b'{"durable":true}')])
        other = sqlite3.connect(tmp_path / DATABASE_FILE)
        assert other.execute("SELECT data FROM events").fetchall() == [(b'{"durable":true}',)]
        assert other.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        other.close()

    run(check, lambda: SQLiteStore(tmp_path / DATABASE_FILE))


def test_closed_store_refuses_appends(make_store: Callable[..., Store]) -> None:
    async def check() -> None:
        store = make_store()
        await store.open()
        await store.close()
        with pytest.raises(StoreClosed):
            await store.append([event()])

    asyncio.run(check())


def test_a_failing_write_rolls_back_and_the_writer_goes_on(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        def broken(connection: Any) -> None:
            connection.execute("INSERT INTO streams (name, shard_count, created_at) VALUES ('half', 1, 0)")
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            await store.write(broken)
        assert await store.get_stream("half") is None
        assert await store.append([event()]) == [1]

    run(check, make_store)


def test_stats_counts_follow_appends_and_purges_by_name_and_stream(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        rejection = Rejection("http", b"x", "", '"x"', "not JSON")
        await store.append([event("logged_in"), event("grade_change", stream="other"), event("logged_in")], [rejection])
        await store.append([event("logged_in", stream="other"), event("quiz_submitted")], [rejection, rejection])
        stats = await store.stats()
        assert stats.events_by_name == {"grade_change": 1, "logged_in": 3, "quiz_submitted": 1}
        assert stats.events_by_stream == {"live-events": 3, "other": 2}
        assert (stats.events_stored, stats.records_rejected) == (5, 3)
        # The first append (seq 1-3, one rejection) is two days old.
        old = int((datetime.now(timezone.utc) - timedelta(days=2)).timestamp() * 1000)
        p = store.PLACEHOLDER
        await store.write(lambda c: c.execute(f"UPDATE events SET received_at = {p} WHERE seq <= 3", (old,)))
        await store.write(lambda c: c.execute(f"UPDATE quarantine SET received_at = {p} WHERE id = (SELECT min(id) FROM quarantine)", (old,)))
        assert await store.purge(datetime.now(timezone.utc) - timedelta(days=1)) == (3, 1)
        stats = await store.stats()
        assert stats.events_by_name == {"logged_in": 1, "quiz_submitted": 1}
        assert stats.events_by_stream == {"live-events": 1, "other": 1}
        assert (stats.events_stored, stats.records_rejected) == (2, 2)

    run(check, make_store)


def test_an_existing_log_gets_its_counts_when_migrated(tmp_path: Path) -> None:
    from liveevents.store.sqlite_schema import MIGRATIONS

    path = tmp_path / DATABASE_FILE
    with closing(sqlite3.connect(path)) as connection:
        for number, script in enumerate(MIGRATIONS[:2], start=1):
            connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version={number};\nCOMMIT;")
        connection.executemany(
            "INSERT INTO events (stream, received_at, event_name, event_time, partition_key, data, source) VALUES (?, 1, ?, 't', '', x'00', 'http')",
            [("live-events", "logged_in"), ("live-events", "logged_in"), ("other", "grade_change")],
        )
        connection.execute("INSERT INTO quarantine (received_at, source, data, field, value, rule) VALUES (1, 'http', x'00', '', '', 'r')")
        connection.commit()

    async def check(store: Store) -> None:
        stats = await store.stats()
        assert (stats.events_by_name, stats.events_by_stream, stats.records_rejected) == ({"logged_in": 2, "grade_change": 1}, {"live-events": 2, "other": 1}, 1)
        await store.append([event("logged_in")])
        assert (await store.stats()).events_by_name == {"logged_in": 3, "grade_change": 1}

    run(check, lambda: SQLiteStore(path))


def test_sqlite_files_are_private_to_their_owner(tmp_path: Path) -> None:
    path = tmp_path / "data" / DATABASE_FILE

    async def check(store: Store) -> None:
        await store.append([event()])
        modes = {file.name: stat.S_IMODE(file.stat().st_mode) for file in path.parent.iterdir()}
        assert modes == {DATABASE_FILE: 0o600, DATABASE_FILE + "-wal": 0o600, DATABASE_FILE + "-shm": 0o600}

    run(check, lambda: SQLiteStore(path))
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # A file left readable by an earlier version is tightened on open.
    path.chmod(0o644)
    run(check, lambda: SQLiteStore(path))


def test_database_url_chooses_the_sqlite_file_or_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    default = store_from_settings(Settings(data_dir=data_dir))
    assert isinstance(default, SQLiteStore) and default.path == data_dir / DATABASE_FILE
    absolute = store_from_settings(Settings(data_dir=data_dir, database_url=f"sqlite:///{tmp_path}/elsewhere/events.db"))
    assert isinstance(absolute, SQLiteStore) and absolute.path == tmp_path / "elsewhere" / "events.db"
    monkeypatch.chdir(tmp_path)
    relative = store_from_settings(Settings(data_dir=data_dir, database_url="sqlite:///var/events.db"))
    assert isinstance(relative, SQLiteStore) and relative.path == Path("var/events.db")
    for url in ("sqlite:", "sqlite://", "sqlite:///", "mysql://db/events"):
        with pytest.raises(ConfigError) as refused:
            store_from_settings(Settings(data_dir=data_dir, database_url=url))
        assert str(refused.value) == (
            f"setting 'database_url': {url!r} is not empty (SQLite in the data dir), sqlite:///relative/file, "
            "sqlite:////absolute/file or a postgresql://user@host/database URL"
        )
