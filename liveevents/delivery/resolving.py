"""Connect only to addresses that are not link-local (169.254.0.0/16, fe80::/10: cloud metadata
services), judging a host name by the addresses it resolves to when the connection is made, so a
DNS answer changed after the URL was judged (DNS rebinding) is judged too.

Both HTTP clients drop link-local answers with :func:`drop_link_local`: the webhook sender's
aiohttp resolver (``senders/http.py``) and, for notices (httpx), :class:`NoLinkLocalTransport`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import httpcore
import httpx

from liveevents.delivery.urls import LINK_LOCAL_RULE, is_link_local_address

__all__ = ["LinkLocalRefused", "NoLinkLocalBackend", "NoLinkLocalTransport", "drop_link_local"]

Answer = TypeVar("Answer")


class LinkLocalRefused(OSError):
    """A host name that resolves to link-local addresses only (the message says which)."""


def drop_link_local(host: str, answers: Sequence[Answer], address: Callable[[Answer], str]) -> list[Answer]:
    """``answers`` (to resolving ``host``) without those whose ``address`` is link-local;
    :class:`LinkLocalRefused` naming ``host``, the addresses and the rule when there were some and
    none is left."""
    kept = [answer for answer in answers if not _is_link_local(address(answer))]
    if answers and not kept:
        addresses = ", ".join(dict.fromkeys(address(answer) for answer in answers))
        raise LinkLocalRefused(f"{host} resolves only to link-local addresses ({addresses}): {LINK_LOCAL_RULE}")
    return kept


def _is_link_local(address: str) -> bool:
    try:
        return is_link_local_address(ipaddress.ip_address(address))
    except ValueError:  # not an address (the client connects to it as a numeric host: it would fail)
        return False


class NoLinkLocalBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend for asyncio (``AnyIOBackend``, what httpx uses) connecting only
    to addresses that are not link-local.

    ``connect_tcp`` resolves the host with the event loop's ``getaddrinfo`` (which reads the
    legacy IPv4 spellings too: ``0xa9fea9fe`` is 169.254.169.254), drops the link-local answers
    and connects to the first remaining address that accepts, within the connect timeout.
    httpcore then starts TLS with the URL's host name as ``server_hostname``, so the certificate
    is verified against the name (sent as SNI), not the address.  A host that resolves only to
    link-local addresses fails with ``httpcore.ConnectError`` (``httpx.ConnectError`` to httpx's
    caller) whose message is :class:`LinkLocalRefused`'s: host, addresses and rule.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        try:
            async with asyncio.timeout_at(deadline):
                answers = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} took longer than {timeout:g} s") from None
        except OSError as error:  # socket.gaierror: as the default backend reports it
            raise httpcore.ConnectError(str(error)) from error
        try:
            addresses = drop_link_local(host, list(dict.fromkeys(str(answer[4][0]) for answer in answers)), str)
        except LinkLocalRefused as refused:
            raise httpcore.ConnectError(str(refused)) from refused
        failure = httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            remaining = None if deadline is None else max(deadline - loop.time(), 0.0)
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=remaining, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as error:  # refused, unreachable: try the next address
                failure = error
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class NoLinkLocalTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (HTTP/1.1; certificates verified as httpx does by default: certifi,
    or ``SSL_CERT_FILE``/``SSL_CERT_DIR``) connecting through :class:`NoLinkLocalBackend`.

    httpx 0.28 takes no network backend (encode/httpx#3749 proposes one), so the connection pool
    httpx builds is replaced by the same pool, with httpx's default limits, over this backend.
    A client given a transport ignores ``HTTP(S)_PROXY``: a proxy would resolve the names itself.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=NoLinkLocalBackend(),
        )
