"""Benchmark: Kinesis ingest through the service, against bare SQLite inserts of the same records.

Starts ``liveevents serve`` on loopback (durability on: WAL + synchronous=FULL, every call
answered only after its commit), sends realistic raw Canvas records with boto3 ``put_records``
in batches of 500 (one producer, then several concurrent ones, as several Canvas processes
would), and measures records/s.  The floor, measured in the same run, inserts the same records
into the same schema with one ``executemany`` in one transaction.  The boto3 producers run on
the same machine and share its cores with the service.

    .venv/bin/python bench/ingest.py [--records 60000] [--batch 500] [--producers 4]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import orjson
from support.records import realistic_records
from support.served import ServedInstance, fresh_secrets

from liveevents.canvas.record import decode_record
from liveevents.store.sqlite_schema import MIGRATIONS


def make_records(count: int) -> list[tuple[bytes, str]]:
    """(record bytes, partition key) pairs of realistic records (~1.3 KB), keyed by user_id as Canvas does."""
    return [(orjson.dumps(record), record["attributes"]["user_id"]) for record in realistic_records(count)]


def floor(records: list[tuple[bytes, str]], directory: Path) -> float:
    """records/s of one executemany in one transaction into the event log's schema."""
    rows = []
    for sequence, (data, key) in enumerate(records, start=1):
        event = decode_record(data)
        rows.append((sequence, "live-events", 0, event.event_name, event.event_time, key, data, "kinesis", "AKID"))
    connection = sqlite3.connect(directory / "floor.sqlite3", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(MIGRATIONS[0])
    started = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO events (seq, stream, received_at, event_name, event_time, partition_key, data, source, access_key_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows) / elapsed


def through_service(service: ServedInstance, records: list[tuple[bytes, str]], batch: int, producers: int) -> float:
    batches = [[{"Data": data, "PartitionKey": key} for data, key in records[start : start + batch]] for start in range(0, len(records), batch)]
    clients = [service.kinesis() for _ in range(producers)]
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
    options = parser.parse_args()

    records = make_records(options.records)
    size = sum(len(data) for data, _ in records) / len(records)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        floor_rate = floor(records, directory)
        with ServedInstance.start(directory / "data", secrets=fresh_secrets(), env={"LIVEEVENTS_LOG_LEVEL": "warning"}) as service:
            single = through_service(service, records, options.batch, 1)
            concurrent = through_service(service, records, options.batch, options.producers)
            stored = service.admin_get("/api/v1/stats")["events_stored"]
        if stored != 2 * len(records):
            raise SystemExit(f"expected {2 * len(records)} stored events, found {stored}")

    print(f"ingest: {len(records)} records of {size:.0f} bytes avg, put_records batches of {options.batch}, durability on")
    print(f"  floor (bare SQLite executemany, one transaction): {floor_rate:>9,.0f} records/s")
    print(f"  service, 1 producer:                              {single:>9,.0f} records/s  ({single / floor_rate:.2f}x floor)")
    print(f"  service, {options.producers} producers:                             {concurrent:>9,.0f} records/s  ({concurrent / floor_rate:.2f}x floor)")
    target = 10_000
    print(f"  target {target:,} records/s: {'met' if max(single, concurrent) >= target else 'NOT met'}")


if __name__ == "__main__":
    main()
