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
identical Caliper ``sendTime`` (``delivery.md`` §4.2).  One exception: a JWT whose key has been
rotated out of the published set is signed again with the current key before it is retried
(:meth:`PayloadEncoder.for_retry`): same claims, byte for byte; new header and signature.

What a payload depends on besides the event is its :class:`Variant` (format, token redaction,
signed or not): subscriptions of one variant can share one rendered and signed payload per
event (:meth:`PayloadEncoder.render`), each then taking its own form of it (:meth:`PayloadEncoder.adapt`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import orjson

from liveevents.caliper.envelope import CaliperTransformer, Profile
from liveevents.canvas.message import canvas_message
from liveevents.canvas.record import CanvasEvent
from liveevents.delivery.signing import Signer
from liveevents.delivery.subscription import MessageFormat, Subscription

__all__ = ["EncodingError", "Payload", "PayloadEncoder", "Variant"]

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


@dataclass(frozen=True, slots=True)
class Variant:
    """What a subscription's payloads depend on besides the event."""

    format: MessageFormat
    redact_tokens: bool
    signed: bool  # a JWT (https with jwt_body raw or quoted), else the message JSON

    @classmethod
    def of(cls, subscription: Subscription) -> Variant:
        signed = subscription.delivery_method == "https" and subscription.jwt_body != "unsigned"
        return cls(subscription.format, subscription.redact_tokens, signed)


class EncodingError(ValueError):
    """The event has no form in the subscription's format (e.g. a Caliper field it lacks).

    Retrying cannot help: the delivery fails permanently with this message.  ``event_id`` is
    the event's id ('' when the stored record cannot even be read).
    """

    def __init__(self, message: str, *, event_id: str = "") -> None:
        super().__init__(message)
        self.event_id = event_id


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

    def message(self, event: CanvasEvent, variant: Variant, *, now: datetime) -> dict[str, Any]:
        """The event in the variant's format (``now`` is the Caliper ``sendTime``)."""
        try:
            if variant.format == "caliper":
                return self._caliper[variant.redact_tokens].envelope(event, now)
            return canvas_message(event, redact_tokens=variant.redact_tokens)
        except ValueError as error:  # RecordError, UnmappedEventError: facts of the event
            raise _no_form(event, variant, error) from error

    def message_json(self, event: CanvasEvent, variant: Variant, *, now: datetime) -> bytes:
        """:meth:`message` as JSON bytes (a Caliper envelope written by the compiled writer where it is built)."""
        try:
            if variant.format == "caliper":
                return self._caliper[variant.redact_tokens].envelope_json(event, now)
            return orjson.dumps(canvas_message(event, redact_tokens=variant.redact_tokens))
        except ValueError as error:
            raise _no_form(event, variant, error) from error

    def encode(self, event: CanvasEvent, subscription: Subscription, *, now: datetime) -> Payload:
        """The payload of ``event`` for ``subscription``, signed now if the subscription wants a JWT."""
        return self.adapt(self.render(event, Variant.of(subscription), now=now), subscription)

    def render(self, event: CanvasEvent, variant: Variant, *, now: datetime) -> Payload:
        """The payload every subscription of ``variant`` can send: the compact JWS
        (``application/jwt``) when signed, else the message JSON."""
        event_id = event.event_id
        if variant.signed:
            message = self.message(event, variant, now=now)
            body, content_type = self.signer.sign(message, event_id=event_id, issued_at=int(now.timestamp())), JWT
        else:
            body, content_type = self.message_json(event, variant, now=now), JSON
        user_id = event.metadata.get("user_id")
        return Payload(event_id, body, content_type, str(user_id) if user_id not in (None, "") else event_id)

    def for_retry(self, payload: Payload) -> Payload:
        """A stored payload as it is sent again: a JWT (raw or quoted) signed by a key no longer
        published gets the current key's header and signature over the same claims."""
        quoted = payload.content_type == JSON and payload.body[:1] == b'"'  # a message JSON is an object
        if payload.content_type != JWT and not quoted:
            return payload
        fresh = self.signer.published_again(payload.body[1:-1] if quoted else payload.body)
        if fresh is None:
            return payload
        return replace(payload, body=b'"' + fresh + b'"' if quoted else fresh)

    @staticmethod
    def adapt(payload: Payload, subscription: Subscription) -> Payload:
        """``subscription``'s form of a rendered payload: the JWT as a JSON string for ``quoted``."""
        if subscription.jwt_body == "quoted" and payload.content_type == JWT:
            return replace(payload, body=b'"' + payload.body + b'"', content_type=JSON)
        return payload


def _no_form(event: CanvasEvent, variant: Variant, error: ValueError) -> EncodingError:
    return EncodingError(f"{event.event_name} event has no {variant.format} form: {error}", event_id=event.event_id)
