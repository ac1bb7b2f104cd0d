"""One subscription's delivery on this node: the live stream, its retries and its replays.

**Live.**  The worker reads the events after its position that match the subscription's event
types (woken by the store when new events commit), has them rendered and signed on the
encoding pool, and sends them concurrently — one POST each, or SQS batches of ten.  At most
``window`` events lie between the durable cursor and the newest one read (so a crash re-sends
at most that many); the cursor moves past an event once it is delivered or recorded for a
retry, never before, so that after a crash everything after the cursor is sent again (at least
once) and nothing before it is lost.  An event's outcome (delivered, or its failure row) is
made durable with the cursor move past it, so that what lies after the durable cursor has no
outcome recorded yet: retention may report it as failed, and the commit then leaves out
what the worker did with it.
A successful first attempt writes nothing per event: the ledger only moves the cursor.

**Failures.**  A failed first attempt becomes a row in ``deliveries`` holding the exact bytes,
retried on the profile's schedule by the retry loop (a JWT whose key was rotated out of the
published set is signed again, same claims); an event with no form in the format
fails for good at once (``encoding``).  Every attempt feeds the deactivation rule.  After
``pause_after_failures`` failures in a row the live stream pauses — new events wait in the
log instead of piling up as retries — and sends one event every ``probe_seconds``; the first
success resumes it and makes every pending retry due at once.

**Replays** re-deliver a range of the log (same ids) with a position of their own, leaving
the live cursor alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timezone

from liveevents.delivery.encoding import EncodingPool, Rendered
from liveevents.delivery.ledger import Ledger
from liveevents.delivery.metrics import DeliveryMetrics
from liveevents.delivery.outcome import Delivered, Failed, Outcome
from liveevents.delivery.payload import EncodingError, Payload
from liveevents.delivery.policy import DeliveryProfile, Health, Verdict
from liveevents.delivery.senders import Dispatcher
from liveevents.delivery.senders.sqs import MAX_BATCH_MESSAGES
from liveevents.delivery.state import (
    DeliveryState,
    DueDelivery,
    FirstFailure,
    Origin,
    Progress,
    ReplayProgress,
    ReplayRecord,
    RetryResult,
    SubscriptionRecord,
)
from liveevents.delivery.subscription import Subscription
from liveevents.delivery.urls import mask_url
from liveevents.logthrottle import LogThrottle
from liveevents.store.base import Store, StoredEvent
from liveevents.store.sql import now_ms

__all__ = ["SubscriptionWorker", "WorkerContext", "WorkerOptions"]

log = logging.getLogger("liveevents.delivery")


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    window: int = 2048
    read_batch: int = 500
    retry_batch: int = 100
    pause_after_failures: int = 20
    probe_seconds: float = 30.0
    poll_seconds: float = 5.0  # idle re-checks: new events, replays, retries
    stop_grace: float = 5.0  # how long a stopping worker waits for sends in flight


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """What every worker of the node shares."""

    store: Store
    state: DeliveryState
    ledger: Ledger
    pool: EncodingPool
    dispatcher: Dispatcher
    profiles: Mapping[str, DeliveryProfile]
    metrics: DeliveryMetrics
    options: WorkerOptions
    notify: Callable[[Subscription, Verdict], None]  # sends a notice in the background


class _Window:
    """The events between the durable cursor and the newest one read, in sequence order: those
    read and not finished (``open``), and those finished whose cursor move is not durable yet
    (``unsaved``).  Counting the latter bounds what a crash re-sends by ``capacity``."""

    def __init__(self, cursor: int, capacity: int) -> None:
        self.position = cursor  # every matching event up to here has been read
        self.capacity = capacity
        self._open: deque[int] = deque()
        self._finished: set[int] = set()
        self._unsaved: deque[int] = deque()
        self._room = asyncio.Event()
        self._room.set()

    @property
    def cursor(self) -> int:
        return self._open[0] - 1 if self._open else self.position

    @property
    def free(self) -> int:
        return self.capacity - len(self._open) - len(self._unsaved)

    def saved(self, cursor: int) -> None:
        """The cursor up to ``cursor`` is durable now."""
        unsaved = self._unsaved
        while unsaved and unsaved[0] <= cursor:
            unsaved.popleft()
        if self.free > 0:
            self._room.set()

    def extend(self, sequences: Iterable[int], reached: int) -> None:
        self._open.extend(sequences)
        self.position = reached
        if self.free <= 0:
            self._room.clear()

    def retract(self, sequences: Sequence[int], reached: int) -> None:
        """Undo :meth:`extend` for events that could not be sent: read them again."""
        for _ in sequences:
            self._open.pop()
        self.position = reached
        self._room.set()

    def finish(self, sequence: int) -> list[int]:
        """The events the cursor moves past now, in order (none while an earlier one is open)."""
        opened, unsaved = self._open, self._unsaved
        if not opened or opened[0] != sequence:
            self._finished.add(sequence)
            return []
        passed = [opened.popleft()]
        while opened and opened[0] in self._finished:
            self._finished.remove(opened[0])
            passed.append(opened.popleft())
        unsaved.extend(passed)
        return passed

    async def wait_for_room(self) -> None:
        await self._room.wait()


class SubscriptionWorker:
    """Delivers one subscription until :meth:`stop`; a :class:`~liveevents.delivery.ledger.ProgressSource`."""

    def __init__(self, record: SubscriptionRecord, context: WorkerContext) -> None:
        self.subscription = record.subscription
        self.subscription_id = record.id
        self.version = record.version
        self.deactivation: Verdict | None = None
        self._context = context
        self._options = context.options
        self._profile = context.profiles[record.subscription.retry_profile]
        self._metrics = context.metrics.of(record.id)
        self._progress = Progress()
        # Live outcomes wait here until the cursor moves past their event (see Progress).
        self._settled: dict[int, float | FirstFailure] = {}  # latency in seconds when delivered
        self._health = self._health_saved = record.health
        self._window = _Window(record.cursor, context.options.window)
        self._cursor_saved = record.cursor
        self._failures_in_row = 0
        # A run of failures gets one line where it starts and one where it ends, not one per
        # attempt; a flapping destination (runs one after another) a start line a minute at most.
        self._failing_lines = LogThrottle()
        self._failing_logged = False  # whether the current run's start was logged (so its end is)
        self._flowing = asyncio.Event()  # cleared while paused
        self._flowing.set()
        self._retry_wake = asyncio.Event()
        self._replay_wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._commit_on_stop = True
        self._deactivation_saved = False
        self._sends: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[None]] = set()

    # -- life cycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until stopped (by :meth:`stop` or a deactivation), then make the progress durable."""
        ledger = self._context.ledger
        ledger.register(self)
        loops = [
            asyncio.create_task(loop(), name=f"{loop.__name__}:{self.subscription_id}")
            for loop in (self._live, self._retries, self._replays)
        ]
        try:
            await self._stopping.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            if self._sends:
                _, late = await asyncio.wait(set(self._sends), timeout=self._options.stop_grace)
                for task in late:  # their events stay after the cursor: sent again later
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
            if self._commit_on_stop:
                await ledger.commit()
            ledger.unregister(self)
            for task in self._background:
                task.cancel()
        if self.deactivation is not None and self._deactivation_saved:
            self._context.notify(self.subscription.model_copy(update={"active": False}), self.deactivation)

    def stop(self, *, commit: bool = True) -> None:
        """Stop reading and sending; ``commit=False`` when the lease is lost (another node
        owns the subscription now, so this one's progress must not be written)."""
        self._commit_on_stop = self._commit_on_stop and commit
        self._stopping.set()

    def wake_replays(self) -> None:
        self._replay_wake.set()

    def wake_retries(self) -> None:
        self._retry_wake.set()

    # -- ProgressSource -------------------------------------------------------------------------

    def take_progress(self) -> Progress | None:
        progress = self._progress
        cursor = self._window.cursor
        if cursor != self._cursor_saved:
            progress.cursor = self._cursor_saved = cursor
        if self._health != self._health_saved:
            progress.health = self._health_saved = self._health
        if progress.empty:
            return None
        self._progress = Progress()
        return progress

    def committed(self, progress: Progress) -> None:
        if progress.cursor is not None:
            self._window.saved(progress.cursor)
        if any(failure.next_attempt_ms is not None for failure in progress.failures):
            self._retry_wake.set()
        if progress.deactivate is not None:
            self._deactivation_saved = True

    # -- live -----------------------------------------------------------------------------------

    async def _live(self) -> None:
        store, window, options = self._context.store, self._window, self._options
        names = self.subscription.event_types
        while True:
            try:
                await window.wait_for_room()
                limit = min(options.read_batch, window.free)
                if not self._flowing.is_set():
                    try:
                        await asyncio.wait_for(self._flowing.wait(), options.probe_seconds)
                    except TimeoutError:
                        limit = 1  # a probe: is the destination back?
                position = window.position
                last = store.last_sequence
                if last <= position:
                    await store.wait_for_events(position, options.poll_seconds)
                    continue
                events = await store.read_events(after=position, before=last + 1, names=names, limit=limit)
                sequences = [event.sequence for event in events]
                window.extend(sequences, last if len(events) < limit else sequences[-1])
                if not events:
                    continue
                try:
                    rendered = await self._context.pool.encode(events, self.subscription)
                except BaseException:
                    window.retract(sequences, position)
                    raise
                self._dispatch(events, rendered)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged; the events are read again
                log.exception("subscription %s: live delivery failed unexpectedly (retrying in 1 s)", self.subscription_id)
                await asyncio.sleep(1.0)

    def _dispatch(self, events: Sequence[StoredEvent], rendered: Sequence[Rendered]) -> None:
        ready: list[tuple[StoredEvent, Payload]] = []
        for event, result in zip(events, rendered, strict=True):
            if isinstance(result, EncodingError):
                self._unrenderable(event, result, origin="live", replay=None)
                self._passed(self._window.finish(event.sequence))
            else:
                ready.append((event, result))
        size = MAX_BATCH_MESSAGES if self.subscription.delivery_method == "sqs" else 1
        for start in range(0, len(ready), size):
            task = asyncio.create_task(self._send_live(ready[start : start + size]))
            self._sends.add(task)
            task.add_done_callback(self._sends.discard)

    async def _send_live(self, batch: list[tuple[StoredEvent, Payload]]) -> None:
        outcomes = await self._deliver([payload for _, payload in batch])
        for (event, payload), outcome in zip(batch, outcomes, strict=True):
            self._first_outcome(event, payload, outcome, origin="live", replay=None)
            self._passed(self._window.finish(event.sequence))

    def _passed(self, sequences: list[int]) -> None:
        """The cursor moves past these events: their outcomes go into the progress with it."""
        progress = self._progress
        for sequence in sequences:
            settled = self._settled.pop(sequence)
            if isinstance(settled, FirstFailure):
                progress.failures.append(settled)
                progress.failed += settled.next_attempt_ms is None
            else:
                progress.live_delivered.append((sequence, settled))

    async def _deliver(self, payloads: Sequence[Payload]) -> list[Outcome]:
        try:
            return await self._context.dispatcher.deliver(self.subscription, payloads)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a sender bug must not stop the subscription
            log.exception("subscription %s: sending failed unexpectedly", self.subscription_id)
            return [Failed("internal", f"{type(error).__name__}: {error}")] * len(payloads)

    # -- outcomes -------------------------------------------------------------------------------

    def _first_outcome(self, event: StoredEvent, payload: Payload, outcome: Outcome, *, origin: Origin, replay: ReplayProgress | None) -> None:
        now = time.time()
        if isinstance(outcome, Delivered):
            self._delivered(now)
            if replay is None:
                self._settled[event.sequence] = self._latency(event.received_at.timestamp(), now)
            else:
                self._progress.delivered += 1
                replay.delivered += 1
            return
        at = datetime.fromtimestamp(now, timezone.utc)
        next_at = self._profile.retry.next_attempt_at(1, at, outcome)
        self._first_failure(
            FirstFailure(
                event.sequence, payload.event_id, event.event_name, _ms(event.received_at.timestamp()), origin, payload, outcome,
                _ms(now), None if next_at is None else _ms(next_at.timestamp()),
            )
        )
        self._failed_attempt(outcome, at, exhausted=next_at is None)
        if replay is not None:
            if next_at is None:
                replay.failed += 1
            else:
                replay.queued += 1

    def _unrenderable(self, event: StoredEvent, error: EncodingError, *, origin: Origin, replay: ReplayProgress | None) -> None:
        """The event has no form in this subscription's format: failed for good, with the reason."""
        now = _ms(time.time())
        self._first_failure(
            FirstFailure(
                event.sequence, error.event_id, event.event_name, _ms(event.received_at.timestamp()), origin, None,
                Failed("encoding", str(error), retryable=False), now, None, attempts=0,
            )
        )
        self._metrics.failed.inc()
        if replay is not None:
            replay.failed += 1

    def _first_failure(self, failure: FirstFailure) -> None:
        if failure.origin == "live":
            self._settled[failure.sequence] = failure
        else:
            self._progress.failures.append(failure)
            self._progress.failed += failure.next_attempt_ms is None

    def _retry_outcome(self, due: DueDelivery, outcome: Outcome) -> None:
        now = time.time()
        attempt = due.attempts + 1
        progress = self._progress
        if isinstance(outcome, Delivered):
            self._delivered(now)
            progress.delivered += 1
            progress.latency.add(self._latency(due.received_at_ms / 1000, now))
            progress.retries.append(RetryResult(due.id, attempt, outcome, _ms(now), None))
            return
        at = datetime.fromtimestamp(now, timezone.utc)
        next_at = self._profile.retry.next_attempt_at(attempt, at, outcome)
        progress.retries.append(RetryResult(due.id, attempt, outcome, _ms(now), None if next_at is None else _ms(next_at.timestamp())))
        progress.failed += next_at is None
        self._failed_attempt(outcome, at, exhausted=next_at is None)

    def _latency(self, received_at: float, now: float) -> float:
        latency = max(0.0, now - received_at)
        self._metrics.latency.observe(latency)
        return latency

    def _delivered(self, now: float) -> None:
        self._metrics.delivered.inc()
        if self._failures_in_row:
            failures, self._failures_in_row = self._failures_in_row, 0
            if not self._flowing.is_set():
                self._resume(failures)
            elif self._failing_logged:
                log.info(
                    "subscription %s (%s): delivering again to %s after %d failure%s",
                    self.subscription_id, self.subscription.name, mask_url(self.subscription.url), failures, "s" if failures > 1 else "",
                )
        if self._health != _HEALTHY:
            self._health, _ = self._profile.deactivation.observe(self._health, Delivered(0.0), at=datetime.fromtimestamp(now, timezone.utc))

    def _failed_attempt(self, outcome: Failed, at: datetime, *, exhausted: bool) -> None:
        if exhausted:
            self._metrics.failed.inc()
        else:
            self._metrics.retried.inc()
        self._failures_in_row += 1
        if self._failures_in_row == 1 or not self._failing_logged:
            # A run whose start was held back (a flapping destination) is logged once its minute
            # is up, so that a real outage right after a flap does not stay silent until the pause.
            self._log_failing(outcome, exhausted=exhausted)
        if self._failures_in_row >= self._options.pause_after_failures and self._flowing.is_set():
            self._flowing.clear()
            log.warning(
                "subscription %s (%s): %d failures in a row (last: %s); new events wait in the log, one is sent every %g s until one succeeds",
                self.subscription_id, self.subscription.name, self._failures_in_row, outcome.detail, self._options.probe_seconds,
            )
        self._health, verdict = self._profile.deactivation.observe(self._health, outcome, at=at, exhausted=exhausted)
        if verdict.action == "warn":
            self._context.notify(self.subscription, verdict)
        elif verdict.action == "deactivate" and self.deactivation is None:
            self.deactivation = verdict
            self._progress.deactivate = verdict.reason
            self._stopping.set()

    def _log_failing(self, outcome: Failed, *, exhausted: bool) -> None:
        """The first failure after a success (or the first ever), with where and why; the
        destination is masked as everywhere it is shown, the detail came masked from the sender."""
        suppressed = self._failing_lines.admit(None)
        self._failing_logged = suppressed is not None
        if suppressed is None:
            return
        log.warning(
            "subscription %s (%s): delivery to %s failed: %s: %s (%s); further failures are not logged until one succeeds%s",
            self.subscription_id, self.subscription.name, mask_url(self.subscription.url), outcome.error, outcome.detail,
            "the event has failed for good" if exhausted else "the event is to be retried", self._failing_lines.note(suppressed),
        )

    def _resume(self, failures: int) -> None:
        log.warning(
            "subscription %s (%s): delivering again after %d failures in a row; pending retries are due now",
            self.subscription_id, self.subscription.name, failures,
        )
        self._flowing.set()

        async def expedite() -> None:
            await self._context.state.retry_now(self.subscription_id)
            self._retry_wake.set()

        task = asyncio.create_task(expedite())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- retries --------------------------------------------------------------------------------

    async def _retries(self) -> None:
        state, options = self._context.state, self._options
        while True:
            try:
                self._retry_wake.clear()
                due = await state.due(self.subscription_id, limit=options.retry_batch)
                if not due:
                    next_ms = await state.next_due_ms(self.subscription_id)
                    delay = options.poll_seconds * 6 if next_ms is None else (next_ms - now_ms()) / 1000
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._retry_wake.wait(), min(max(delay, 0.01), options.poll_seconds * 6))
                    continue
                outcomes = await self._deliver(await self._context.pool.for_retry([delivery.payload for delivery in due]))
                for delivery, outcome in zip(due, outcomes, strict=True):
                    self._retry_outcome(delivery, outcome)
                await self._context.ledger.commit()  # the rows' new state, before looking for due ones again
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("subscription %s: retrying failed unexpectedly (again in 1 s)", self.subscription_id)
                await asyncio.sleep(1.0)

    # -- replays --------------------------------------------------------------------------------

    async def _replays(self) -> None:
        while True:
            try:
                self._replay_wake.clear()
                jobs = await self._context.state.replays(self.subscription_id, running_only=True)
                for job in jobs:
                    await self._replay(job)
                if not jobs:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._replay_wake.wait(), self._options.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("subscription %s: replay failed unexpectedly (again in 1 s)", self.subscription_id)
                await asyncio.sleep(1.0)

    async def _replay(self, job: ReplayRecord) -> None:
        position, batch = job.position, self._options.read_batch
        while True:
            events = await self._context.store.read_events(
                after=position, before=job.end_sequence + 1, names=job.event_types, since=job.since, until=job.until, limit=batch
            )
            reached = job.end_sequence if len(events) < batch else events[-1].sequence
            progress = ReplayProgress(reached, done=reached >= job.end_sequence)
            if events:
                rendered = await self._context.pool.encode(events, self.subscription)
                ready = []
                for event, result in zip(events, rendered, strict=True):
                    if isinstance(result, EncodingError):
                        self._unrenderable(event, result, origin="replay", replay=progress)
                    else:
                        ready.append((event, result))
                outcomes = await self._deliver([payload for _, payload in ready])
                for (event, payload), outcome in zip(ready, outcomes, strict=True):
                    self._first_outcome(event, payload, outcome, origin="replay", replay=progress)
            if job.id in self._progress.replays:
                self._progress.replays[job.id].merge(progress)
            else:
                self._progress.replays[job.id] = progress
            await self._context.ledger.commit()
            if progress.done:
                log.info("subscription %s: replay %d done", self.subscription_id, job.id)
                return
            position = reached


_HEALTHY = Health()


def _ms(seconds: float) -> int:
    return int(seconds * 1000)

