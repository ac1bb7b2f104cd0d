"""Senders: one attempt to hand payloads to a subscription's destination.

:class:`Dispatcher` is the single entry point: ``await dispatcher.deliver(subscription,
payloads)`` returns one :data:`~liveevents.delivery.outcome.Outcome` per payload, in order.
Webhook and Caliper payloads go out concurrently, one POST each; SQS payloads in
``SendMessageBatch`` calls.  Nothing here retries: the retry policy and the store decide
what happens next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from liveevents.delivery.outcome import Outcome
from liveevents.delivery.payload import Payload
from liveevents.delivery.senders.http import HttpSender
from liveevents.delivery.senders.sqs import SqsSender
from liveevents.delivery.subscription import Subscription

__all__ = ["Dispatcher", "HttpSender", "SqsSender"]


class Dispatcher:
    def __init__(self, *, http: HttpSender | None = None, sqs: SqsSender | None = None) -> None:
        self.http = http or HttpSender()
        self.sqs = sqs or SqsSender()

    async def deliver(self, subscription: Subscription, payloads: Sequence[Payload]) -> list[Outcome]:
        if subscription.delivery_method == "sqs":
            return await self.sqs.send(subscription, payloads)
        if len(payloads) == 1:  # the live stream's usual call: no gather to set up
            return [await self.http.send(subscription, payloads[0])]
        return list(await asyncio.gather(*(self.http.send(subscription, payload) for payload in payloads)))

    async def forget(self, subscription_id: str) -> None:
        """Release what a deleted or deactivated subscription holds (its connection pool)."""
        await self.http.forget(subscription_id)
        self.sqs.forget(subscription_id)

    async def aclose(self) -> None:
        await self.http.aclose()
        self.sqs.close()
