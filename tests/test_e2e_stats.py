"""``GET /api/v1/stats`` and ``/metrics`` against what a real receiver on loopback got: the
delivered / failed / retrying counts, the backlog and the delivery latency histogram."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from liveevents.canvas.record import parse_record
from tests.helpers.delivery import FAST_DELIVERY, jwt_payload, put, subscribe, wait_until
from tests.helpers.service import ServedInstance
from tests.receivers.events import logged_in
from tests.receivers.server import LoopbackServer, Reply, Request, refused_url


class Flaky:
    """200 for most events; 503 for the first attempt of some, and for every attempt of one."""

    def __init__(self, once: set[str], always: str) -> None:
        self.once, self.always = set(once), always
        self.delivered: dict[str, float] = {}  # jti -> arrival of the attempt answered 200
        self.refused = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        jti = jwt_payload(request.body)["jti"]
        with self._lock:
            if jti == self.always or jti in self.once:
                self.once.discard(jti)
                self.refused += 1
                return Reply(503)
            self.delivered.setdefault(jti, request.received_at)
            return Reply(200)


def test_stats_and_metrics_count_what_the_receiver_got_with_the_latency_histogram(tmp_path: Path) -> None:
    records = [logged_in(number) for number in range(1, 13)]
    ids = [parse_record(record).event_id for record in records]
    receiver = Flaky(once=set(ids[:3]), always=ids[5])
    with LoopbackServer({"/hook": receiver}) as server, ServedInstance.start(tmp_path / "data", env=FAST_DELIVERY) as service:
        subscription = subscribe(service, name="counted", delivery_method="https", url=server.url("/hook"), event_types=["logged_in"])

        def settled() -> dict | None:
            [stats] = service.admin_get("/api/v1/stats")["subscriptions"]
            return stats if stats["retrying"] == 0 and stats["delivered"] + stats["failed"] == 12 else None

        before_put = time.time()
        put(service, records)
        after_put = time.time()
        stats = wait_until(settled, timeout=30)  # the doomed event: 6 attempts over 0.2 + 0.4 + ... + 3.2 s
        metrics = service.metrics()

    assert set(receiver.delivered) == set(ids) - {ids[5]}
    assert receiver.refused == 3 + 6
    assert (stats["id"], stats["delivered"], stats["failed"], stats["retrying"], stats["backlog"]) == (subscription["id"], 11, 1, 0, 0)

    latency = stats["latency"]
    assert latency["count"] == 11
    bounds = [bucket["le_seconds"] for bucket in latency["buckets"]]
    assert bounds[:6] == [0.005, 0.01, 0.025, 0.05, 0.1, 0.25] and bounds[-1] == 86400.0
    counts = {bucket["le_seconds"]: bucket["count"] for bucket in latency["buckets"]}
    assert counts[10.0] == counts[86400.0] == 11  # every one within seconds
    assert counts[0.1] <= 8  # the three refused once waited for a retry 0.2 s later
    assert latency["p50_seconds"] in bounds and latency["p50_seconds"] <= latency["p90_seconds"] <= latency["p99_seconds"] <= 10.0
    # Each latency runs from the event's arrival in the log (during the put) to after the 200.
    assert sum(arrived - after_put for arrived in receiver.delivered.values()) <= latency["sum_seconds"]
    assert latency["sum_seconds"] <= 11 * (time.time() - before_put)

    label = f'subscription="{subscription["id"]}"'
    assert f"liveevents_delivery_latency_seconds_count{{{label}}} 11.0" in metrics
    assert f'liveevents_delivery_latency_seconds_bucket{{le="86400.0",{label}}} 11.0' in metrics
    assert f'liveevents_deliveries_total{{outcome="delivered",{label}}} 11.0' in metrics
    assert f'liveevents_deliveries_total{{outcome="failed",{label}}} 1.0' in metrics


def test_stats_and_metrics_show_the_retries_waiting_at_a_dead_endpoint_and_the_backlog_of_an_inactive_subscription(tmp_path: Path) -> None:
    settings = {**FAST_DELIVERY, "LIVEEVENTS_RETRY_SCHEDULE_SECONDS": "600"}  # no retry falls due during the test
    dead = refused_url("/hook")
    with ServedInstance.start(tmp_path / "data", env=settings) as service:
        failing = subscribe(service, name="dead", delivery_method="https", url=dead, event_types=["logged_in"])
        off = subscribe(service, name="off", delivery_method="https", url=dead, event_types=["logged_in"], active=False)
        put(service, [logged_in(number) for number in range(1, 5)])

        def settled() -> dict | None:
            stats = {item["name"]: item for item in service.admin_get("/api/v1/stats")["subscriptions"]}
            return stats if stats["dead"]["retrying"] == 4 and stats["off"]["backlog"] == 4 else None

        stats = wait_until(settled)
        label = f'subscription="{failing["id"]}"'
        # The gauges are refreshed every lease cycle (0.5 s here).
        off_label = f'subscription="{off["id"]}"'
        wanted = (f"liveevents_deliveries_retrying{{{label}}} 4.0", f"liveevents_delivery_backlog{{{off_label}}} 4.0")
        metrics = wait_until(lambda: text if all(line in (text := service.metrics()) for line in wanted) else None)

    shown = {name: (item["active"], item["delivered"], item["failed"], item["retrying"], item["backlog"]) for name, item in stats.items()}
    assert shown == {"dead": (True, 0, 0, 4, 0), "off": (False, 0, 0, 0, 4)}
    assert f'liveevents_deliveries_total{{outcome="retried",{label}}} 4.0' in metrics
    assert f'liveevents_deliveries_total{{outcome="delivered",{label}}} 0.0' in metrics
    assert f"liveevents_delivery_backlog{{{label}}} 0.0" in metrics
    # The inactive subscription, delivered by no node, is reported too: its backlog grows in /metrics.
    assert f"liveevents_deliveries_retrying{{{off_label}}} 0.0" in metrics
