"""Delivery latency (from the event's arrival in the log to its delivery) as a histogram.

The same buckets serve the process's Prometheus histogram (``/metrics``) and the store-wide one
of ``GET /api/v1/stats``: workers tally their deliveries per bucket (:class:`LatencyTally`), the
ledger adds the tallies to ``delivery_latency`` with the rest of their progress, and
:class:`LatencyHistogram` reads them back with Prometheus semantics (cumulative counts per upper
bound ``le``; the ``+Inf`` bucket is the count).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["LATENCY_BUCKETS", "OVERFLOW", "LatencyHistogram", "LatencyTally"]

# From a loopback webhook (milliseconds) to an event retried after a day-long outage.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 6 * 3600, 86400)

# A bucket is stored by its upper bound in milliseconds; above the last bound (+Inf) is 0.
_BOUNDS_MS = tuple(round(bound * 1000) for bound in LATENCY_BUCKETS)
OVERFLOW = 0


def _bucket_ms(seconds: float) -> int:
    index = bisect_left(LATENCY_BUCKETS, seconds)  # the first bound >= seconds: Prometheus' le
    return _BOUNDS_MS[index] if index < len(_BOUNDS_MS) else OVERFLOW


class LatencyTally:
    """Deliveries and their summed latency (µs) per bucket, not yet in the store."""

    __slots__ = ("_buckets",)

    def __init__(self) -> None:
        self._buckets: dict[int, list[int]] = {}

    def add(self, seconds: float) -> None:
        entry = self._buckets.setdefault(_bucket_ms(seconds), [0, 0])
        entry[0] += 1
        entry[1] += round(seconds * 1_000_000)

    def merge(self, later: LatencyTally) -> None:
        for bucket, (count, total_us) in later._buckets.items():
            entry = self._buckets.setdefault(bucket, [0, 0])
            entry[0] += count
            entry[1] += total_us

    def __bool__(self) -> bool:
        return bool(self._buckets)

    def __iter__(self) -> Iterator[tuple[int, int, int]]:
        """(bucket upper bound in ms or :data:`OVERFLOW`, deliveries, summed latency in µs)."""
        return ((bucket, count, total_us) for bucket, (count, total_us) in self._buckets.items())


@dataclass(frozen=True, slots=True)
class LatencyHistogram:
    """A subscription's histogram read from the store."""

    cumulative: tuple[tuple[float, int], ...]  # (le in seconds, deliveries with latency <= le), every finite bound
    count: int  # every delivery measured (the +Inf bucket)
    sum_seconds: float

    @classmethod
    def of(cls, rows: Iterable[tuple[int, int, int]]) -> LatencyHistogram:
        """From (bucket, deliveries, summed µs) rows as :class:`LatencyTally` yields and the store keeps."""
        per_bucket: dict[int, int] = {}
        count = total_us = 0
        for bucket, deliveries, bucket_us in rows:
            per_bucket[bucket] = per_bucket.get(bucket, 0) + deliveries
            count += deliveries
            total_us += bucket_us
        cumulative, running = [], 0
        for bound, bound_ms in zip(LATENCY_BUCKETS, _BOUNDS_MS, strict=True):
            running += per_bucket.get(bound_ms, 0)
            cumulative.append((float(bound), running))
        return cls(tuple(cumulative), count, total_us / 1_000_000)

    def quantile(self, q: float) -> float | None:
        """The upper bound of the bucket holding the ``q`` quantile: that share of the deliveries
        took at most this long.  ``None`` when none was measured or it lies above the last bound."""
        if not self.count:
            return None
        rank = q * self.count
        for bound, deliveries in self.cumulative:
            if deliveries >= rank:
                return bound
        return None
