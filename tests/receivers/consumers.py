"""Handlers that consume deliveries the way real subscribers do (``delivery.md`` §6).

:class:`JwtWebhook` verifies every token with PyJWT's ``PyJWKClient`` against a JWKS URL,
RS256 pinned and ``kid`` required, as the known Canvas consumers do; in ``quoted`` mode it
first strips the JSON-string quotes, as consumers written against Instructure's quirk do.
Accepted messages are answered 200, anything else 401 with the reason (kept in ``rejected``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from tests.receivers.server import Reply, Request


@dataclass(frozen=True)
class Accepted:
    message: dict[str, Any]  # the JWT claims, or the JSON body when unsigned
    header: dict[str, Any]  # the JOSE header ({} when unsigned)
    request: Request


class _Consumer:
    def __init__(self) -> None:
        self.accepted: list[Accepted] = []
        self.rejected: list[tuple[Request, str]] = []
        self._lock = threading.Lock()

    def _accept(self, message: dict[str, Any], header: dict[str, Any], request: Request) -> Reply:
        with self._lock:
            self.accepted.append(Accepted(message, header, request))
        return Reply(200, b"ok")

    def _reject(self, request: Request, reason: str, status: int = 401) -> Reply:
        with self._lock:
            self.rejected.append((request, reason))
        return Reply(status, reason.encode())


class JwtWebhook(_Consumer):
    def __init__(
        self,
        jwks_url: str,
        *,
        body: Literal["raw", "quoted", "unsigned"] = "raw",
        issuer: str | None = None,
        jwks_cache_seconds: float = 300,
    ) -> None:
        super().__init__()
        self.body = body
        self.issuer = issuer
        self.jwks = jwt.PyJWKClient(jwks_url, lifespan=jwks_cache_seconds)

    def __call__(self, request: Request) -> Reply:
        if self.body == "unsigned":
            try:
                return self._accept(json.loads(request.body), {}, request)
            except ValueError as error:
                return self._reject(request, f"not JSON: {error}", 400)
        token = request.body.decode("utf-8", "replace")
        if self.body == "quoted":
            token = token.strip().strip('"')
        try:
            header = jwt.get_unverified_header(token)
            if not header.get("kid"):
                raise jwt.InvalidTokenError("no kid in the JWT header")
            key = self.jwks.get_signing_key(header["kid"])
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"require": ["iat", "jti"], "verify_iss": self.issuer is not None},
            )
        except (jwt.PyJWTError, ValueError) as error:
            return self._reject(request, f"{type(error).__name__}: {error}")
        return self._accept(claims, header, request)


class CaliperEndpoint(_Consumer):
    """An IMS Caliper Sensor API endpoint: Bearer token, JSON envelope."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def __call__(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._reject(request, "wrong or missing Bearer token")
        if request.headers.get("content-type", "").split(";")[0] != "application/json":
            return self._reject(request, "Content-Type must be application/json", 415)
        try:
            envelope = json.loads(request.body)
        except ValueError as error:
            return self._reject(request, f"not JSON: {error}", 400)
        if not isinstance(envelope, dict) or not {"sensor", "sendTime", "dataVersion", "data"} <= envelope.keys():
            return self._reject(request, "not a Caliper envelope", 400)
        return self._accept(envelope, {}, request)


def jwks_endpoint(source: Callable[[], dict[str, Any]]) -> Callable[[Request], Reply]:
    """Serves ``source()`` (e.g. ``KeyStore.jwks``) as a JWKS document, fresh on every request."""
    return lambda request: Reply.json(json.dumps(source()))


class Collector(_Consumer):
    """Accepts any JSON body (e.g. deactivation notices)."""

    def __call__(self, request: Request) -> Reply:
        return self._accept(json.loads(request.body), {}, request)
