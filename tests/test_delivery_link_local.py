"""Link-local destinations (169.254.0.0/16, fe80::/10: cloud metadata services) however written.

The C resolver reads legacy IPv4 spellings that :mod:`ipaddress` refuses (``2852039166``,
``0xa9fea9fe``, ``0251.0376.0251.0376``, ``169.254.43518`` are all 169.254.169.254), and HTTP
clients IDNA-map non-ASCII hosts (fullwidth digits, ideographic full stops) to ASCII: all are
refused when a subscription is made, at every send (a subscription stored before), and a host
name is judged by the addresses it resolves to when the connection is made (webhooks and Caliper
with aiohttp, notices with httpx).  Real aiohttp and httpx, real getaddrinfo, real loopback
servers; no DNS needed (getaddrinfo reads numeric hosts itself).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.abc import ResolveResult

from liveevents.delivery.notify import _send, notice_client, send_notice
from liveevents.delivery.outcome import Delivered, Failed
from liveevents.delivery.policy import Verdict
from liveevents.delivery.payload import Payload
from liveevents.delivery.senders import Dispatcher, HttpSender
from liveevents.delivery.senders.http import LinkLocalRefused, NoLinkLocalResolver, without_link_local
from liveevents.delivery.subscription import Subscription, SubscriptionError, parse_subscription
from liveevents.delivery.urls import destination_problem, host_address, is_loopback_host
from tests.receivers.events import logged_in
from tests.receivers.server import LoopbackServer, Reply
from tests.receivers.tls import self_signed
from tests.test_delivery_worker import service

RULE = "a link-local address (169.254.0.0/16, fe80::/10, where cloud metadata services answer) is not a destination"
HTTPS_RULE = (
    "https:// is required (plain http:// only for a loopback host such as 127.0.0.1, "
    "or when the service runs with LIVEEVENTS_ALLOW_HTTP=1)"
)
LRS_TOKEN = "lrs-secret-token-31337"


def stored(url: str, method: str = "https") -> Subscription:
    """A subscription as the store gives it back: one made before these spellings were recognised."""
    record: dict[str, Any] = {"id": "sub-1", "name": "w", "delivery_method": method, "url": url, "event_types": ["logged_in"]}
    if method == "caliper":
        record |= {"format": "caliper", "bearer_token": LRS_TOKEN}
    return Subscription.from_record(record)


def payload() -> Payload:
    return Payload("00000000-0000-4000-8000-000000000001", b"eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "application/jwt", "u1")


# -- the rule when a subscription is made ---------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow_http", "expected"),
    [
        ("https://2852039166/latest/meta-data/", False, "2852039166 is 169.254.169.254: " + RULE),
        ("https://0xa9fea9fe/latest/meta-data/", False, "0xa9fea9fe is 169.254.169.254: " + RULE),
        ("https://0XA9FEA9FE/", False, "0xa9fea9fe is 169.254.169.254: " + RULE),  # urlsplit lowercases the host
        ("https://0251.0376.0251.0376/", False, "0251.0376.0251.0376 is 169.254.169.254: " + RULE),
        ("https://169.254.43518/", False, "169.254.43518 is 169.254.169.254: " + RULE),
        ("https://169.16689662/", False, "169.16689662 is 169.254.169.254: " + RULE),
        ("https://0xa9.0xfe.0xa9.0xfe/", False, "0xa9.0xfe.0xa9.0xfe is 169.254.169.254: " + RULE),
        ("https://0251.254.0xa9.254/", False, "0251.254.0xa9.254 is 169.254.169.254: " + RULE),
        ("https://2851995649:8443/", False, "2851995649 is 169.254.0.1: " + RULE),
        ("https://169.254.169.254./", False, "169.254.169.254. is 169.254.169.254: " + RULE),
        ("http://0xa9fea9fe/", True, "0xa9fea9fe is 169.254.169.254: " + RULE),
        # IDNA maps these to ASCII (yarl and so aiohttp do): a dotted quad, connected to unresolved.
        ("https://\uff11\uff16\uff19.\uff12\uff15\uff14.\uff11\uff16\uff19.\uff12\uff15\uff14/", False,
         "\uff11\uff16\uff19.\uff12\uff15\uff14.\uff11\uff16\uff19.\uff12\uff15\uff14 is 169.254.169.254: " + RULE),
        ("https://169\u3002254\u3002169\u3002254/", False, "169\u3002254\u3002169\u3002254 is 169.254.169.254: " + RULE),
        ("https://\uff10\uff58\uff41\uff19\uff46\uff45\uff41\uff19\uff46\uff45/", False,
         "\uff10\uff58\uff41\uff19\uff46\uff45\uff41\uff19\uff46\uff45 is 169.254.169.254: " + RULE),
        # Written as ipaddress reads them: the rule as before.
        ("https://169.254.169.254/latest/meta-data/", False, RULE),
        ("https://[fe80::1%25eth0]/x", False, RULE),
        ("https://[::ffff:a9fe:a9fe]/x", False, RULE),
    ],
)
def test_a_link_local_address_however_written_is_refused_naming_the_address(url: str, allow_http: bool, expected: str) -> None:
    assert destination_problem(url, allow_http=allow_http) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://169.255.169.254/",  # next to link-local
        "https://127.0.0.1/",  # loopback over https
        "https://4294967296/",  # beyond 32 bits: no address, a name (the resolver judges it)
        "https://169.254.169.254.nip.io/",  # a name (the resolver judges it)
        "https://b\u00fccher.example/",
    ],
)
def test_other_hosts_pass(url: str) -> None:
    assert destination_problem(url, allow_http=False) is None


def test_host_address_reads_what_inet_aton_reads_and_nothing_after_it() -> None:
    assert host_address("2852039166") == ipaddress.IPv4Address("169.254.169.254")
    assert host_address("0x7f.1") == ipaddress.IPv4Address("127.0.0.1")
    assert host_address("[fe80::1]") == ipaddress.IPv6Address("fe80::1")
    # glibc's inet_aton accepts "169.254.169.254 junk" (it stops at the space); getaddrinfo does not.
    for host in ("169.254.169.254 junk", "169.254.169.254x", "08", "0x", "1.2.3.4.5", "4294967296", "hooks.example.org"):
        assert host_address(host) is None, host


def test_legacy_spellings_of_loopback_do_not_lift_the_https_rule() -> None:
    """Plain HTTP only where the bytes certainly stay on this machine: aiohttp refuses the
    all-digit spellings and another resolver might look them up as names; 127.0.0.1 says it."""
    for host in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1"):
        assert not is_loopback_host(host), host
        assert destination_problem(f"http://{host}:8080/hook", allow_http=False, stored=True) == HTTPS_RULE
    assert is_loopback_host("127.0.0.1") and destination_problem("http://127.0.0.1:8080/hook", allow_http=False) is None


@pytest.mark.parametrize(
    ("host", "address"),
    [("2130706433", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("167772161", "10.0.0.1"), ("0xc0.0xa8.1.2", "192.168.1.2")],
)
def test_a_new_destination_with_a_legacy_numeric_host_is_refused_saying_how_to_write_it(host: str, address: str) -> None:
    """Clients read these differently (aiohttp refuses the all-digit ones at send): refused when
    the subscription is made, with the usual spelling, rather than failing at every send."""
    expected = f"{host} is {address}: write an IPv4 address as four decimal numbers, such as {address}"
    for scheme in ("https", "http"):
        assert destination_problem(f"{scheme}://{host}:8443/hook", allow_http=True) == expected
    assert destination_problem(f"https://{address}:8443/hook", allow_http=False) is None


def test_a_new_subscription_is_refused_naming_field_value_and_rule() -> None:
    with pytest.raises(SubscriptionError) as raised:
        parse_subscription({"name": "w", "delivery_method": "https", "url": "https://0xa9fea9fe/hook", "event_types": ["logged_in"]})
    [problem] = raised.value.problems
    assert (problem.field, problem.value, problem.rule) == ("url", "https://0xa9fea9fe/hook", "0xa9fea9fe is 169.254.169.254: " + RULE)


def test_a_stored_subscription_still_loads_and_a_change_must_fix_its_url() -> None:
    """Stored before the spelling was recognised: it loads (the service lists it, the operator
    can fix or delete it), and a change that keeps the URL is refused."""
    subscription = stored("https://2852039166/hook")
    assert subscription.url == "https://2852039166/hook"
    with pytest.raises(SubscriptionError) as raised:
        subscription.patched({"name": "renamed"}, allow_http=False)
    assert [(p.field, p.rule) for p in raised.value.problems] == [("url", "2852039166 is 169.254.169.254: " + RULE)]
    assert subscription.patched({"url": "https://hooks.uni-example.org/x"}, allow_http=False).url == "https://hooks.uni-example.org/x"


# -- at every send ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "method", "detail"),
    [
        # https: should the refusal ever break, TLS verification stops the request (no bytes sent).
        ("https://2852039166/hook", "https", "2852039166 is 169.254.169.254: " + RULE),
        ("https://0xa9fea9fe/hook", "https", "0xa9fea9fe is 169.254.169.254: " + RULE),
        ("https://169.254.43518/lrs", "caliper", "169.254.43518 is 169.254.169.254: " + RULE),
        # The link-local rule, not the https one, is what the operator must fix first.
        ("http://0251.0376.0251.0376/hook", "https", "0251.0376.0251.0376 is 169.254.169.254: " + RULE),
    ],
)
def test_a_stored_link_local_destination_fails_at_once_with_the_rule(url: str, method: str, detail: str) -> None:
    async def run() -> tuple[list, float]:
        dispatcher = Dispatcher(http=HttpSender(timeout=5.0))
        started = time.perf_counter()
        try:
            return await dispatcher.deliver(stored(url, method), [payload()]), time.perf_counter() - started
        finally:
            await dispatcher.aclose()

    [outcome], took = asyncio.run(run())
    assert outcome == Failed("connect", detail, retryable=True)
    assert took < 1.0  # nothing connected to, no timeout waited for


def test_a_stored_legacy_spelling_of_another_address_is_left_to_the_client_at_send() -> None:
    """Refused when a subscription is made, but one stored before that rule is not turned into
    an https refusal at every send: aiohttp judges it as it did (the all-digit forms are not
    URLs it sends to; a permanent failure naming why)."""

    async def run() -> list:
        dispatcher = Dispatcher(http=HttpSender(timeout=5.0))
        try:
            return await dispatcher.deliver(stored("https://2130706433/hook"), [payload()])
        finally:
            await dispatcher.aclose()

    [outcome] = asyncio.run(run())
    assert (outcome.error, outcome.retryable) == ("invalid_url", False), outcome
    assert "2130706433" in outcome.detail and "four decimal numbers" not in outcome.detail, outcome


# -- when connecting: the resolver ----------------------------------------------------------------


def test_aiohttp_asks_the_resolver_about_a_hex_host_and_it_refuses_the_link_local_answer() -> None:
    """aiohttp takes '0xa9fea9fe' for a name (it is not all digits); getaddrinfo reads it as
    169.254.169.254, which the resolver drops: the request fails before any connection."""

    async def run() -> tuple[BaseException, float]:
        resolver = NoLinkLocalResolver()
        started = time.perf_counter()
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session:
                with pytest.raises(aiohttp.ClientConnectorError) as raised:
                    # https: should the resolver ever let it through, TLS verification stops the request.
                    await session.post("https://0xa9fea9fe/hook", data=b"x")
            return raised.value, time.perf_counter() - started
        finally:
            await resolver.close()

    error, took = asyncio.run(run())
    assert isinstance(error, aiohttp.ClientConnectorDNSError)
    assert isinstance(error.os_error, LinkLocalRefused)
    assert str(error.os_error) == "0xa9fea9fe resolves only to link-local addresses (169.254.169.254): " + RULE
    assert took < 1.0


def test_the_senders_connection_fails_with_the_resolvers_reason() -> None:
    """The connect-time layer on its own (send() refuses this URL before connecting, see above):
    the sender's pool resolves with the link-local filter and reports why, whole."""

    async def run() -> Failed:
        sender = HttpSender(timeout=5.0)
        subscription = stored("https://0xa9fea9fe/hook")
        try:
            session, _, _ = sender._pool(subscription.id)
            return await sender._post(session, subscription, b"x", {})  # type: ignore[return-value]
        finally:
            await sender.aclose()

    outcome = asyncio.run(run())
    assert (outcome.error, outcome.retryable, outcome.status_code) == ("connect", True, None)
    assert outcome.detail == "0xa9fea9fe resolves only to link-local addresses (169.254.169.254): " + RULE
    assert outcome.elapsed < 1.0


def _result(host: str) -> ResolveResult:
    return ResolveResult(hostname="hooks.example.org", host=host, port=443, family=0, proto=6, flags=0)


def test_link_local_answers_are_dropped_and_the_others_kept() -> None:
    answers = [_result("169.254.169.254"), _result("192.0.2.10"), _result("fe80::1%eth0"), _result("2001:db8::10")]
    assert [kept["host"] for kept in without_link_local("hooks.example.org", answers)] == ["192.0.2.10", "2001:db8::10"]
    only = [_result("169.254.169.254"), _result("::ffff:169.254.169.254"), _result("fe80::1%eth0"), _result("169.254.169.254")]
    with pytest.raises(LinkLocalRefused) as raised:
        without_link_local("rebind.example.org", only)
    assert str(raised.value) == (
        "rebind.example.org resolves only to link-local addresses (169.254.169.254, ::ffff:169.254.169.254, fe80::1%eth0): " + RULE
    )
    assert without_link_local("nothing.example.org", []) == []


def test_a_name_still_delivers_through_the_resolver() -> None:
    """'localhost' goes through the resolver (an address literal would not): loopback is kept."""
    with LoopbackServer({"/ok": lambda request: Reply(200)}) as server:
        subscription = parse_subscription(
            {"name": "w", "delivery_method": "https", "url": f"http://localhost:{server.port}/ok", "event_types": ["logged_in"]}
        )

        async def run() -> list:
            dispatcher = Dispatcher(http=HttpSender(timeout=5.0))
            try:
                return await dispatcher.deliver(subscription, [payload()])
            finally:
                await dispatcher.aclose()

        [outcome] = asyncio.run(run())
        assert isinstance(outcome, Delivered) and outcome.status_code == 200
        assert len(server.received("/ok")) == 1


def test_a_notice_is_not_posted_to_a_stored_link_local_notification_url(caplog: pytest.LogCaptureFixture) -> None:
    """A host written as a link-local address, however spelt, is refused before posting, whatever
    the client (the connect-time check is below); the others still get the notice."""
    with LoopbackServer({"/notices": lambda request: Reply(200)}) as server:
        subscription = Subscription.from_record(
            {"id": "sub-1", "name": "w", "delivery_method": "https", "url": "https://hooks.uni-example.org/x",
             "event_types": ["logged_in"], "notification_url": "https://0xa9fea9fe/notices"}
        )

        async def run() -> list[str]:
            async with httpx.AsyncClient() as client:
                verdict = Verdict("warn", "20 failures in a row")
                at = datetime(2025, 3, 1, 8, tzinfo=timezone.utc)
                return await send_notice(subscription, verdict, at=at, client=client, extra_urls=[server.url("/notices")])

        with caplog.at_level(logging.WARNING, logger="liveevents.delivery"):
            assert asyncio.run(run()) == [server.url("/notices")]
    assert "notification to https://0xa9fea9fe/notices not sent: 0xa9fea9fe is 169.254.169.254: " + RULE in caplog.messages


def test_httpx_takes_a_hex_host_for_a_name_and_the_notice_client_refuses_its_link_local_answer() -> None:
    """httpx hands '0xa9fea9fe' to the network backend as a name; getaddrinfo reads it as
    169.254.169.254, which the notice client drops: the post fails before any connection.
    (A plain httpx client connects to it: the metadata address is dialled, and over https only
    certificate verification stops the request.)"""
    assert httpx.URL("https://0xa9fea9fe/notices").host == "0xa9fea9fe"

    async def run() -> tuple[httpx.ConnectError, float]:
        started = time.perf_counter()
        async with notice_client() as client:
            with pytest.raises(httpx.ConnectError) as raised:
                # https: should the check ever let it through, TLS verification stops the request.
                await client.post("https://0xa9fea9fe/notices", json={"type": "subscription.failing"}, timeout=5.0)
        return raised.value, time.perf_counter() - started

    error, took = asyncio.run(run())
    assert str(error) == "0xa9fea9fe resolves only to link-local addresses (169.254.169.254): " + RULE
    assert took < 1.0


def test_a_notice_to_a_name_resolving_only_to_link_local_addresses_is_logged_with_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    """The connect-time layer through notify's failure handling (send_notice refuses this URL as
    written before posting, see above): the reason logged is the connection's, whole."""

    async def run() -> bool:
        async with notice_client() as client:
            return await _send(client, "https://0xa9fea9fe/notices?token=s3cret", {"type": "subscription.failing"}, 5.0)

    with caplog.at_level(logging.WARNING, logger="liveevents.delivery"):
        assert asyncio.run(run()) is False
    assert caplog.messages == [
        "notification to https://0xa9fea9fe/notices?token=**** failed: 0xa9fea9fe resolves only to link-local addresses (169.254.169.254): " + RULE
    ]


def test_a_notice_to_localhost_is_still_delivered() -> None:
    """'localhost' is resolved by the notice client (loopback is kept) and the notice posted."""
    with LoopbackServer({"/notices": lambda request: Reply(200)}) as server:
        url = f"http://localhost:{server.port}/notices"
        subscription = parse_subscription(
            {"name": "w", "delivery_method": "https", "url": "https://hooks.uni-example.org/x", "event_types": ["logged_in"], "notification_url": url}
        )

        async def run() -> list[str]:
            async with notice_client() as client:
                verdict = Verdict("deactivate", "no successful delivery for 5 d")
                return await send_notice(subscription, verdict, at=datetime(2025, 3, 1, 8, tzinfo=timezone.utc), client=client)

        assert asyncio.run(run()) == [url]
        [received] = server.received("/notices")
        notice = json.loads(received.body)
        assert (notice["type"], notice["reason"]) == ("subscription.deactivated", "no successful delivery for 5 d")


def test_the_notice_client_verifies_the_certificate_against_the_host_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """It connects to the address 'localhost' resolves to, but TLS still checks the name: a
    certificate for 'localhost' only is accepted at https://localhost and refused at
    https://127.0.0.1 (so verification is on, and made against the name, not the address)."""
    certificate, server_context = self_signed(tmp_path, "name-only", hosts=["localhost"])
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # what httpx's default verification trusts
    with LoopbackServer({"/notices": lambda request: Reply(200)}, tls=server_context) as server:
        by_name, by_address = f"https://localhost:{server.port}/notices", f"https://127.0.0.1:{server.port}/notices"

        async def run() -> list[str]:
            async with notice_client() as client:
                subscription = stored("https://hooks.uni-example.org/x")
                verdict = Verdict("warn", "20 failures in a row")
                at = datetime(2025, 3, 1, 8, tzinfo=timezone.utc)
                return await send_notice(subscription, verdict, at=at, client=client, extra_urls=[by_name, by_address])

        with caplog.at_level(logging.WARNING, logger="liveevents.delivery"):
            assert asyncio.run(run()) == [by_name]
        assert len(server.received("/notices")) == 1
    [failure] = [message for message in caplog.messages if message.startswith(f"notification to {by_address}")]
    assert "certificate verify failed" in failure and "127.0.0.1" in failure


# -- through the service: the reason is the delivery's --------------------------------------------


def test_the_reason_reaches_the_delivery_record(tmp_path: Path) -> None:
    """A subscription stored before the spelling was recognised: the service lists it, and its
    deliveries fail with error 'connect' and the rule as their detail."""

    async def main() -> None:
        async with service(tmp_path) as harness:
            record = await harness.service.state.create(stored("https://0xa9fea9fe/hook"))
            assert [listed.id for listed in await harness.service.subscriptions.all()] == [record.id]
            await harness.put(logged_in(1))

            async def failed_once() -> list:
                found = await harness.service.state.deliveries(record.id, state=None, after=0, limit=10)
                return [delivery for delivery in found if delivery.attempts >= 1]

            await harness.until(failed_once)
            [delivery] = await failed_once()
            assert (delivery.last_error, delivery.last_detail) == ("connect", "0xa9fea9fe is 169.254.169.254: " + RULE)

    asyncio.run(main())
