"""POST a payload to a webhook (``https``) or an IMS Caliper endpoint (``caliper``).

Each subscription gets its own connection pool (keep-alive, at most ``max_connections``
requests in flight): a slow endpoint can only use up its own connections, never those of
another subscription.  Every attempt has one deadline (``timeout``, 15 s like Instructure)
covering connect, send and answer — a server that dribbles its answer does not get longer —
and the deadline starts once the request has a connection, so payloads queued behind a
busy pool do not time out for waiting.

Headers besides the body's ``Content-Type``: ``webhook-id`` (the event id, stable across
retries) and ``webhook-timestamp`` (the attempt, Unix seconds) as Standard Webhooks names
them, invisible to Instructure-era consumers; ``Authorization: Bearer`` for Caliper endpoints.

Link-local addresses (cloud metadata services) are never connected to.  The URL's rules
(:func:`~liveevents.delivery.urls.destination_problem`) are applied at every send, which
covers a host written as an address; a host name is resolved by :class:`NoLinkLocalResolver`,
which drops link-local answers, so the check applies to the addresses actually connected to
(a DNS answer that changes after the subscription was made included).  aiohttp resolves
nothing for an IPv6 literal or a dotted quad, and refuses the all-digit legacy IPv4
spellings (``2852039166``, ``169.254.43518``) itself; the other legacy spellings
(``0xa9fea9fe``) reach the resolver as names, where ``getaddrinfo`` reads them as addresses.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from liveevents import __version__
from liveevents.delivery.outcome import Delivered, Failed, Outcome
from liveevents.delivery.payload import Payload
from liveevents.delivery.resolving import LinkLocalRefused, drop_link_local
from liveevents.delivery.subscription import Subscription
from liveevents.delivery.urls import (
    MASK,
    destination_problem,
    link_local_url_problem,
    mask_urls_in,
    url_secrets,
)

__all__ = ["USER_AGENT", "HttpSender", "LinkLocalRefused", "NoLinkLocalResolver"]

USER_AGENT = f"liveevents/{__version__} (Canvas live events)"
_SNIPPET = 200  # characters of an error answer kept for the operator
# A credential-like value shorter than this is no credential, and blanking it wherever it occurs
# would garble the detail (a 'code=40' would blank 'HTTP 404').
_MIN_SECRET = 4


class HttpSender:
    """``allow_http``: the service's setting, applied at every send too — a subscription stored
    while plain HTTP was allowed gets nothing over it once the setting is off."""

    def __init__(self, *, timeout: float = 15.0, max_connections: int = 16, user_agent: str = USER_AGENT, allow_http: bool = False) -> None:
        self.timeout = timeout
        self._user_agent = user_agent
        self._max_connections = max_connections
        self._allow_http = allow_http
        self._refusals: dict[str, tuple[str, str] | None] = {}  # URL -> (error, why) it may not be sent to
        self._pools: dict[str, tuple[aiohttp.ClientSession, asyncio.Semaphore, AbstractResolver]] = {}

    async def send(self, subscription: Subscription, payload: Payload) -> Outcome:
        """One attempt: POST ``payload`` to the subscription's URL."""
        refusal = self._refusal(subscription.url)
        if refusal is not None:
            # Retryable: the events wait (pause, retries) until the URL or the setting is fixed.
            return Failed(*refusal)
        headers = {
            "Content-Type": payload.content_type,
            "User-Agent": self._user_agent,
            "webhook-id": payload.event_id,
        }
        if subscription.bearer_token is not None:
            headers["Authorization"] = "Bearer " + subscription.bearer_token.get_secret_value()
        client, slots, _ = self._pool(subscription.id)
        async with slots:
            return await self._post(client, subscription, payload.body, headers)

    async def _post(self, session: aiohttp.ClientSession, subscription: Subscription, body: bytes, headers: dict[str, str]) -> Outcome:
        url = subscription.url
        headers["webhook-timestamp"] = str(int(time.time()))  # the attempt's time, after any wait for a slot
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.timeout):
                # Redirects are not followed: a 3xx is a failed delivery.
                async with session.post(url, data=body, headers=headers, allow_redirects=False) as response:
                    answer = await _read_prefix(response)
        except TimeoutError:
            return Failed("timeout", f"no answer within {self.timeout:g} s", elapsed=time.perf_counter() - started)
        except aiohttp.InvalidURL as error:
            detail = f"not a URL aiohttp can send to: {_describe(error, subscription)}"
            return Failed("invalid_url", detail, retryable=False, elapsed=time.perf_counter() - started)
        except aiohttp.ClientConnectorError as error:
            return Failed("connect", _describe(error, subscription), elapsed=time.perf_counter() - started)
        except (aiohttp.ClientError, OSError) as error:
            return Failed("network", _describe(error, subscription), elapsed=time.perf_counter() - started)
        elapsed = time.perf_counter() - started
        status = response.status
        if 200 <= status < 300:
            return Delivered(elapsed, status_code=status)
        return Failed(
            f"http_{status}",
            _status_detail(response, answer, subscription),
            elapsed=elapsed,
            status_code=status,
            retry_after=_retry_after(response.headers.get("retry-after")),
        )

    async def forget(self, subscription_id: str) -> None:
        """Close the pool of a deleted or deactivated subscription."""
        pool = self._pools.pop(subscription_id, None)
        if pool is not None:
            await _close(pool)

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        await asyncio.gather(*(_close(pool) for pool in pools.values()))

    def _refusal(self, url: str) -> tuple[str, str] | None:
        """The failure of a URL that must not be sent to: one stored while plain HTTP was allowed
        (the setting may be off now), or stored before its host was recognised as a link-local
        address (a legacy spelling such as ``0xa9fea9fe``)."""
        if url not in self._refusals:
            link_local = link_local_url_problem(url, _aiohttp_host)
            # stored=True: a legacy spelling that is not link-local was allowed when it was stored.
            problem = destination_problem(url, allow_http=self._allow_http, stored=True)
            self._refusals[url] = ("connect", link_local) if link_local else None if problem is None else ("http_not_allowed", problem)
        return self._refusals[url]

    def _pool(self, subscription_id: str) -> tuple[aiohttp.ClientSession, asyncio.Semaphore, AbstractResolver]:
        pool = self._pools.get(subscription_id)
        if pool is None:
            resolver = NoLinkLocalResolver()
            session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, resolver=resolver),
                timeout=aiohttp.ClientTimeout(total=None),  # the deadline is ours (see _post)
                auto_decompress=False,
            )
            pool = self._pools[subscription_id] = (session, asyncio.Semaphore(self._max_connections), resolver)
        return pool


def _aiohttp_host(url: str) -> str | None:
    """The host aiohttp connects to (yarl's ``raw_host``: an address it does not resolve)."""
    try:
        return URL(url).raw_host
    except ValueError:  # not a URL: destination_problem or aiohttp says so
        return None


class NoLinkLocalResolver(AbstractResolver):
    """aiohttp's default resolver without the link-local answers (169.254.0.0/16, fe80::/10,
    IPv4-mapped ones too); :class:`LinkLocalRefused` when nothing else is left.

    aiohttp connects to what this returns, so a name is judged by the addresses connected to,
    whatever it resolved to when the subscription was made (no DNS rebinding).
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return without_link_local(host, await self._inner.resolve(host, port, family))

    async def close(self) -> None:
        await self._inner.close()


def without_link_local(host: str, results: list[ResolveResult]) -> list[ResolveResult]:
    """``results`` without link-local addresses; :class:`LinkLocalRefused` naming ``host``, the
    addresses and the rule when there were some and none is left."""
    return drop_link_local(host, results, lambda result: result["host"])


async def _close(pool: tuple[aiohttp.ClientSession, asyncio.Semaphore, AbstractResolver]) -> None:
    # The connector closes only a resolver it made itself.
    session, _, resolver = pool
    try:
        await session.close()
    finally:
        await resolver.close()


async def _read_prefix(response: aiohttp.ClientResponse) -> bytes:
    """The start of the answer: enough to explain a failure, without buffering a huge body
    (an answer left unread closes its connection instead of returning it to the pool)."""
    prefix = b""
    while len(prefix) < _SNIPPET * 4 and (chunk := await response.content.readany()):
        prefix += chunk
    return prefix


def _status_detail(response: aiohttp.ClientResponse, answer: bytes, subscription: Subscription) -> str:
    # Endpoints echo the request in their error pages (the URL, its query, the Authorization header).
    text = _without_secrets(" ".join(answer.decode("utf-8", "replace").split()), subscription)
    text = text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."
    detail = f"HTTP {response.status} {response.reason or ''}".rstrip()
    if 300 <= response.status < 400 and "location" in response.headers:
        detail += " (redirects are not followed; point the subscription at the final URL)"
    return f"{detail}: {text}" if text else detail


def _retry_after(value: str | None) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP date); ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())


def _without_secrets(text: str, subscription: Subscription) -> str:
    """``text`` with the subscription's secrets (the bearer token, the credentials in its URL,
    whole or percent-decoded) and the credentials of any URL in it replaced by ``****``: a
    failure's detail is stored, listed by the API and logged."""
    secrets = url_secrets(subscription.url)
    if subscription.bearer_token is not None:
        secrets.add(subscription.bearer_token.get_secret_value())
    # Longest first: one secret may hold another (a percent-decoded value is shorter).
    for secret in sorted((secret for secret in secrets if len(secret) >= _MIN_SECRET), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return mask_urls_in(text)


def _describe(error: BaseException, subscription: Subscription) -> str:
    """The most specific message in the exception chain, secrets and URL credentials in it masked
    (aiohttp names the request URL in some errors).

    Client libraries wrap the OS error ("Cannot connect to host ..."); the innermost one
    ("Connection refused", "Name or service not known") is what tells the operator why.
    """
    text = str(error) or type(error).__name__
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, LinkLocalRefused):  # whole: the host, its addresses and the rule
            return _without_secrets(str(cause), subscription)
        if isinstance(cause, OSError) and cause.errno:
            # asyncio words a refusal "Connect call failed (...)"; the errno's name is clearer.
            reason = os.strerror(cause.errno) if cause.errno > 0 else cause.strerror or text
            text = reason if cause.strerror in (None, reason) else f"{reason}: {cause.strerror}"
            break
        cause = cause.os_error if isinstance(cause, aiohttp.ClientConnectorError) else cause.__cause__ or cause.__context__
    text = _without_secrets(text, subscription)
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."
