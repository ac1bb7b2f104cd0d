"""Signing keys: files, JWKS, thumbprints, rotation (also by two processes at once)."""

from __future__ import annotations

import multiprocessing
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from liveevents.delivery.keys import KeyStore, jwk_thumbprint
from liveevents.delivery.signing import compact_jws


def test_first_use_creates_three_private_files(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    key_set = KeyStore(directory).keys()
    names = sorted(path.name for path in directory.iterdir())
    kids = sorted(k.kid for k in (key_set.previous, key_set.current, key_set.next))
    assert len(set(kids)) == 3
    assert names == sorted([".lock", "keys.json", *(f"{kid}.pem" for kid in kids)])
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert key_set.current.private_key.key_size == 2048


def test_jwks_document(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    key_set = store.keys()
    document = store.jwks()
    assert [key["kid"] for key in document["keys"]] == [key_set.previous.kid, key_set.current.kid, key_set.next.kid]
    for key in document["keys"]:
        assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}
        assert (key["kty"], key["use"], key["alg"], key["e"]) == ("RSA", "sig", "RS256", "AQAB")
        assert "d" not in key  # public halves only
    # Each published key verifies what its private key signed (as a consumer's PyJWK would).
    token = compact_jws({"jti": "x"}, key_set.current)
    assert jwt.decode(token, jwt.PyJWK(document["keys"][1]), algorithms=["RS256"]) == {"jti": "x"}


def test_kid_is_the_rfc7638_thumbprint() -> None:
    # The example key of RFC 7638 §3.1 and its published thumbprint.
    n = (
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5"
        "hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
    )
    modulus = int.from_bytes(jwt.utils.base64url_decode(n), "big")
    public_key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    assert jwk_thumbprint(public_key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rotate_shifts_the_keys_and_deletes_the_retired_one(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    before = store.keys()
    moment = datetime(2025, 2, 28, 12, tzinfo=timezone.utc)
    after = store.rotate(now=moment)
    assert (after.previous.kid, after.current.kid) == (before.current.kid, before.next.kid)
    assert after.next.kid not in {before.previous.kid, before.current.kid, before.next.kid}
    assert after.rotated_at == moment
    assert not (tmp_path / f"{before.previous.kid}.pem").exists()
    assert sorted(p.name for p in tmp_path.glob("*.pem")) == sorted(
        f"{k.kid}.pem" for k in (after.previous, after.current, after.next)
    )


def test_another_instance_sees_a_rotation(tmp_path: Path) -> None:
    service, cli = KeyStore(tmp_path), KeyStore(tmp_path)
    first = service.keys()
    assert service.keys() is first  # cached while unchanged
    rotated = cli.rotate()
    assert service.keys().current.kid == rotated.current.kid == first.next.kid


def test_rotate_if_due(tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    created = store.keys().rotated_at
    month = timedelta(days=30)
    assert store.rotate_if_due(month, now=created + timedelta(days=29)) is None
    rotated = store.rotate_if_due(month, now=created + month)
    assert rotated is not None and rotated.rotated_at == created + month
    assert store.rotate_if_due(month, now=created + month + timedelta(days=1)) is None


def test_tampered_key_file_is_refused(tmp_path: Path) -> None:
    key_set = KeyStore(tmp_path).keys()
    (tmp_path / f"{key_set.current.kid}.pem").write_bytes((tmp_path / f"{key_set.next.kid}.pem").read_bytes())
    with pytest.raises(ValueError, match="holds the key with kid"):
        KeyStore(tmp_path).keys()


def _rotate_many(directory: str, times: int, queue: multiprocessing.Queue) -> None:
    store = KeyStore(directory)
    queue.put([(s.previous.kid, s.current.kid, s.next.kid) for s in (store.rotate() for _ in range(times))])


def test_two_processes_rotating_at_once_make_whole_rotations(tmp_path: Path) -> None:
    start = KeyStore(tmp_path).keys()
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_rotate_many, args=(str(tmp_path), 4, queue)) for _ in range(2)]
    for worker in workers:
        worker.start()
    results = [state for _ in workers for state in queue.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    # Serialised rotations form one chain: each starts from the state another one produced.
    states = {(start.previous.kid, start.current.kid, start.next.kid), *results}
    assert len(states) == 9
    for previous, current, _ in results:
        assert sum(1 for s in states if (s[1], s[2]) == (previous, current)) == 1
    final = KeyStore(tmp_path).keys()
    assert (final.previous.kid, final.current.kid, final.next.kid) in results
    assert len(list(tmp_path.glob("*.pem"))) == 3
