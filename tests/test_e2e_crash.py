"""``kill -9`` of the service while it ingests and delivers; after a restart every acknowledged
record is delivered (at least once: duplicates are counted, by JWT ``jti``)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from liveevents.canvas.record import parse_record
from tests.helpers.delivery import FAST_DELIVERY, jwt_payload, put, subscribe, wait_until
from tests.helpers.records import canvas_record
from tests.helpers.service import ServedInstance
from tests.receivers.server import LoopbackServer, Reply, Request

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EVENT_TYPES = ["asset_accessed", "grade_change", "submission_created", "logged_in", "discussion_entry_created", "wiki_page_updated"]


class Counting:
    """Counts deliveries by jti and remembers each one's marker (no verification: load test)."""

    def __init__(self) -> None:
        self.jtis: Counter[str] = Counter()
        self.markers: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        claims = jwt_payload(request.body)
        with self._lock:
            self.jtis[claims["jti"]] += 1
            self.markers.add(claims["body"]["marker"])
        return Reply(200)


@pytest.mark.slow
def test_kill_9_under_load_loses_no_delivery(tmp_path: Path) -> None:
    data_dir, acks = tmp_path / "data", tmp_path / "acks.txt"
    counting = Counting()
    with LoopbackServer({"/hook": counting}) as server:
        service = ServedInstance.start(data_dir, env=FAST_DELIVERY)
        subscribe(service, name="load", delivery_method="https", url=server.url("/hook"), event_types=EVENT_TYPES)
        producer = subprocess.Popen([sys.executable, "-m", "tests.helpers.producer", service.url, str(acks), "200"], cwd=PROJECT_ROOT)
        try:
            wait_until(lambda: len(counting.jtis) >= 1500 and _lines(acks) >= 3000, timeout=60)
            service.kill()  # mid-stream: events acknowledged, some delivered, some in flight
        finally:
            producer.wait(30)
        acknowledged = [line.split()[0] for line in acks.read_text().splitlines()]
        delivered_before = len(counting.jtis)
        assert delivered_before < len(acknowledged)  # there is work left for the restarted service

        with ServedInstance.start(data_dir, port=service.port, env=FAST_DELIVERY) as restarted:
            wait_until(lambda: counting.markers >= set(acknowledged), timeout=90)
            time.sleep(0.5)
            [stats] = restarted.admin_get("/api/v1/stats")["subscriptions"]

    expected_ids = {_event_id(marker) for marker in acknowledged}
    assert expected_ids <= set(counting.jtis)
    duplicates = sum(count - 1 for count in counting.jtis.values())
    # At least once: anything delivered after the last committed cursor is sent again, no more
    # than a window's worth; here, report how many.
    print(f"\n{len(acknowledged)} acknowledged, {delivered_before} delivered before kill -9, {duplicates} duplicates after the restart")
    assert duplicates <= 2048
    assert (stats["retrying"], stats["failed"], stats["backlog"]) == (0, 0, 0)


def _event_id(marker: str) -> str:
    batch, index = marker.split("-")
    record = canvas_record(int(index))
    record["body"]["marker"] = marker
    return parse_record(record).event_id


def _lines(path: Path) -> int:
    return path.read_text().count("\n") if path.exists() else 0


def test_sigterm_with_deliveries_in_flight_exits_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    arrived: Counter[str] = Counter()

    def slow(request: Request) -> Reply:
        arrived[request.headers["webhook-id"]] += 1
        return Reply(200, delay=0.5)

    records = [canvas_record(n, event_name="logged_in") for n in range(60)]
    with LoopbackServer({"/hook": slow}) as server:
        service = ServedInstance.start(tmp_path / "data", env={**FAST_DELIVERY, "LIVEEVENTS_DELIVERY_CONNECTIONS": "4"})
        subscribe(service, name="slow", delivery_method="https", url=server.url("/hook"), event_types=["logged_in"])
        put(service, records)
        wait_until(lambda: len(arrived) >= 4)
        started = time.monotonic()
        assert service.stop(timeout=30) == 0
        assert time.monotonic() - started < 10
        assert len(arrived) < len(records)  # stopped mid-way
        with ServedInstance.start(tmp_path / "data", port=service.port, env=FAST_DELIVERY):
            wait_until(lambda: set(arrived) == {parse_record(record).event_id for record in records}, timeout=30)
