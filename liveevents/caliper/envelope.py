"""The Caliper 1.1 envelope of one Canvas live event (``canvas-to-caliper.md`` §1, §4, §6, §7).

``caliper_envelope(record)`` is the library call; ``caliper_envelope_json(record)`` returns
the same envelope as JSON bytes.  A caller that transforms many events with the same options
(delivery) builds one :class:`CaliperTransformer` and calls :meth:`~CaliperTransformer.envelope`
or :meth:`~CaliperTransformer.envelope_json`: a builder per event type is compiled once from the
registry, so each event costs one table look-up and the parts of its own type, nothing else.
``envelope_json`` has the compiled writer (``native.py``) write the bytes where it is built.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingABC
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Literal

import orjson

from liveevents.caliper import native
from liveevents.caliper.actor import standard_actor
from liveevents.caliper.context import Memberships
from liveevents.caliper.origin import SESSION_URN, Origins, account_url, event_extensions
from liveevents.caliper.registry import MAPPINGS, EventMapping, UnmappedEventError
from liveevents.caliper.values import canvas_id
from liveevents.caliper.vocabulary import (
    CALIPER_CONTEXT,
    DEFAULT_APP_ID,
    STRICT_DEFAULT_APP_ID,
)
from liveevents.canvas.record import CanvasEvent, load_record, parse_record
from liveevents.canvas.redaction import TOKEN_PARAMETER, redact_url

__all__ = ["CaliperTransformer", "Profile", "caliper_envelope", "caliper_envelope_json", "format_send_time"]

#: ``canvas``: reproduce Instructure's documented output exactly. ``strict``: where the docs
#: contradict Caliper (T6 group membership extensions, T8 the job edApp), follow Caliper.
Profile = Literal["canvas", "strict"]
_PROFILES = ("canvas", "strict")


#: ``(event, sendTime) -> envelope``: one per event type, compiled by :func:`_compile`.
Builder = Callable[[CanvasEvent, str], dict[str, Any]]


class CaliperTransformer:
    """Turns Canvas events into Caliper envelopes with one fixed set of options.

    ``profile``: ``"canvas"`` (default, Instructure's documented output) or ``"strict"``.
    ``canvas_domain``: the Canvas host (``canvas.example.edu``) named as ``sensor`` of job
    events, which carry no hostname; without it their sensor is the edApp id.
    ``role_map``: extra Canvas context role → Caliper roles entries (``roles.SUGGESTED_ROLE_MAP``).
    ``redact_tokens``: blank ``access_token`` query values in ``request_url`` and ``referrer`` (T19).
    ``compiled``: let :meth:`envelope_json` use the compiled writer when it is built (the
    same bytes; ``False`` runs the Python path only, for comparison).
    """

    __slots__ = ("_builders", "_program")

    def __init__(
        self,
        *,
        profile: Profile = "canvas",
        canvas_domain: str | None = None,
        role_map: MappingABC[str, Sequence[str]] | None = None,
        redact_tokens: bool = True,
        compiled: bool = True,
    ) -> None:
        if profile not in _PROFILES:
            raise ValueError(f"profile {profile!r}: expected one of {', '.join(_PROFILES)}")
        if canvas_domain is not None and (not canvas_domain or "/" in canvas_domain or ":" in canvas_domain):
            raise ValueError(f"canvas_domain {canvas_domain!r}: expected a bare host name such as 'canvas.example.edu'")
        default_app_id = STRICT_DEFAULT_APP_ID if profile == "strict" else DEFAULT_APP_ID
        origins = Origins(default_app_id, default_app_id if canvas_domain is None else account_url(canvas_domain))
        memberships = Memberships(role_map)
        self._builders = {
            name: _compile(mapping, profile, origins, memberships, redact_tokens) for name, mapping in MAPPINGS.items()
        }
        self._program = (
            native.compile_program(strict=profile == "strict", origins=origins, memberships=memberships, redact_tokens=redact_tokens)
            if compiled
            else None
        )

    def envelope(self, record: CanvasEvent | object, send_time: datetime | None = None) -> dict[str, Any]:
        """The envelope of one raw record (either shape) or :class:`CanvasEvent`.

        Raises ``RecordError`` for a record that is not a Canvas event (or lacks a field its
        Caliper form needs) and ``UnmappedEventError`` for an event type without a Caliper form.
        """
        return self._build(record, format_send_time(send_time))

    def envelope_json(self, record: CanvasEvent | bytes | object, send_time: datetime | None = None) -> bytes:
        """:meth:`envelope` as JSON bytes (``orjson.dumps`` of it, byte for byte); ``record`` may
        also be the raw record's JSON bytes (a ``str`` is a decoded value, as for :meth:`envelope`).
        Raises as :meth:`envelope` does (``RecordError`` for bytes that are not JSON)."""
        sent = format_send_time(send_time)
        program = self._program
        if program is not None:
            if type(record) is bytes:
                written = native.render_bytes(program, record, sent)
            elif type(record) is CanvasEvent:
                written = native.render_event(program, record.metadata, record.body, record.known_event_time, record.known_event_id, sent)
            else:
                written = native.render_record(program, record, sent)
            if written is not None:
                return written
        if isinstance(record, (bytes, bytearray, memoryview)):
            record = load_record(record)
        return orjson.dumps(self._build(record, sent))

    def _build(self, record: CanvasEvent | object, send_time: str) -> dict[str, Any]:
        event = record if type(record) is CanvasEvent else parse_record(record)
        build = self._builders.get(event.metadata["event_name"])
        if build is None:
            raise UnmappedEventError(event.event_name)
        return build(event, send_time)


def _compile(mapping: EventMapping, profile: Profile, origins: Origins, memberships: Memberships, redact: bool) -> Builder:
    """The builder of one event type: every decision the registry row fixes is taken here, once,
    so building an event costs only the parts that apply to it."""
    caliper_type, action = mapping.caliper_type, mapping.action
    build_object = mapping.object_in(strict=profile == "strict")
    build_generated = mapping.generated
    context = mapping.context
    actor_rule = mapping.actor or standard_actor(body_actor=mapping.body_actor, person_required=mapping.person_required)
    extensions = event_extensions(redact)
    origin = origins.of

    def build(event: CanvasEvent, send_time: str) -> dict[str, Any]:
        metadata = event.metadata
        body = event.body
        get = metadata.get
        hostname = get("hostname")
        app_id, sensor = origins[hostname] if type(hostname) is str else origin(hostname)
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
            caliper["referrer"] = redact_url(referrer) if redact and TOKEN_PARAMETER in referrer else referrer
        caliper["edApp"] = app
        group, organization = context(metadata, body)
        if group is not None:
            caliper["group"] = group
        if organization is not None and member_id is not None:
            caliper["membership"] = memberships(organization, member_id, get("context_role"))
        session_id = get("session_id")
        if session_id is not None:
            if type(session_id) is not str or not session_id.isalnum():  # hex digits: no call needed
                session_id = canvas_id(session_id, "metadata.session_id")
            caliper["session"] = {"id": SESSION_URN + session_id, "type": "Session"}
        caliper["extensions"] = extensions(metadata)
        return {"sensor": sensor, "sendTime": send_time, "dataVersion": CALIPER_CONTEXT, "data": [caliper]}

    return build


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
    return _transformer_for(profile, canvas_domain, role_map, redact_tokens).envelope(record, send_time)


def caliper_envelope_json(
    record: CanvasEvent | bytes | object,
    *,
    send_time: datetime | None = None,
    profile: Profile = "canvas",
    canvas_domain: str | None = None,
    role_map: MappingABC[str, Sequence[str]] | None = None,
    redact_tokens: bool = True,
) -> bytes:
    """:func:`caliper_envelope` as JSON bytes, byte for byte ``orjson.dumps`` of it; ``record``
    may also be the raw record's JSON bytes.  Where the compiled writer is built, the bytes are
    written directly, at under half the cost (docs/performance.md)."""
    return _transformer_for(profile, canvas_domain, role_map, redact_tokens).envelope_json(record, send_time)


def _transformer_for(
    profile: Profile, canvas_domain: str | None, role_map: MappingABC[str, Sequence[str]] | None, redact_tokens: bool
) -> CaliperTransformer:
    if profile == "canvas" and canvas_domain is None and role_map is None and redact_tokens:
        return _DEFAULT
    frozen_roles = None if role_map is None else tuple((key, tuple(roles)) for key, roles in role_map.items())
    return _transformer(profile, canvas_domain, frozen_roles, redact_tokens)


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


_this_second: tuple[int, str] = (-1, "")
_MILLIS = [f"{millis:03d}Z" for millis in range(1000)]


def format_send_time(moment: datetime | None) -> str:
    """``YYYY-MM-DDTHH:MM:SS.sssZ`` (UTC, truncated to the millisecond) of ``moment``, or of now."""
    global _this_second
    if moment is None:
        second, millis = divmod(time.time_ns() // 1_000_000, 1000)
        if second != _this_second[0]:  # formatting a date costs 20 times the rest: once a second
            _this_second = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
        return _this_second[1] + _MILLIS[millis]
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"send_time {moment!r} has no time zone: give an aware datetime (e.g. datetime.now(timezone.utc))")
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"
