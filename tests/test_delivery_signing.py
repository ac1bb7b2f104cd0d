"""Encoding per subscription, verified by real consumers: PyJWKClient against our JWKS on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from liveevents.delivery.keys import KeyStore
from liveevents.delivery.payload import EncodingError, PayloadEncoder
from liveevents.delivery.senders import HttpSender
from liveevents.delivery.signing import INSTRUCTURE_ISSUER, Signer, compact_jws, signing_rate
from liveevents.delivery.subscription import Subscription, parse_subscription
from tests.receivers.consumers import JwtWebhook, jwks_endpoint
from tests.receivers.events import course_completed, event, logged_in
from tests.receivers.server import LoopbackServer

ISSUER = "https://liveevents.uni-example.org"
NOW = datetime(2025, 3, 1, 8, 30, 15, 250000, tzinfo=timezone.utc)
JWKS_PATH = "/.well-known/jwks.json"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return KeyStore(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def encoder(keys: KeyStore) -> PayloadEncoder:
    return PayloadEncoder(Signer(keys, issuer=ISSUER))


@pytest.fixture(scope="module")
def server(keys: KeyStore) -> Iterator[LoopbackServer]:
    routes = {JWKS_PATH: jwks_endpoint(keys.jwks)}
    with LoopbackServer(routes) as running:
        jwks_url = running.url(JWKS_PATH)
        running.routes.update(
            {
                "/raw": JwtWebhook(jwks_url, issuer=ISSUER),
                "/quoted": JwtWebhook(jwks_url, body="quoted", issuer=ISSUER),
                "/unsigned": JwtWebhook(jwks_url, body="unsigned"),
            }
        )
        yield running


def webhook(server: LoopbackServer, path: str, **fields: object) -> Subscription:
    return parse_subscription(
        {"name": path, "delivery_method": "https", "url": server.url(path), "event_types": ["logged_in"], **fields}
    )


def post(subscription: Subscription, payload: object) -> object:
    async def once() -> object:
        sender = HttpSender(timeout=5)
        try:
            return await sender.send(subscription, payload)  # type: ignore[arg-type]
        finally:
            await sender.aclose()

    return asyncio.run(once())


def expected_canvas_message(number: int) -> dict[str, object]:
    record = logged_in(number)
    metadata = dict(record["attributes"])
    metadata["url"] = "https://canvas.uni-example.org/login/canvas?access_token=[FILTERED]"
    return {"metadata": metadata, "body": record["body"]}


def test_raw_jwt_verified_by_a_jwks_consumer(server: LoopbackServer, encoder: PayloadEncoder, keys: KeyStore) -> None:
    subscription = webhook(server, "/raw")
    source = event(logged_in(1))
    payload = encoder.encode(source, subscription, now=NOW)
    assert payload.content_type == "application/jwt"
    assert payload.body.count(b".") == 2 and not payload.body.startswith(b'"')

    outcome = post(subscription, payload)
    assert outcome.status_code == 200, server.routes["/raw"].rejected
    accepted = server.routes["/raw"].accepted[-1]
    assert accepted.header == {"alg": "RS256", "kid": keys.keys().current.kid, "typ": "JWT"}
    assert accepted.message == {
        **expected_canvas_message(1),
        "iss": ISSUER,
        "iat": 1740817815,  # NOW
        "jti": source.event_id,
    }
    assert accepted.request.headers["content-type"] == "application/jwt"
    assert accepted.request.headers["webhook-id"] == source.event_id


def test_quoted_jwt_for_consumers_built_against_instructure(server: LoopbackServer, encoder: PayloadEncoder) -> None:
    subscription = webhook(server, "/quoted", jwt_body="quoted")
    payload = encoder.encode(event(logged_in(2)), subscription, now=NOW)
    assert payload.content_type == "application/json"
    assert payload.body.startswith(b'"eyJ') and payload.body.endswith(b'"')
    assert json.loads(payload.body).count(".") == 2  # a JSON string holding the compact JWT

    assert post(subscription, payload).status_code == 200
    assert server.routes["/quoted"].accepted[-1].message["body"] == {"redirect_url": "https://canvas.uni-example.org/courses/2"}
    # A consumer expecting the bare token refuses the quoted form: the option matters.
    assert post(webhook(server, "/raw"), payload).status_code == 401


def test_unsigned_body_is_the_message_json(server: LoopbackServer, encoder: PayloadEncoder) -> None:
    subscription = webhook(server, "/unsigned", jwt_body="unsigned")
    payload = encoder.encode(event(logged_in(3)), subscription, now=NOW)
    assert payload.content_type == "application/json"
    assert json.loads(payload.body) == expected_canvas_message(3)
    assert post(subscription, payload).status_code == 200
    assert server.routes["/unsigned"].accepted[-1].message == expected_canvas_message(3)


def test_redaction_can_be_switched_off(server: LoopbackServer, encoder: PayloadEncoder) -> None:
    subscription = webhook(server, "/unsigned", jwt_body="unsigned", redact_tokens=False)
    message = json.loads(encoder.encode(event(logged_in(4)), subscription, now=NOW).body)
    assert message["metadata"]["url"] == "https://canvas.uni-example.org/login/canvas?access_token=leaky-4"


def test_caliper_format_in_a_jwt(server: LoopbackServer, encoder: PayloadEncoder) -> None:
    subscription = webhook(server, "/raw", format="caliper")
    source = event(logged_in(5))
    assert post(subscription, encoder.encode(source, subscription, now=NOW)).status_code == 200
    claims = server.routes["/raw"].accepted[-1].message
    assert (claims["sensor"], claims["sendTime"]) == ("http://canvas.uni-example.org/", "2025-03-01T08:30:15.250Z")
    assert claims["data"][0]["id"] == f"urn:uuid:{source.event_id}"
    assert claims["data"][0]["action"] == "LoggedIn"
    assert claims["jti"] == source.event_id


def test_sqs_and_caliper_bodies_are_plain_json(encoder: PayloadEncoder) -> None:
    queue = parse_subscription(
        {"name": "q", "delivery_method": "sqs", "url": "http://127.0.0.1:1/000000000000/q", "event_types": ["logged_in"]}
    )
    lrs = parse_subscription(
        {"name": "l", "delivery_method": "caliper", "url": "http://127.0.0.1:1/", "event_types": ["logged_in"], "bearer_token": "t"}
    )
    source = event(logged_in(6))
    sqs_payload = encoder.encode(source, queue, now=NOW)
    assert (sqs_payload.content_type, json.loads(sqs_payload.body)) == ("application/json", expected_canvas_message(6))
    caliper_payload = encoder.encode(source, lrs, now=NOW)
    assert json.loads(caliper_payload.body)["data"][0]["type"] == "SessionEvent"
    assert sqs_payload.partition_key == "30000000000006"  # the user_id, Canvas's partition key


def test_event_without_user_is_partitioned_by_its_id(encoder: PayloadEncoder) -> None:
    queue = parse_subscription(
        {"name": "q", "delivery_method": "sqs", "url": "http://127.0.0.1:1/000000000000/q", "event_types": ["course_completed"]}
    )
    source = event(course_completed())
    assert encoder.encode(source, queue, now=NOW).partition_key == source.event_id


def test_event_without_a_caliper_form_is_an_encoding_error(server: LoopbackServer, encoder: PayloadEncoder) -> None:
    subscription = webhook(server, "/raw", format="caliper")
    with pytest.raises(EncodingError, match="course_completed event has no caliper form"):
        encoder.encode(event(course_completed()), subscription, now=NOW)


def test_instructure_issuer_can_be_configured(keys: KeyStore) -> None:
    token = Signer(keys, issuer=INSTRUCTURE_ISSUER).sign({"metadata": {}, "body": {}}, event_id="e-1", issued_at=1)
    claims = json.loads(base64.urlsafe_b64decode(token.split(b".")[1] + b"=="))
    assert claims == {"metadata": {}, "body": {}, "iss": "https://live-events.canvas.instructure.com", "iat": 1, "jti": "e-1"}


def test_key_rotation_as_a_consumer_sees_it(tmp_path: Path) -> None:
    keys = KeyStore(tmp_path)
    signer = Signer(keys, issuer=ISSUER)
    with LoopbackServer({JWKS_PATH: jwks_endpoint(keys.jwks)}) as server:
        jwks_url = server.url(JWKS_PATH)
        cached = JwtWebhook(jwks_url, issuer=ISSUER)  # keeps the JWKS it fetched first
        server.routes["/hook"] = cached
        subscription = webhook(server, "/hook")
        encoder = PayloadEncoder(signer)

        before = encoder.encode(event(logged_in(10)), subscription, now=NOW)
        assert post(subscription, before).status_code == 200
        first_kids = [key["kid"] for key in keys.jwks()["keys"]]
        jwks_fetches = len(server.received(JWKS_PATH))

        KeyStore(tmp_path).rotate()  # e.g. `liveevents keys rotate` in another process
        after = encoder.encode(event(logged_in(11)), subscription, now=NOW)
        assert cached.accepted[-1].header["kid"] == first_kids[1]
        assert post(subscription, after).status_code == 200
        # The new signing key was published as "next" before it signed: no JWKS refetch needed.
        assert cached.accepted[-1].header["kid"] == first_kids[2]
        assert len(server.received(JWKS_PATH)) == jwks_fetches

        # A message signed before the rotation still verifies, for a consumer fetching the JWKS now.
        server.routes["/fresh"] = JwtWebhook(jwks_url, issuer=ISSUER)
        assert post(webhook(server, "/fresh"), before).status_code == 200
        # After a second rotation its key has left the JWKS: too old (Instructure: kids expire).
        keys.rotate()
        server.routes["/fresh"] = fresh = JwtWebhook(jwks_url, issuer=ISSUER)
        assert post(webhook(server, "/fresh"), before).status_code == 401
        assert "Unable to find a signing key" in fresh.rejected[-1][1]
        # Made ready for a retry, it is signed again (same payload part) and verifies.
        retried = encoder.for_retry(before)
        assert retried.body.split(b".")[1] == before.body.split(b".")[1] and retried.body != before.body
        assert post(webhook(server, "/fresh"), retried).status_code == 200
        assert fresh.accepted[-1].header["kid"] == keys.keys().current.kid
        assert fresh.accepted[-1].message["jti"] == event(logged_in(10)).event_id
        # The quoted form (jwt_body quoted) likewise, still quoted.
        quoted = PayloadEncoder.adapt(before, webhook(server, "/quoted", jwt_body="quoted"))
        assert encoder.for_retry(quoted).body == b'"' + retried.body + b'"'
        # A token whose key is still published is sent again as it is.
        assert encoder.for_retry(after) is after


def test_signing_rate_counts_real_signatures(keys: KeyStore) -> None:
    rate = signing_rate(keys.keys().current, {"jti": "x"}, seconds=0.05)
    assert rate > 0
    token = compact_jws({"jti": "x"}, keys.keys().current)
    assert len(base64.urlsafe_b64decode(token.split(b".")[2] + b"==")) == 256  # a 2048-bit RSA signature
