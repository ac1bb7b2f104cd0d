"""Tell the operator that a subscription is failing or was deactivated.

Instructure e-mails the subscription's creator after deactivating it; we log a warning and,
when a notification URL is configured (per subscription and/or service-wide), POST a small
JSON notice there — the analogue of Svix's ``endpoint.disabled`` operational webhook::

    {"type": "subscription.deactivated", "at": "2025-01-31T12:00:00+00:00",
     "reason": "...", "subscription": <the public view: no secrets>}

A notice that cannot be delivered is logged, never raised: it must not stop the deactivation.
Notices are never posted to a link-local address (cloud metadata services): a host written as
one is refused before posting, and :func:`notice_client` judges a host name by the addresses it
resolves to when connecting (see :mod:`liveevents.delivery.resolving`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from liveevents.delivery.policy import Verdict
from liveevents.delivery.resolving import NoLinkLocalTransport
from liveevents.delivery.senders.http import USER_AGENT
from liveevents.delivery.subscription import Subscription
from liveevents.delivery.urls import link_local_url_problem, mask_url, mask_urls_in

__all__ = ["notice", "notice_client", "send_notice"]

log = logging.getLogger("liveevents.delivery")

_TYPES = {"deactivate": "subscription.deactivated", "warn": "subscription.failing"}


def notice(subscription: Subscription, verdict: Verdict, *, at: datetime) -> dict[str, Any]:
    """The notice for a ``warn`` or ``deactivate`` verdict."""
    return {"type": _TYPES[verdict.action], "at": at.isoformat(), "reason": verdict.reason, "subscription": subscription.public()}


def notice_client() -> httpx.AsyncClient:
    """The client to post notices with: it never connects to a link-local address, and a host
    name that resolves only to such addresses fails ``connect``, naming the host, the addresses
    and the rule (what :func:`send_notice` logs).  Like the webhook sender, it ignores
    ``HTTP(S)_PROXY``."""
    return httpx.AsyncClient(transport=NoLinkLocalTransport())


async def send_notice(
    subscription: Subscription,
    verdict: Verdict,
    *,
    at: datetime,
    client: httpx.AsyncClient,
    extra_urls: Sequence[str] = (),
    timeout: float = 15.0,
) -> list[str]:
    """Log the notice and POST it to the subscription's and the ``extra_urls`` notification
    URLs with ``client`` (:func:`notice_client`).  Returns the (masked) URLs that accepted it
    with a 2xx."""
    document = notice(subscription, verdict, at=at)
    log.warning("%s: subscription %s (%s): %s", document["type"], subscription.id, subscription.name, verdict.reason)
    urls = [url for url in (subscription.notification_url, *extra_urls) if url]
    results = await asyncio.gather(*(_post(client, url, document, timeout) for url in urls))
    return [mask_url(url) for url, accepted in zip(urls, results, strict=True) if accepted]


async def _post(client: httpx.AsyncClient, url: str, document: dict[str, Any], timeout: float) -> bool:
    refusal = link_local_url_problem(url, _httpx_host)
    if refusal is not None:  # stored before its host was recognised as link-local
        log.warning("notification to %s not sent: %s", mask_url(url), refusal)
        return False
    return await _send(client, url, document, timeout)


async def _send(client: httpx.AsyncClient, url: str, document: dict[str, Any], timeout: float) -> bool:
    """POST ``document`` to ``url``: whether it was accepted.  A failure is logged with its
    reason (a host resolving only to link-local addresses: host, addresses and rule)."""
    try:
        # Streamed and closed unread: only the status matters, and an answer can be any size.
        async with client.stream("POST", url, json=document, headers={"User-Agent": USER_AGENT}, timeout=timeout) as response:
            accepted = response.is_success
            status = response.status_code
    except httpx.HTTPError as error:
        log.warning("notification to %s failed: %s", mask_url(url), mask_urls_in(str(error)) or type(error).__name__)
        return False
    if not accepted:
        log.warning("notification to %s refused: HTTP %d", mask_url(url), status)
    return accepted


def _httpx_host(url: str) -> str | None:
    """The host httpx connects to (names are judged when connecting: :func:`notice_client`)."""
    try:
        return httpx.URL(url).host
    except httpx.InvalidURL:  # httpx says so when posting
        return None