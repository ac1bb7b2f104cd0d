"""End to end, with real consumers on loopback: records put with boto3 into a served instance
(``liveevents serve`` as a process) reach a webhook that verifies every JWT with PyJWT's
``PyJWKClient`` against the served JWKS (raw, quoted and unsigned bodies), an IMS Caliper
endpoint that checks its Bearer token, and an SQS queue (moto's server, found by the
service through ``AWS_ENDPOINT_URL_SQS``) read with boto3."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from liveevents.caliper.envelope import caliper_envelope
from liveevents.canvas.message import canvas_message
from liveevents.canvas.record import parse_record
from tests.helpers.delivery import FAST_DELIVERY, put, subscribe, wait_until
from tests.helpers.service import ServedInstance
from tests.receivers.consumers import CaliperEndpoint, JwtWebhook
from tests.receivers.events import course_completed, logged_in
from tests.receivers.server import LoopbackServer
from tests.receivers.sqs import CREDENTIALS, REGION, moto_sqs, receive, sqs_client
from tests.receivers.tls import self_signed

LRS_TOKEN = "lrs-bearer-5521"


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_sqs() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def trusted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A certificate the served instance trusts (its SSL_CERT_FILE), for HTTPS endpoints."""
    return self_signed(tmp_path_factory.mktemp("tls"), "trusted")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, moto: str, trusted: tuple[Path, ssl.SSLContext]) -> Iterator[ServedInstance]:
    tls = {"SSL_CERT_FILE": str(trusted[0])}
    aws = {
        "AWS_ENDPOINT_URL_SQS": moto,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/nonexistent/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with ServedInstance.start(tmp_path_factory.mktemp("e2e") / "data", env={**FAST_DELIVERY, **aws, **tls}) as instance:
        yield instance


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer({}) as running:
        yield running


def event_id(record: dict[str, Any]) -> str:
    return parse_record(record).event_id


def test_webhooks_verify_every_jwt_against_the_served_jwks(served: ServedInstance, server: LoopbackServer) -> None:
    jwks_url = served.url + "/.well-known/jwks.json"
    consumers = {body: JwtWebhook(jwks_url, body=body, issuer=served.url) for body in ("raw", "quoted", "unsigned")}
    for body, consumer in consumers.items():
        server.routes[f"/{body}"] = consumer
        subscribe(served, name=f"hook-{body}", delivery_method="https", url=server.url(f"/{body}"), event_types=["logged_in"], jwt_body=body)
    records = [logged_in(n) for n in range(101, 131)]
    put(served, [*records[:15], course_completed(7), *records[15:]])  # course_completed: not subscribed

    for consumer in consumers.values():
        wait_until(lambda consumer=consumer: len(consumer.accepted) >= len(records))
    time.sleep(0.3)  # nothing more, nothing refused
    jwks = httpx.get(jwks_url).json()
    current_kid = jwks["keys"][1]["kid"]
    expected = {event_id(record): canvas_message(record) for record in records}
    for body, consumer in consumers.items():
        assert consumer.rejected == [], (body, consumer.rejected[:1])
        assert len(consumer.accepted) == len(records)
        for accepted in consumer.accepted:
            message = accepted.message
            if body == "unsigned":
                identifier = accepted.request.headers["webhook-id"]
                assert message == expected[identifier]
                continue
            identifier = message["jti"]
            assert accepted.header == {"alg": "RS256", "kid": current_kid, "typ": "JWT"}
            assert {key: message[key] for key in ("metadata", "body")} == expected[identifier]
            assert message["iss"] == served.url and abs(message["iat"] - time.time()) < 60
            assert accepted.request.headers["webhook-id"] == identifier
        assert {accepted.request.headers["webhook-id"] for accepted in consumer.accepted} == expected.keys()
    content_types = {body: {a.request.headers["content-type"] for a in consumer.accepted} for body, consumer in consumers.items()}
    assert content_types == {"raw": {"application/jwt"}, "quoted": {"application/json"}, "unsigned": {"application/json"}}
    # Tokens were redacted in the Canvas message's URLs (the record has one).
    assert all("leaky" not in json.dumps(a.message) for consumer in consumers.values() for a in consumer.accepted)


def test_https_endpoints_are_verified_over_real_tls(served: ServedInstance, trusted: tuple[Path, ssl.SSLContext], tmp_path: Path) -> None:
    hook = JwtWebhook(served.url + "/.well-known/jwks.json", issuer=served.url)
    _, stranger = self_signed(tmp_path, "stranger")  # a certificate nobody trusts
    with LoopbackServer({"/hook": hook}, tls=trusted[1]) as server, LoopbackServer({"/hook": hook}, tls=stranger) as impostor:
        assert server.url().startswith("https://")
        good = subscribe(served, name="tls", delivery_method="https", url=server.url("/hook"), event_types=["logged_in"])
        bad = subscribe(served, name="impostor", delivery_method="https", url=impostor.url("/hook"), event_types=["logged_in"])
        records = [logged_in(n) for n in range(401, 406)]
        put(served, records)
        wait_until(lambda: len(hook.accepted) >= len(records))
        pending = wait_until(lambda: served.admin_get(f"/api/v1/subscriptions/{bad['id']}/deliveries", state="pending")["deliveries"])
    assert {accepted.message["jti"] for accepted in hook.accepted} == {event_id(record) for record in records}
    assert hook.rejected == [] and impostor.received("/hook") == []
    assert pending[0]["last_error"] == "connect" and "certificate" in pending[0]["last_detail"].lower()
    assert good["url"].startswith("https://127.0.0.1:")


def test_jwks_is_public_with_previous_current_and_next_keys(served: ServedInstance) -> None:
    response = httpx.get(served.url + "/.well-known/jwks.json")
    assert response.status_code == 200 and "max-age" in response.headers["cache-control"]
    keys = response.json()["keys"]
    assert len(keys) == 3 and len({key["kid"] for key in keys}) == 3
    assert all(set(key) == {"kty", "kid", "use", "alg", "n", "e"} and key["alg"] == "RS256" for key in keys)


def test_caliper_endpoint_gets_envelopes_with_its_bearer_token(served: ServedInstance, server: LoopbackServer) -> None:
    server.routes["/caliper"] = lrs = CaliperEndpoint(LRS_TOKEN)
    view = subscribe(served, name="lrs", delivery_method="caliper", url=server.url("/caliper"), event_types=["logged_in"], bearer_token=LRS_TOKEN)
    assert view["has_bearer_token"] is True and LRS_TOKEN not in json.dumps(view)
    records = [logged_in(n) for n in range(201, 206)]
    put(served, records)
    wait_until(lambda: len(lrs.accepted) >= len(records))
    assert lrs.rejected == []
    by_id = {accepted.message["data"][0]["id"]: accepted.message for accepted in lrs.accepted}
    for record in records:
        envelope = by_id["urn:uuid:" + event_id(record)]
        expected = caliper_envelope(record, send_time=None)
        assert {**envelope, "sendTime": None} == {**expected, "sendTime": None}
    assert LRS_TOKEN not in served.output()


def test_sqs_queue_gets_the_message_json(served: ServedInstance, moto: str) -> None:
    client = sqs_client(moto)
    queue_url = client.create_queue(QueueName="canvas-live-events-e2e")["QueueUrl"]
    subscribe(served, name="warehouse", delivery_method="sqs", url=queue_url, event_types=["logged_in", "course_completed"])
    records = [logged_in(n) for n in range(301, 326)] + [course_completed(3)]
    put(served, records)
    messages = receive(client, queue_url, len(records), timeout=20)
    assert sorted(json.dumps(json.loads(m["Body"]), sort_keys=True) for m in messages) == sorted(
        json.dumps(canvas_message(record), sort_keys=True) for record in records
    )
    assert receive_nothing_more(client, queue_url)


def receive_nothing_more(client: Any, queue_url: str) -> bool:
    return client.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages") is None


def test_stats_and_metrics_per_subscription(served: ServedInstance, server: LoopbackServer) -> None:
    server.routes["/counted"] = JwtWebhook(served.url + "/.well-known/jwks.json")
    view = subscribe(served, name="counted", delivery_method="https", url=server.url("/counted"), event_types=["course_completed"])
    put(served, [course_completed(n) for n in range(1, 6)])
    stats = wait_until(lambda: _stats(served, view["id"]) if _stats(served, view["id"])["delivered"] == 5 else None)
    assert (stats["failed"], stats["retrying"], stats["backlog"], stats["active"]) == (0, 0, 0, True)
    metrics = served.metrics()
    assert f'liveevents_deliveries_total{{outcome="delivered",subscription="{view["id"]}"}} 5.0' in metrics
    assert f'liveevents_delivery_latency_seconds_count{{subscription="{view["id"]}"}} 5.0' in metrics
    wait_until(lambda: f'liveevents_delivery_backlog{{subscription="{view["id"]}"}} 0.0' in served.metrics())


def _stats(served: ServedInstance, subscription_id: str) -> dict[str, Any]:
    return next(item for item in served.admin_get("/api/v1/stats")["subscriptions"] if item["id"] == subscription_id)
