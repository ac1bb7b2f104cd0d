"""The operations behind the subscriptions API: validate operator input, change the store,
tell the delivery service.

Every invalid input raises :class:`~liveevents.delivery.subscription.SubscriptionError` (or
:class:`ReplayError`) listing every problem with its field, value, rule and the valid names;
an unknown id raises :class:`NotFound`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from liveevents.delivery.state import Attempt, DeliveryRecord, DeliveryState, ReplayRecord, Status, SubscriptionRecord
from liveevents.delivery.subscription import FieldProblem, SubscriptionError, field_problems, parse_subscription
from liveevents.timestamps import normalize_timestamp

__all__ = ["NotFound", "NothingToSend", "ReplayError", "ReplayRequest", "Subscriptions"]

OPERATOR_DEACTIVATION = "deactivated by the operator"
_UPDATE_ATTEMPTS = 5


class NotFound(LookupError):
    pass


class NothingToSend(ValueError):
    pass


class ReplayError(SubscriptionError):
    subject = "replay request"


class ReplayRequest(BaseModel):
    """Re-deliver the retained events of a subscription whose event time is in [since, until)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    since: str = Field(description="ISO 8601; events with event_time >= since")
    until: str | None = Field(None, description="ISO 8601; events with event_time < until (default: no limit)")
    event_types: list[str] | None = Field(None, description="a subset of the subscription's event types (default: all of them)")


# Called after a change: (subscription id, replay=..., retry=...).
Changed = Callable[..., None]


class Subscriptions:
    def __init__(self, state: DeliveryState, *, allow_http: bool, changed: Changed) -> None:
        self.state = state
        self.allow_http = allow_http
        self._changed = changed

    async def create(self, data: object) -> SubscriptionRecord:
        record = await self.state.create(parse_subscription(data, allow_http=self.allow_http))
        self._changed(record.id)
        return record

    async def all(self) -> list[SubscriptionRecord]:
        return await self.state.subscriptions()

    async def get(self, subscription_id: str) -> SubscriptionRecord:
        record = await self.state.get(subscription_id)
        if record is None:
            raise NotFound(f"no subscription with id {subscription_id!r}")
        return record

    async def update(self, subscription_id: str, changes: object) -> SubscriptionRecord:
        """Apply ``changes`` (a JSON object; ``null`` clears an optional field)."""
        if not isinstance(changes, Mapping):
            raise SubscriptionError([FieldProblem("", type(changes).__name__, "changes are a JSON object of fields to change")])
        return await self._change(subscription_id, lambda record: record.subscription.patched(changes, allow_http=self.allow_http))

    async def set_active(self, subscription_id: str, active: bool) -> SubscriptionRecord:
        """Activate (delivery resumes from the cursor: nothing is skipped, and the pending
        retries are due at once: the destination is presumably fixed) or deactivate."""
        record = await self._change(subscription_id, lambda record: record.subscription.model_copy(update={"active": active}))
        if active:
            await self.state.retry_now(subscription_id)
        return record

    async def _change(self, subscription_id: str, change: Callable[[SubscriptionRecord], Any]) -> SubscriptionRecord:
        for _ in range(_UPDATE_ATTEMPTS):  # a worker may change the row meanwhile (a deactivation): read again
            record = await self.get(subscription_id)
            subscription = change(record)
            if subscription == record.subscription:
                return record
            updated = await self.state.replace(record, subscription, reason=OPERATOR_DEACTIVATION)
            if updated is not None:
                self._changed(subscription_id)
                return updated
        raise RuntimeError(f"subscription {subscription_id} kept changing; try again")

    async def delete(self, subscription_id: str) -> None:
        if not await self.state.delete(subscription_id):
            raise NotFound(f"no subscription with id {subscription_id!r}")
        self._changed(subscription_id)

    async def deliveries(self, subscription_id: str, *, state: Status | None, after: int, limit: int) -> list[DeliveryRecord]:
        await self.get(subscription_id)
        return await self.state.deliveries(subscription_id, state=state, after=after, limit=limit)

    async def delivery(self, subscription_id: str, delivery_id: int) -> tuple[DeliveryRecord, list[Attempt]]:
        found = await self.state.delivery(subscription_id, delivery_id)
        if found is None:
            raise NotFound(f"subscription {subscription_id!r} has no delivery {delivery_id} (delivered since, purged, or never failed)")
        return found

    async def retry(self, subscription_id: str, delivery_id: int) -> tuple[DeliveryRecord, list[Attempt]]:
        """Make a pending or failed delivery due now (its stored bytes are sent again)."""
        record, _ = await self.delivery(subscription_id, delivery_id)
        if not await self.state.retry_now(subscription_id, delivery_id):
            raise NothingToSend(f"delivery {delivery_id} has nothing to send ({record.last_error}: {record.last_detail})")
        self._changed(subscription_id, retry=True)
        return await self.delivery(subscription_id, delivery_id)

    async def replay(self, subscription_id: str, data: object) -> ReplayRecord:
        record = await self.get(subscription_id)
        request = _replay_request(data, record.subscription.event_types)
        replay = await self.state.create_replay(
            subscription_id,
            since=request.since,
            until=request.until,
            event_types=request.event_types or record.subscription.event_types,
        )
        if replay is None:
            raise NotFound(f"no subscription with id {subscription_id!r}")
        self._changed(subscription_id, replay=True)
        return replay

    async def replays(self, subscription_id: str) -> list[ReplayRecord]:
        await self.get(subscription_id)
        return await self.state.replays(subscription_id)

    async def replay_job(self, subscription_id: str, replay_id: int) -> ReplayRecord:
        replay = await self.state.replay(subscription_id, replay_id)
        if replay is None:
            raise NotFound(f"subscription {subscription_id!r} has no replay {replay_id}")
        return replay


def _replay_request(data: object, subscribed: list[str]) -> ReplayRequest:
    """Validate and normalise a replay request; every problem at once."""
    try:
        request = ReplayRequest.model_validate(data)
    except ValidationError as error:
        raise ReplayError(field_problems(error, ReplayRequest)) from None
    problems: list[FieldProblem] = []
    bounds: dict[str, str | None] = {}
    for name in ("since", "until"):
        value = getattr(request, name)
        try:
            bounds[name] = None if value is None else normalize_timestamp(value)
        except ValueError:
            problems.append(FieldProblem(name, value, "an ISO 8601 timestamp such as '2024-03-05T10:00:00Z'"))
    since, until = bounds.get("since"), bounds.get("until")
    if since is not None and until is not None and until <= since:
        problems.append(FieldProblem("until", request.until, f"must be later than since ({since})"))
    if request.event_types is not None:
        unknown = [name for name in request.event_types if name not in subscribed]
        if unknown or not request.event_types:
            rule = f"not event types of this subscription: {', '.join(unknown)}" if unknown else "at least one event type (or leave it out for all)"
            problems.append(FieldProblem("event_types", request.event_types, rule, tuple(subscribed)))
    if problems:
        raise ReplayError(problems)
    return request.model_copy(update={"since": since, "until": until})
