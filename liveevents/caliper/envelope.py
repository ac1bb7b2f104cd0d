"""The Caliper 1.1 envelope of one Canvas live event (``canvas-to-caliper.md`` §1, §4, §6, §7).

``caliper_envelope(record)`` is the library call. A caller that transforms many events with
the same options (delivery) builds one :class:`CaliperTransformer` and calls
:meth:`~CaliperTransformer.envelope`: the per-event plans are compiled once, so each event
costs one table look-up and the builders of that event, nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Mapping as MappingABC
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from liveevents.caliper.actor import ActorRule, standard_actor
from liveevents.caliper.context import ContextSource, Memberships
from liveevents.caliper.origin import account_url, event_extensions, session
from liveevents.caliper.registry import MAPPINGS, UnmappedEventError
from liveevents.caliper.shapes import ObjectBuilder
from liveevents.caliper.values import canvas_id, iri_safe
from liveevents.caliper.vocabulary import (
    CALIPER_CONTEXT,
    DEFAULT_APP_ID,
    PERSON_ACTOR_TYPES,
    STRICT_DEFAULT_APP_ID,
)
from liveevents.canvas.record import CanvasEvent, RecordError, parse_record
from liveevents.canvas.redaction import redact_url

__all__ = ["CaliperTransformer", "Profile", "caliper_envelope", "format_send_time"]

#: ``canvas``: reproduce Instructure's documented output exactly. ``strict``: where the docs
#: contradict Caliper (T6 group membership extensions, T8 the job edApp), follow Caliper.
Profile = Literal["canvas", "strict"]
_PROFILES = ("canvas", "strict")


class _Plan(NamedTuple):
    caliper_type: str
    action: str
    object: ObjectBuilder
    generated: ObjectBuilder | None
    context: ContextSource
    actor: ActorRule


def _compile_plans(profile: Profile) -> dict[str, _Plan]:
    plans = {}
    for name, mapping in MAPPINGS.items():
        actor = mapping.actor or standard_actor(
            body_actor=mapping.body_actor, person_required=mapping.caliper_type in PERSON_ACTOR_TYPES
        )
        build_object = mapping.strict_object if profile == "strict" and mapping.strict_object else mapping.object
        plans[name] = _Plan(mapping.caliper_type, mapping.action, build_object, mapping.generated, mapping.context, actor)
    return plans


class CaliperTransformer:
    """Turns Canvas events into Caliper envelopes with one fixed set of options.

    ``profile``: ``"canvas"`` (default, Instructure's documented output) or ``"strict"``.
    ``canvas_domain``: the Canvas host (``canvas.example.edu``) named as ``sensor`` of job
    events, which carry no hostname; without it their sensor is the edApp id.
    ``role_map``: extra Canvas context role → Caliper roles entries (``roles.SUGGESTED_ROLE_MAP``).
    ``redact_tokens``: blank ``access_token`` query values in ``request_url`` and ``referrer`` (T19).
    """

    __slots__ = ("_default_app_id", "_job_sensor", "_membership", "_plans", "_redact")

    def __init__(
        self,
        *,
        profile: Profile = "canvas",
        canvas_domain: str | None = None,
        role_map: MappingABC[str, Sequence[str]] | None = None,
        redact_tokens: bool = True,
    ) -> None:
        if profile not in _PROFILES:
            raise ValueError(f"profile {profile!r}: expected one of {', '.join(_PROFILES)}")
        if canvas_domain is not None and (not canvas_domain or "/" in canvas_domain or ":" in canvas_domain):
            raise ValueError(f"canvas_domain {canvas_domain!r}: expected a bare host name such as 'canvas.example.edu'")
        self._plans = _compile_plans(profile)
        self._default_app_id = STRICT_DEFAULT_APP_ID if profile == "strict" else DEFAULT_APP_ID
        self._job_sensor = None if canvas_domain is None else account_url(canvas_domain)
        self._membership = Memberships(role_map)
        self._redact = redact_tokens

    def envelope(self, record: CanvasEvent | object, send_time: datetime | None = None) -> dict[str, Any]:
        """The envelope of one raw record (either shape) or :class:`CanvasEvent`.

        Raises ``RecordError`` for a record that is not a Canvas event (or lacks a field its
        Caliper form needs) and ``UnmappedEventError`` for an event type without a Caliper form.
        """
        event = record if type(record) is CanvasEvent else parse_record(record)
        metadata = event.metadata
        body = event.body
        get = metadata.get
        plan = self._plans.get(metadata["event_name"])
        if plan is None:
            raise UnmappedEventError(event.event_name)
        caliper_type, action, build_object, build_generated, context, actor_rule = plan

        hostname = get("hostname")
        if hostname is not None:
            if type(hostname) is not str or not hostname or not iri_safe(hostname):
                raise RecordError("metadata.hostname", hostname, "the Canvas host name, such as 'canvas.example.edu'")
            app_id = sensor = account_url(hostname)
        else:  # an automated job (§7)
            app_id = self._default_app_id
            sensor = self._job_sensor or app_id
        app = {"id": app_id, "type": "SoftwareApplication"}
        actor, member_id = actor_rule(metadata, body, app_id)

        # Key order as in every documented example (§1).
        caliper: dict[str, Any] = {
            "@context": CALIPER_CONTEXT,
            "id": "urn:uuid:" + event.event_id,
            "type": caliper_type,
            "actor": actor,
            "action": action,
            "object": build_object(body, metadata, actor, app),
            "eventTime": event.event_time,
        }
        if build_generated is not None:
            caliper["generated"] = build_generated(body, metadata, actor, app)
        referrer = get("referrer")
        if type(referrer) is str:  # Caliper types it (an IRI): any other value is left out
            caliper["referrer"] = redact_url(referrer) if self._redact else referrer
        caliper["edApp"] = app
        group, organization = context(metadata, body)
        if group is not None:
            caliper["group"] = group
        if organization is not None and member_id is not None:
            caliper["membership"] = self._membership(organization, member_id, get("context_role"))
        session_id = get("session_id")
        if session_id is not None:
            caliper["session"] = session(canvas_id(session_id, "metadata.session_id"))
        caliper["extensions"] = event_extensions(metadata, self._redact)
        return {"sensor": sensor, "sendTime": format_send_time(send_time), "dataVersion": CALIPER_CONTEXT, "data": [caliper]}


_DEFAULT = CaliperTransformer()


def caliper_envelope(
    record: CanvasEvent | object,
    *,
    send_time: datetime | None = None,
    profile: Profile = "canvas",
    canvas_domain: str | None = None,
    role_map: MappingABC[str, Sequence[str]] | None = None,
    redact_tokens: bool = True,
) -> dict[str, Any]:
    """The IMS Caliper 1.1 envelope Instructure delivers for one raw Canvas live event.

    ``record``: a raw record in either shape (``{"attributes"|"metadata", "body"}``) or a
    :class:`CanvasEvent`. ``send_time``: the envelope's ``sendTime`` (an aware datetime; default
    now). The other options are those of :class:`CaliperTransformer`. ``data[0].id`` is
    ``urn:uuid:`` + the event's deterministic id, so re-deliveries and replays carry the same id.
    """
    if profile == "canvas" and canvas_domain is None and role_map is None and redact_tokens:
        transformer = _DEFAULT
    else:
        frozen_roles = None if role_map is None else tuple((key, tuple(roles)) for key, roles in role_map.items())
        transformer = _transformer(profile, canvas_domain, frozen_roles, redact_tokens)
    return transformer.envelope(record, send_time)


@lru_cache(maxsize=32)
def _transformer(
    profile: Profile, canvas_domain: str | None, role_map: tuple[tuple[str, tuple[str, ...]], ...] | None, redact_tokens: bool
) -> CaliperTransformer:
    return CaliperTransformer(
        profile=profile,
        canvas_domain=canvas_domain,
        role_map=None if role_map is None else dict(role_map),
        redact_tokens=redact_tokens,
    )


_last_now: tuple[int, str] = (-1, "")


def format_send_time(moment: datetime | None) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, truncated to the millisecond) of ``moment``, or of now."""
    global _last_now
    if moment is None:
        millis = time.time_ns() // 1_000_000
        if millis != _last_now[0]:  # formatting is the costly part: once per millisecond at most
            now = datetime.fromtimestamp(millis // 1000, timezone.utc).replace(microsecond=millis % 1000 * 1000)
            _last_now = (millis, _render(now))
        return _last_now[1]
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"send_time {moment!r} has no time zone: give an aware datetime (e.g. datetime.now(timezone.utc))")
    return _render(moment.astimezone(timezone.utc))


def _render(utc: datetime) -> str:
    return utc.isoformat(timespec="milliseconds")[:-6] + "Z"
