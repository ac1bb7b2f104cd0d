"""What is sent for one (event, subscription): the bytes, made once and resent unchanged.

:class:`PayloadEncoder` renders the event in the subscription's format (Canvas or Caliper),
then encodes it for the delivery method:

======================  =====================================  ====================
delivery / jwt_body     body                                   Content-Type
======================  =====================================  ====================
https, ``raw``          the compact JWS                        application/jwt
https, ``quoted``       the JWS as a JSON string ``"eyJ…"``    application/json
https, ``unsigned``     the message JSON                       application/json
sqs                     the message JSON                       application/json
caliper                 the envelope JSON                      application/json
======================  =====================================  ====================

A :class:`Payload` is plain data (bytes and strings) so the store can keep it with the
delivery and every retry sends identical bytes: identical JWT ``jti``/``iat`` and signature,
identical Caliper ``sendTime`` (``delivery.md`` §4.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from liveevents.caliper.envelope import CaliperTransformer, Profile
from liveevents.canvas.message import canvas_message
from liveevents.canvas.record import CanvasEvent
from liveevents.delivery.signing import Signer
from liveevents.delivery.subscription import Subscription

__all__ = ["EncodingError", "Payload", "PayloadEncoder"]

JSON = "application/json"
JWT = "application/jwt"


@dataclass(frozen=True, slots=True)
class Payload:
    """One encoded message: ``body`` with its ``content_type``.

    ``event_id`` goes out beside the body (``webhook-id`` header, SQS FIFO deduplication id);
    ``partition_key`` (the event's ``user_id``, else its id) is the FIFO ``MessageGroupId``.
    """

    event_id: str
    body: bytes
    content_type: str
    partition_key: str


class EncodingError(ValueError):
    """The event has no form in the subscription's format (e.g. a Caliper field it lacks).

    Retrying cannot help: the delivery fails permanently with this message.
    """


class PayloadEncoder:
    """Renders and encodes events for subscriptions; build one per service and reuse it.

    ``caliper_profile`` and ``canvas_domain`` are the service-wide Caliper options
    (:class:`~liveevents.caliper.envelope.CaliperTransformer`); ``redact_tokens`` comes from
    each subscription.
    """

    def __init__(self, signer: Signer, *, caliper_profile: Profile = "canvas", canvas_domain: str | None = None) -> None:
        self.signer = signer
        self._caliper = {
            redact: CaliperTransformer(profile=caliper_profile, canvas_domain=canvas_domain, redact_tokens=redact)
            for redact in (True, False)
        }

    def message(self, event: CanvasEvent, subscription: Subscription, *, now: datetime) -> dict[str, Any]:
        """The event in the subscription's format (``now`` is the Caliper ``sendTime``)."""
        try:
            if subscription.format == "caliper":
                return self._caliper[subscription.redact_tokens].envelope(event, now)
            return canvas_message(event, redact_tokens=subscription.redact_tokens)
        except ValueError as error:  # RecordError, UnmappedEventError: facts of the event
            raise EncodingError(f"{event.event_name} event has no {subscription.format} form: {error}") from error

    def encode(self, event: CanvasEvent, subscription: Subscription, *, now: datetime) -> Payload:
        """The payload of ``event`` for ``subscription``, signed now if the subscription wants a JWT."""
        event_id = event.event_id
        message = self.message(event, subscription, now=now)
        body, content_type = self._body(message, subscription, event_id=event_id, now=now)
        user_id = event.metadata.get("user_id")
        return Payload(event_id, body, content_type, str(user_id) if user_id not in (None, "") else event_id)

    def _body(self, message: dict[str, Any], subscription: Subscription, *, event_id: str, now: datetime) -> tuple[bytes, str]:
        if subscription.delivery_method != "https" or subscription.jwt_body == "unsigned":
            return orjson.dumps(message), JSON
        token = self.signer.sign(message, event_id=event_id, issued_at=int(now.timestamp()))
        if subscription.jwt_body == "quoted":
            return b'"' + token + b'"', JSON
        return token, JWT
