"""Wake-ups for "new events were committed", from any thread to any event loop.

The writer publishes the last committed sequence number after each commit; coroutines on any
event loop wait for it.  Readers then query the store themselves: the signal carries no events,
so a missed or merged wake-up never loses data.
"""

from __future__ import annotations

import asyncio
import threading

__all__ = ["CommitSignal"]


class CommitSignal:
    def __init__(self, last_sequence: int = 0) -> None:
        self._lock = threading.Lock()
        self._last = last_sequence
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def last_sequence(self) -> int:
        return self._last

    def publish(self, sequence: int) -> None:
        """Record ``sequence`` as committed and wake every waiter (callable from any thread)."""
        with self._lock:
            if sequence <= self._last:
                return
            self._last = sequence
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)

    async def wait(self, after: int, timeout: float) -> int:
        """Return once something after ``after`` is committed or ``timeout`` s have passed."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._last > after:
                return self._last
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, timeout)
        except TimeoutError:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
        return self._last


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
