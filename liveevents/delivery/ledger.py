"""Making the workers' progress durable: every subscription of this node in one transaction.

Workers keep what has to be written (cursor, counts, failed deliveries, retry results, replay
positions, health) in a :class:`~liveevents.delivery.state.Progress` of their own.  Every
``interval`` — or sooner when a worker asks with :meth:`Ledger.commit` — the ledger takes
them all and commits them together: one transaction (one fsync on SQLite) per interval
however many subscriptions and events, instead of one per event.

A commit that fails (the database is unreachable) keeps what it took and tries again; the
cursors do not move meanwhile, so a crash then re-sends, never skips.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from liveevents.delivery.state import DeliveryState, Progress

__all__ = ["Ledger", "ProgressSource"]

log = logging.getLogger("liveevents.delivery")


class ProgressSource(Protocol):
    subscription_id: str

    def take_progress(self) -> Progress | None:
        """What changed since the last call (``None``: nothing)."""
        ...

    def committed(self, progress: Progress) -> None:
        """``progress`` (taken earlier) is now durable."""
        ...


class Ledger:
    def __init__(self, state: DeliveryState, node: str, *, interval: float, on_lost: Callable[[set[str]], None]) -> None:
        self.state = state
        self.node = node
        self.interval = interval
        self._on_lost = on_lost
        self._sources: dict[str, ProgressSource] = {}
        self._unsaved: dict[str, Progress] = {}
        self._requested = 0  # commit() calls so far
        self._done = 0  # of those, how many a successful commit has covered
        self._wake = asyncio.Event()
        self._committed = asyncio.Condition()
        self._closing = False

    def register(self, source: ProgressSource) -> None:
        self._sources[source.subscription_id] = source

    def unregister(self, source: ProgressSource) -> None:
        if self._sources.get(source.subscription_id) is source:
            del self._sources[source.subscription_id]

    async def commit(self) -> None:
        """Return once everything the sources hold now is durable."""
        self._requested += 1
        ticket = self._requested
        self._wake.set()
        async with self._committed:
            await self._committed.wait_for(lambda: self._done >= ticket)

    async def run(self) -> None:
        """Commit every ``interval`` (or on request) until :meth:`close`, then once more.

        Not meant to be cancelled: a commit cut short would leave unknown whether it happened.
        """
        while not self._closing:
            try:
                await asyncio.wait_for(self._wake.wait(), self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
            if not await self.flush() and not self._closing:
                await asyncio.sleep(min(1.0, self.interval * 5))  # the store is failing: do not spin
        await self.flush()

    def close(self) -> None:
        self._closing = True
        self._wake.set()

    async def flush(self) -> bool:
        """Take and commit all progress; False if the commit failed (it is kept for the next)."""
        covered = self._requested
        for subscription_id, source in list(self._sources.items()):
            progress = source.take_progress()
            if progress is None:
                continue
            if subscription_id in self._unsaved:
                self._unsaved[subscription_id].merge(progress)
            else:
                self._unsaved[subscription_id] = progress
        batch, self._unsaved = self._unsaved, {}
        if batch:
            try:
                lost = await self.state.commit(self.node, batch)
            except Exception as error:  # noqa: BLE001 - kept and retried; the workers go on
                log.warning("delivery progress could not be saved (will retry): %s", error)
                for subscription_id, progress in self._unsaved.items():
                    batch.setdefault(subscription_id, Progress()).merge(progress)
                self._unsaved = batch
                return False
            for subscription_id, progress in batch.items():
                committed_by = self._sources.get(subscription_id)
                if committed_by is not None and subscription_id not in lost:
                    committed_by.committed(progress)
            if lost:
                self._on_lost(lost)
        async with self._committed:
            self._done = max(self._done, covered)
            self._committed.notify_all()
        return True
