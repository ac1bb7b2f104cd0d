"""At most one log line per key per interval, for events a client or a destination can repeat
in a loop (a misconfigured Canvas retrying a refused call, a flapping webhook): the first one
is logged, the rest are counted, and the count goes into the next line logged for that key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

__all__ = ["LogThrottle"]

# The key that keys arriving while the table is full share: a client sending a new access key
# id with every call must not grow the table (or the log) without bound.
_OVERFLOW = object()


@dataclass(slots=True)
class _Window:
    opened: float
    suppressed: int = 0


class LogThrottle:
    def __init__(self, interval: float = 60.0, *, max_keys: int = 64, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._max_keys = max_keys
        self._clock = clock
        self._windows: dict[Hashable, _Window] = {}

    def admit(self, key: Hashable) -> int | None:
        """``None`` when a line for ``key`` was logged less than ``interval`` ago (this one is
        counted instead); otherwise the number not logged for ``key`` since its last line."""
        now = self._clock()
        if key not in self._windows and len(self._windows) >= self._max_keys:
            self._forget_expired(now)
            if len(self._windows) >= self._max_keys:
                key = _OVERFLOW
        window = self._windows.get(key)
        if window is not None and now - window.opened < self.interval:
            window.suppressed += 1
            return None
        self._windows[key] = _Window(now)
        return 0 if window is None else window.suppressed

    def note(self, suppressed: int) -> str:
        """What a line admitted by :meth:`admit` adds about the ones not logged before it."""
        if not suppressed:
            return ""
        return f" ({suppressed} more like it since the last such line, not logged: one line every {self.interval:g} s at most)"

    def _forget_expired(self, now: float) -> None:
        # Their counts go with them: keys are arriving faster than their lines are due.
        for key in [key for key, window in self._windows.items() if now - window.opened >= self.interval]:
            del self._windows[key]
