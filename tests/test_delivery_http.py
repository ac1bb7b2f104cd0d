"""HTTPS webhook and Caliper endpoint senders against real loopback servers, failing ones included."""

from __future__ import annotations

import asyncio
import json
import logging
import socketserver
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from liveevents.delivery.notify import send_notice
from liveevents.delivery.outcome import Delivered, Failed
from liveevents.delivery.payload import Payload
from liveevents.delivery.policy import Verdict
from liveevents.delivery.senders import Dispatcher, HttpSender
from liveevents.delivery.subscription import Subscription, parse_subscription
from tests.receivers.consumers import CaliperEndpoint, Collector
from tests.receivers.server import LoopbackServer, Reply, Request, Script, refused_url

LRS_TOKEN = "lrs-secret-token-31337"
ENVELOPE = {"sensor": "https://canvas.uni-example.org/", "sendTime": "2025-03-01T08:30:15.250Z", "dataVersion": "v", "data": []}


def ok(request: object) -> Reply:
    return Reply(200, b"thanks")


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer({"/ok": ok, "/lrs": CaliperEndpoint(LRS_TOKEN), "/notices": Collector()}) as running:
        yield running


def webhook(url: str) -> Subscription:
    return parse_subscription({"name": "w", "delivery_method": "https", "url": url, "event_types": ["logged_in"]})


def caliper(url: str, token: str = LRS_TOKEN) -> Subscription:
    return parse_subscription(
        {"name": "c", "delivery_method": "caliper", "url": url, "event_types": ["logged_in"], "bearer_token": token}
    )


def payload(number: int = 1, body: bytes = b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln") -> Payload:
    return Payload(f"00000000-0000-4000-8000-{number:012d}", body, "application/jwt", "u1")


def send(subscription: Subscription, *payloads: Payload, timeout: float = 5.0) -> list:
    async def run() -> list:
        dispatcher = Dispatcher(http=HttpSender(timeout=timeout))
        try:
            return await dispatcher.deliver(subscription, payloads)
        finally:
            await dispatcher.aclose()

    return asyncio.run(run())


def test_delivered_with_headers(server: LoopbackServer) -> None:
    before = int(time.time())
    [outcome] = send(webhook(server.url("/ok")), payload(7))
    assert isinstance(outcome, Delivered) and outcome.status_code == 200
    [request] = server.received("/ok")
    assert request.method == "POST"
    assert request.body == b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln"
    assert request.headers["content-type"] == "application/jwt"
    assert request.headers["webhook-id"] == "00000000-0000-4000-8000-000000000007"
    assert before <= int(request.headers["webhook-timestamp"]) <= int(time.time())
    assert request.headers["user-agent"].startswith("liveevents/")
    assert "authorization" not in request.headers


@pytest.mark.parametrize("status", [201, 202, 204, 299])
def test_any_2xx_is_success(server: LoopbackServer, status: int) -> None:
    server.routes["/status"] = lambda request: Reply(status)
    [outcome] = send(webhook(server.url("/status")), payload())
    assert outcome == Delivered(outcome.elapsed, status_code=status)


def test_redirect_is_a_failure_and_not_followed(server: LoopbackServer) -> None:
    server.routes["/moved"] = lambda request: Reply(301, headers={"Location": server.url("/ok")})
    [outcome] = send(webhook(server.url("/moved")), payload())
    assert isinstance(outcome, Failed)
    assert (outcome.error, outcome.status_code, outcome.retryable) == ("http_301", 301, True)
    assert "redirects are not followed" in outcome.detail
    assert server.received("/ok") == []


def test_503_with_retry_after(server: LoopbackServer) -> None:
    server.routes["/busy"] = lambda request: Reply(503, b"maintenance until 10:00", {"Retry-After": "120"})
    [outcome] = send(webhook(server.url("/busy")), payload())
    assert outcome == Failed(
        "http_503",
        "HTTP 503 Service Unavailable: maintenance until 10:00",
        retryable=True,
        elapsed=outcome.elapsed,
        status_code=503,
        retry_after=120.0,
    )


def test_timeout(server: LoopbackServer) -> None:
    server.routes["/slow"] = lambda request: Reply(200, delay=2.0)
    started = time.perf_counter()
    [outcome] = send(webhook(server.url("/slow")), payload(), timeout=0.3)
    assert isinstance(outcome, Failed) and outcome.error == "timeout" and outcome.retryable and outcome.is_timeout
    assert outcome.detail == "no answer within 0.3 s"
    assert time.perf_counter() - started < 1.5


def test_plain_http_stored_while_allowed_is_refused_once_the_setting_is_off() -> None:
    """A subscription stored while LIVEEVENTS_ALLOW_HTTP=1 gets nothing over plain HTTP once the
    service runs without it: a retryable failure (nothing lost) that says why."""
    stored = parse_subscription(
        {"name": "w", "delivery_method": "https", "url": "http://hooks.uni-example.org/canvas", "event_types": ["logged_in"]}, allow_http=True
    )
    [outcome] = send(stored, payload())
    assert isinstance(outcome, Failed)
    assert (outcome.error, outcome.retryable) == ("http_not_allowed", True)
    assert "LIVEEVENTS_ALLOW_HTTP" in outcome.detail


def test_connection_refused() -> None:
    [outcome] = send(webhook(refused_url("/hook")), payload())
    assert isinstance(outcome, Failed)
    assert (outcome.error, outcome.retryable, outcome.status_code) == ("connect", True, None)
    assert "refused" in outcome.detail.lower()


def test_connection_dropped_without_answer(server: LoopbackServer) -> None:
    server.routes["/drop"] = lambda request: Reply(drop=True)
    [outcome] = send(webhook(server.url("/drop")), payload())
    assert isinstance(outcome, Failed) and outcome.error == "network" and outcome.retryable


class _BadStatusLine(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"HTTP/1.1 2x0 WHAT\r\nContent-Length: 0\r\n\r\n")


def test_failure_details_mask_credentials_of_the_url() -> None:
    """aiohttp puts the request URL into some errors; the detail is stored, listed and logged."""
    with socketserver.TCPServer(("127.0.0.1", 0), _BadStatusLine) as broken:
        threading.Thread(target=broken.serve_forever, daemon=True).start()
        try:
            port = broken.server_address[1]
            [outcome] = send(webhook(f"http://hook:pw-8812@127.0.0.1:{port}/h?token=tok-66120&n=1"), payload())
        finally:
            broken.shutdown()
    assert isinstance(outcome, Failed) and outcome.error == "network"
    assert "Bad status line" in outcome.detail
    assert f"http://127.0.0.1:{port}/h?token=****&n=1" in outcome.detail
    assert "tok-66120" not in outcome.detail and "pw-8812" not in outcome.detail


def _echo_request(request: Request) -> Reply:
    """An error page quoting the request, as some frameworks' debug pages do."""
    return Reply(400, f"bad request {request.path}?{request.query} auth={request.headers.get('authorization')}".encode())


def test_failure_details_hide_secrets_the_endpoint_echoes(server: LoopbackServer) -> None:
    """An error answer quoting the request line or the Authorization header: the detail is
    stored, listed by the API and logged, so the subscription's secrets are blanked in it."""
    server.routes["/echo"] = _echo_request
    envelope = Payload("e-1", json.dumps(ENVELOPE).encode(), "application/json", "u1")
    subscription = caliper(server.url("/echo?api_key=k%2Fey-5521&n=7"), token="lrs-token-90713")
    [outcome] = send(subscription, envelope)
    assert isinstance(outcome, Failed) and outcome.status_code == 400
    assert outcome.detail == "HTTP 400 Bad Request: bad request /echo?api_key=****&n=7 auth=Bearer ****"


def test_retries_send_identical_bytes_until_the_endpoint_recovers(server: LoopbackServer) -> None:
    server.routes["/flaky"] = Script(ok, [Reply(503), Reply(500), Reply(200, delay=1.0)])
    subscription = webhook(server.url("/flaky"))
    stored = payload(3)
    outcomes = [send(subscription, stored, timeout=0.3)[0] for _ in range(3)]
    assert [outcome.error for outcome in outcomes] == ["http_503", "http_500", "timeout"]
    assert isinstance(send(subscription, stored)[0], Delivered)
    attempts = server.received("/flaky")
    assert len(attempts) == 4
    assert len({(r.body, r.headers["webhook-id"], r.headers["content-type"]) for r in attempts}) == 1


def test_connections_are_kept_alive(server: LoopbackServer) -> None:
    async def run() -> None:
        sender = HttpSender()
        subscription = webhook(server.url("/ok"))
        try:
            for number in range(5):
                assert isinstance(await sender.send(subscription, payload(number)), Delivered)
        finally:
            await sender.aclose()

    asyncio.run(run())
    assert len({request.peer_port for request in server.received("/ok")}) == 1


def test_a_slow_endpoint_does_not_hold_up_another_subscription(server: LoopbackServer) -> None:
    server.routes["/stuck"] = lambda request: Reply(200, delay=1.5)

    async def run() -> None:
        dispatcher = Dispatcher(http=HttpSender(timeout=5, max_connections=2))
        try:
            slow = asyncio.create_task(dispatcher.deliver(webhook(server.url("/stuck")), [payload(n) for n in range(8)]))
            await asyncio.sleep(0.1)  # the slow subscription has filled its pool
            fast = await dispatcher.deliver(webhook(server.url("/ok")), [payload(n) for n in range(8)])
            assert all(isinstance(outcome, Delivered) for outcome in fast)
            assert not slow.done()
            slow.cancel()
        finally:
            await dispatcher.aclose()

    asyncio.run(run())


def test_waiting_for_a_connection_does_not_count_against_the_timeout(server: LoopbackServer) -> None:
    server.routes["/steady"] = lambda request: Reply(200, delay=0.25)

    async def run() -> list:
        dispatcher = Dispatcher(http=HttpSender(timeout=0.6, max_connections=2))
        try:
            return await dispatcher.deliver(webhook(server.url("/steady")), [payload(n) for n in range(8)])
        finally:
            await dispatcher.aclose()

    outcomes = asyncio.run(run())  # 4 rounds of 0.25 s through 2 connections: 1 s in all
    assert [type(outcome).__name__ for outcome in outcomes] == ["Delivered"] * 8
    assert len({request.peer_port for request in server.received("/steady")}) == 2


def test_outcomes_follow_payload_order(server: LoopbackServer) -> None:
    refused_id = payload(2).event_id
    server.routes["/picky"] = lambda request: Reply(422) if request.headers["webhook-id"] == refused_id else Reply(200)
    outcomes = send(webhook(server.url("/picky")), payload(1), payload(2), payload(3))
    assert [type(outcome).__name__ for outcome in outcomes] == ["Delivered", "Failed", "Delivered"]
    assert outcomes[1].error == "http_422"


def test_caliper_endpoint_gets_bearer_token_and_json(server: LoopbackServer) -> None:
    envelope = Payload("e-1", json.dumps(ENVELOPE).encode(), "application/json", "u1")
    [outcome] = send(caliper(server.url("/lrs")), envelope)
    assert isinstance(outcome, Delivered)
    [accepted] = server.routes["/lrs"].accepted
    assert accepted.message == ENVELOPE
    assert accepted.request.headers["authorization"] == f"Bearer {LRS_TOKEN}"


def test_caliper_endpoint_refuses_a_wrong_token(server: LoopbackServer) -> None:
    envelope = Payload("e-1", json.dumps(ENVELOPE).encode(), "application/json", "u1")
    [outcome] = send(caliper(server.url("/lrs"), token="stale-token"), envelope)
    assert isinstance(outcome, Failed)
    assert (outcome.error, outcome.status_code) == ("http_401", 401)
    assert outcome.detail == "HTTP 401 Unauthorized: wrong or missing Bearer token"
    assert "stale-token" not in repr(outcome)
    assert server.routes["/lrs"].accepted == []


def test_deactivation_notice_is_logged_and_posted(server: LoopbackServer, caplog: pytest.LogCaptureFixture) -> None:
    subscription = caliper(server.url("/lrs")).patched({"notification_url": server.url("/notices")}, allow_http=False)
    verdict = Verdict("deactivate", "no successful delivery since 2025-02-24T08:00:00+00:00 (5 d; limit 5 d)")
    at = datetime(2025, 3, 1, 8, tzinfo=timezone.utc)

    async def run() -> list[str]:
        async with httpx.AsyncClient() as client:
            return await send_notice(subscription, verdict, at=at, client=client, extra_urls=[refused_url("/ops")])

    with caplog.at_level(logging.WARNING, logger="liveevents.delivery"):
        accepted = asyncio.run(run())
    assert accepted == [server.url("/notices")]
    [notice] = server.routes["/notices"].accepted
    assert notice.message == {
        "type": "subscription.deactivated",
        "at": "2025-03-01T08:00:00+00:00",
        "reason": verdict.reason,
        "subscription": subscription.public(),
    }
    assert LRS_TOKEN not in notice.request.body.decode() + caplog.text
    assert "subscription.deactivated" in caplog.text and "notification to http://127.0.0.1" in caplog.text


class _EndlessAnswer(socketserver.BaseRequestHandler):
    """Accepts the notice with a 200 whose chunked body never ends."""

    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            while True:
                self.request.sendall(b"400\r\n" + b"x" * 1024 + b"\r\n")
        except OSError:  # the client closed the connection
            pass


def test_a_notice_is_accepted_on_its_status_without_reading_the_answer() -> None:
    subscription = caliper("https://lrs.uni-example.org/lrs")
    verdict = Verdict("warn", "20 failures in a row")
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _EndlessAnswer) as endless:
        endless.daemon_threads = True
        threading.Thread(target=endless.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{endless.server_address[1]}/notices"

        async def run() -> list[str]:
            async with httpx.AsyncClient() as client:
                # Reading the answer would never end (httpx's timeout is per read, and bytes keep coming).
                notice = send_notice(subscription, verdict, at=datetime(2025, 3, 1, 8, tzinfo=timezone.utc), client=client, extra_urls=[url], timeout=2.0)
                return await asyncio.wait_for(notice, 10)

        try:
            assert asyncio.run(run()) == [url]
        finally:
            endless.shutdown()


def test_forget_closes_the_subscriptions_connections(server: LoopbackServer) -> None:
    async def run() -> None:
        sender = HttpSender()
        subscription = webhook(server.url("/ok"))
        try:
            assert isinstance(await sender.send(subscription, payload(1)), Delivered)
            await sender.forget(subscription.id)
            assert isinstance(await sender.send(subscription, payload(2)), Delivered)
        finally:
            await sender.aclose()

    asyncio.run(run())
    first, second = server.received("/ok")
    assert first.peer_port != second.peer_port  # a new pool, a new connection
