"""PostgreSQL as the shared store of several nodes: ordering, wake-ups and a served pair."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from liveevents.store.base import NewEvent, StoreError
from liveevents.store.postgres import PostgresStore
from liveevents.store.postgres_schema import MIGRATIONS as POSTGRES_MIGRATIONS
from tests.helpers.postgres import postgres_schema_url
from tests.helpers.records import record_bytes
from tests.helpers.service import ServedInstance

pytestmark = pytest.mark.postgres


@pytest.fixture
def url() -> Iterator[str]:
    with postgres_schema_url() as schema_url:
        yield schema_url


def event(number: int) -> NewEvent:
    return NewEvent("live-events", "asset_accessed", "2024-03-05T10:20:30.123Z", str(number), b'{"n": %d}' % number, "kinesis")


def test_two_nodes_hand_out_one_gapless_sequence_in_commit_order(url: str) -> None:
    async def main() -> None:
        first, second = PostgresStore(url), PostgresStore(url)
        await first.open()
        await second.open()
        try:
            results = await asyncio.gather(*(store.append([event(n) for n in range(25)]) for _ in range(10) for store in (first, second)))
            everything = sorted(sequence for result in results for sequence in result)
            assert everything == list(range(1, 501))
            for result in results:
                assert result == list(range(result[0], result[0] + 25))
            # Every node reads the same log.
            assert [e.sequence for e in await second.read_events(limit=1000)] == everything
        finally:
            await first.close()
            await second.close()

    asyncio.run(main())


def test_a_commit_on_one_node_wakes_waiters_on_another(url: str) -> None:
    async def main() -> None:
        writer, reader = PostgresStore(url), PostgresStore(url)
        await writer.open()
        await reader.open()
        try:
            waiting = asyncio.create_task(reader.wait_for_events(after=0, timeout=10))
            await asyncio.sleep(0.1)
            started = asyncio.get_running_loop().time()
            (sequence,) = await writer.append([event(1)])
            assert await waiting == sequence
            assert asyncio.get_running_loop().time() - started < 2
        finally:
            await writer.close()
            await reader.close()

    asyncio.run(main())


def test_two_served_nodes_share_the_log(url: str, tmp_path: Path) -> None:
    settings = {"LIVEEVENTS_DATABASE_URL": url}
    with ServedInstance.start(tmp_path / "a", env=settings) as node_a, ServedInstance.start(tmp_path / "b", env=settings) as node_b:
        answer = node_a.kinesis().put_records(StreamName="live-events", Records=[{"Data": record_bytes(n), "PartitionKey": str(n)} for n in range(600)])
        assert answer["FailedRecordCount"] == 0
        node_b.kinesis().create_stream(StreamName="made-on-b", ShardCount=1)
        assert node_a.kinesis().describe_stream(StreamName="made-on-b")["StreamDescription"]["StreamStatus"] == "ACTIVE"
        last = answer["Records"][-1]["SequenceNumber"]
        assert node_b.admin_get(f"/api/v1/events/{last}")["record"]["body"]["marker"] == "599"
        assert node_b.admin_get("/api/v1/stats")["events_stored"] == 600


def open_and_close(url: str) -> None:
    """What a node's start does to the schema: migrate it to this version."""

    async def main() -> None:
        store = PostgresStore(url)
        await store.open()
        await store.close()

    asyncio.run(main())


def test_a_schema_migrated_by_a_newer_version_is_refused_and_left_alone(url: str) -> None:
    open_and_close(url)
    newer = len(POSTGRES_MIGRATIONS) + 1
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("UPDATE liveevents_schema SET version = %s", (newer,))

    expected = f"has schema version {newer}, written by a newer liveevents; this version knows versions up to {len(POSTGRES_MIGRATIONS)}"
    with pytest.raises(StoreError, match=re.escape(expected)):
        PostgresStore(url).check()
    with pytest.raises(StoreError, match=re.escape(expected)):
        open_and_close(url)
    # An older node must not mark the schema with its own version: a newer node would migrate again.
    with psycopg.connect(url, autocommit=True) as connection:
        assert connection.execute("SELECT version FROM liveevents_schema").fetchall() == [(newer,)]


def test_check_passes_on_an_empty_schema_and_on_a_current_one(url: str) -> None:
    PostgresStore(url).check()  # nothing created yet
    open_and_close(url)
    PostgresStore(url).check()


def test_another_applications_tables_are_refused_before_anything_is_created(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE TABLE events (id serial PRIMARY KEY, title text)")
        connection.execute("CREATE TABLE quarantine (id serial PRIMARY KEY)")

    expected = "already has tables named events, quarantine but no liveevents schema (another application's?)"
    with pytest.raises(StoreError, match=re.escape(expected)):
        PostgresStore(url).check()
    with pytest.raises(StoreError, match=re.escape(expected)):
        open_and_close(url)
    with psycopg.connect(url, autocommit=True) as connection:
        assert connection.execute("SELECT to_regclass('liveevents_schema')").fetchone() == (None,)  # rolled back
