"""The RS256 signing keys: previous, current and next, kept in a key directory.

Like Instructure's JWKS (``delivery.md`` §4.2), the published key set holds three keys:
``current`` signs; ``next`` is published a whole rotation period before it signs, so
consumers that cache the JWKS (the known ones do for up to an hour) already hold it;
``previous`` keeps messages signed before the last rotation verifiable.

Layout of the directory (mode 0700; every file mode 0600)::

    keys.json     {"previous": kid, "current": kid, "next": kid, "rotated_at": ISO 8601}
    <kid>.pem     PKCS#8 private key
    .lock         flock: shared to read, exclusive to create or rotate

``keys.json`` is replaced atomically (write, fsync, rename), and a rotation happens under
the exclusive lock, so two processes rotating at once perform two whole rotations, never a
torn one.  The ``kid`` is the RFC 7638 JWK thumbprint of the public key.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["KeySet", "KeyStore", "SigningKey", "generate_key", "jwk_thumbprint"]

KEY_SIZE = 2048
_MANIFEST = "keys.json"
_LOCK = ".lock"
_ROLES = ("previous", "current", "next")


def _b64url_uint(value: int) -> str:
    return base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def jwk_thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 thumbprint: base64url(SHA-256 of the required members in lexical order, no spaces)."""
    numbers = public_key.public_numbers()
    canonical = f'{{"e":"{_b64url_uint(numbers.e)}","kty":"RSA","n":"{_b64url_uint(numbers.n)}"}}'
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def of(cls, private_key: rsa.RSAPrivateKey) -> SigningKey:
        return cls(jwk_thumbprint(private_key.public_key()), private_key)

    def public_jwk(self) -> dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
            "n": _b64url_uint(numbers.n),
            "e": _b64url_uint(numbers.e),
        }


def generate_key() -> SigningKey:
    return SigningKey.of(rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE))


@dataclass(frozen=True, slots=True)
class KeySet:
    previous: SigningKey
    current: SigningKey
    next: SigningKey
    rotated_at: datetime

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JWKS document, in Instructure's order: previous, current ("the one in the middle"), next."""
        return {"keys": [self.previous.public_jwk(), self.current.public_jwk(), self.next.public_jwk()]}

    def rotated(self, now: datetime) -> KeySet:
        return KeySet(self.current, self.next, generate_key(), now)


class KeyStore:
    """The key directory of one service; safe to share between processes.

    :meth:`keys` is cheap (one ``stat`` when nothing changed), so a long-running signer
    calls it often (the service's, once a second) and picks up a rotation made by another
    process (``liveevents keys rotate``) without a restart.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._cached: tuple[tuple[int, int, int], KeySet] | None = None

    def keys(self) -> KeySet:
        """The current key set, created on first use."""
        manifest = self.directory / _MANIFEST
        try:
            stamp = _stamp(manifest)
        except FileNotFoundError:
            return self._create()
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        with self._locked(fcntl.LOCK_SH):
            return self._read()

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return self.keys().jwks()

    def rotate(self, now: datetime | None = None) -> KeySet:
        """next → current, current → previous, a new next; the retired key is deleted."""
        self.keys()  # creates the directory and keys on first use
        with self._locked(fcntl.LOCK_EX):
            return self._rotate_locked(self._read(), now or datetime.now(timezone.utc))

    def rotate_if_due(self, period: timedelta, now: datetime | None = None) -> KeySet | None:
        """Rotate when the last rotation is ``period`` old; ``None`` when not due.

        Checked again under the lock, so of several processes noticing at once one rotates.
        """
        now = now or datetime.now(timezone.utc)
        if now - self.keys().rotated_at < period:
            return None
        with self._locked(fcntl.LOCK_EX):
            key_set = self._read()
            if now - key_set.rotated_at < period:
                return None
            return self._rotate_locked(key_set, now)

    # -- files ----------------------------------------------------------------------------

    def _create(self) -> KeySet:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._locked(fcntl.LOCK_EX):
            if (self.directory / _MANIFEST).exists():  # another process was first
                return self._read()
            key_set = KeySet(generate_key(), generate_key(), generate_key(), datetime.now(timezone.utc))
            for key in (key_set.previous, key_set.current, key_set.next):
                self._write_key(key)
            self._write_manifest(key_set)
            return self._read()

    def _rotate_locked(self, key_set: KeySet, now: datetime) -> KeySet:
        rotated = key_set.rotated(now)
        self._write_key(rotated.next)
        self._write_manifest(rotated)
        (self.directory / f"{key_set.previous.kid}.pem").unlink(missing_ok=True)
        return self._read()

    def _read(self) -> KeySet:
        """Read the key set (under the lock) and remember it with the manifest's stamp."""
        path = self.directory / _MANIFEST
        stamp = _stamp(path)
        if self._cached is not None and self._cached[0] == stamp:
            return self._cached[1]
        manifest = json.loads(path.read_bytes())
        previous, current, next_ = (self._read_key(manifest[role]) for role in _ROLES)
        key_set = KeySet(previous, current, next_, datetime.fromisoformat(manifest["rotated_at"]))
        self._cached = (stamp, key_set)
        return key_set

    def _read_key(self, kid: str) -> SigningKey:
        private_key = serialization.load_pem_private_key((self.directory / f"{kid}.pem").read_bytes(), password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"{self.directory / kid}.pem: not an RSA private key")
        key = SigningKey.of(private_key)
        if key.kid != kid:
            raise ValueError(f"{self.directory / kid}.pem: holds the key with kid {key.kid!r}")
        return key

    def _write_key(self, key: SigningKey) -> None:
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_atomically(self.directory / f"{key.kid}.pem", pem)

    def _write_manifest(self, key_set: KeySet) -> None:
        manifest: dict[str, Any] = {
            "previous": key_set.previous.kid,
            "current": key_set.current.kid,
            "next": key_set.next.kid,
            "rotated_at": key_set.rotated_at.isoformat(),
        }
        _write_atomically(self.directory / _MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")

    @contextmanager
    def _locked(self, operation: int) -> Iterator[None]:
        descriptor = os.open(self.directory / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, operation)
            yield
        finally:
            os.close(descriptor)  # releases the lock


def _stamp(path: Path) -> tuple[int, int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns, status.st_size


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
