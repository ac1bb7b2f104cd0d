"""Benchmark: Kinesis ingest through the service, against bare inserts of the same records.

Starts ``liveevents serve`` on loopback (durability on: every call answered only after its
commit; SQLite: WAL + synchronous=FULL), sends realistic raw Canvas records with boto3
``put_records`` in batches of 500 (one producer, then several concurrent ones, as several
Canvas processes would), and measures records/s.  The floor, measured in the same run, inserts
the same records into the same schema in one transaction (SQLite: one ``executemany``;
PostgreSQL: one ``COPY``).  The boto3 producers run on the same machine and share its cores
with the service.

``--store postgres --nodes 2``: that many service processes share a throw-away database on the
local PostgreSQL server (the multi-node set-up); the producers take turns between them.

    .venv/bin/python bench/ingest.py [--records 60000] [--batch 500] [--producers 4] [--store sqlite|postgres] [--nodes 1]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
from support.postgres import DEFAULT_SERVER, postgres_database, store_settings
from support.records import realistic_records
from support.served import ServedInstance, fresh_secrets

from liveevents.canvas.record import decode_record
from liveevents.store import postgres_schema, sqlite_schema
from liveevents.store.sql import EVENT_COLUMNS


def make_records(count: int) -> list[tuple[bytes, str]]:
    """(record bytes, partition key) pairs of realistic records (~1.3 KB), keyed by user_id as Canvas does."""
    return [(orjson.dumps(record), record["attributes"]["user_id"]) for record in realistic_records(count)]


def _rows(records: list[tuple[bytes, str]]) -> list[tuple[Any, ...]]:
    rows = []
    for sequence, (data, key) in enumerate(records, start=1):
        event = decode_record(data)
        rows.append((sequence, "live-events", 0, event.event_name, event.event_time, key, data, "kinesis", "AKID"))
    return rows


def sqlite_floor(records: list[tuple[bytes, str]], directory: Path) -> float:
    """records/s of one executemany in one transaction into the event log's schema."""
    rows = _rows(records)
    connection = sqlite3.connect(directory / "floor.sqlite3", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(sqlite_schema.MIGRATIONS[0])
    started = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany(f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows) / elapsed


def postgres_floor(records: list[tuple[bytes, str]], server: str) -> float:
    """records/s of one COPY in one transaction into the event log's schema (a database of its own)."""
    import psycopg

    rows = _rows(records)
    with postgres_database(server) as url, psycopg.connect(url) as connection:
        connection.execute(postgres_schema.MIGRATIONS[0])
        connection.commit()
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(f"COPY events ({EVENT_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        connection.commit()
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def through_service(services: list[ServedInstance], records: list[tuple[bytes, str]], batch: int, producers: int) -> float:
    batches = [[{"Data": data, "PartitionKey": key} for data, key in records[start : start + batch]] for start in range(0, len(records), batch)]
    clients = [services[worker % len(services)].kinesis() for worker in range(producers)]
    for client in clients:  # connect and warm up outside the measurement
        client.describe_stream(StreamName="live-events", Limit=1)
    failures: list[int] = []

    def produce(worker: int) -> None:
        for chunk in batches[worker::producers]:
            failures.append(clients[worker].put_records(StreamName="live-events", Records=chunk)["FailedRecordCount"])

    threads = [threading.Thread(target=produce, args=(worker,)) for worker in range(producers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if any(failures):
        raise SystemExit(f"{sum(failures)} records failed")
    return len(records) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--producers", type=int, default=4)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite", help="the service's store")
    parser.add_argument("--nodes", type=int, default=1, help="service processes sharing the store (postgres only)")
    parser.add_argument("--postgres", default=DEFAULT_SERVER, help="server for --store postgres (throw-away databases are created there)")
    options = parser.parse_args()
    if options.nodes > 1 and options.store != "postgres":
        parser.error("--nodes > 1 needs --store postgres (SQLite is one node's store)")

    records = make_records(options.records)
    size = sum(len(data) for data, _ in records) / len(records)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        floor_rate = sqlite_floor(records, directory) if options.store == "sqlite" else postgres_floor(records, options.postgres)
        with store_settings(options.store, options.postgres) as store_env, ExitStack() as nodes:
            env = {"LIVEEVENTS_LOG_LEVEL": "warning", **store_env}
            secrets = fresh_secrets()
            services = [
                nodes.enter_context(ServedInstance.start(directory / f"node-{number}", secrets=secrets, env=env)) for number in range(options.nodes)
            ]
            single = through_service(services, records, options.batch, 1)
            concurrent = through_service(services, records, options.batch, max(options.producers, options.nodes))
            stored = services[0].admin_get("/api/v1/stats")["events_stored"]
        if stored != 2 * len(records):
            raise SystemExit(f"expected {2 * len(records)} stored events, found {stored}")

    store = "SQLite" if options.store == "sqlite" else f"PostgreSQL, {options.nodes} node{'s' if options.nodes > 1 else ''}"
    floor_name = "bare SQLite executemany" if options.store == "sqlite" else "bare PostgreSQL COPY"
    print(f"ingest ({store}): {len(records)} records of {size:.0f} bytes avg, put_records batches of {options.batch}, durability on")
    producers = max(options.producers, options.nodes)
    rows = [
        (f"floor ({floor_name}, one transaction)", floor_rate),
        ("service, 1 producer", single),
        (f"service, {producers} producers", concurrent),
    ]
    for label, rate in rows:
        ratio = "" if rate is floor_rate else f"  ({rate / floor_rate:.2f}x floor)"
        print(f"  {label + ':':<52}{rate:>9,.0f} records/s{ratio}")
    target = 10_000
    print(f"  target {target:,} records/s: {'met' if max(single, concurrent) >= target else 'NOT met'}")


if __name__ == "__main__":
    main()
