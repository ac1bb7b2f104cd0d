"""A retry outliving two key rotations: its JWT was signed by a key no longer published, so it is
signed again with the current key (same claims, byte for byte) and a real consumer verifying with
PyJWT's ``PyJWKClient`` against the served JWKS accepts it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import jwt

from liveevents.canvas.record import parse_record
from tests.helpers.delivery import FAST_DELIVERY, jwt_payload, put, subscribe, wait_until
from tests.helpers.service import ServedInstance
from tests.receivers.consumers import JwtWebhook
from tests.receivers.events import logged_in
from tests.receivers.server import LoopbackServer, Reply, Request


class Gate:
    """503 (keeping every refused token) until opened; then the consumer decides."""

    def __init__(self, consumer: JwtWebhook) -> None:
        self.consumer = consumer
        self.open = threading.Event()
        self.refused: list[bytes] = []

    def __call__(self, request: Request) -> Reply:
        if not self.open.is_set():
            self.refused.append(request.body)
            return Reply(503)
        return self.consumer(request)


def _rotate(data_dir: Path) -> None:
    """``liveevents keys rotate`` in its own process, as an operator runs it."""
    subprocess.run([sys.executable, "-m", "liveevents.cli", "keys", "--data-dir", str(data_dir), "rotate"], capture_output=True, check=True)


def test_a_retry_signed_by_a_key_rotated_out_is_signed_again_and_verifies(tmp_path: Path) -> None:
    env = {**FAST_DELIVERY, "LIVEEVENTS_RETRY_SCHEDULE_SECONDS": ",".join(["0.5"] * 60)}
    with ServedInstance.start(tmp_path / "data", env=env) as service:
        consumer = JwtWebhook(f"{service.url}/.well-known/jwks.json", jwks_cache_seconds=0.1)
        gate = Gate(consumer)
        with LoopbackServer({"/hook": gate}) as server:
            subscribe(service, name="rotated", delivery_method="https", url=server.url("/hook"), event_types=["logged_in"])
            put(service, [logged_in(7)])
            wait_until(lambda: gate.refused)
            first = gate.refused[0]
            signed_by = jwt.get_unverified_header(first)["kid"]
            _rotate(service.data_dir)
            _rotate(service.data_dir)
            jwks = jwt.PyJWKClient(f"{service.url}/.well-known/jwks.json").get_jwk_set()
            published = {key.key_id for key in jwks.keys}
            assert signed_by not in published  # two rotations later: nobody can verify the stored token
            gate.open.set()
            wait_until(lambda: consumer.accepted, timeout=20)

    [accepted] = consumer.accepted
    assert consumer.rejected == []
    assert accepted.message == jwt_payload(first)  # the same claims: jti, iat, iss and message
    assert accepted.message["jti"] == parse_record(logged_in(7)).event_id
    assert accepted.header["kid"] in published and accepted.header["kid"] != signed_by
    # Only header and signature changed: the payload part is the stored one, byte for byte.
    assert accepted.request.body.split(b".")[1] == first.split(b".")[1]
