"""Management API, delivery side: subscriptions, their failed and pending deliveries, replays
(admin token).  Typed models, so ``/openapi.json`` documents every body.

Invalid input is answered 422 (400 when the body is not JSON) with every problem at once::

    {"detail": "invalid subscription: 2 problems",
     "problems": [{"field": "event_types", "value": ["loged_in"], "rule": "...", "allowed": [...]}, ...]}

Secrets (``bearer_token``, ``aws_secret_access_key``) are accepted, never returned:
``has_bearer_token`` / ``has_aws_secret_access_key`` say whether one is set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from liveevents.api.auth import require_admin
from liveevents.api.errors import ProblemReport
from liveevents.api.params import MAX_KEY, KeyPath, refuse_nul
from liveevents.delivery.management import NotFound, NothingToSend, ReplayRequest, Subscriptions
from liveevents.delivery.state import Attempt, DeliveryRecord, ReplayRecord, SubscriptionRecord
from liveevents.delivery.subscription import (
    DeliveryMethod,
    FieldProblem,
    JwtBody,
    MessageFormat,
    RetryProfile,
    Subscription,
    SubscriptionError,
)
from liveevents.ingest.body import BodyTooLarge, read_body

__all__ = ["subscriptions_router"]


class SubscriptionView(BaseModel):
    id: str
    name: str
    delivery_method: DeliveryMethod
    format: MessageFormat
    url: str = Field(description="passwords and credential-like query values shown as ****")
    event_types: list[str]
    active: bool
    redact_tokens: bool
    retry_profile: RetryProfile
    notification_url: str | None = None
    jwt_body: JwtBody | None = None
    aws_access_key_id: str | None = None
    aws_region: str | None = None
    sqs_fifo: bool | None = None
    has_bearer_token: bool | None = None
    has_aws_secret_access_key: bool | None = None
    created_at: datetime
    updated_at: datetime
    deactivated_at: datetime | None = None
    deactivated_reason: str | None = None
    delivered: int = Field(description="deliveries that succeeded (first attempts, retries and replays)")
    failed: int = Field(description="deliveries given up on (retries exhausted, or no form in the format)")


class SubscriptionList(BaseModel):
    subscriptions: list[SubscriptionView]


class DeliveryView(BaseModel):
    id: int
    sequence_number: str = Field(description="the event's sequence number in the log")
    event_id: str = Field(description="the JWT jti / Caliper id / webhook-id of the event")
    event_name: str
    origin: Literal["live", "replay"]
    state: Literal["pending", "failed"] = Field(description="pending: will be retried at next_attempt_at; failed: given up")
    attempts: int
    received_at: datetime
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    last_status: int | None = Field(description="the HTTP status of the last attempt, if any")
    last_error: str = Field(description="timeout, connect, network, http_<status>, sqs:<Code>, encoding, ...")
    last_detail: str


class AttemptView(BaseModel):
    attempt: int
    at: datetime
    status: int | None
    error: str | None = Field(description="null: delivered")
    detail: str | None
    elapsed_ms: int


class DeliveryDetail(DeliveryView):
    attempt_log: list[AttemptView]


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryView]
    next_cursor: str | None = Field(description="pass as 'after' for the next page; null at the end")


class ReplayView(BaseModel):
    id: int
    subscription_id: str
    since: str
    until: str | None
    event_types: list[str]
    end_sequence: int = Field(description="events up to here (the newest in the log when requested); later ones come live")
    position: int
    state: Literal["running", "done"]
    delivered: int
    queued: int = Field(description="failed at the first attempt, queued for retries (see deliveries)")
    failed: int
    created_at: datetime
    finished_at: datetime | None


class ReplayList(BaseModel):
    replays: list[ReplayView]


def _input_schema() -> dict[str, Any]:
    schema = Subscription.model_json_schema()
    del schema["properties"]["id"]
    schema["title"] = "SubscriptionInput"
    return schema


# A subscription or a replay request is a few kB (every Canvas event type named: ~5 kB); the
# bound keeps a client from making the service hold (and echo back in a 422) any size of body.
MAX_BODY_BYTES = 1024 * 1024

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": ProblemReport, "description": "The body is not JSON"},
    413: {"description": f"The body is larger than {MAX_BODY_BYTES} bytes"},
    422: {"model": ProblemReport, "description": "Every broken rule: field, value, rule, valid names"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such subscription"}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def subscriptions_router(subscriptions: Subscriptions) -> APIRouter:
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_admin), Depends(refuse_nul)], tags=["subscriptions"])
    response_options: dict[str, Any] = {"response_model_exclude_none": True}

    @router.post(
        "/subscriptions",
        status_code=201,
        response_model=SubscriptionView,
        responses=_PROBLEMS,
        openapi_extra=_body(_input_schema()),
        **response_options,
    )
    async def create_subscription(request: Request) -> Any:
        """Create a subscription; it receives the matching events stored from now on."""
        try:
            return _view(await subscriptions.create(await _json(request)))
        except SubscriptionError as error:
            return _invalid(error)

    @router.get("/subscriptions", response_model=SubscriptionList, **response_options)
    async def list_subscriptions() -> Any:
        return SubscriptionList(subscriptions=[_view(record) for record in await subscriptions.all()])

    @router.get("/subscriptions/{subscription_id}", response_model=SubscriptionView, responses=_NOT_FOUND, **response_options)
    async def get_subscription(subscription_id: str) -> Any:
        return _view(await _found(subscriptions.get(subscription_id)))

    @router.patch(
        "/subscriptions/{subscription_id}",
        response_model=SubscriptionView,
        responses={**_PROBLEMS, **_NOT_FOUND},
        openapi_extra=_body({**_input_schema(), "required": [], "title": "SubscriptionChanges"}),
        **response_options,
    )
    async def update_subscription(subscription_id: str, request: Request) -> Any:
        """Change fields (null clears an optional one).  A changed subscription goes on from its cursor."""
        try:
            return _view(await _found(subscriptions.update(subscription_id, await _json(request))))
        except SubscriptionError as error:
            return _invalid(error)

    @router.delete("/subscriptions/{subscription_id}", status_code=204, responses=_NOT_FOUND)
    async def delete_subscription(subscription_id: str) -> Response:
        """Delete the subscription with its pending and failed deliveries and replays."""
        await _found(subscriptions.delete(subscription_id))
        return Response(status_code=204)

    @router.post("/subscriptions/{subscription_id}/activate", response_model=SubscriptionView, responses=_NOT_FOUND, **response_options)
    async def activate_subscription(subscription_id: str) -> Any:
        """Deliver again, from where it stopped: nothing is skipped."""
        return _view(await _found(subscriptions.set_active(subscription_id, True)))

    @router.post("/subscriptions/{subscription_id}/deactivate", response_model=SubscriptionView, responses=_NOT_FOUND, **response_options)
    async def deactivate_subscription(subscription_id: str) -> Any:
        """Stop delivering; events keep arriving in the log and wait for the activation."""
        return _view(await _found(subscriptions.set_active(subscription_id, False)))

    @router.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveryPage, responses=_NOT_FOUND)
    async def list_deliveries(
        subscription_id: str,
        state: Annotated[Literal["pending", "failed"] | None, Query(description="pending (retried later) or failed (given up); default both")] = None,
        after: Annotated[int, Query(ge=0, le=MAX_KEY, description="cursor: delivery ids greater than this")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> DeliveryPage:
        """Deliveries that did not succeed at their first attempt, with their last status and error."""
        records = await _found(subscriptions.deliveries(subscription_id, state=state, after=after, limit=limit))
        next_cursor = str(records[-1].id) if len(records) == limit else None
        return DeliveryPage(deliveries=[_delivery(record) for record in records], next_cursor=next_cursor)

    @router.get("/subscriptions/{subscription_id}/deliveries/{delivery_id}", response_model=DeliveryDetail, responses=_NOT_FOUND)
    async def get_delivery(subscription_id: str, delivery_id: KeyPath) -> DeliveryDetail:
        """One delivery with the log of its attempts."""
        return _delivery_detail(*await _found(subscriptions.delivery(subscription_id, delivery_id)))

    @router.post(
        "/subscriptions/{subscription_id}/deliveries/{delivery_id}/retry",
        response_model=DeliveryDetail,
        responses={**_NOT_FOUND, 409: {"description": "Nothing to send (the event has no form in the format, or retention purged it)"}},
    )
    async def retry_delivery(subscription_id: str, delivery_id: KeyPath) -> DeliveryDetail:
        """Send a pending or failed delivery again now (the same bytes)."""
        try:
            return _delivery_detail(*await _found(subscriptions.retry(subscription_id, delivery_id)))
        except NothingToSend as error:
            raise HTTPException(status_code=409, detail=str(error)) from None

    @router.post(
        "/subscriptions/{subscription_id}/replay",
        status_code=202,
        response_model=ReplayView,
        responses={**_PROBLEMS, **_NOT_FOUND},
        openapi_extra=_body(ReplayRequest.model_json_schema()),
    )
    async def replay(subscription_id: str, request: Request) -> Any:
        """Re-deliver retained events (same ids: JWT jti, Caliper id) without moving the live cursor."""
        try:
            return _replay(await _found(subscriptions.replay(subscription_id, await _json(request))))
        except SubscriptionError as error:
            return _invalid(error)

    @router.get("/subscriptions/{subscription_id}/replays", response_model=ReplayList, responses=_NOT_FOUND)
    async def list_replays(subscription_id: str) -> ReplayList:
        return ReplayList(replays=[_replay(replay) for replay in await _found(subscriptions.replays(subscription_id))])

    @router.get("/subscriptions/{subscription_id}/replays/{replay_id}", response_model=ReplayView, responses=_NOT_FOUND)
    async def get_replay(subscription_id: str, replay_id: KeyPath) -> ReplayView:
        return _replay(await _found(subscriptions.replay_job(subscription_id, replay_id)))

    return router


async def _json(request: Request) -> Any:
    try:
        body = await read_body(request, MAX_BODY_BYTES)
    except BodyTooLarge as error:
        raise HTTPException(status_code=413, detail=str(error)) from None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise _NotJson(str(error)) from None


class _NotJson(SubscriptionError):
    """The body is not JSON (answered 400)."""

    subject = "body"

    def __init__(self, reason: str) -> None:
        super().__init__([FieldProblem("", None, f"a JSON object ({reason})")])


def _invalid(error: SubscriptionError) -> JSONResponse:
    count = len(error.problems)
    return JSONResponse(
        status_code=400 if isinstance(error, _NotJson) else 422,
        content={"detail": f"invalid {error.subject}: {count} problem{'s' if count != 1 else ''}", "problems": error.as_dict()["problems"]},
    )


async def _found(operation: Any) -> Any:
    try:
        return await operation
    except NotFound as error:
        raise HTTPException(status_code=404, detail=str(error)) from None


def _view(record: SubscriptionRecord) -> SubscriptionView:
    return SubscriptionView(
        **record.subscription.public(),
        created_at=record.created_at,
        updated_at=record.updated_at,
        deactivated_at=record.deactivated_at,
        deactivated_reason=record.deactivated_reason,
        delivered=record.delivered,
        failed=record.failed,
    )


def _delivery(record: DeliveryRecord) -> DeliveryView:
    fields = {name: getattr(record, name) for name in DeliveryView.model_fields if name != "sequence_number"}
    return DeliveryView(sequence_number=str(record.sequence), **fields)


def _delivery_detail(record: DeliveryRecord, attempts: list[Attempt]) -> DeliveryDetail:
    view = _delivery(record)
    return DeliveryDetail(**view.model_dump(), attempt_log=[AttemptView(**_fields(attempt)) for attempt in attempts])


def _replay(record: ReplayRecord) -> ReplayView:
    return ReplayView(**_fields(record))


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}
