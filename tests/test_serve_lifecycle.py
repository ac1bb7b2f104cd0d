"""``liveevents serve`` as a process: first start, restart, SIGTERM drain, kill -9 durability."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.helpers.postgres import postgres_schema_url
from tests.helpers.records import record_bytes
from tests.helpers.service import KNOWN_SECRETS, ServedInstance, free_port, kinesis_client

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def all_events(service: ServedInstance) -> set[tuple[str, str]]:
    """(``body.marker``, sequence number) of every stored event."""
    found: set[tuple[str, str]] = set()
    cursor = None
    while True:
        page = service.admin_get("/api/v1/events", limit=1000, **({"after": cursor} if cursor else {}))
        for event in page["events"]:
            found.add((event["record"]["body"]["marker"], event["sequence_number"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def test_first_start_generates_secrets_prints_them_once_and_keeps_them(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ServedInstance.start(data_dir, secrets=None) as first:
        stored = json.loads((data_dir / "secrets.json").read_text())
        output = first.output()
        assert f"aws_endpoint:              {first.url}" in output
        assert "kinesis_stream_name:       live-events" in output
        assert "aws_region:                us-east-1" in output
        assert f"aws_access_key_id: {stored['kinesis_access_key_id']}" in output
        assert f"aws_secret_access_key_dec: {stored['kinesis_secret_access_key']}" in output
        assert "live_events.yml: |-" in output
        assert stored["admin_token"] in output and stored["ingest_token"] in output and stored["metrics_token"] in output
        assert stat.S_IMODE((data_dir / "secrets.json").stat().st_mode) == 0o600
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        client = kinesis_client(first.url, stored["kinesis_access_key_id"], stored["kinesis_secret_access_key"])
        sequence = client.put_record(StreamName="live-events", Data=record_bytes(1), PartitionKey="1")["SequenceNumber"]
        assert first.stop() == 0

    with ServedInstance.start(data_dir, secrets=None, port=first.port) as second:
        second.secrets = stored
        restarted_output = second.output()[len(output):]
        for name in KNOWN_SECRETS:
            assert stored[name] not in restarted_output
        # No secrets shown: the start line says where they are kept.
        assert (
            f"liveevents: Kinesis endpoint {second.url} (stream 'live-events'), data in {data_dir.resolve()}, "
            f"secrets in {data_dir.resolve()}/secrets.json\n"
        ) in restarted_output
        assert stored["to_show"] == []
        client = kinesis_client(second.url, stored["kinesis_access_key_id"], stored["kinesis_secret_access_key"])
        assert client.describe_stream(StreamName="live-events")["StreamDescription"]["StreamStatus"] == "ACTIVE"
        assert second.admin_get(f"/api/v1/events/{sequence}")["record"] == orjson.loads(record_bytes(1))


def serve_once(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``liveevents serve`` on ``data_dir`` with no secrets set, run until it exits by itself."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("LIVEEVENTS_")} | env
    command = [sys.executable, "-m", "liveevents.cli", "serve", "--port", str(free_port()), "--data-dir", str(data_dir)]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def test_a_second_serve_on_the_same_data_dir_exits_at_once_and_names_the_holder(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ServedInstance.start(data_dir) as first:
        first.kinesis().put_record(StreamName="live-events", Data=record_bytes(1), PartitionKey="1")
        second = serve_once(data_dir)
        assert second.returncode == 1
        assert second.stderr == (
            f"liveevents serve: data dir {data_dir.resolve()} is in use by another liveevents process (pid {first.process.pid}); "
            "stop it, or give this one its own --data-dir\n"
        )
        assert second.stdout == ""
        assert not (data_dir / "secrets.json").exists()  # the second generated nothing
        assert first.admin_get("/api/v1/stats")["events_stored"] == 1
        assert first.process.poll() is None
    # Stopped (or killed: the kernel drops the lock with the process), the data dir is free again.
    with ServedInstance.start(data_dir) as again:
        assert again.admin_get("/api/v1/stats")["events_stored"] == 1
        again.kill()
    with ServedInstance.start(data_dir) as after_kill:
        assert after_kill.admin_get("/api/v1/stats")["events_stored"] == 1


def test_two_data_dirs_cannot_share_one_sqlite_database_file(tmp_path: Path) -> None:
    database = tmp_path / "shared" / "events.sqlite3"
    with ServedInstance.start(tmp_path / "first", env={"LIVEEVENTS_DATABASE_URL": f"sqlite:///{database}"}) as first:
        second = serve_once(tmp_path / "second", LIVEEVENTS_DATABASE_URL=f"sqlite:///{database}")
        assert second.returncode == 1
        assert second.stderr == (
            f"liveevents serve: database file {database} is in use by another liveevents process (pid {first.process.pid}); "
            "stop it, or give this one its own database_url\n"
        )
        assert first.process.poll() is None


@pytest.mark.postgres
def test_postgresql_nodes_may_share_a_data_dir(tmp_path: Path) -> None:
    with postgres_schema_url() as url:
        settings = {"LIVEEVENTS_DATABASE_URL": url}
        with ServedInstance.start(tmp_path / "data", env=settings) as first, ServedInstance.start(tmp_path / "data", env=settings) as second:
            first.kinesis().put_record(StreamName="live-events", Data=record_bytes(1), PartitionKey="1")
            second.kinesis().put_record(StreamName="live-events", Data=record_bytes(2), PartitionKey="2")
            assert first.admin_get("/api/v1/stats")["events_stored"] == 2
            assert not (tmp_path / "data" / "lock").exists()


def test_sigterm_drains_in_flight_calls_and_exits_zero(tmp_path: Path) -> None:
    service = ServedInstance.start(tmp_path / "data")
    acknowledged: list[str] = []
    failures: list[BaseException] = []

    def produce(worker: int) -> None:
        client = service.kinesis()
        for batch in range(10_000):
            records = [{"Data": record_bytes(n), "PartitionKey": f"{worker}-{batch}-{n}"} for n in range(300)]
            try:
                answer = client.put_records(StreamName="live-events", Records=records)
            except Exception as error:  # noqa: BLE001 - the server going away ends the producer
                failures.append(error)
                return
            acknowledged.extend(result["SequenceNumber"] for result in answer["Records"])

    workers = [threading.Thread(target=produce, args=(n,)) for n in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(1.0)
    assert service.stop(timeout=30) == 0
    for worker in workers:
        worker.join(30)
    assert len(acknowledged) > 0 and failures  # it was busy, and it did stop

    with ServedInstance.start(tmp_path / "data") as restarted:
        stats = restarted.admin_get("/api/v1/stats")
        assert stats["events_stored"] >= len(acknowledged)
        assert stats["last_sequence"] >= max(int(sequence) for sequence in acknowledged)


@pytest.mark.slow
def test_kill_9_during_sustained_ingest_loses_no_acknowledged_record(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    acks = tmp_path / "acks.txt"
    service = ServedInstance.start(data_dir)
    producers = [
        subprocess.Popen([sys.executable, "-m", "tests.helpers.producer", service.url, str(acks.with_suffix(f".{n}")), "250"], cwd=PROJECT_ROOT)
        for n in range(2)
    ]
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum(_lines(acks.with_suffix(f".{n}")) for n in range(2)) < 5000:
            time.sleep(0.2)
        time.sleep(0.5)
        service.kill()
    finally:
        for producer in producers:
            producer.wait(30)

    acknowledged = [tuple(line.split()) for n in range(2) for line in acks.with_suffix(f".{n}").read_text().splitlines()]
    assert len(acknowledged) >= 5000

    with ServedInstance.start(data_dir) as restarted:
        stored = all_events(restarted)
    missing = [ack for ack in acknowledged if ack not in stored]
    assert missing == []


def _lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def test_retention_purges_old_events_periodically(tmp_path: Path) -> None:
    settings = {"LIVEEVENTS_RETENTION_DAYS": str(1.5 / 86400), "LIVEEVENTS_PURGE_INTERVAL_SECONDS": "0.3"}
    with ServedInstance.start(tmp_path / "data", env=settings) as service:
        service.kinesis().put_record(StreamName="live-events", Data=record_bytes(1), PartitionKey="1")
        assert service.admin_get("/api/v1/stats")["events_stored"] == 1
        deadline = time.monotonic() + 10
        while service.admin_get("/api/v1/stats")["events_stored"] and time.monotonic() < deadline:
            time.sleep(0.2)
        stats = service.admin_get("/api/v1/stats")
        assert stats["events_stored"] == 0 and stats["last_sequence"] == 1


def test_the_start_line_names_the_secrets_taken_from_the_environment(tmp_path: Path) -> None:
    with ServedInstance.start(tmp_path / "all") as every_one:
        assert (
            f"data in {(tmp_path / 'all').resolve()}, secrets from the environment (LIVEEVENTS_ADMIN_TOKEN, LIVEEVENTS_INGEST_TOKEN, "
            "LIVEEVENTS_METRICS_TOKEN, LIVEEVENTS_KINESIS_ACCESS_KEY_ID, LIVEEVENTS_KINESIS_SECRET_ACCESS_KEY)\n"
        ) in every_one.output()
    with ServedInstance.start(tmp_path / "some", secrets={"admin_token": KNOWN_SECRETS["admin_token"]}) as some:
        assert f"secrets in {(tmp_path / 'some').resolve()}/secrets.json and LIVEEVENTS_ADMIN_TOKEN\n" in some.output()


def test_uvicorn_logs_in_the_service_format_at_the_log_level_set_and_no_access_log(tmp_path: Path) -> None:
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    with ServedInstance.start(tmp_path / "info", env={"LIVEEVENTS_LOG_LEVEL": "info"}) as info:
        info.admin_get("/api/v1/stats")
        assert httpx.post(info.url + "/api/v1/events", content=b"{}").status_code == 401  # a liveevents line
        assert info.stop() == 0
        output = info.output()
    started = rf"^{stamp} INFO uvicorn: Started server process \[{info.process.pid}\]$"
    assert re.search(started, output, re.MULTILINE), output
    assert re.search(rf"^{stamp} INFO uvicorn: Finished server process \[{info.process.pid}\]$", output, re.MULTILINE), output
    assert re.search(rf"^{stamp} WARNING liveevents\.ingest\.http: HTTP ingest from 127\.0\.0\.1 refused", output, re.MULTILINE), output
    assert "INFO:" not in output and "uvicorn.error" not in output
    assert "/api/v1/stats" not in output  # the access log stays off
    with ServedInstance.start(tmp_path / "warning", env={"LIVEEVENTS_LOG_LEVEL": "warning"}) as warning:
        assert warning.stop() == 0
        assert "Started server process" not in warning.output() and " INFO " not in warning.output()
