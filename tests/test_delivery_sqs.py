"""SQS delivery with boto3 against moto's server mode, found through ``AWS_ENDPOINT_URL_SQS``."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

import pytest

from liveevents.delivery.keys import KeyStore
from liveevents.delivery.outcome import Delivered, Failed
from liveevents.delivery.payload import Payload, PayloadEncoder
from liveevents.delivery.senders import SqsSender
from liveevents.delivery.senders.sqs import plan_batches
from liveevents.delivery.signing import Signer
from liveevents.delivery.subscription import Subscription, parse_subscription
from tests.receivers.events import event, logged_in
from tests.receivers.server import LoopbackServer, Reply, Request, refused_url
from tests.receivers.sqs import CREDENTIALS, REGION, moto_sqs, receive, sqs_client

NOW = datetime(2025, 3, 1, 8, 30, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_sqs() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(moto: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Standard AWS settings only: the sender is never told about moto directly."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto


def new_queue(endpoint: str, *, region: str = REGION, fifo: bool = False, **attributes: str) -> str:
    name = f"canvas-live-events-{uuid.uuid4().hex[:12]}" + (".fifo" if fifo else "")
    if fifo:
        attributes["FifoQueue"] = "true"
    return sqs_client(endpoint, region).create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def queue_subscription(url: str, **fields: object) -> Subscription:
    return parse_subscription({"name": "warehouse", "delivery_method": "sqs", "url": url, "event_types": ["logged_in"], **fields})


def send(subscription: Subscription, payloads: Sequence[Payload], sender: SqsSender | None = None) -> list:
    sender = sender or SqsSender(timeout=5)
    try:
        return asyncio.run(sender.send(subscription, payloads))
    finally:
        sender.close()


def json_payload(number: int, size: int = 0, partition_key: str = "u1") -> Payload:
    body = json.dumps({"n": number, "pad": "x" * size}).encode()
    return Payload(f"00000000-0000-4000-8000-{number:012d}", body, "application/json", partition_key)


def test_batches_arrive_as_message_json(aws_env: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    queue_url = new_queue(aws_env)
    subscription = queue_subscription(queue_url)
    encoder = PayloadEncoder(Signer(KeyStore(tmp_path_factory.mktemp("keys")), issuer="https://le.example"))
    payloads = [encoder.encode(event(logged_in(n)), subscription, now=NOW) for n in range(1, 26)]

    outcomes = send(subscription, payloads)
    assert all(isinstance(outcome, Delivered) and outcome.message_id for outcome in outcomes)
    assert len({outcome.message_id for outcome in outcomes}) == 25

    messages = receive(sqs_client(aws_env), queue_url, 25)
    bodies = sorted((json.loads(m["Body"]) for m in messages), key=lambda m: m["metadata"]["user_id"])
    assert bodies[0] == {
        "metadata": {
            **logged_in(1)["attributes"],
            "url": "https://canvas.uni-example.org/login/canvas?access_token=[FILTERED]",
        },
        "body": {"redirect_url": "https://canvas.uni-example.org/courses/1"},
    }
    assert [b["metadata"]["user_id"] for b in bodies] == [f"3000000000{n:04d}" for n in range(1, 26)]
    assert all("MessageAttributes" not in m for m in messages)


def test_subscription_credentials_and_region(aws_env: str) -> None:
    queue_url = new_queue(aws_env, region="eu-west-1")
    keys = {"aws_access_key_id": "AKIASUBSCRIPTIONKEY", "aws_secret_access_key": "subscription-secret"}
    [outcome] = send(queue_subscription(queue_url, aws_region="eu-west-1", **keys), [json_payload(1)])
    assert isinstance(outcome, Delivered)
    assert json.loads(receive(sqs_client(aws_env, "eu-west-1"), queue_url, 1)[0]["Body"]) == {"n": 1, "pad": ""}
    # Without the region the client asks the default region, where this queue does not exist.
    [outcome] = send(queue_subscription(queue_url, **keys), [json_payload(2)])
    assert isinstance(outcome, Failed)
    assert outcome.error == "sqs:AWS.SimpleQueueService.NonExistentQueue" and outcome.retryable


def test_missing_queue_fails_every_entry_retryably(aws_env: str) -> None:
    subscription = queue_subscription(f"{aws_env}/123456789012/canvas-live-events-gone")
    outcomes = send(subscription, [json_payload(n) for n in range(3)])
    assert [(o.error, o.retryable, o.status_code) for o in outcomes] == [
        ("sqs:AWS.SimpleQueueService.NonExistentQueue", True, 400)
    ] * 3
    assert outcomes[0].detail == "The specified queue does not exist."


def test_an_oversized_message_fails_alone(aws_env: str) -> None:
    queue_url = new_queue(aws_env, MaximumMessageSize="1024")
    outcomes = send(queue_subscription(queue_url), [json_payload(1), json_payload(2, size=2000), json_payload(3)])
    assert isinstance(outcomes[0], Delivered) and isinstance(outcomes[2], Delivered)
    assert isinstance(outcomes[1], Failed)
    assert (outcomes[1].error, outcomes[1].retryable) == ("sqs:InvalidParameterValue", False)
    assert sorted(json.loads(m["Body"])["n"] for m in receive(sqs_client(aws_env), queue_url, 2)) == [1, 3]


def test_fifo_queue_groups_by_partition_key_and_deduplicates(aws_env: str) -> None:
    queue_url = new_queue(aws_env, fifo=True)
    subscription = queue_subscription(queue_url, sqs_fifo=True)
    first, second = json_payload(1, partition_key="30000000000042"), json_payload(2, partition_key="30000000000043")
    assert all(isinstance(o, Delivered) for o in send(subscription, [first, second]))
    assert all(isinstance(o, Delivered) for o in send(subscription, [first]))  # a retry of a delivered message
    messages = receive(sqs_client(aws_env), queue_url, 2)
    assert sorted((m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"]) for m in messages) == [
        ("30000000000042", first.event_id),
        ("30000000000043", second.event_id),
    ]
    again = sqs_client(aws_env).receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)
    assert again.get("Messages", []) == []


def test_unreachable_endpoint(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", refused_url())
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # a standard setting, honoured: no SDK retries
    [outcome] = send(queue_subscription("http://127.0.0.1:1/123456789012/canvas-live-events-x"), [json_payload(1)])
    assert isinstance(outcome, Failed) and (outcome.error, outcome.retryable) == ("connect", True)


def test_no_credentials_anywhere(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    [outcome] = send(queue_subscription(new_queue(aws_env)), [json_payload(1)])
    assert isinstance(outcome, Failed) and outcome.error == "aws_credentials" and outcome.retryable
    assert "give the subscription a key pair" in outcome.detail


def _partial_sqs(request: Request) -> Reply:
    """An SQS-compatible server (AWS JSON 1.0) that refuses entries whose body says "refuse",
    as AWS does for invalid characters (moto never fails single entries), and answers
    slowly for queues named "slow"."""
    assert request.headers["x-amz-target"] == "AmazonSQS.SendMessageBatch"
    call = json.loads(request.body)
    successful, failed = [], []
    for entry in call["Entries"]:
        if "refuse" in entry["MessageBody"]:
            failed.append({"Id": entry["Id"], "SenderFault": True, "Code": "InvalidMessageContents", "Message": "Invalid characters"})
        else:
            md5 = hashlib.md5(entry["MessageBody"].encode()).hexdigest()
            successful.append({"Id": entry["Id"], "MessageId": str(uuid.uuid4()), "MD5OfMessageBody": md5})
    answer = json.dumps({"Successful": successful, "Failed": failed}).encode()
    delay = 1.0 if call["QueueUrl"].endswith("/slow") else 0.0
    return Reply(200, answer, {"Content-Type": "application/x-amz-json-1.0"}, delay=delay)


def test_per_entry_failures_are_reported_individually(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackServer({"/": _partial_sqs}) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", server.url(""))
        refused = Payload("e-2", b'{"refuse": true}', "application/json", "u")
        outcomes = send(queue_subscription(server.url("/123456789012/q")), [json_payload(1), refused, json_payload(3)])
    assert isinstance(outcomes[0], Delivered) and isinstance(outcomes[2], Delivered)
    assert outcomes[1] == Failed("sqs:InvalidMessageContents", "Invalid characters", retryable=False, elapsed=outcomes[1].elapsed)


def test_a_message_over_the_sqs_limit_fails_for_good_without_being_sent(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQS takes message bodies up to 1 MiB; a larger one cannot succeed on any retry, whatever
    a lenient SQS-compatible server would do with it."""
    with LoopbackServer({"/": _partial_sqs}) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", server.url(""))
        huge = Payload("e-2", b'{"pad": "' + b"x" * (1024 * 1024) + b'"}', "application/json", "u")
        outcomes = send(queue_subscription(server.url("/123456789012/q")), [json_payload(1), huge, json_payload(3)])
        sent = [json.loads(entry["MessageBody"]) for request in server.received("/") for entry in json.loads(request.body)["Entries"]]
    assert isinstance(outcomes[0], Delivered) and isinstance(outcomes[2], Delivered)
    assert isinstance(outcomes[1], Failed) and (outcomes[1].error, outcomes[1].retryable) == ("sqs:message_too_large", False)
    assert outcomes[1].detail == "the message is 1048587 bytes; SQS takes at most 1048576 (1 MiB)"
    assert sorted(message["n"] for message in sent) == [1, 3]


def test_a_slow_queue_leaves_threads_for_other_subscriptions(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def run(url: str) -> None:
        sender = SqsSender(timeout=5, threads=4, batches_per_subscription=2)
        try:
            slow = asyncio.create_task(sender.send(queue_subscription(f"{url}/123456789012/slow"), [json_payload(n) for n in range(40)]))
            await asyncio.sleep(0.2)  # the slow queue's batches are under way
            [outcome] = await sender.send(queue_subscription(f"{url}/123456789012/fast"), [json_payload(99)])
            assert isinstance(outcome, Delivered)
            assert not slow.done()
            assert all(isinstance(o, Delivered) for o in await slow)
        finally:
            sender.close()

    with LoopbackServer({"/": _partial_sqs}) as server:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", server.url(""))
        asyncio.run(run(server.url("")))


def test_plan_batches() -> None:
    assert plan_batches([1] * 25, max_bytes=100) == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert plan_batches([60, 30, 20, 150, 10], max_bytes=100) == [[0, 1], [2], [3], [4]]
    assert plan_batches([], max_bytes=100) == []
