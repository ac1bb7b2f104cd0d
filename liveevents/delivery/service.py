"""Delivery in one ``liveevents serve`` process: the workers of the subscriptions it holds.

:meth:`DeliveryService.run` is a background task of the app.  Every ``lease_seconds / 3`` (and
at once after a change made through the API) it runs a lease cycle: heartbeat, renew the
leases it holds, claim free or expired subscriptions up to its share (active subscriptions ÷
live nodes), release any surplus.  It then makes the running workers match: a worker per held
subscription, restarted when the subscription's version changed, stopped when it was lost,
deactivated or deleted.  On SQLite there is one node and it holds everything; on PostgreSQL
several nodes split the subscriptions, and a dead node's subscriptions move to the others
once its leases expire.

Beside the lease cycle: the :class:`~liveevents.delivery.ledger.Ledger` (progress commits),
and maintenance — key rotation when due, and purging old delivery records.  The events a
subscription has not had are reported before the log's retention purge deletes them, by a hook
the purge calls (:meth:`DeliveryService._before_purge`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from contextlib import suppress
from datetime import datetime, timedelta, timezone

import httpx
from prometheus_client import CollectorRegistry

from liveevents.config import ConfigError, Settings
from liveevents.delivery.encoding import EncodingPool
from liveevents.delivery.keys import KeyStore
from liveevents.delivery.ledger import Ledger
from liveevents.delivery.management import Subscriptions
from liveevents.delivery.metrics import DeliveryMetrics
from liveevents.delivery.notify import notice_client, send_notice
from liveevents.delivery.payload import PayloadEncoder
from liveevents.delivery.policy import DeactivationRule, DeliveryProfile, RetrySchedule, Verdict
from liveevents.delivery.senders import Dispatcher, HttpSender, SqsSender
from liveevents.delivery.signing import Signer
from liveevents.delivery.state import DeliveryState, Lease, SubscriptionRecord
from liveevents.delivery.subscription import Subscription
from liveevents.delivery.worker import SubscriptionWorker, WorkerContext, WorkerOptions
from liveevents.store.base import Store
from liveevents.store.sql import now_ms

__all__ = ["DeliveryService", "profiles_from"]

log = logging.getLogger("liveevents.delivery")

COMMIT_INTERVAL = 0.2  # seconds between progress commits (at most this much is sent again after a crash)


def profiles_from(settings: Settings) -> dict[str, DeliveryProfile]:
    """The two retry/deactivation profiles with the configured schedules and thresholds."""
    return {
        "durable": DeliveryProfile(
            "durable",
            RetrySchedule(settings.retry_schedule_seconds, jitter=settings.retry_jitter),
            DeactivationRule(
                failing_for=timedelta(hours=settings.deactivate_after_hours),
                min_recent_failures=settings.deactivate_min_failures,
                warn_after=timedelta(hours=settings.warn_after_hours),
            ),
        ),
        "instructure": DeliveryProfile(
            "instructure",
            RetrySchedule(settings.instructure_retry_schedule_seconds, jitter=settings.retry_jitter),
            DeactivationRule(exhausted_timeouts=settings.instructure_max_timeouts, exhausted_errors=settings.instructure_max_errors),
        ),
    }


class DeliveryService:
    def __init__(self, settings: Settings, store: Store, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.store = store
        self.state = DeliveryState(store)
        self.keys = KeyStore(settings.keys_path)
        self.node = settings.node_id or f"{socket.gethostname()}:{settings.port}"
        self.metrics = DeliveryMetrics(registry)
        store.before_purge(self._before_purge)  # also where delivery is off: every node purges
        self.profiles = profiles_from(settings)
        self.subscriptions = Subscriptions(self.state, allow_http=settings.allow_http, changed=self.changed)
        try:
            self.encoder = PayloadEncoder(
                Signer(self.keys, issuer=settings.issuer, recheck_seconds=1.0),
                caliper_profile=settings.caliper_profile,  # type: ignore[arg-type]
                canvas_domain=settings.canvas_domain or None,
            )
        except ValueError as error:
            raise ConfigError(f"Caliper settings: {error}") from None
        self._workers: dict[str, tuple[SubscriptionWorker, asyncio.Task[None]]] = {}
        self._stopping: dict[str, asyncio.Task[None]] = {}
        self._stopped: set[str] = set()  # stopped since started: read the cursor afresh to restart
        self._inactive_reported: set[str] = set()  # inactive subscriptions whose gauges this node sets
        self._reconcile = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._context: WorkerContext | None = None
        self._notices: httpx.AsyncClient | None = None

    # -- what the API tells the service ---------------------------------------------------------

    def changed(self, subscription_id: str | None = None, *, replay: bool = False, retry: bool = False) -> None:
        """A subscription was created, changed or deleted (reconcile now), or got a replay or a
        retry to do (wake its worker, if this node runs it; other nodes poll)."""
        self._reconcile.set()
        held = self._workers.get(subscription_id or "")
        if held is not None:
            if replay:
                held[0].wake_replays()
            if retry:
                held[0].wake_retries()

    # -- the background task --------------------------------------------------------------------

    async def run(self, runtime: object = None) -> None:
        """The app's background task (``runtime`` unused: everything came with the constructor)."""
        settings = self.settings
        if not settings.delivery_enabled:
            log.info("delivery is off on this node (delivery_enabled = false)")
            await asyncio.Event().wait()
        if settings.retention_days * 24 <= settings.deactivate_after_hours:
            # A failing subscription stays active (paused, its events waiting in the log) until it
            # is deactivated; only then are the events retention takes from it reported.
            log.warning(
                "retention_days (%g) is not longer than deactivate_after_hours (%g h): a failing subscription can lose events "
                "to retention before it is deactivated; raise retention_days or lower deactivate_after_hours",
                settings.retention_days, settings.deactivate_after_hours,
            )
        await asyncio.to_thread(self.keys.keys)  # creates the keys on the first start
        pool = EncodingPool(self.encoder, threads=settings.signing_threads or os.cpu_count() or 2)
        dispatcher = Dispatcher(
            http=HttpSender(
                timeout=settings.delivery_timeout_seconds, max_connections=settings.delivery_connections, allow_http=settings.allow_http
            ),
            sqs=SqsSender(timeout=settings.delivery_timeout_seconds),
        )
        ledger = Ledger(self.state, self.node, interval=COMMIT_INTERVAL, on_lost=self._lost)
        self._notices = notice_client()
        self._context = WorkerContext(
            store=self.store,
            state=self.state,
            ledger=ledger,
            pool=pool,
            dispatcher=dispatcher,
            profiles=self.profiles,
            metrics=self.metrics,
            options=WorkerOptions(
                window=settings.delivery_window,
                pause_after_failures=settings.pause_after_failures,
                probe_seconds=settings.probe_seconds,
                poll_seconds=min(5.0, settings.lease_seconds / 3),
                stop_grace=min(5.0, settings.delivery_timeout_seconds),
            ),
            notify=self._notify,
        )
        ledger_task = asyncio.create_task(ledger.run(), name="delivery-ledger")
        loops = [asyncio.create_task(self._leases(), name="delivery-leases"), asyncio.create_task(self._maintenance(), name="delivery-maintenance")]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self._stop_all()
            ledger.close()
            with suppress(Exception):
                await asyncio.wait_for(ledger_task, 10)
            with suppress(Exception):
                await self.state.release(self.node)
            for task in self._background:
                task.cancel()
            await dispatcher.aclose()
            pool.close()
            await self._notices.aclose()

    # -- leases and workers ---------------------------------------------------------------------

    async def _leases(self) -> None:
        lease_ms = int(self.settings.lease_seconds * 1000)
        while True:
            self._reconcile.clear()
            try:
                lease = await self.state.lease_cycle(self.node, lease_ms)
                await self._apply(lease)
                await self._refresh_gauges(lease)
            except Exception as error:  # noqa: BLE001 - the store may be away for a while; keep trying
                log.warning("delivery lease cycle failed (retrying): %s", error)
            with suppress(TimeoutError):
                await asyncio.wait_for(self._reconcile.wait(), self.settings.lease_seconds / 3)

    async def _apply(self, lease: Lease) -> None:
        owned = {record.id: record for record in lease.owned}
        surplus = set(sorted(owned)[lease.share :])
        for subscription_id, (worker, task) in list(self._workers.items()):
            record = owned.get(subscription_id)
            if record is None or subscription_id in surplus or worker.version != record.version or task.done():
                self._stop(subscription_id, release=subscription_id in surplus)
        for subscription_id, record in owned.items():
            if subscription_id in surplus or subscription_id in self._workers or subscription_id in self._stopping:
                continue  # a stopping worker finishes (and commits) first; the next cycle starts it
            if subscription_id in self._stopped:  # its last worker committed after this cycle read the row
                fresh = await self.state.get(subscription_id)
                if fresh is None or fresh.lease_owner != self.node or not fresh.subscription.active:
                    continue
                record = fresh
            self._stopped.discard(subscription_id)
            self._start(record)

    def _start(self, record: SubscriptionRecord) -> None:
        assert self._context is not None
        worker = SubscriptionWorker(record, self._context)
        task = asyncio.create_task(worker.run(), name=f"subscription:{record.id}")
        task.add_done_callback(lambda _: self._reconcile.set())
        self._workers[record.id] = (worker, task)
        log.info("delivering subscription %s (%s) from sequence %d", record.id, record.subscription.name, record.cursor)

    def _stop(self, subscription_id: str, *, release: bool = False) -> None:
        """Stop a worker in the background (the lease cycle goes on renewing the others);
        ``release``: give the lease up once it has committed, for another node to take."""
        worker, task = self._workers.pop(subscription_id)
        worker.stop()
        stopping = asyncio.create_task(self._finish(worker, task, release=release), name=f"stopping:{subscription_id}")
        self._stopping[subscription_id] = stopping

        def finished(_: asyncio.Task[None]) -> None:
            if self._stopping.get(subscription_id) is stopping:
                del self._stopping[subscription_id]
            self._stopped.add(subscription_id)
            self._reconcile.set()

        stopping.add_done_callback(finished)

    async def _finish(self, worker: SubscriptionWorker, task: asyncio.Task[None], *, release: bool) -> None:
        # Sends in flight get stop_grace; the final commit a few seconds more.
        done, _ = await asyncio.wait([task], timeout=self.settings.delivery_timeout_seconds / 3 + 5)
        if not done:
            task.cancel()
        outcome = (await asyncio.gather(task, return_exceptions=True))[0]
        if isinstance(outcome, Exception):
            log.error("the delivery worker of subscription %s failed: %r", worker.subscription_id, outcome)
        if worker.subscription_id not in self._inactive_reported:  # else set again as an inactive one already
            self.metrics.forget_gauges(worker.subscription_id)
        if self._context is not None:
            await self._context.dispatcher.forget(worker.subscription_id)  # its connections
        if release:
            await self.state.release(self.node, [worker.subscription_id])

    async def _stop_all(self) -> None:
        for subscription_id in list(self._workers):
            self._stop(subscription_id)
        await asyncio.gather(*self._stopping.values(), return_exceptions=True)

    def _lost(self, subscription_ids: set[str]) -> None:
        """The ledger found these subscriptions held by another node (or gone): stop at once."""
        for subscription_id in subscription_ids:
            held = self._workers.get(subscription_id)
            if held is not None:
                log.warning("subscription %s is no longer held by this node; stopping its delivery here", subscription_id)
                held[0].stop(commit=False)
        self._reconcile.set()

    async def _refresh_gauges(self, lease: Lease) -> None:
        """Backlog and retrying gauges of the subscriptions delivered here and, on the node that
        reports them (:attr:`Lease.reports_inactive`), of the inactive ones."""
        reported = [record for record in lease.owned if record.id in self._workers]
        inactive: list[SubscriptionRecord] = []
        if lease.reports_inactive:
            inactive = [record for record in await self.state.subscriptions() if not record.subscription.active]
        for subscription_id in self._inactive_reported - {record.id for record in inactive} - self._workers.keys():
            self.metrics.forget_gauges(subscription_id)  # active again (its owner reports it), or deleted
        self._inactive_reported = {record.id for record in inactive}
        if not reported and not inactive:
            return
        pending = await self.state.pending_counts()
        for record in reported + inactive:
            backlog = await self.state.backlog(record.subscription, record.cursor)
            self.metrics.set_gauges(record.id, backlog=backlog, retrying=pending.get(record.id, 0))

    # -- notices and maintenance ----------------------------------------------------------------

    def _notify(self, subscription: Subscription, verdict: Verdict) -> None:
        extra = [self.settings.notification_url] if self.settings.notification_url else []

        async def send() -> None:
            assert self._notices is not None
            try:
                await send_notice(subscription, verdict, at=datetime.now(timezone.utc), client=self._notices, extra_urls=extra)
            except Exception:  # noqa: BLE001 - a notice must never stop delivery
                log.exception("sending a notice about subscription %s failed", subscription.id)

        task = asyncio.create_task(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _before_purge(self, cutoff_ms: int) -> None:
        """The store's pre-purge hook: the events received before ``cutoff_ms`` that a
        subscription has not had (it is inactive, or its delivery is that far behind) become
        failed deliveries (``retention``) before the purge deletes them, so none goes unreported."""
        retention = f"purged from the log by retention (retention_days = {self.settings.retention_days:g}) before it was delivered"

        def detail(record: SubscriptionRecord) -> str:
            if record.subscription.active:
                return f"{retention}: the subscription's delivery was further behind than that"
            return f"{retention}: the subscription was inactive"

        for record, count in await self.state.expire_undelivered(cutoff_ms, detail=detail):
            self.metrics.of(record.id).failed.inc(count)
            log.warning(
                "retention: subscription %s is %s and %d of its events will be purged from the log undelivered; "
                "they are listed as failed deliveries (error 'retention') and its delivery goes on after them",
                record.id, "behind" if record.subscription.active else "inactive", count,
            )

    async def _maintenance(self) -> None:
        settings = self.settings
        period = timedelta(days=settings.key_rotation_days)
        while True:
            try:
                rotated = await asyncio.to_thread(self.keys.rotate_if_due, period)
                if rotated is not None:
                    log.warning("signing keys rotated: kid %s signs now, kid %s is published as next", rotated.current.kid, rotated.next.kid)
                purged = await self.state.purge(now_ms() - int(settings.retention_days * 86_400_000))
                if purged:
                    log.info("retention: purged %d old delivery records", purged)
            except Exception as error:  # noqa: BLE001
                log.warning("delivery maintenance failed (retrying): %s", error)
            await asyncio.sleep(min(3600.0, settings.purge_interval_seconds))
