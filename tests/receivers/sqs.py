"""moto's SQS in server mode on a free loopback port, and a boto3 reader for its queues."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tests.receivers.server import free_port

REGION = "us-east-1"
# moto accepts any key pair; these make sure no real AWS credentials are ever picked up.
CREDENTIALS = {"aws_access_key_id": "AKIALIVEEVENTSTEST", "aws_secret_access_key": "moto-secret"}


@contextmanager
def moto_sqs() -> Iterator[str]:
    """Yield the endpoint URL of a running moto server (``http://127.0.0.1:<port>``)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def sqs_client(endpoint: str, region: str = REGION) -> Any:
    """The consumer's client: pointed at moto explicitly, independent of the sender's settings."""
    return boto3.client("sqs", endpoint_url=endpoint, region_name=region, **CREDENTIALS)


def receive(client: Any, queue_url: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Read and delete messages until ``count`` arrived; AssertionError after ``timeout``."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(messages)} of {count} messages arrived within {timeout} s")
        answer = client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"])
        batch = answer.get("Messages", [])
        if batch:
            client.delete_message_batch(
                QueueUrl=queue_url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
            )
        messages.extend(batch)
    return messages
