"""The delivery tables on both stores (SQLite, PostgreSQL): subscriptions and their cursor,
lease-guarded progress, deliveries awaiting a retry with their bytes, the attempt log,
replays, leases shared between nodes, stats and retention."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
import pytest

from liveevents.canvas.record import decode_record
from liveevents.delivery.management import NothingToSend, Subscriptions
from liveevents.delivery.outcome import Delivered, Failed
from liveevents.delivery.payload import Payload
from liveevents.delivery.policy import Health
from liveevents.delivery.state import DeliveryState, FirstFailure, Progress, ReplayProgress, RetryResult
from liveevents.delivery.subscription import parse_subscription
from liveevents.store.sql import now_ms
from tests.test_store_log import Store, event, make_store, postgres_url, run  # noqa: F401  (fixtures)

NODE, OTHER = "node-a:8080", "node-b:8080"
LEASE_MS = 60_000


def webhook(name: str = "warehouse", **fields: object) -> object:
    return parse_subscription(
        {"name": name, "delivery_method": "https", "url": "https://hooks.uni-example.org/canvas", "event_types": ["logged_in", "grade_change"], **fields}
    )


def failure(sequence: int, *, next_attempt_ms: int | None, body: bytes = b"eyJ.signed.once", attempts: int = 1) -> FirstFailure:
    payload = None if attempts == 0 else Payload(f"00000000-0000-4000-8000-{sequence:012d}", body, "application/jwt", "user-7")
    outcome = Failed("encoding", "no caliper form", retryable=False) if attempts == 0 else Failed("http_503", "HTTP 503 Service Unavailable", status_code=503, elapsed=0.25)
    return FirstFailure(sequence, f"00000000-0000-4000-8000-{sequence:012d}", "logged_in", 1_700_000_000_000, "live", payload, outcome, now_ms(), next_attempt_ms, attempts)


def test_a_new_subscription_starts_after_the_events_already_stored(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        await store.append([event("logged_in"), event("grade_change")])
        state = DeliveryState(store)
        record = await state.create(webhook(jwt_body="quoted"))
        assert (record.cursor, record.version, record.delivered, record.failed) == (2, 1, 0, 0)
        assert record.health == Health() and record.lease_owner is None
        [listed] = await state.subscriptions()
        assert listed.subscription == record.subscription and listed.subscription.jwt_body == "quoted"
        await store.append([event("logged_in"), event("asset_accessed"), event("grade_change")])
        [stats] = await state.stats()
        assert (stats.backlog, stats.cursor, stats.retrying, stats.active) == (2, 2, 0, True)

    run(check, make_store)


def test_secrets_are_stored_for_delivery(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        created = await state.create(
            parse_subscription({"name": "lrs", "delivery_method": "caliper", "url": "https://lrs.uni-example.org/caliper", "event_types": ["logged_in"], "bearer_token": "lrs-token-8812"})
        )
        stored = await state.get(created.id)
        assert stored is not None and stored.subscription.bearer_token is not None
        assert stored.subscription.bearer_token.get_secret_value() == "lrs-token-8812"
        assert "lrs-token-8812" not in repr(stored)

    run(check, make_store)


def test_leases_split_subscriptions_between_live_nodes(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        ids = [(await state.create(webhook(f"s{number}"))).id for number in range(4)]
        inactive = await state.create(webhook("off", active=False))
        first = await state.lease_cycle(NODE, LEASE_MS)
        assert sorted(record.id for record in first.owned) == sorted(ids) and first.share == 4
        # A second node: the share halves; the first node's leases are still valid.
        second = await state.lease_cycle(OTHER, LEASE_MS)
        assert (second.owned, second.share) == ([], 2)
        again = await state.lease_cycle(NODE, LEASE_MS)
        assert again.share == 2 and len(again.owned) == 4  # giving up the surplus is the service's move
        await state.release(NODE, [record.id for record in again.owned[2:]])
        second = await state.lease_cycle(OTHER, LEASE_MS)
        assert sorted(record.id for record in second.owned) == sorted(record.id for record in again.owned[2:])
        assert inactive.id not in {record.id for record in second.owned}
        assert (await state.lease_cycle(NODE, LEASE_MS)).share == 2  # stable: nobody claims more

    run(check, make_store)


def test_a_dead_nodes_subscriptions_move_once_its_leases_expire(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        ids = sorted([(await state.create(webhook(f"s{number}"))).id for number in range(3)])
        assert sorted(record.id for record in (await state.lease_cycle(NODE, 50)).owned) == ids
        assert (await state.lease_cycle(OTHER, LEASE_MS)).owned == []  # A's leases still run
        await asyncio.sleep(0.1)  # A stops renewing; its heartbeat ages out with its leases
        taken = await state.lease_cycle(OTHER, 50)
        assert sorted(record.id for record in taken.owned) == ids
        # A comes back: its writes for what it held are refused now.
        lost = await state.commit(NODE, {ids[0]: Progress(cursor=99, delivered=5)})
        assert lost == {ids[0]}
        record = await state.get(ids[0])
        assert record is not None and (record.cursor, record.delivered, record.lease_owner) == (0, 0, OTHER)

    run(check, make_store)


def test_progress_moves_the_cursor_and_keeps_failed_deliveries_with_their_bytes(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        await state.lease_cycle(NODE, LEASE_MS)
        due_now = now_ms() - 1
        progress = Progress(cursor=40, delivered=37, failed=1, health=Health(warned=True))
        progress.failures += [failure(12, next_attempt_ms=due_now), failure(31, next_attempt_ms=due_now + 3_600_000), failure(35, next_attempt_ms=None, attempts=0)]
        assert await state.commit(NODE, {record.id: progress}) == set()

        stored = await state.get(record.id)
        assert stored is not None and (stored.cursor, stored.delivered, stored.failed, stored.health) == (40, 37, 1, Health(warned=True))
        listed = await state.deliveries(record.id, state=None, after=0, limit=10)
        assert [(d.sequence, d.state, d.attempts, d.last_error) for d in listed] == [
            (12, "pending", 1, "http_503"),
            (31, "pending", 1, "http_503"),
            (35, "failed", 0, "encoding"),
        ]
        assert listed[0].last_status == 503 and listed[0].last_detail == "HTTP 503 Service Unavailable"
        assert listed[2].first_attempt_at is None and listed[2].next_attempt_at is None
        assert [d.sequence for d in await state.deliveries(record.id, state="failed", after=0, limit=10)] == [35]

        [due] = await state.due(record.id, limit=10)  # only the one whose time has come
        assert (due.sequence, due.attempts, due.payload.body, due.payload.content_type) == (12, 1, b"eyJ.signed.once", "application/jwt")
        assert due.payload.event_id == "00000000-0000-4000-8000-000000000012" and due.payload.partition_key == "user-7"
        assert await state.next_due_ms(record.id) == due_now

        # Second attempt fails, third succeeds: the row goes, the attempt log stays complete until then.
        retry = Failed("timeout", "no answer within 15 s", elapsed=15.0)
        await state.commit(NODE, {record.id: Progress(retries=[RetryResult(due.id, 2, retry, now_ms(), now_ms() + 60_000)])})
        found = await state.delivery(record.id, due.id)
        assert found is not None
        delivery, attempts = found
        assert (delivery.attempts, delivery.last_error, delivery.last_status) == (2, "timeout", None)
        assert [(a.attempt, a.error, a.status, a.elapsed_ms) for a in attempts] == [(1, "http_503", 503, 250), (2, "timeout", None, 15000)]
        await state.commit(NODE, {record.id: Progress(delivered=1, retries=[RetryResult(due.id, 3, Delivered(0.01, 200), now_ms(), None)])})
        assert await state.delivery(record.id, due.id) is None
        assert (await state.get(record.id)).delivered == 38  # type: ignore[union-attr]

        # Given up after the last retry: failed, listable, never due again.
        [later] = [d for d in listed if d.sequence == 31]
        await state.commit(NODE, {record.id: Progress(failed=1, retries=[RetryResult(later.id, 2, retry, now_ms(), None)])})
        assert [(d.sequence, d.state) for d in await state.deliveries(record.id, state="failed", after=0, limit=10)] == [(31, "failed"), (35, "failed")]
        assert await state.next_due_ms(record.id) is None
        # An operator's retry makes it due again; an event with nothing to send cannot be.
        assert await state.retry_now(record.id, later.id) == 1
        assert [d.id for d in await state.due(record.id, limit=10)] == [later.id]
        assert await state.retry_now(record.id, listed[2].id) == 0

    run(check, make_store)


def test_replacing_a_subscription_is_guarded_by_its_version(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        deactivated = await state.replace(record, record.subscription.model_copy(update={"active": False}), reason="deactivated by the operator")
        assert deactivated is not None and deactivated.version == 2 and not deactivated.subscription.active
        assert deactivated.deactivated_reason == "deactivated by the operator" and deactivated.deactivated_at is not None
        assert await state.replace(record, record.subscription, reason=None) is None  # stale version
        reactivated = await state.replace(deactivated, deactivated.subscription.model_copy(update={"active": True}))
        assert reactivated is not None and reactivated.subscription.active
        assert (reactivated.deactivated_reason, reactivated.deactivated_at, reactivated.health) == (None, None, Health())
        assert reactivated.cursor == record.cursor  # reactivation resumes where it stopped

    run(check, make_store)


def test_a_worker_deactivates_its_subscription_and_releases_it(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        await state.lease_cycle(NODE, LEASE_MS)
        await state.commit(NODE, {record.id: Progress(cursor=7, deactivate="no successful delivery since ... (5 d; limit 5 d)")})
        stored = await state.get(record.id)
        assert stored is not None and not stored.subscription.active and stored.lease_owner is None
        assert (stored.cursor, stored.version, stored.deactivated_reason) == (7, 2, "no successful delivery since ... (5 d; limit 5 d)")
        assert (await state.lease_cycle(NODE, LEASE_MS)).owned == []

    run(check, make_store)


def test_a_replay_is_recorded_with_its_range_and_its_progress_committed(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        await state.lease_cycle(NODE, LEASE_MS)
        await state.commit(NODE, {record.id: Progress(cursor=120)})
        replay = await state.create_replay(record.id, since="2024-03-01T00:00:00.000Z", until=None, event_types=["logged_in"])
        assert replay is not None and (replay.end_sequence, replay.position, replay.state, replay.event_types) == (120, 0, "running", ["logged_in"])
        assert await state.create_replay("no-such-id", since="2024-03-01T00:00:00.000Z", until=None, event_types=[]) is None
        await state.commit(NODE, {record.id: Progress(replays={replay.id: ReplayProgress(60, delivered=10, queued=2)})})
        await state.commit(NODE, {record.id: Progress(replays={replay.id: ReplayProgress(120, delivered=5, failed=1, done=True)})})
        done = await state.replay(record.id, replay.id)
        assert done is not None and (done.position, done.state, done.delivered, done.queued, done.failed) == (120, "done", 15, 2, 1)
        assert done.finished_at is not None
        assert await state.replays(record.id, running_only=True) == []
        assert (await state.get(record.id)).cursor == 120  # type: ignore[union-attr]

    run(check, make_store)


def test_a_replay_ends_at_the_newest_event_of_the_log_when_it_lies_past_the_cursor(make_store: Callable[..., Store]) -> None:
    # Events delivered just now lie after the durable cursor until the worker saves it: a replay
    # asked for then must still cover them.
    async def check(store: Store) -> None:
        await store.ensure_stream("live-events")
        state = DeliveryState(store)
        record = await state.create(webhook())  # a new subscription starts after the events already there
        sequences = await store.append([event("logged_in") for _ in range(9)])
        await state.lease_cycle(NODE, LEASE_MS)
        await state.commit(NODE, {record.id: Progress(cursor=sequences[3])})
        replay = await state.create_replay(record.id, since="2024-03-01T00:00:00.000Z", until=None, event_types=[])
        assert replay is not None and replay.end_sequence == sequences[-1]
        assert (await state.get(record.id)).cursor == sequences[3]  # type: ignore[union-attr]

    run(check, make_store)


def test_one_live_node_the_first_by_id_reports_the_inactive_subscriptions(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        assert (await state.lease_cycle(OTHER, LEASE_MS)).reports_inactive  # alone
        assert (await state.lease_cycle(NODE, LEASE_MS)).reports_inactive  # "node-a:8080" sorts first
        assert not (await state.lease_cycle(OTHER, LEASE_MS)).reports_inactive
        await state.release(NODE)  # node-a leaves: node-b takes over the report
        assert (await state.lease_cycle(OTHER, LEASE_MS)).reports_inactive

    run(check, make_store)


def test_delete_removes_everything_of_the_subscription(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        kept, deleted = await state.create(webhook("kept")), await state.create(webhook("deleted"))
        await state.lease_cycle(NODE, LEASE_MS)
        for record in (kept, deleted):
            progress = Progress()
            progress.failures.append(failure(3, next_attempt_ms=now_ms()))
            await state.commit(NODE, {record.id: progress})
        assert await state.delete(deleted.id) and not await state.delete(deleted.id)
        assert [record.id for record in await state.subscriptions()] == [kept.id]
        assert await state.pending_counts() == {kept.id: 1}
        # The worker of a deleted subscription cannot write for it any more.
        assert await state.commit(NODE, {deleted.id: Progress(cursor=9)}) == {deleted.id}

    run(check, make_store)


def test_retention_purges_given_up_deliveries_and_old_attempts(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        await state.lease_cycle(NODE, LEASE_MS)
        progress = Progress()
        progress.failures += [failure(1, next_attempt_ms=None), failure(2, next_attempt_ms=now_ms() + 60_000)]
        await state.commit(NODE, {record.id: progress})
        assert await state.purge(now_ms() - 60_000) == 0
        assert await state.purge(now_ms() + 1) == 3  # the failed delivery and both first attempts
        assert [(d.sequence, d.state) for d in await state.deliveries(record.id, state=None, after=0, limit=10)] == [(2, "pending")]

    run(check, make_store)


def canvas_event(name: str, user_id: str) -> object:
    record = {"attributes": {"event_name": name, "event_time": "2024-03-05T10:20:30.123Z", "user_id": user_id}, "body": {"user_id": user_id}}
    return event(name, data=orjson.dumps(record))


def _retention_detail(record: object) -> str:
    return f"purged by retention (retention_days = 14) before {record.subscription.name} had it"  # type: ignore[attr-defined]


def test_events_a_subscription_has_not_had_become_failed_deliveries_before_retention_purges_them(
    make_store: Callable[..., Store],
) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        await store.append([event("logged_in")])  # 1: before the subscriptions
        paused = await state.create(webhook("paused", active=False))
        behind = await state.create(webhook("behind"))
        await store.append([canvas_event("logged_in", "7001"), canvas_event("asset_accessed", "7002"), canvas_event("grade_change", "7003")])
        caught_up = await state.create(webhook("caught-up"))
        old_enough = now_ms() + 1
        await asyncio.sleep(0.01)
        await store.append([canvas_event("logged_in", "7004")])  # 5: younger than the limit

        expired = await state.expire_undelivered(old_enough, detail=_retention_detail, chunk=1)
        assert sorted((record.id, count) for record, count in expired) == sorted([(paused.id, 2), (behind.id, 2)])
        stored_ids = {e.sequence: decode_record(e.data).event_id for e in await store.read_events(after=0, limit=10) if e.sequence in (2, 4)}
        for subscription in (paused, behind):
            listed = await state.deliveries(subscription.id, state=None, after=0, limit=10)
            detail = f"purged by retention (retention_days = 14) before {subscription.subscription.name} had it"
            assert [(d.sequence, d.event_id, d.event_name, d.state, d.attempts, d.last_error, d.last_detail) for d in listed] == [
                (2, stored_ids[2], "logged_in", "failed", 0, "retention", detail),
                (4, stored_ids[4], "grade_change", "failed", 0, "retention", detail),
            ]
            after = await state.get(subscription.id)
            assert after is not None and (after.cursor, after.failed) == (4, 2)
        # Counted once; a subscription past the limit is left alone; younger events wait.
        assert await state.expire_undelivered(old_enough, detail=_retention_detail) == []
        unchanged = await state.get(caught_up.id)
        assert unchanged is not None and (unchanged.cursor, unchanged.failed) == (4, 0)
        assert await state.deliveries(caught_up.id, state=None, after=0, limit=10) == []

    run(check, make_store)


def test_a_worker_commit_never_moves_a_cursor_back_that_retention_moved_on(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        await state.lease_cycle(NODE, LEASE_MS)
        await store.append([canvas_event("logged_in", str(7000 + n)) for n in range(1, 6)])
        await state.expire_undelivered(now_ms() + 1, detail=_retention_detail)
        # The worker had events 1 and 2 in hand when retention reported them; it delivered them.
        assert await state.commit(NODE, {record.id: Progress(cursor=2, live_delivered=[(1, 0.02), (2, 0.03)])}) == set()
        stored = await state.get(record.id)
        assert stored is not None and (stored.cursor, stored.delivered, stored.failed) == (5, 0, 5)

    run(check, make_store)


def test_what_a_worker_did_with_events_retention_already_reported_is_not_recorded_twice(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        await state.lease_cycle(NODE, LEASE_MS)
        await store.append([canvas_event("logged_in", str(7000 + n)) for n in range(1, 6)])
        await state.expire_undelivered(now_ms() + 1, detail=_retention_detail)  # 1-5 listed as failed
        await store.append([canvas_event("logged_in", "7006")])
        # Meanwhile the worker sent 1-6: the first attempt of 2 failed (a retry due in a minute), the rest arrived.
        progress = Progress(cursor=6, live_delivered=[(1, 0.02), (3, 0.02), (4, 0.02), (5, 0.02), (6, 0.3)])
        progress.failures.append(failure(2, next_attempt_ms=now_ms() + 60_000))
        assert await state.commit(NODE, {record.id: progress}) == set()

        stored = await state.get(record.id)
        assert stored is not None and (stored.cursor, stored.delivered, stored.failed) == (6, 1, 5)
        listed = await state.deliveries(record.id, state=None, after=0, limit=10)
        assert [(d.sequence, d.state, d.last_error) for d in listed] == [(n, "failed", "retention") for n in (1, 2, 3, 4, 5)]
        assert await state.pending_counts() == {}
        [stats] = await state.stats()
        assert (stats.latency.count, stats.latency.sum_seconds) == (1, pytest.approx(0.3))

    run(check, make_store)


def test_retrying_a_delivery_with_nothing_to_send_says_why(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        subscriptions = Subscriptions(state, allow_http=False, changed=lambda *args, **kwargs: None)
        paused = await state.create(webhook("paused", active=False))
        await store.append([canvas_event("logged_in", "7001")])
        await state.expire_undelivered(now_ms() + 1, detail=lambda record: "purged by retention before it was delivered")
        [expired] = await state.deliveries(paused.id, state=None, after=0, limit=10)
        with pytest.raises(NothingToSend) as refused:
            await subscriptions.retry(paused.id, expired.id)
        assert str(refused.value) == f"delivery {expired.id} has nothing to send (retention: purged by retention before it was delivered)"

    run(check, make_store)


def test_the_latency_histogram_adds_up_over_commits_and_goes_with_its_subscription(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        kept, dropped = await state.create(webhook("kept")), await state.create(webhook("dropped"))
        await state.lease_cycle(NODE, LEASE_MS)
        for seconds in ((0.004, 0.02), (0.02, 0.3, 90_000.0)):
            progress, other = Progress(delivered=len(seconds)), Progress(delivered=1)
            for value in seconds:
                progress.latency.add(value)
            other.latency.add(1.0)
            assert await state.commit(NODE, {kept.id: progress, dropped.id: other}) == set()
        await state.delete(dropped.id)

        [stats] = await state.stats()
        histogram = stats.latency
        assert (stats.id, histogram.count) == (kept.id, 5)
        assert histogram.sum_seconds == pytest.approx(90_000.344)
        cumulative = dict(histogram.cumulative)
        assert (cumulative[0.005], cumulative[0.025], cumulative[0.25], cumulative[0.5], cumulative[86400.0]) == (1, 3, 3, 4, 4)
        assert (histogram.quantile(0.5), histogram.quantile(0.8), histogram.quantile(0.99)) == (0.025, 0.5, None)
        assert await state.latency() == {kept.id: histogram}

    run(check, make_store)


@pytest.mark.postgres
def test_an_event_another_node_commits_while_retention_reports_is_left_for_delivery(postgres_url: str) -> None:
    """Another node's append may commit between any two statements of retention's report (READ
    COMMITTED): an event received after the cut-off is never reported, nor its cursor passed."""
    from liveevents.store.postgres import PostgresStore

    async def main() -> None:
        loop = asyncio.get_running_loop()
        store, other = PostgresStore(postgres_url), PostgresStore(postgres_url)
        lands_after: list[int] = [0]  # the statement of retention's writes after which the other node commits
        statements = 0
        original = store._run_task

        class Interleaved:
            def __init__(self, connection: object) -> None:
                self._connection = connection

            def execute(self, *args: object) -> object:
                nonlocal statements
                result = self._connection.execute(*args)  # type: ignore[attr-defined]
                statements += 1
                if statements == lands_after[0]:
                    asyncio.run_coroutine_threadsafe(other.append([canvas_event("logged_in", "7999")]), loop).result(10)
                return result

            def __getattr__(self, name: str) -> object:
                return getattr(self._connection, name)

        store._run_task = lambda work: original(lambda connection: work(Interleaved(connection)))  # type: ignore[method-assign]
        await store.open()
        await other.open()
        try:
            state = DeliveryState(store)
            for statement in range(1, 6):
                paused = await state.create(webhook("paused", active=False))
                old = await store.append([canvas_event("logged_in", "7001"), canvas_event("logged_in", "7002")])
                await asyncio.sleep(0.02)
                cutoff = now_ms()
                await asyncio.sleep(0.02)
                statements, lands_after[0] = 0, statement
                await state.expire_undelivered(cutoff, detail=_retention_detail)
                lands_after[0] = 0
                listed = await state.deliveries(paused.id, state=None, after=0, limit=10)
                after = await state.get(paused.id)
                assert ([d.sequence for d in listed], after is not None and after.cursor) == (old, old[1]), f"landing after statement {statement}"
                await state.delete(paused.id)
        finally:
            await other.close()
            await store.close()

    asyncio.run(main())


def test_retention_reads_outside_the_writer_and_goes_on_from_where_a_worker_commit_moved_the_cursor(make_store: Callable[..., Store]) -> None:
    async def check(store: Store) -> None:
        state = DeliveryState(store)
        record = await state.create(webhook())
        await state.lease_cycle(NODE, LEASE_MS)
        await store.append([canvas_event("logged_in", str(7000 + n)) for n in range(1, 7)])
        read_events, reads = store.read_events, []

        async def worker_commits_after_the_first_read(**query: object) -> object:
            events = await read_events(**query)
            reads.append(query["after"])
            if len(reads) == 1:  # the worker delivered 1-3 meanwhile
                await state.commit(NODE, {record.id: Progress(cursor=3, live_delivered=[(1, 0.02), (2, 0.02), (3, 0.02)])})
            return events

        store.read_events = worker_commits_after_the_first_read
        [(_, count)] = await state.expire_undelivered(now_ms() + 1, detail=_retention_detail, chunk=2)
        assert (count, reads) == (3, [0, 3, 5])
        stored = await state.get(record.id)
        assert stored is not None and (stored.cursor, stored.delivered, stored.failed) == (6, 3, 3)
        listed = await state.deliveries(record.id, state=None, after=0, limit=10)
        assert [(d.sequence, d.last_error) for d in listed] == [(4, "retention"), (5, "retention"), (6, "retention")]

    run(check, make_store)
