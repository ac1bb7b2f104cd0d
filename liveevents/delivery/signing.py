"""Signed messages: compact JWS, RS256, ``kid`` in the header (``delivery.md`` §4.2).

The claims are the message itself (Canvas ``{metadata, body}`` or the Caliper envelope,
as top-level claims, which is where Canvas consumers read them) plus ``iss``, ``iat`` and a
``jti`` equal to the event id, stable across retries and replays.  No ``exp``: a retried
message must stay valid for the whole retry horizon, and consumers check ``exp`` only when
present.

The JWS is assembled here rather than with PyJWT: it is three base64url parts, and doing it
directly lets the header of each key be encoded once and the claims with orjson, so that the
RSA signature is practically the whole cost.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from liveevents.delivery.keys import KeyStore, SigningKey

__all__ = ["INSTRUCTURE_ISSUER", "Signer", "compact_jws", "jwt_claims", "resigned", "signing_rate", "token_kid"]

#: The ``iss`` Instructure's tokens carry; some consumers allow-list it.
INSTRUCTURE_ISSUER = "https://live-events.canvas.instructure.com"

_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jwt_claims(message: Mapping[str, Any], *, issuer: str, event_id: str, issued_at: int) -> dict[str, Any]:
    """The message's own keys, then ``iss``, ``iat`` (Unix seconds) and ``jti`` (the event id)."""
    return {**message, "iss": issuer, "iat": issued_at, "jti": event_id}


@lru_cache(maxsize=8)
def _header(kid: str) -> bytes:
    return _b64url(orjson.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}))


def _signed(payload_part: bytes, key: SigningKey) -> bytes:
    signing_input = _header(key.kid) + b"." + payload_part
    return signing_input + b"." + _b64url(key.private_key.sign(signing_input, _PKCS1, _SHA256))


def compact_jws(claims: Mapping[str, Any], key: SigningKey) -> bytes:
    """``header.payload.signature`` (ASCII bytes), RS256 with ``kid`` = the key's thumbprint."""
    return _signed(_b64url(orjson.dumps(claims)), key)


def resigned(token: bytes, key: SigningKey) -> bytes:
    """``token`` (a compact JWS) signed by ``key`` instead: its payload part kept byte for byte
    (every claim, ``iat`` and ``jti`` included), a header naming ``key``, a new signature."""
    _, payload_part, _ = token.split(b".")
    return _signed(payload_part, key)


def token_kid(token: bytes) -> str | None:
    """The ``kid`` of a compact JWS's header (``None``: no JWS, or no ``kid``)."""
    header_part = token.split(b".", 1)[0]
    try:
        header = orjson.loads(base64.urlsafe_b64decode(header_part + b"=" * (-len(header_part) % 4)))
    except ValueError:
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


class Signer:
    """Signs messages with the key store's current key and the configured issuer.

    The key set is looked up again (a ``stat`` when unchanged) once ``recheck_seconds`` have
    passed — by default at every message — so a rotation done by another process takes
    effect that soon.  The next key is published a rotation period before it signs, so
    consumers are never surprised by the delay.  Safe to use from several threads.
    """

    def __init__(self, keys: KeyStore, *, issuer: str, recheck_seconds: float = 0.0) -> None:
        self.keys = keys
        self.issuer = issuer
        self._recheck = recheck_seconds
        self._current: tuple[float, SigningKey] | None = None  # (checked at, key)

    def sign(self, message: Mapping[str, Any], *, event_id: str, issued_at: int | None = None) -> bytes:
        """The compact JWS of ``message``; ``issued_at`` defaults to now (Unix seconds)."""
        claims = jwt_claims(
            message, issuer=self.issuer, event_id=event_id, issued_at=int(time.time()) if issued_at is None else issued_at
        )
        return compact_jws(claims, self._key())

    def published_again(self, token: bytes) -> bytes | None:
        """``token`` signed again with the current key if the key that signed it is no longer in
        the published key set (two rotations later no consumer could verify it); ``None`` when
        it is still verifiable as it is, or is no JWS of ours."""
        key_set = self.keys.keys()
        kid = token_kid(token)
        if kid is None or kid in (key_set.previous.kid, key_set.current.kid, key_set.next.kid) or token.count(b".") != 2:
            return None
        return resigned(token, key_set.current)

    def _key(self) -> SigningKey:
        now = time.monotonic()
        current = self._current
        if current is None or now - current[0] >= self._recheck:
            current = self._current = (now, self.keys.keys().current)
        return current[1]


def signing_rate(key: SigningKey, claims: Mapping[str, Any], *, seconds: float = 1.0) -> float:
    """Signatures per second of ``compact_jws(claims, key)`` on one thread: the ceiling a
    delivery benchmark compares its throughput with (use the same key and a typical message)."""
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        compact_jws(claims, key)
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)
