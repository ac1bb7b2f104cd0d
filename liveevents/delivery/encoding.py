"""Rendering and signing stored events on worker threads, once per (event, variant).

RSA signing is nearly the whole cost of a signed delivery, and ``cryptography`` releases the
GIL while it signs, so payloads are made on a thread pool while the event loop sends.  Events
go to the pool in chunks (one hand-off per chunk, not per event).

Subscriptions of one :class:`~liveevents.delivery.payload.Variant` (same format, redaction and
signing) that read the same events share the payload: the first to ask renders it, the others
wait for it or find it in a bounded cache.  Every one of them sends the same JWT (same
``iat``, same ``jti``) and the same Caliper ``sendTime`` for an event.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from liveevents.canvas.record import decode_record
from liveevents.delivery.payload import EncodingError, Payload, PayloadEncoder, Variant
from liveevents.delivery.subscription import Subscription
from liveevents.store.base import StoredEvent

__all__ = ["EncodingPool", "Rendered"]

Rendered = Payload | EncodingError
_CHUNK = 32  # events per hand-off to a thread


class EncodingPool:
    def __init__(self, encoder: PayloadEncoder, *, threads: int, cache_size: int = 8192) -> None:
        self.encoder = encoder
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="liveevents-sign")
        self._cache: OrderedDict[tuple[int, Variant], asyncio.Future[Rendered]] = OrderedDict()
        self._cache_size = cache_size

    async def encode(self, events: Sequence[StoredEvent], subscription: Subscription) -> list[Rendered]:
        """One payload (or the reason there is none) per event, in order."""
        variant = Variant.of(subscription)
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Rendered]] = []
        missing: list[tuple[StoredEvent, asyncio.Future[Rendered]]] = []
        for event in events:
            key = (event.sequence, variant)
            future = self._cache.get(key)
            if future is None:
                future = self._cache[key] = loop.create_future()
                missing.append((event, future))
            futures.append(future)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        if missing:
            await asyncio.gather(*(self._render(missing[start : start + _CHUNK], variant) for start in range(0, len(missing), _CHUNK)))
        results = [future.result() if future.done() else await future for future in futures]
        return [self.encoder.adapt(result, subscription) if isinstance(result, Payload) else result for result in results]

    async def for_retry(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Stored payloads as they are sent again (:meth:`PayloadEncoder.for_retry`), on a thread:
        reading the key set may touch the disk, and signing again is an RSA signature each."""
        encoder = self.encoder
        return await asyncio.get_running_loop().run_in_executor(self._executor, lambda: [encoder.for_retry(payload) for payload in payloads])

    async def _render(self, chunk: list[tuple[StoredEvent, asyncio.Future[Rendered]]], variant: Variant) -> None:
        try:
            results = await asyncio.get_running_loop().run_in_executor(self._executor, self._render_chunk, [event for event, _ in chunk], variant)
        except BaseException as error:
            # Not a fact of the events (a bug, or shutting down): nobody may reuse this.
            for event, future in chunk:
                self._cache.pop((event.sequence, variant), None)
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: waiters get it from await, no "never retrieved" noise
            raise
        for (_, future), result in zip(chunk, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _render_chunk(self, events: list[StoredEvent], variant: Variant) -> list[Rendered]:
        now = datetime.now(timezone.utc)
        return [self._render_one(event, variant, now) for event in events]

    def _render_one(self, event: StoredEvent, variant: Variant, now: datetime) -> Rendered:
        try:
            return self.encoder.render(decode_record(event.data), variant, now=now)
        except EncodingError as error:
            return error
        except ValueError as error:  # RecordError: the stored bytes are no longer a Canvas record
            return EncodingError(f"the stored record cannot be read: {error}")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
