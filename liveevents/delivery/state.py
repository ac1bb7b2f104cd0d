"""The delivery state in the store: subscriptions, deliveries awaiting a retry, the attempt
log, replay jobs, leases.

SQL written once for SQLite and PostgreSQL (``store.PLACEHOLDER``), run through
:meth:`Store.write` (one transaction on the writer thread) and :meth:`Store.read`.  Tables
(``store/*_schema.py`` migration 2):

``subscriptions``
    the validated configuration (secrets included: never returned, never logged), ``active``,
    ``version`` (+1 per change of configuration or activity, so workers restart), the
    ``cursor`` — every matching event up to it was delivered or has a row in ``deliveries`` —
    the delivered/failed counts, the deactivation ``health`` and the ``lease`` of the node
    delivering it.
``deliveries``
    only deliveries whose first attempt failed (or that have no form in the format): the
    exact bytes signed once, attempts, next attempt, last status and error.  ``pending``
    rows are retried; ``failed`` rows were given up on and stay listable until retention.
``delivery_attempts``
    every attempt of those deliveries (time, status, error, duration).
``replays``
    re-delivery jobs over the retained log, with their own position.
``delivery_nodes``
    the nodes' heartbeats: how many share the subscriptions.

Every write a worker makes about a subscription is guarded by its lease (``WHERE lease_owner
= <node>``): a node that lost a subscription to another cannot move its cursor.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import closing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

import orjson

from liveevents.canvas.record import decode_record
from liveevents.delivery.latency import LatencyHistogram, LatencyTally
from liveevents.delivery.outcome import Delivered, Failed, Outcome
from liveevents.delivery.payload import Payload
from liveevents.delivery.policy import Health
from liveevents.delivery.subscription import Subscription
from liveevents.store.base import Store, StoredEvent
from liveevents.store.sql import now_ms

__all__ = [
    "DeliveryRecord",
    "DeliveryState",
    "FirstFailure",
    "Lease",
    "Progress",
    "ReplayProgress",
    "ReplayRecord",
    "RetryResult",
    "SubscriptionRecord",
    "SubscriptionStats",
]

Status = Literal["pending", "failed"]
Origin = Literal["live", "replay"]

_SUBSCRIPTION_COLUMNS = (
    "id, config, active, version, created_at, updated_at, cursor, delivered, failed, health, deactivated_at, deactivated_reason, lease_owner"
)
_DELIVERY_COLUMNS = (
    "id, subscription_id, seq, event_id, event_name, origin, state, attempts, received_at, "
    "first_attempt_at, last_attempt_at, next_attempt_at, last_status, last_error, last_detail"
)
_REPLAY_COLUMNS = "id, subscription_id, since, until, event_types, end_seq, position, state, delivered, queued, failed, created_at, finished_at"


def _moment(milliseconds: int | None) -> datetime | None:
    return None if milliseconds is None else datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc)


# -- records --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubscriptionRecord:
    subscription: Subscription
    version: int
    created_at: datetime
    updated_at: datetime
    cursor: int
    delivered: int
    failed: int
    health: Health
    deactivated_at: datetime | None
    deactivated_reason: str | None
    lease_owner: str | None

    @property
    def id(self) -> str:
        return self.subscription.id

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> SubscriptionRecord:
        (_, config, active, version, created, updated, cursor, delivered, failed, health, deactivated_at, reason, owner) = row
        subscription = Subscription.from_record({**orjson.loads(config), "active": bool(active)})
        return cls(
            subscription, version, _moment(created), _moment(updated), cursor, delivered, failed,  # type: ignore[arg-type]
            Health.from_dict(orjson.loads(health)), _moment(deactivated_at), reason, owner,
        )


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    subscription_id: str
    sequence: int
    event_id: str
    event_name: str
    origin: Origin
    state: Status
    attempts: int
    received_at: datetime
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str
    last_detail: str

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> DeliveryRecord:
        (identifier, subscription_id, seq, event_id, event_name, origin, state, attempts, received, first, last, next_, status, error, detail) = row
        return cls(
            identifier, subscription_id, seq, event_id, event_name, origin, state, attempts, _moment(received),  # type: ignore[arg-type]
            _moment(first), _moment(last), _moment(next_), status, error, detail,
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    attempt: int
    at: datetime
    status: int | None
    error: str | None  # None: delivered
    detail: str | None
    elapsed_ms: int


@dataclass(frozen=True, slots=True)
class DueDelivery:
    """A pending delivery whose next attempt is due, with the bytes to send again."""

    id: int
    sequence: int
    received_at_ms: int
    attempts: int
    payload: Payload


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    id: int
    subscription_id: str
    since: str
    until: str | None
    event_types: list[str]
    end_sequence: int
    position: int
    state: Literal["running", "done"]
    delivered: int
    queued: int
    failed: int
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ReplayRecord:
        (identifier, subscription_id, since, until, types, end, position, state, delivered, queued, failed, created, finished) = row
        return cls(
            identifier, subscription_id, since, until, orjson.loads(types), end, position, state, delivered, queued, failed,
            _moment(created), _moment(finished),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    id: str
    name: str
    active: bool
    delivered: int
    failed: int
    retrying: int  # pending deliveries
    backlog: int  # matching events after the cursor (not yet handed to the destination)
    cursor: int
    latency: LatencyHistogram


# -- what workers record ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirstFailure:
    """A delivery that failed at its first attempt (``attempts`` 1), or has nothing to send
    (``payload`` None, ``attempts`` 0): it gets a row, pending when ``next_attempt_ms`` is set."""

    sequence: int
    event_id: str
    event_name: str
    received_at_ms: int
    origin: Origin
    payload: Payload | None
    outcome: Failed
    at_ms: int
    next_attempt_ms: int | None
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class RetryResult:
    delivery_id: int
    attempt: int  # the number of the attempt just made
    outcome: Outcome
    at_ms: int
    next_attempt_ms: int | None  # None after a failure: given up


@dataclass(slots=True)
class ReplayProgress:
    position: int
    delivered: int = 0
    queued: int = 0
    failed: int = 0
    done: bool = False

    def merge(self, later: ReplayProgress) -> None:
        self.position = later.position
        self.delivered += later.delivered
        self.queued += later.queued
        self.failed += later.failed
        self.done = self.done or later.done


@dataclass(slots=True)
class Progress:
    """What one subscription's worker has to make durable; merged until the next commit.

    The outcomes of live events (``live_delivered``, and ``failures`` of origin ``live`` with
    their share of ``failed``) come with the cursor move past them, never before: retention
    may report as failed the events after the durable cursor, and the commit drops the live
    outcomes of events it finds the cursor already past (:meth:`DeliveryState.commit`)."""

    cursor: int | None = None
    delivered: int = 0  # besides live_delivered
    failed: int = 0
    latency: LatencyTally = field(default_factory=LatencyTally)  # of the delivered ones, besides live_delivered
    health: Health | None = None
    failures: list[FirstFailure] = field(default_factory=list)
    retries: list[RetryResult] = field(default_factory=list)
    replays: dict[int, ReplayProgress] = field(default_factory=dict)
    deactivate: str | None = None  # the reason
    live_delivered: list[tuple[int, float]] = field(default_factory=list)  # (sequence, latency in seconds)

    @property
    def empty(self) -> bool:
        return (
            self.cursor is None and not self.delivered and not self.failed and not self.latency and self.health is None
            and not self.failures and not self.retries and not self.replays and self.deactivate is None and not self.live_delivered
        )

    def merge(self, later: Progress) -> None:
        if later.cursor is not None:
            self.cursor = later.cursor
        self.delivered += later.delivered
        self.live_delivered.extend(later.live_delivered)
        self.failed += later.failed
        self.latency.merge(later.latency)
        if later.health is not None:
            self.health = later.health
        self.failures.extend(later.failures)
        self.retries.extend(later.retries)
        for replay_id, replay in later.replays.items():
            if replay_id in self.replays:
                self.replays[replay_id].merge(replay)
            else:
                self.replays[replay_id] = replace(replay)
        self.deactivate = self.deactivate or later.deactivate


@dataclass(frozen=True, slots=True)
class Lease:
    """The outcome of one lease cycle of a node."""

    owned: list[SubscriptionRecord]  # active subscriptions this node holds now
    share: int  # how many this node should hold: ceil(active / live nodes)
    # The subscriptions no node delivers (inactive) still have a backlog to show: one node, the
    # first live one by id, reports them, so that summing the nodes' gauges counts each once.
    reports_inactive: bool = False


# -- the tables -----------------------------------------------------------------------------------


class DeliveryState:
    def __init__(self, store: Store) -> None:
        self.store = store
        p = self._p = store.PLACEHOLDER
        self._postgres = p == "%s"
        self._insert_delivery = (
            "INSERT INTO deliveries (subscription_id, seq, event_id, event_name, origin, state, attempts, received_at, "
            "first_attempt_at, last_attempt_at, next_attempt_at, last_status, last_error, last_detail, body, content_type, partition_key) "
            f"VALUES ({', '.join([p] * 17)})"
        )
        self._add_latency = (
            f"INSERT INTO delivery_latency (subscription_id, le_ms, deliveries, total_us) VALUES ({p}, {p}, {p}, {p}) "
            "ON CONFLICT (subscription_id, le_ms) DO UPDATE SET deliveries = delivery_latency.deliveries + excluded.deliveries, "
            "total_us = delivery_latency.total_us + excluded.total_us"
        )
        # The last event received before a cut-off: the one before the first kept (received_at never
        # decreases along seq), else the newest.  One statement, so one snapshot: an event another
        # node commits meanwhile is either kept or beyond both.
        self._expired_through = (
            f"SELECT coalesce((SELECT min(seq) FROM events WHERE received_at >= {p}) - 1, (SELECT max(seq) FROM events), 0)"
        )
        self._insert_attempt = (
            "INSERT INTO delivery_attempts (delivery_id, subscription_id, attempt, at, status, error, detail, elapsed_ms) "
            f"VALUES ({', '.join([p] * 8)})"
        )

    # -- subscriptions ----------------------------------------------------------------------------

    async def create(self, subscription: Subscription) -> SubscriptionRecord:
        """Store a new subscription; it receives events stored from now on."""
        p = self._p
        config = _config_json(subscription)

        def insert(connection: Any) -> SubscriptionRecord:
            (last,) = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
            now = now_ms()
            row = connection.execute(
                f"INSERT INTO subscriptions (id, config, active, version, created_at, updated_at, cursor) "
                f"VALUES ({p}, {p}, {p}, 1, {p}, {p}, {p}) RETURNING {_SUBSCRIPTION_COLUMNS}",
                (subscription.id, config, int(subscription.active), now, now, last),
            ).fetchone()
            return SubscriptionRecord.from_row(row)

        return await self.store.write(insert)

    async def get(self, subscription_id: str) -> SubscriptionRecord | None:
        query = f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = {self._p}"
        row = await self.store.read(lambda connection: connection.execute(query, (subscription_id,)).fetchone())
        return None if row is None else SubscriptionRecord.from_row(row)

    async def subscriptions(self) -> list[SubscriptionRecord]:
        query = f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions ORDER BY created_at, id"
        rows = await self.store.read(lambda connection: connection.execute(query).fetchall())
        return [SubscriptionRecord.from_row(row) for row in rows]

    async def replace(self, record: SubscriptionRecord, subscription: Subscription, *, reason: str | None = None) -> SubscriptionRecord | None:
        """Store ``subscription`` as the new configuration of ``record`` if nobody changed it
        since ``record`` was read (else ``None``: read again).  Activating clears the health
        and the deactivation; deactivating records ``reason``."""
        p = self._p
        now = now_ms()
        assignments = [f"config = {p}", f"active = {p}", "version = version + 1", f"updated_at = {p}"]
        parameters: list[Any] = [_config_json(subscription), int(subscription.active), now]
        if subscription.active and not record.subscription.active:
            assignments += ["health = '{}'", "deactivated_at = NULL", "deactivated_reason = NULL"]
        elif not subscription.active and record.subscription.active:
            assignments += [f"deactivated_at = {p}", f"deactivated_reason = {p}"]
            parameters += [now, reason]
        statement = (
            f"UPDATE subscriptions SET {', '.join(assignments)} WHERE id = {p} AND version = {p} RETURNING {_SUBSCRIPTION_COLUMNS}"
        )
        row = await self.store.write(lambda connection: connection.execute(statement, (*parameters, record.id, record.version)).fetchone())
        return None if row is None else SubscriptionRecord.from_row(row)

    async def delete(self, subscription_id: str) -> bool:
        p = self._p

        def delete(connection: Any) -> bool:
            for table in ("delivery_attempts", "deliveries", "replays", "delivery_latency"):
                connection.execute(f"DELETE FROM {table} WHERE subscription_id = {p}", (subscription_id,))
            return connection.execute(f"DELETE FROM subscriptions WHERE id = {p}", (subscription_id,)).rowcount > 0

        return await self.store.write(delete)

    # -- leases -------------------------------------------------------------------------------

    async def lease_cycle(self, node: str, lease_ms: int) -> Lease:
        """Heartbeat, renew this node's leases, drop those of deactivated subscriptions, and
        claim free or expired ones up to this node's share."""
        p = self._p
        skip_locked = " FOR UPDATE SKIP LOCKED" if self._postgres else ""

        def cycle(connection: Any) -> Lease:
            now = now_ms()
            until = now + lease_ms
            connection.execute(
                f"INSERT INTO delivery_nodes (node_id, seen_at) VALUES ({p}, {p}) ON CONFLICT (node_id) DO UPDATE SET seen_at = excluded.seen_at",
                (node, now),
            )
            connection.execute(f"DELETE FROM delivery_nodes WHERE seen_at < {p}", (now - 20 * lease_ms,))
            (alive, first) = connection.execute(f"SELECT count(*), min(node_id) FROM delivery_nodes WHERE seen_at > {p}", (now - lease_ms,)).fetchone()
            connection.execute(f"UPDATE subscriptions SET lease_until = {p} WHERE lease_owner = {p} AND active = 1", (until, node))
            connection.execute(f"UPDATE subscriptions SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = {p} AND active = 0", (node,))
            (active,) = connection.execute("SELECT count(*) FROM subscriptions WHERE active = 1").fetchone()
            (mine,) = connection.execute(f"SELECT count(*) FROM subscriptions WHERE lease_owner = {p} AND active = 1", (node,)).fetchone()
            share = math.ceil(active / max(alive, 1))
            if mine < share:
                free = connection.execute(
                    f"SELECT id FROM subscriptions WHERE active = 1 AND (lease_owner IS NULL OR lease_until < {p}) "
                    f"ORDER BY id LIMIT {p}{skip_locked}",
                    (now, share - mine),
                ).fetchall()
                for (subscription_id,) in free:
                    connection.execute(
                        f"UPDATE subscriptions SET lease_owner = {p}, lease_until = {p} "
                        f"WHERE id = {p} AND active = 1 AND (lease_owner IS NULL OR lease_until < {p})",
                        (node, until, subscription_id, now),
                    )
            rows = connection.execute(
                f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE lease_owner = {p} AND active = 1 ORDER BY id", (node,)
            ).fetchall()
            return Lease([SubscriptionRecord.from_row(row) for row in rows], share, reports_inactive=first == node)

        return await self.store.write(cycle)

    async def release(self, node: str, subscription_ids: Iterable[str] | None = None) -> None:
        """Give up leases (all of this node's when ``subscription_ids`` is None) so another node
        may take them at once."""
        p = self._p
        ids = None if subscription_ids is None else list(subscription_ids)

        def release(connection: Any) -> None:
            if ids is None:
                connection.execute(f"UPDATE subscriptions SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = {p}", (node,))
                connection.execute(f"DELETE FROM delivery_nodes WHERE node_id = {p}", (node,))
            for subscription_id in ids or ():
                connection.execute(
                    f"UPDATE subscriptions SET lease_owner = NULL, lease_until = 0 WHERE id = {p} AND lease_owner = {p}", (subscription_id, node)
                )

        await self.store.write(release)

    # -- progress -------------------------------------------------------------------------------

    async def commit(self, node: str, changes: Mapping[str, Progress]) -> set[str]:
        """Make the workers' progress durable in one transaction; return the subscriptions
        whose lease this node no longer holds (their changes are dropped)."""
        p = self._p
        # The cursor never moves back: retention may have moved it past what a worker still had in hand.
        cursor = f"{'greatest' if self._postgres else 'max'}(coalesce({p}, cursor), cursor)"
        held = f"SELECT cursor FROM subscriptions WHERE id = {p} AND lease_owner = {p}" + (" FOR UPDATE" if self._postgres else "")
        update = (
            f"UPDATE subscriptions SET cursor = {cursor}, delivered = delivered + {p}, failed = failed + {p}, "
            f"health = coalesce({p}, health) WHERE id = {p} AND lease_owner = {p}"
        )
        deactivate = (
            f"UPDATE subscriptions SET cursor = {cursor}, delivered = delivered + {p}, failed = failed + {p}, "
            f"health = coalesce({p}, health), active = 0, version = version + 1, updated_at = {p}, deactivated_at = {p}, "
            f"deactivated_reason = {p}, lease_owner = NULL, lease_until = 0 WHERE id = {p} AND lease_owner = {p}"
        )

        def commit(connection: Any) -> set[str]:
            lost: set[str] = set()
            for subscription_id, progress in changes.items():
                row = connection.execute(held, (subscription_id, node)).fetchone()
                if row is None:
                    lost.add(subscription_id)
                    continue
                delivered, failed, latency, failures = _not_reported_by_retention(progress, reported_up_to=row[0])
                health = None if progress.health is None else orjson.dumps(progress.health.to_dict()).decode()
                counts = (progress.cursor, delivered, failed, health)
                if progress.deactivate is None:
                    connection.execute(update, (*counts, subscription_id, node))
                else:
                    now = now_ms()
                    connection.execute(deactivate, (*counts, now, now, progress.deactivate, subscription_id, node))
                for bucket, deliveries, total_us in latency:
                    connection.execute(self._add_latency, (subscription_id, bucket, deliveries, total_us))
                for failure in failures:
                    self._insert_failure(connection, subscription_id, failure)
                for result in progress.retries:
                    self._record_retry(connection, subscription_id, result)
                for replay_id, replay in progress.replays.items():
                    connection.execute(
                        f"UPDATE replays SET position = {p}, delivered = delivered + {p}, queued = queued + {p}, failed = failed + {p}, "
                        f"state = {p}, finished_at = {p} WHERE id = {p}",
                        (
                            replay.position, replay.delivered, replay.queued, replay.failed,
                            "done" if replay.done else "running", now_ms() if replay.done else None, replay_id,
                        ),
                    )
            return lost

        return await self.store.write(commit)

    @staticmethod
    def _delivery_row(subscription_id: str, failure: FirstFailure) -> tuple[Any, ...]:
        outcome, payload = failure.outcome, failure.payload
        return (
            subscription_id, failure.sequence, failure.event_id, failure.event_name, failure.origin,
            "pending" if failure.next_attempt_ms is not None else "failed", failure.attempts, failure.received_at_ms,
            failure.at_ms if failure.attempts else None, failure.at_ms, failure.next_attempt_ms,
            outcome.status_code, outcome.error, outcome.detail,
            None if payload is None else payload.body,
            None if payload is None else payload.content_type,
            None if payload is None else payload.partition_key,
        )

    def _insert_failure(self, connection: Any, subscription_id: str, failure: FirstFailure) -> None:
        row = self._delivery_row(subscription_id, failure)
        if not failure.attempts:
            connection.execute(self._insert_delivery, row)
            return
        outcome = failure.outcome
        (delivery_id,) = connection.execute(self._insert_delivery + " RETURNING id", row).fetchone()
        connection.execute(
            self._insert_attempt,
            (delivery_id, subscription_id, 1, failure.at_ms, outcome.status_code, outcome.error, outcome.detail, round(outcome.elapsed * 1000)),
        )

    def _record_retry(self, connection: Any, subscription_id: str, result: RetryResult) -> None:
        p = self._p
        outcome = result.outcome
        if isinstance(outcome, Delivered):
            connection.execute(f"DELETE FROM deliveries WHERE id = {p}", (result.delivery_id,))
            error = detail = None
        else:
            connection.execute(
                f"UPDATE deliveries SET attempts = {p}, last_attempt_at = {p}, next_attempt_at = {p}, state = {p}, "
                f"last_status = {p}, last_error = {p}, last_detail = {p} WHERE id = {p}",
                (
                    result.attempt, result.at_ms, result.next_attempt_ms, "pending" if result.next_attempt_ms is not None else "failed",
                    outcome.status_code, outcome.error, outcome.detail, result.delivery_id,
                ),
            )
            error, detail = outcome.error, outcome.detail
        connection.execute(
            self._insert_attempt,
            (result.delivery_id, subscription_id, result.attempt, result.at_ms, outcome.status_code, error, detail, round(outcome.elapsed * 1000)),
        )

    # -- retries ------------------------------------------------------------------------------

    async def due(self, subscription_id: str, *, limit: int) -> list[DueDelivery]:
        p = self._p
        query = (
            "SELECT id, seq, received_at, attempts, event_id, body, content_type, partition_key FROM deliveries "
            f"WHERE subscription_id = {p} AND state = 'pending' AND next_attempt_at <= {p} ORDER BY next_attempt_at, id LIMIT {p}"
        )
        rows = await self.store.read(lambda connection: connection.execute(query, (subscription_id, now_ms(), limit)).fetchall())
        return [
            DueDelivery(identifier, seq, received, attempts, Payload(event_id, bytes(body), content_type, partition_key))
            for identifier, seq, received, attempts, event_id, body, content_type, partition_key in rows
        ]

    async def next_due_ms(self, subscription_id: str) -> int | None:
        query = f"SELECT min(next_attempt_at) FROM deliveries WHERE subscription_id = {self._p} AND state = 'pending'"
        (next_ms,) = await self.store.read(lambda connection: connection.execute(query, (subscription_id,)).fetchone())
        return next_ms

    async def retry_now(self, subscription_id: str, delivery_id: int | None = None) -> int:
        """Make pending deliveries (or one delivery, pending or failed) due now; how many."""
        p = self._p
        now = now_ms()
        if delivery_id is None:
            statement = f"UPDATE deliveries SET next_attempt_at = {p} WHERE subscription_id = {p} AND state = 'pending' AND next_attempt_at > {p}"
            parameters: tuple[Any, ...] = (now, subscription_id, now)
        else:
            statement = (
                f"UPDATE deliveries SET next_attempt_at = {p}, state = 'pending' WHERE subscription_id = {p} AND id = {p} AND body IS NOT NULL"
            )
            parameters = (now, subscription_id, delivery_id)
        return await self.store.write(lambda connection: connection.execute(statement, parameters).rowcount)

    # -- listing --------------------------------------------------------------------------------

    async def deliveries(self, subscription_id: str, *, state: Status | None, after: int, limit: int) -> list[DeliveryRecord]:
        p = self._p
        clauses, parameters = [f"subscription_id = {p}", f"id > {p}"], [subscription_id, after]
        if state is not None:
            clauses.append(f"state = {p}")
            parameters.append(state)
        query = f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE {' AND '.join(clauses)} ORDER BY id LIMIT {p}"
        rows = await self.store.read(lambda connection: connection.execute(query, (*parameters, limit)).fetchall())
        return [DeliveryRecord.from_row(row) for row in rows]

    async def delivery(self, subscription_id: str, delivery_id: int) -> tuple[DeliveryRecord, list[Attempt]] | None:
        p = self._p

        def load(connection: Any) -> tuple[Any, list[Any]] | None:
            row = connection.execute(f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = {p} AND id = {p}", (subscription_id, delivery_id)).fetchone()
            if row is None:
                return None
            attempts = connection.execute(
                f"SELECT attempt, at, status, error, detail, elapsed_ms FROM delivery_attempts WHERE delivery_id = {p} ORDER BY id", (delivery_id,)
            ).fetchall()
            return row, attempts

        found = await self.store.read(load)
        if found is None:
            return None
        row, attempts = found
        return DeliveryRecord.from_row(row), [Attempt(number, _moment(at), status, error, detail, elapsed) for number, at, status, error, detail, elapsed in attempts]  # type: ignore[arg-type]

    async def pending_counts(self) -> dict[str, int]:
        query = "SELECT subscription_id, count(*) FROM deliveries WHERE state = 'pending' GROUP BY subscription_id"
        return dict(await self.store.read(lambda connection: connection.execute(query).fetchall()))

    async def backlog(self, subscription: Subscription, cursor: int) -> int:
        p = self._p
        names = subscription.event_types
        query = f"SELECT count(*) FROM events WHERE seq > {p} AND event_name IN ({', '.join([p] * len(names))})"
        (count,) = await self.store.read(lambda connection: connection.execute(query, (cursor, *names)).fetchone())
        return count

    async def latency(self) -> dict[str, LatencyHistogram]:
        """Every subscription's delivery latency histogram (none yet: absent)."""
        query = "SELECT subscription_id, le_ms, deliveries, total_us FROM delivery_latency"
        rows: dict[str, list[tuple[int, int, int]]] = {}
        for subscription_id, bucket, deliveries, total_us in await self.store.read(lambda connection: connection.execute(query).fetchall()):
            rows.setdefault(subscription_id, []).append((bucket, deliveries, total_us))
        return {subscription_id: LatencyHistogram.of(buckets) for subscription_id, buckets in rows.items()}

    async def stats(self) -> list[SubscriptionStats]:
        records = await self.subscriptions()
        pending = await self.pending_counts()
        latency = await self.latency()
        return [
            SubscriptionStats(
                record.id, record.subscription.name, record.subscription.active, record.delivered, record.failed,
                pending.get(record.id, 0), await self.backlog(record.subscription, record.cursor), record.cursor,
                latency.get(record.id) or LatencyHistogram.of(()),
            )
            for record in records
        ]

    # -- replays ----------------------------------------------------------------------------------

    async def create_replay(self, subscription_id: str, *, since: str, until: str | None, event_types: Sequence[str]) -> ReplayRecord | None:
        """A replay of the events in the log now (``None``: no such subscription).

        It ends at the newest event, not at the subscription's durable cursor: events just
        delivered lie after that cursor until the worker saves it (and an event still waiting for
        a slow answer holds it back), so a replay ending there would skip them.  An event after
        the cursor not sent yet may then arrive twice (live and replayed), as at-least-once allows.
        """
        p = self._p
        newest = "greatest" if self._postgres else "max"

        def create(connection: Any) -> Any:
            row = connection.execute(
                f"SELECT {newest}(cursor, coalesce((SELECT max(seq) FROM events), 0)) FROM subscriptions WHERE id = {p}", (subscription_id,)
            ).fetchone()
            if row is None:
                return None
            return connection.execute(
                f"INSERT INTO replays (subscription_id, since, until, event_types, end_seq, position, state, created_at) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, 0, 'running', {p}) RETURNING {_REPLAY_COLUMNS}",
                (subscription_id, since, until, orjson.dumps(list(event_types)).decode(), row[0], now_ms()),
            ).fetchone()

        row = await self.store.write(create)
        return None if row is None else ReplayRecord.from_row(row)

    async def replays(self, subscription_id: str, *, running_only: bool = False) -> list[ReplayRecord]:
        p = self._p
        state = " AND state = 'running'" if running_only else ""
        query = f"SELECT {_REPLAY_COLUMNS} FROM replays WHERE subscription_id = {p}{state} ORDER BY id"
        rows = await self.store.read(lambda connection: connection.execute(query, (subscription_id,)).fetchall())
        return [ReplayRecord.from_row(row) for row in rows]

    async def replay(self, subscription_id: str, replay_id: int) -> ReplayRecord | None:
        p = self._p
        query = f"SELECT {_REPLAY_COLUMNS} FROM replays WHERE subscription_id = {p} AND id = {p}"
        row = await self.store.read(lambda connection: connection.execute(query, (subscription_id, replay_id)).fetchone())
        return None if row is None else ReplayRecord.from_row(row)

    # -- retention --------------------------------------------------------------------------------

    async def expire_undelivered(
        self, received_before_ms: int, *, detail: Callable[[SubscriptionRecord], str], chunk: int = 2_000
    ) -> list[tuple[SubscriptionRecord, int]]:
        """Just before retention purges the events received before ``received_before_ms``: those
        a subscription (inactive, or active and that far behind) has not had become failed
        deliveries (error ``retention``, ``detail(record)``, nothing to send) and its cursor
        moves past them, so that none is dropped unreported and delivery goes on after them.
        How many, per subscription that had any.

        Each chunk is read (and its ids computed) outside the write, which moves the cursor only if
        it is still where the chunk was read from (else reads again from where a worker's commit
        moved it); a commit never moves a cursor back (:meth:`commit`).  A worker may still send the
        few of them it had already read (its window): its commit leaves out what it did with them,
        so each is reported once, as failed (``retention``).
        """
        through = await self.store.read(lambda connection: connection.execute(self._expired_through, (received_before_ms,)).fetchone()[0])
        expired: list[tuple[SubscriptionRecord, int]] = []
        for record in await self.subscriptions():
            total, outcome = 0, Failed("retention", detail(record), retryable=False)
            cursor: int | None = record.cursor
            while cursor is not None and cursor < through:
                # Read and decode outside the write: the writer (appends wait for it) only moves the cursor and inserts.
                events = await self.store.read_events(after=cursor, before=through + 1, names=record.subscription.event_types, limit=chunk)
                end = through if len(events) < chunk else events[-1].sequence
                rows = await asyncio.to_thread(self._retention_rows, record.id, events, outcome)
                moved, cursor = await self.store.write(
                    lambda connection: self._expire_chunk(connection, record.id, cursor, end, rows)  # noqa: B023 - awaited at once
                )
                total += len(rows) if moved else 0
            if total:
                expired.append((record, total))
        return expired

    def _retention_rows(self, subscription_id: str, events: Sequence[StoredEvent], outcome: Failed) -> list[tuple[Any, ...]]:
        now = now_ms()
        return [
            self._delivery_row(
                subscription_id,
                FirstFailure(
                    event.sequence, _event_id(event.data), event.event_name, round(event.received_at.timestamp() * 1000), "live", None, outcome,
                    now, None, attempts=0,
                ),
            )
            for event in events
        ]

    def _expire_chunk(self, connection: Any, subscription_id: str, cursor: int, end: int, rows: list[tuple[Any, ...]]) -> tuple[bool, int | None]:
        """One chunk of :meth:`expire_undelivered`: if the cursor is still where the rows were
        read from, move it to ``end`` and insert them; else (a worker's commit moved it) nothing.
        Whether it moved, and the cursor now (``None``: the subscription was deleted)."""
        p = self._p
        moved = connection.execute(
            f"UPDATE subscriptions SET cursor = {p}, failed = failed + {p} WHERE id = {p} AND cursor = {p}", (end, len(rows), subscription_id, cursor)
        ).rowcount
        if moved:
            with closing(connection.cursor()) as statements:
                statements.executemany(self._insert_delivery, rows)
            return True, end
        row = connection.execute(f"SELECT cursor FROM subscriptions WHERE id = {p}", (subscription_id,)).fetchone()
        return False, None if row is None else row[0]

    async def purge(self, before_ms: int) -> int:
        """Delete given-up deliveries, attempts and finished replays older than ``before_ms``."""
        p = self._p
        statements = (
            f"DELETE FROM deliveries WHERE state = 'failed' AND last_attempt_at < {p}",
            f"DELETE FROM delivery_attempts WHERE at < {p}",
            f"DELETE FROM replays WHERE state = 'done' AND finished_at < {p}",
        )
        return await self.store.write(lambda connection: sum(connection.execute(statement, (before_ms,)).rowcount for statement in statements))


def _not_reported_by_retention(progress: Progress, *, reported_up_to: int) -> tuple[int, int, LatencyTally, list[FirstFailure]]:
    """The delivered and failed counts, latency tally and first failures to record from
    ``progress``, leaving out the live outcomes of events up to the stored cursor: retention
    moved it past them meanwhile and listed them as failed, so recording them too would report
    one event twice (delivered and failed, or a second row)."""
    latency = LatencyTally()
    latency.merge(progress.latency)
    delivered = progress.delivered
    for sequence, seconds in progress.live_delivered:
        if sequence > reported_up_to:
            delivered += 1
            latency.add(seconds)
    failed, failures = progress.failed, []
    for failure in progress.failures:
        if failure.origin == "live" and failure.sequence <= reported_up_to:
            failed -= failure.next_attempt_ms is None
        else:
            failures.append(failure)
    return delivered, failed, latency, failures


def _event_id(data: bytes) -> str:
    """The event's stable id (JWT ``jti``), as its delivery would have carried it."""
    try:
        return decode_record(data).event_id
    except ValueError:  # stored events were valid when stored; never fail a purge over one
        return ""


def _config_json(subscription: Subscription) -> str:
    record = subscription.to_record()
    record.pop("active", None)  # the column is the one source
    return orjson.dumps(record).decode()
