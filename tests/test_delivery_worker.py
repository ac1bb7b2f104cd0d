"""The delivery service in-process (real SQLite store, real loopback endpoints, short retry
schedules): happy path, failures and recovery, pausing and probing, events without a form,
a slow endpoint beside a fast one, deactivation with notice and reactivation, a lost lease."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from liveevents.canvas.record import parse_record
from liveevents.config import Settings
from liveevents.delivery import worker as worker_module
from liveevents.delivery.keys import KeyStore
from liveevents.delivery.service import DeliveryService
from liveevents.delivery.state import SubscriptionRecord
from liveevents.delivery.subscription import SubscriptionError
from liveevents.logthrottle import LogThrottle
from liveevents.store.base import NewEvent, StoreError
from liveevents.store.retention import purge_periodically
from liveevents.store.sqlite import SQLiteStore
from tests.receivers.consumers import Collector
from tests.receivers.events import logged_in
from tests.receivers.server import LoopbackServer, Reply, Request, Script

FAST = {
    "retry_schedule_seconds": (0.2, 0.4, 0.8),
    "retry_jitter": 0.0,
    "lease_seconds": 1.5,
    "delivery_timeout_seconds": 2.0,
    "probe_seconds": 0.3,
    "signing_threads": 1,
}


def ok(request: Request) -> Reply:
    return Reply(200)


@dataclass
class Harness:
    store: SQLiteStore
    service: DeliveryService

    async def put(self, *records: dict[str, Any]) -> list[int]:
        events = []
        for record in records:
            event = parse_record(record)
            events.append(NewEvent("live-events", event.event_name, event.event_time, "p", orjson.dumps(record), "http"))
        return await self.store.append(events)

    async def subscribe(self, url: str, **fields: Any) -> SubscriptionRecord:
        data = {"name": "test", "delivery_method": "https", "url": url, "event_types": ["logged_in"], "jwt_body": "unsigned", **fields}
        return await self.service.subscriptions.create(data)

    async def record(self, subscription_id: str) -> SubscriptionRecord:
        return await self.service.subscriptions.get(subscription_id)

    async def until(self, condition: Any, timeout: float = 10.0) -> None:
        """Poll an async or plain predicate until it holds."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def service(tmp_path: Path, **settings: Any) -> AsyncIterator[Harness]:
    store = SQLiteStore(tmp_path / "events.sqlite3")
    await store.open()
    delivery = DeliveryService(Settings(data_dir=tmp_path, **{**FAST, **settings}), store, CollectorRegistry())
    task = asyncio.create_task(delivery.run())
    try:
        yield Harness(store, delivery)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer({"/ok": ok}) as running:
        yield running


def markers(requests: list[Request]) -> list[str]:
    return [orjson.loads(request.body)["metadata"]["request_id"][-4:] for request in requests]


def test_happy_path_writes_only_the_cursor(tmp_path: Path, server: LoopbackServer) -> None:
    async def main() -> None:
        async with service(tmp_path) as harness:
            subscription = await harness.subscribe(server.url("/ok"))
            await harness.put(*(logged_in(n) for n in range(1, 41)))
            await asyncio.to_thread(server.wait_for, "/ok", 40)
            await harness.until(lambda: _cursor_is(harness, subscription.id, 40))
            assert await harness.service.state.deliveries(subscription.id, state=None, after=0, limit=10) == []
            record = await harness.record(subscription.id)
            assert (record.delivered, record.failed) == (40, 0)

    asyncio.run(main())
    assert sorted(markers(server.received("/ok"))) == [f"{n:04d}" for n in range(1, 41)]


async def _cursor_is(harness: Harness, subscription_id: str, cursor: int) -> bool:
    return (await harness.record(subscription_id)).cursor == cursor


def test_failures_are_retried_with_the_same_bytes_until_the_endpoint_recovers(tmp_path: Path, server: LoopbackServer) -> None:
    failures = [Reply(503, b"maintenance"), Reply(drop=True), Reply(200, delay=3.0), Reply(500)]
    server.routes["/flaky"] = Script(ok, failures)

    async def main() -> None:
        async with service(tmp_path) as harness:
            subscription = await harness.subscribe(server.url("/flaky"))
            await harness.put(*(logged_in(n) for n in range(1, 9)))
            await harness.until(lambda: _delivered(harness, subscription.id, 8))
            await harness.until(lambda: _no_deliveries(harness, subscription.id))

    asyncio.run(main())
    requests = server.received("/flaky")
    bodies: dict[str, set[bytes]] = {}
    for request in requests:
        bodies.setdefault(request.headers["webhook-id"], set()).add(request.body)
    assert len(bodies) == 8 and all(len(sent) == 1 for sent in bodies.values())  # a retry resends identical bytes
    assert len(requests) >= 8 + len(failures)


async def _delivered(harness: Harness, subscription_id: str, count: int) -> bool:
    return (await harness.record(subscription_id)).delivered >= count


async def _no_deliveries(harness: Harness, subscription_id: str) -> bool:
    return await harness.service.state.deliveries(subscription_id, state=None, after=0, limit=1) == []


def test_a_failing_endpoint_pauses_the_stream_and_a_probe_resumes_it(tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    down = {"down": True}
    server.routes["/outage"] = lambda request: Reply(503) if down["down"] else Reply(200)

    async def main() -> None:
        async with service(tmp_path, pause_after_failures=3, probe_seconds=0.5, retry_schedule_seconds=(3600.0,)) as harness:
            subscription = await harness.subscribe(server.url("/outage"))
            await harness.put(*(logged_in(n) for n in range(1, 4)))
            await asyncio.to_thread(server.wait_for, "/outage", 3)
            await harness.until(lambda: _pending(harness, subscription.id, 3))
            await harness.put(*(logged_in(n) for n in range(4, 54)))
            await asyncio.sleep(1.3)
            # Paused: about one probe per 0.5 s, not 50 requests (the others wait in the log).
            probes = len(server.received("/outage")) - 3
            assert 1 <= probes <= 4
            [stats] = await harness.service.state.stats()
            assert stats.backlog >= 46 and 3 <= stats.retrying <= 3 + probes
            down["down"] = False
            # The next probe succeeds: the stream resumes and the pending retries (due in an hour) go now.
            await harness.until(lambda: _delivered(harness, subscription.id, 53))
            await harness.until(lambda: _no_deliveries(harness, subscription.id))

    with caplog.at_level(logging.INFO, logger="liveevents.delivery"):
        asyncio.run(main())
    arrived = {request.headers["webhook-id"] for request in server.received("/outage")}
    assert len(arrived) == 53
    # The end of the outage is one line: the resume, with the failures it ends.
    [resumed] = [message for message in caplog.messages if "delivering again" in message]
    assert re.search(r"\): delivering again after ([3-7]) failures in a row; pending retries are due now$", resumed), resumed


def test_a_run_of_failures_is_logged_where_it_starts_and_where_it_ends_not_per_attempt(
    tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The first failure after a success gets a warning (where, why; the URL's token masked),
    the first success after it a line saying so; the retries in between none.  A second run of
    failures within the minute (a flapping destination) is not logged again."""
    script = server.routes["/hook"] = Script(ok, [Reply(503, b"down for maintenance"), Reply(503, b"down for maintenance")])
    url = server.url("/hook") + "?token=hook-secret-0123456789"

    async def main() -> str:
        async with service(tmp_path) as harness:
            subscription = await harness.subscribe(url, name="gradebook sync")
            await harness.put(logged_in(1))
            await harness.until(lambda: _delivered(harness, subscription.id, 1))
            script.then(Reply(500), Reply(500))
            await harness.put(logged_in(2))
            await harness.until(lambda: _delivered(harness, subscription.id, 2))
            return subscription.id

    with caplog.at_level(logging.INFO, logger="liveevents.delivery"):
        subscription_id = asyncio.run(main())
    assert len(server.received("/hook")) == 6  # each event: two failed attempts, then delivered
    masked = f"http://127.0.0.1:{server.port}/hook?token=****"
    lines = [(record.levelname, record.getMessage()) for record in caplog.records if record.getMessage().startswith(f"subscription {subscription_id} ")]
    assert lines == [
        (
            "WARNING",
            f"subscription {subscription_id} (gradebook sync): delivery to {masked} failed: http_503: HTTP 503 Service Unavailable: "
            "down for maintenance (the event is to be retried); further failures are not logged until one succeeds",
        ),
        ("INFO", f"subscription {subscription_id} (gradebook sync): delivering again to {masked} after 2 failures"),
    ]
    assert "hook-secret-0123456789" not in caplog.text


class _ManualClock:
    """The failure log's minute, moved by the test (the event loop keeps the real clock)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_run_of_failures_held_back_within_the_minute_is_logged_once_the_minute_is_up(
    tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A destination that fails again soon after a logged run: its start is held back, but if the
    run goes on past the minute (an outage after a flap) it is logged then, and so is its end."""
    clock = _ManualClock()
    monkeypatch.setattr(worker_module, "LogThrottle", lambda: LogThrottle(60.0, clock=clock))
    script = server.routes["/hook"] = Script(ok, [Reply(503, b"flap"), Reply(200)])
    url = server.url("/hook")

    async def main() -> str:
        async with service(tmp_path) as harness:
            subscription = await harness.subscribe(url, name="lrs")
            await harness.put(logged_in(1))  # fails once (logged), then is delivered (logged)
            await harness.until(lambda: _delivered(harness, subscription.id, 1))
            clock.now = 10.0
            script.then(Reply(503, b"outage"), Reply(503, b"outage"), Reply(503, b"outage"))
            await harness.put(logged_in(2))
            await harness.until(lambda: len(server.received("/hook")) >= 4)  # 1st failure of the run: held back
            clock.now = 75.0  # the minute since the logged line is up
            await harness.until(lambda: _delivered(harness, subscription.id, 2))
            return subscription.id

    with caplog.at_level(logging.INFO, logger="liveevents.delivery"):
        subscription_id = asyncio.run(main())
    assert len(server.received("/hook")) == 6
    target = f"http://127.0.0.1:{server.port}/hook"
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith(f"subscription {subscription_id} ")]
    # The outage's first failure is held back; its second may be too, if it came before the clock moved.
    held_back = re.fullmatch(r"(.*) \(([12]) more like it since the last such line, not logged: one line every 60 s at most\)", lines[2])
    assert held_back is not None, lines
    assert [*lines[:2], held_back[1], lines[3]] == [
        f"subscription {subscription_id} (lrs): delivery to {target} failed: http_503: HTTP 503 Service Unavailable: flap "
        "(the event is to be retried); further failures are not logged until one succeeds",
        f"subscription {subscription_id} (lrs): delivering again to {target} after 1 failure",
        f"subscription {subscription_id} (lrs): delivery to {target} failed: http_503: HTTP 503 Service Unavailable: outage "
        "(the event is to be retried); further failures are not logged until one succeeds",
        f"subscription {subscription_id} (lrs): delivering again to {target} after 3 failures",
    ]
    assert len(lines) == 4


async def _pending(harness: Harness, subscription_id: str, count: int) -> bool:
    return len(await harness.service.state.deliveries(subscription_id, state="pending", after=0, limit=1000)) >= count


def test_an_event_without_a_form_in_the_format_fails_for_good_and_the_others_go_on(tmp_path: Path, server: LoopbackServer) -> None:
    server.routes["/lrs"] = lrs = Collector()
    broken = logged_in(2)
    broken["attributes"]["hostname"] = 42  # the Caliper form needs the Canvas host name

    async def main() -> None:
        async with service(tmp_path) as harness:
            subscription = await harness.subscribe(
                server.url("/lrs"), delivery_method="caliper", bearer_token="lrs-token", jwt_body=None, format="caliper"
            )
            sequences = await harness.put(logged_in(1), broken, logged_in(3))
            await harness.until(lambda: len(lrs.accepted) == 2)
            await harness.until(lambda: _cursor_is(harness, subscription.id, sequences[-1]))
            [failed] = await harness.service.state.deliveries(subscription.id, state="failed", after=0, limit=10)
            assert (failed.sequence, failed.attempts, failed.last_error) == (sequences[1], 0, "encoding")
            assert "metadata.hostname" in failed.last_detail and "42" in failed.last_detail
            assert failed.event_id == parse_record(broken).event_id
            assert (await harness.record(subscription.id)).failed == 1

    asyncio.run(main())
    assert sorted(envelope.message["data"][0]["id"] for envelope in lrs.accepted) == sorted(
        "urn:uuid:" + parse_record(logged_in(n)).event_id for n in (1, 3)
    )


def test_a_slow_endpoint_does_not_hold_up_another_subscription(tmp_path: Path, server: LoopbackServer) -> None:
    server.routes["/slow"] = lambda request: Reply(200, delay=1.5)

    async def main() -> None:
        async with service(tmp_path, delivery_connections=2) as harness:
            await harness.subscribe(server.url("/slow"))
            await harness.subscribe(server.url("/ok"))
            started = time.monotonic()
            await harness.put(*(logged_in(n) for n in range(1, 21)))
            await asyncio.to_thread(server.wait_for, "/ok", 20)
            assert time.monotonic() - started < 1.4  # the slow one has answered none of its 20 yet
            assert len(server.received("/slow")) <= 2

    asyncio.run(main())


def test_deactivation_sends_a_notice_and_reactivation_resumes_from_the_cursor(tmp_path: Path, server: LoopbackServer) -> None:
    down = {"down": True}
    server.routes["/hook"] = lambda request: Reply(503) if down["down"] else Reply(200)
    server.routes["/notices"] = notices = Collector()
    server.routes["/ops"] = operations = Collector()
    deactivate_fast = {
        "deactivate_after_hours": 1.0 / 3600,
        "deactivate_min_failures": 2,
        "warn_after_hours": 0.5 / 3600,
        "retry_schedule_seconds": (0.3,) * 20,  # not exhausted before the deactivation
    }

    async def main() -> None:
        async with service(tmp_path, notification_url=server.url("/ops"), **deactivate_fast) as harness:
            subscription = await harness.subscribe(server.url("/hook"), notification_url=server.url("/notices"))
            await harness.put(*(logged_in(n) for n in range(1, 4)))
            await harness.until(lambda: _inactive(harness, subscription.id), timeout=10)
            record = await harness.record(subscription.id)
            assert record.deactivated_reason is not None and record.deactivated_reason.startswith("no successful delivery since")
            await harness.until(lambda: any(n.message["type"] == "subscription.deactivated" for n in notices.accepted))
            await harness.until(lambda: any(n.message["type"] == "subscription.deactivated" for n in operations.accepted))
            # Events keep coming while it is off; none is lost.
            await harness.put(*(logged_in(n) for n in range(4, 11)))
            await asyncio.sleep(0.5)
            attempts_while_off = len(server.received("/hook"))
            await asyncio.sleep(0.5)
            assert len(server.received("/hook")) == attempts_while_off
            down["down"] = False
            await harness.service.subscriptions.set_active(subscription.id, True)
            await harness.until(lambda: _delivered(harness, subscription.id, 10))

    asyncio.run(main())
    kinds = [notice.message["type"] for notice in notices.accepted]
    assert kinds.count("subscription.deactivated") == 1 and set(kinds) <= {"subscription.failing", "subscription.deactivated"}
    [notice] = [n for n in notices.accepted if n.message["type"] == "subscription.deactivated"]
    assert notice.message["subscription"]["active"] is False and "reason" in notice.message
    delivered = {request.headers["webhook-id"] for request in server.received("/hook")}
    assert delivered == {parse_record(logged_in(n)).event_id for n in range(1, 11)}


async def _inactive(harness: Harness, subscription_id: str) -> bool:
    return not (await harness.record(subscription_id)).subscription.active


def test_a_worker_that_lost_its_lease_stops_without_writing(tmp_path: Path, server: LoopbackServer) -> None:
    async def main() -> None:
        async with service(tmp_path, lease_seconds=60.0) as harness:
            subscription = await harness.subscribe(server.url("/ok"))
            await harness.put(logged_in(1))
            await asyncio.to_thread(server.wait_for, "/ok", 1)
            await harness.until(lambda: _cursor_is(harness, subscription.id, 1))
            # Another node takes the subscription over (as after an expired lease).
            await harness.store.write(
                lambda connection: connection.execute("UPDATE subscriptions SET lease_owner = 'elsewhere:1', lease_until = ?", (10**15,))
            )
            await harness.put(logged_in(2), logged_in(3))
            await asyncio.to_thread(server.wait_for, "/ok", 3)  # already on its way: at least once
            await asyncio.sleep(0.6)
            record = await harness.record(subscription.id)
            assert (record.cursor, record.lease_owner) == (1, "elsewhere:1")  # the other node's cursor stands
            await harness.put(logged_in(4))
            await asyncio.sleep(0.6)
            assert len(server.received("/ok")) == 3  # this node stopped delivering it

    asyncio.run(main())


def test_plain_http_to_other_hosts_only_when_allowed(tmp_path: Path) -> None:
    async def main() -> None:
        async with service(tmp_path) as harness:
            with pytest.raises(SubscriptionError) as refused:
                await harness.subscribe("http://hooks.uni-example.org/canvas")
            assert [problem.field for problem in refused.value.problems] == ["url"]
        async with service(tmp_path, allow_http=True) as harness:
            created = await harness.subscribe("http://hooks.uni-example.org/canvas")
            assert created.subscription.url == "http://hooks.uni-example.org/canvas"

    asyncio.run(main())


def test_keys_rotate_when_due(tmp_path: Path) -> None:
    async def main() -> None:
        keys = KeyStore(tmp_path / "keys")
        first = keys.keys()
        async with service(tmp_path, key_rotation_days=0.5 / 86400, purge_interval_seconds=0.2):
            await asyncio.sleep(1.0)
        rotated = keys.keys()
        assert rotated.rotated_at > first.rotated_at and rotated.previous.kid != first.previous.kid

    asyncio.run(main())


def test_retention_never_drops_what_an_inactive_subscription_missed_unreported(tmp_path: Path, server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    """Events waiting for a deactivated subscription that reach the end of retention are
    listed as failed deliveries and logged before the purge deletes them; the reactivated
    subscription goes on after them."""

    async def main() -> None:
        retention = timedelta(seconds=1.5)
        async with service(tmp_path, retention_days=retention / timedelta(days=1), purge_interval_seconds=0.2) as harness:
            purging = asyncio.create_task(purge_periodically(harness.store, retention, 0.2))
            try:
                subscription = await harness.subscribe(server.url("/ok"))
                await harness.service.subscriptions.set_active(subscription.id, False)
                await harness.put(logged_in(1), logged_in(2))
                await harness.until(lambda: _failed(harness, subscription.id, 2), timeout=10)
                assert (await harness.store.stats()).events_stored == 0  # purged once reported
                listed = await harness.service.subscriptions.deliveries(subscription.id, state="failed", after=0, limit=10)
                assert [(d.event_id, d.last_error) for d in listed] == [(parse_record(logged_in(n)).event_id, "retention") for n in (1, 2)]
                await harness.put(logged_in(3))
                await harness.service.subscriptions.set_active(subscription.id, True)
                await harness.until(lambda: _delivered(harness, subscription.id, 1))
            finally:
                purging.cancel()

    with caplog.at_level(logging.WARNING, logger="liveevents.delivery"):
        asyncio.run(main())
    assert [request.headers["webhook-id"] for request in server.received("/ok")] == [parse_record(logged_in(3)).event_id]
    assert any("is inactive and 2 of its events will be purged from the log undelivered" in message for message in caplog.messages)


def test_retention_reports_what_an_active_subscription_behind_its_failing_destination_has_not_had(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """An active subscription paused by a failing destination (new events wait in the log)
    loses to retention what it has not had: listed as failed deliveries, none silently gone;
    its pending retry keeps its bytes, and delivery goes on once the destination is back."""
    failing = {"on": True}
    destination = LoopbackServer({"/hook": lambda request: Reply(503 if failing["on"] else 200)})

    async def main() -> None:
        retention = timedelta(seconds=1.5)
        settings = {"retention_days": retention / timedelta(days=1), "pause_after_failures": 1, "probe_seconds": 60.0, "retry_schedule_seconds": (0.3,) * 20}
        async with service(tmp_path, **settings) as harness:
            purging = asyncio.create_task(purge_periodically(harness.store, retention, 0.2))
            try:
                subscription = await harness.subscribe(destination.url("/hook"))
                await asyncio.sleep(0.3)  # the worker runs
                await harness.put(logged_in(1))
                await harness.until(lambda: destination.received("/hook"))  # refused: retried from its stored bytes
                await harness.put(logged_in(2), logged_in(3), logged_in(4))  # wait in the log: delivery is paused
                await harness.until(lambda: _failed(harness, subscription.id, 3), timeout=10)
                failed = await harness.service.subscriptions.deliveries(subscription.id, state="failed", after=0, limit=10)
                assert [(d.event_id, d.last_error) for d in failed] == [(parse_record(logged_in(n)).event_id, "retention") for n in (2, 3, 4)]
                assert failed[0].last_detail.endswith("before it was delivered: the subscription's delivery was further behind than that")
                failing["on"] = False
                await harness.until(lambda: _delivered(harness, subscription.id, 1))
                await harness.put(logged_in(5))
                await harness.until(lambda: _delivered(harness, subscription.id, 2))
            finally:
                purging.cancel()

    with destination, caplog.at_level(logging.WARNING, logger="liveevents.delivery"):
        asyncio.run(main())
    delivered = {request.headers["webhook-id"] for request in destination.received("/hook")}
    assert delivered == {parse_record(logged_in(n)).event_id for n in (1, 5)}
    assert any("is behind and 3 of its events will be purged from the log undelivered" in message for message in caplog.messages)


async def _failed(harness: Harness, subscription_id: str, count: int) -> bool:
    return (await harness.record(subscription_id)).failed >= count


def test_no_more_than_a_window_is_sent_beyond_the_durable_cursor(tmp_path: Path, server: LoopbackServer) -> None:
    """What a crash would re-send is bounded by the window: while progress cannot be saved
    (the store refuses commits), delivery stops after ``delivery_window`` events."""

    async def main() -> None:
        async with service(tmp_path, delivery_window=4) as harness:
            state = harness.service.state
            commit, refusing = state.commit, {"on": True}

            async def refused(*args: Any, **kwargs: Any) -> Any:
                if refusing["on"]:
                    raise StoreError("the database is away")
                return await commit(*args, **kwargs)

            state.commit = refused  # type: ignore[method-assign]
            subscription = await harness.subscribe(server.url("/ok"))
            await asyncio.sleep(0.3)  # the worker runs
            await harness.put(*(logged_in(n) for n in range(1, 13)))
            await asyncio.sleep(1.0)
            assert len(server.received("/ok")) == 4
            refusing["on"] = False
            await harness.until(lambda: _delivered(harness, subscription.id, 12))

    asyncio.run(main())
    assert {request.headers["webhook-id"] for request in server.received("/ok")} == {parse_record(logged_in(n)).event_id for n in range(1, 13)}


def test_a_retention_shorter_than_the_deactivation_horizon_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with service(tmp_path, retention_days=4.0, deactivate_after_hours=120.0):
            await asyncio.sleep(0.2)
        async with service(tmp_path, retention_days=14.0, deactivate_after_hours=120.0):
            await asyncio.sleep(0.2)

    with caplog.at_level(logging.WARNING, logger="liveevents.delivery"):
        asyncio.run(main())
    warnings = [message for message in caplog.messages if "can lose events to retention" in message]
    assert warnings == [
        "retention_days (4) is not longer than deactivate_after_hours (120 h): a failing subscription can lose events "
        "to retention before it is deactivated; raise retention_days or lower deactivate_after_hours"
    ]
