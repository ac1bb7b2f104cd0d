"""Send payloads to an SQS queue with ``SendMessageBatch`` (``delivery.md`` §4.3).

The message body is the message JSON, as Instructure sends it.  Credentials are the
subscription's key pair, or else whatever the standard AWS configuration provides
(environment, shared files, instance role); the endpoint is never overridden here, so the
standard SDK settings — ``AWS_ENDPOINT_URL_SQS``, ``AWS_ENDPOINT_URL``, retry mode and
attempts — reach any SQS-compatible server.  botocore sends every call to the client's
region endpoint, whatever host the queue URL names, so the region comes from the
subscription, else from an AWS queue URL (``sqs.<region>.amazonaws.com``), else from the
AWS configuration, else ``us-east-1``.

boto3 blocks, so calls run on a thread pool of their own: a slow queue occupies threads,
never the event loop, and never the threads of the default executor; and at most
``batches_per_subscription`` threads at a time, so one slow queue leaves threads for the others.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from liveevents import __version__
from liveevents.delivery.outcome import Delivered, Failed, Outcome
from liveevents.delivery.payload import Payload
from liveevents.delivery.subscription import Subscription
from liveevents.delivery.urls import sqs_region

__all__ = ["MAX_BATCH_MESSAGES", "MAX_MESSAGE_BYTES", "SqsSender", "plan_batches"]

MAX_BATCH_MESSAGES = 10  # SendMessageBatch's limit
MAX_MESSAGE_BYTES = 1024 * 1024  # SQS's largest message body: a larger one fails on every attempt
# AWS accepts 1 MiB per batch since 2025; emulators (moto, ElasticMQ, older LocalStack) 256 KiB.
DEFAULT_MAX_BATCH_BYTES = 256 * 1024
_FALLBACK_REGION = "us-east-1"
# Whole-call errors about the messages themselves: resending the same bytes cannot succeed.
_CONTENT_ERRORS = frozenset({"InvalidParameterValue", "InvalidMessageContents", "BatchRequestTooLong", "MessageTooLong"})


def plan_batches(sizes: Sequence[int], *, max_bytes: int, max_messages: int = MAX_BATCH_MESSAGES) -> list[list[int]]:
    """Group message indexes, in order, into batches of at most ``max_messages`` messages and
    ``max_bytes`` body bytes; a message larger than ``max_bytes`` travels alone."""
    batches: list[list[int]] = []
    batch: list[int] = []
    total = 0
    for index, size in enumerate(sizes):
        if batch and (len(batch) == max_messages or total + size > max_bytes):
            batches.append(batch)
            batch, total = [], 0
        batch.append(index)
        total += size
    if batch:
        batches.append(batch)
    return batches


class SqsSender:
    def __init__(
        self,
        *,
        timeout: float = 15.0,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        threads: int = 16,
        batches_per_subscription: int = 4,
    ) -> None:
        self.max_batch_bytes = max_batch_bytes
        self._batches_per_subscription = batches_per_subscription
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._config = Config(
            connect_timeout=min(timeout, 5.0),
            read_timeout=timeout,
            max_pool_connections=threads,
            user_agent_extra=f"liveevents/{__version__}",
        )
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="liveevents-sqs")
        self._clients: dict[tuple[str | None, str | None, str | None], Any] = {}
        self._clients_lock = threading.Lock()  # boto3 sessions are not thread-safe

    async def send(self, subscription: Subscription, payloads: Sequence[Payload]) -> list[Outcome]:
        """Send all ``payloads``; one outcome per payload, in order.  A message larger than SQS
        takes fails for good without being sent."""
        outcomes: list[Outcome] = [Failed("internal", "not sent")] * len(payloads)
        sendable = []
        for index, payload in enumerate(payloads):
            if len(payload.body) > MAX_MESSAGE_BYTES:
                detail = f"the message is {len(payload.body)} bytes; SQS takes at most {MAX_MESSAGE_BYTES} (1 MiB)"
                outcomes[index] = Failed("sqs:message_too_large", detail, retryable=False)
            else:
                sendable.append(index)
        batches = [
            [sendable[i] for i in batch]
            for batch in plan_batches([len(payloads[index].body) for index in sendable], max_bytes=self.max_batch_bytes)
        ]
        slots = self._slots.get(subscription.id)
        if slots is None:
            slots = self._slots[subscription.id] = asyncio.Semaphore(self._batches_per_subscription)

        async def send_batch(batch: list[int]) -> list[Outcome]:
            async with slots:
                return await asyncio.get_running_loop().run_in_executor(
                    self._executor, self._send_batch, subscription, [payloads[i] for i in batch]
                )

        results = await asyncio.gather(*(send_batch(batch) for batch in batches))
        for batch, batch_outcomes in zip(batches, results, strict=True):
            for index, outcome in zip(batch, batch_outcomes, strict=True):
                outcomes[index] = outcome
        return outcomes

    def forget(self, subscription_id: str) -> None:
        self._slots.pop(subscription_id, None)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _send_batch(self, subscription: Subscription, payloads: list[Payload]) -> list[Outcome]:
        entries = []
        for number, payload in enumerate(payloads):
            entry = {"Id": str(number), "MessageBody": payload.body.decode("utf-8")}
            if subscription.sqs_fifo:
                entry["MessageGroupId"] = payload.partition_key
                entry["MessageDeduplicationId"] = payload.event_id
            entries.append(entry)
        started = time.perf_counter()
        try:
            answer = self._client(subscription).send_message_batch(QueueUrl=subscription.url, Entries=entries)
        except Exception as error:
            failure = _failure(error, time.perf_counter() - started)
            if not failure.retryable and len(payloads) > 1:
                # One bad entry (too long, say) can fail the whole call: send them one by one so
                # only the culprit fails for good.
                return [outcome for payload in payloads for outcome in self._send_batch(subscription, [payload])]
            return [failure] * len(payloads)
        elapsed = time.perf_counter() - started
        outcomes: list[Outcome] = [Failed("sqs:missing_result", "SQS reported nothing for this entry")] * len(payloads)
        for success in answer.get("Successful", ()):
            outcomes[int(success["Id"])] = Delivered(elapsed, message_id=success.get("MessageId"))
        for failed in answer.get("Failed", ()):
            outcomes[int(failed["Id"])] = Failed(
                f"sqs:{failed.get('Code', 'Unknown')}",
                failed.get("Message") or "refused by SQS",
                # SenderFault: the entry itself is wrong (too long, invalid characters); resending cannot help.
                retryable=not failed.get("SenderFault", False),
                elapsed=elapsed,
            )
        return outcomes

    def _client(self, subscription: Subscription) -> Any:
        secret = subscription.aws_secret_access_key
        key = (
            subscription.aws_access_key_id,
            None if secret is None else secret.get_secret_value(),
            subscription.aws_region or sqs_region(subscription.url),
        )
        with self._clients_lock:
            client = self._clients.get(key)
            if client is None:
                session = boto3.session.Session(aws_access_key_id=key[0], aws_secret_access_key=key[1], region_name=key[2])
                region = session.region_name or _FALLBACK_REGION
                client = session.client("sqs", region_name=region, config=self._config)
                self._clients[key] = client
        return client


def _failure(error: Exception, elapsed: float) -> Failed:
    match error:
        case ClientError():
            details = error.response.get("Error", {})
            code = details.get("Code", "Unknown")
            return Failed(
                f"sqs:{code}",
                details.get("Message") or str(error),
                retryable=code.rpartition(".")[2] not in _CONTENT_ERRORS,
                elapsed=elapsed,
                status_code=error.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
            )
        case NoCredentialsError() | PartialCredentialsError():
            return Failed("aws_credentials", f"{error} (give the subscription a key pair or configure AWS credentials)", elapsed=elapsed)
        case ConnectTimeoutError() | ReadTimeoutError():
            return Failed("timeout", str(error), elapsed=elapsed)
        case EndpointConnectionError():
            return Failed("connect", str(error), elapsed=elapsed)
        case ParamValidationError():
            return Failed("invalid_request", str(error), retryable=False, elapsed=elapsed)
        case BotoCoreError():
            return Failed("network", str(error), elapsed=elapsed)
    raise error
