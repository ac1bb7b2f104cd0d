"""End to end, failing consumers: an endpoint that refuses connections, then answers 503s and
too slowly, then recovers, gets every event; a subscription deactivated after its threshold
sends notices, and once reactivated delivers what arrived meanwhile; a replay re-delivers
with the same ids.  Served instances with short retry schedules; the CLI drives the
operator's side."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from liveevents.canvas.record import parse_record
from liveevents.cli import main
from tests.helpers.delivery import FAST_DELIVERY, put, subscribe, wait_until
from tests.helpers.service import ServedInstance, free_port
from tests.receivers.consumers import Collector, JwtWebhook
from tests.receivers.events import course_completed, logged_in
from tests.receivers.server import LoopbackServer, Reply, Script


def cli(service: ServedInstance, *arguments: str) -> str:
    result = CliRunner().invoke(main, [arguments[0], "--url", service.url, "--token", service.secrets["admin_token"], *arguments[1:]])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_endpoint_that_fails_for_a_while_then_recovers_gets_every_event(tmp_path: Path) -> None:
    settings = {**FAST_DELIVERY, "LIVEEVENTS_RETRY_SCHEDULE_SECONDS": "0.2,0.4,0.8,1.6,3.2,5"}
    port = free_port()
    with ServedInstance.start(tmp_path / "data", env=settings) as served:
        hook = JwtWebhook(served.url + "/.well-known/jwks.json")
        view = subscribe(served, name="flaky", delivery_method="https", url=f"http://127.0.0.1:{port}/hook", event_types=["logged_in"])
        records = [logged_in(n) for n in range(1, 41)]
        put(served, records[:20])  # nothing listens yet: connections are refused
        wait_until(lambda: _pending(served, view["id"]) == 20)
        refused = served.admin_get(f"/api/v1/subscriptions/{view['id']}/deliveries", state="pending")["deliveries"]
        assert {delivery["last_error"] for delivery in refused} == {"connect"}
        assert all("refused" in delivery["last_detail"].lower() for delivery in refused)

        # The endpoint comes up, answers 503s and then too slowly for a while, then recovers.
        troubles = [Reply(503, b"starting up")] * 6 + [Reply(200, delay=1.5)] * 3
        with LoopbackServer({"/hook": Script(hook, troubles)}, port=port) as server:
            put(served, records[20:])
            wait_until(lambda: len({a.message["jti"] for a in hook.accepted}) == len(records), timeout=30)
            wait_until(lambda: _pending(served, view["id"]) == 0)
            attempts = len(server.received("/hook"))
        stats = next(s for s in served.admin_get("/api/v1/stats")["subscriptions"] if s["id"] == view["id"])

    assert hook.rejected == []
    delivered = Counter(accepted.message["jti"] for accepted in hook.accepted)
    assert set(delivered) == {parse_record(record).event_id for record in records}
    assert max(delivered.values()) == 1  # no crash, so once each
    assert attempts >= len(records) + len(troubles)
    assert (stats["delivered"], stats["failed"], stats["retrying"]) == (40, 0, 0)


def _pending(served: ServedInstance, subscription_id: str) -> int:
    page = served.admin_get(f"/api/v1/subscriptions/{subscription_id}/deliveries", state="pending", limit=1000)
    return len(page["deliveries"])


@pytest.fixture
def endpoints() -> Iterator[LoopbackServer]:
    with LoopbackServer({"/notices": Collector(), "/ops": Collector()}) as server:
        yield server


def test_deactivation_notices_reactivation_and_replay(tmp_path: Path, endpoints: LoopbackServer) -> None:
    settings = {
        **FAST_DELIVERY,
        "LIVEEVENTS_INSTRUCTURE_RETRY_SCHEDULE_SECONDS": "0.1,0.1",
        "LIVEEVENTS_INSTRUCTURE_MAX_ERRORS": "3",
        "LIVEEVENTS_NOTIFICATION_URL": endpoints.url("/ops"),
    }
    down = {"down": True}
    with ServedInstance.start(tmp_path / "data", env=settings) as served:
        hook = JwtWebhook(served.url + "/.well-known/jwks.json")
        endpoints.routes["/hook"] = lambda request: Reply(500, b"broken deploy") if down["down"] else hook(request)
        view = subscribe(
            served, name="gradebook", delivery_method="https", url=endpoints.url("/hook"), event_types=["logged_in"],
            retry_profile="instructure", notification_url=endpoints.url("/notices"),
        )
        failing = [logged_in(n) for n in range(1, 4)]
        put(served, failing)

        # Three events given up on (3 tries each) reach the threshold: deactivated, and both notices go out.
        wait_until(lambda: not served.admin_get(f"/api/v1/subscriptions/{view['id']}")["active"])
        shown = served.admin_get(f"/api/v1/subscriptions/{view['id']}")
        assert shown["deactivated_reason"] == "3 events failed after all retries within 24 h (limit 3)"
        for path in ("/notices", "/ops"):
            [notice] = wait_until(lambda path=path: endpoints.routes[path].accepted)
            assert notice.message["type"] == "subscription.deactivated" and notice.message["subscription"]["id"] == view["id"]
            assert notice.message["reason"] == shown["deactivated_reason"]
        assert len(endpoints.received("/hook")) == 9
        listed = cli(served, "subscriptions", "deliveries", view["id"], "--state", "failed").splitlines()
        assert len(listed) == 3 and all("failed after 3 attempts (given up): http_500: HTTP 500" in line for line in listed)

        # Events that arrive while it is off wait in the log; reactivated, it delivers them.
        meanwhile = [logged_in(n) for n in range(4, 9)]
        put(served, meanwhile)
        time.sleep(0.5)
        assert len(endpoints.received("/hook")) == 9
        down["down"] = False
        assert '"active": true' in cli(served, "subscriptions", "activate", view["id"])
        wait_until(lambda: len(hook.accepted) == len(meanwhile))

        # The three given up on come back with a replay, with the ids they had.
        output = cli(served, "replay", "--subscription", view["id"], "--since", "2024-03-05T10:11:00Z", "--until", "2024-03-05T10:11:04Z", "--wait")
        assert output.splitlines()[-1].endswith("done; 3 delivered, 0 queued for retry, 0 failed")
        wait_until(lambda: len(hook.accepted) == len(meanwhile) + len(failing))
        live_after = [logged_in(n) for n in range(9, 11)]
        put(served, live_after)
        wait_until(lambda: len(hook.accepted) == len(meanwhile) + len(failing) + len(live_after))
        time.sleep(0.3)

    jtis = Counter(accepted.message["jti"] for accepted in hook.accepted)
    assert set(jtis) == {parse_record(record).event_id for record in failing + meanwhile + live_after}
    assert max(jtis.values()) == 1  # the replay did not disturb the live cursor: nothing twice
    replayed = {accepted.request.headers["webhook-id"] for accepted in hook.accepted[len(meanwhile) : len(meanwhile) + 3]}
    assert replayed == {parse_record(record).event_id for record in failing}


def test_notification_urls_are_not_logged_with_their_credentials(tmp_path: Path, endpoints: LoopbackServer) -> None:
    """httpx logs every request's URL at INFO: the notices' URLs (credentials in the query
    included) went into the service log."""
    settings = {
        **FAST_DELIVERY,
        "LIVEEVENTS_LOG_LEVEL": "debug",
        "LIVEEVENTS_INSTRUCTURE_RETRY_SCHEDULE_SECONDS": "0.1",
        "LIVEEVENTS_INSTRUCTURE_MAX_ERRORS": "1",
        "LIVEEVENTS_NOTIFICATION_URL": endpoints.url("/ops?api_key=ops-key-55120"),
    }
    endpoints.routes["/hook"] = lambda request: Reply(500)
    with ServedInstance.start(tmp_path / "data", env=settings) as served:
        subscribe(
            served, name="gradebook", delivery_method="https", url=endpoints.url("/hook"), event_types=["logged_in"],
            retry_profile="instructure", notification_url=endpoints.url("/notices?token=notice-token-44710"),
        )
        put(served, [logged_in(1)])
        for path in ("/notices", "/ops"):
            wait_until(lambda path=path: endpoints.routes[path].accepted)
        output = served.output()
    assert "subscription.deactivated: subscription" in output
    assert "ops-key-55120" not in output and "notice-token-44710" not in output


def test_a_replay_re_delivers_only_the_event_types_and_the_times_asked_for(tmp_path: Path) -> None:
    with ServedInstance.start(tmp_path / "data", env=FAST_DELIVERY) as served:
        hook = JwtWebhook(served.url + "/.well-known/jwks.json")
        with LoopbackServer({"/hook": hook}) as server:
            view = subscribe(served, name="both", delivery_method="https", url=server.url("/hook"), event_types=["logged_in", "course_completed"])
            # logged_in n happens at 10:11:n (2024-03-05); course_completed on 2024-06-30.
            logins = [logged_in(n) for n in range(21, 25)]
            put(served, [*logins, course_completed(5)])
            # The stats count what is committed with the cursor: only then is all of it in a replay's range.
            wait_until(lambda: served.admin_get(f"/api/v1/subscriptions/{view['id']}")["delivered"] == 5)

            by_type = cli(served, "replay", "--subscription", view["id"], "--since", "2024-01-01T00:00:00Z", "--event-type", "logged_in", "--wait")
            assert by_type.splitlines()[-1].endswith("done; 4 delivered, 0 queued for retry, 0 failed")
            by_time = cli(served, "replay", "--subscription", view["id"], "--since", "2024-03-05T10:11:22Z", "--until", "2024-03-05T10:11:24.345Z", "--wait")
            assert by_time.splitlines()[-1].endswith("done; 2 delivered, 0 queued for retry, 0 failed")
            wait_until(lambda: len(hook.accepted) == 5 + 4 + 2)
            time.sleep(0.3)  # nothing more

    assert hook.rejected == []
    jtis = Counter(accepted.message["jti"] for accepted in hook.accepted)
    login_ids = [parse_record(record).event_id for record in logins]
    # [10:11:22, 10:11:24.345) holds 10:11:22.345 and 10:11:23.345, not 10:11:24.345 (until is exclusive).
    assert jtis == Counter({login_ids[0]: 2, login_ids[1]: 3, login_ids[2]: 3, login_ids[3]: 2, parse_record(course_completed(5)).event_id: 1})
