"""Caliper validator throughput on typical Canvas envelopes, one core.

The envelopes are what liveevents delivers: realistic raw Canvas records (``bench/support/records.py``:
asset_accessed page views most, then submissions, grades, logins, discussion posts, quiz
submissions, assignment edits) through the public transform, ``liveevents.caliper_envelope``.
They are about 2.2 KB on average (Instructure's documented Caliper examples run from 1.3 to 4 KB);
the run prints the mean and range.  Measured in the same run:

* ``orjson.loads`` of the bytes (the baseline),
* ``validate_caliper`` of the decoded documents (canvas mode, the delivery check; strict mode),
* ``orjson.loads`` + ``validate_caliper``,
* ``validate_caliper_json`` of the bytes (standard-library decoding with repeated-key detection).

Prints envelopes/s and each ratio to the orjson baseline (time per envelope / orjson's).
Target: >= 20,000 envelopes/s for validate_caliper (canvas mode) on one core.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import orjson
from support.records import realistic_records

from liveevents import caliper_envelope
from liveevents.caliper.validation import validate_caliper, validate_caliper_json

TARGET = 20_000
SEND_TIME = datetime(2024, 10, 31, 12, 0, 0, 250000, tzinfo=timezone.utc)


def build(count: int) -> list[bytes]:
    """Serialised Caliper envelopes of ``count`` realistic records."""
    return [orjson.dumps(caliper_envelope(record, send_time=SEND_TIME)) for record in realistic_records(count)]


def _loop(step: Callable[[Any], object], items: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            step(item)

    return run


def measure(runs: dict[str, Callable[[], None]], count: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` envelopes per second of each run; the runs take turns, so a noisy
    neighbour slows all of them alike rather than one."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: count / seconds for name, seconds in best.items()}


def main() -> int:
    texts = build(2000)
    documents = [orjson.loads(text) for text in texts]
    for document in documents:  # the corpus is what we claim it is: what liveevents delivers, valid
        errors = [problem for problem in validate_caliper(document, mode="canvas") if problem.severity == "error"]
        if errors:
            raise SystemExit(f"an envelope of the corpus is invalid: {errors}")
    sizes = [len(text) for text in texts]
    count, repeats = len(texts), 15

    loads = orjson.loads
    results = measure(
        {
            "orjson.loads (baseline)": _loop(loads, texts),
            "validate_caliper, canvas mode": _loop(lambda document: validate_caliper(document, mode="canvas"), documents),
            "validate_caliper, strict mode": _loop(validate_caliper, documents),
            "orjson.loads + validate_caliper (canvas)": _loop(lambda text: validate_caliper(loads(text), mode="canvas"), texts),
            "validate_caliper_json (bytes, repeated keys)": _loop(lambda text: validate_caliper_json(text, mode="canvas"), texts),
        },
        count,
        repeats,
    )
    baseline = results["orjson.loads (baseline)"]
    print(f"Caliper validator: {count} envelopes transformed from realistic Canvas records, {statistics.mean(sizes):.0f} B mean "
          f"({min(sizes)}-{max(sizes)} B), best of {repeats}, Python {sys.version.split()[0]}")
    for name, rate in results.items():
        print(f"  {name:<46} {rate:>10,.0f} envelopes/s   {baseline / rate:>5.1f}x orjson.loads time")
    validate_rate = results["validate_caliper, canvas mode"]
    verdict = "meets" if validate_rate >= TARGET else "MISSES"
    print(f"validate_caliper (canvas) {validate_rate:,.0f}/s {verdict} the {TARGET:,}/s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
