"""The one generic walker that applies the model, profile and vocabulary tables to a document.

Hot path: one dict lookup per node (its ``NodeSpec``) and per property (its ``Kind``), dispatch
on ``Kind.code`` through a dict of methods, precompiled patterns, JSON Pointers built only for
nodes and for findings.  Nothing is allocated per call beyond the findings and an id index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from liveevents.caliper.validation.contexts import UNSUPPORTED, Scope, check_context
from liveevents.caliper.validation.formats import IRI, is_datetime, is_duration, is_urn_uuid, is_uuid_v4
from liveevents.caliper.validation.kinds import Kind
from liveevents.caliper.validation.model import NODE_SPECS, NodeSpec
from liveevents.caliper.validation.problem import Problem, pointer, show
from liveevents.caliper.validation.profiles import EVENT_PROFILES, NOT_APPLICABLE, EventProfile
from liveevents.caliper.validation.rules import DEVIATIONS, RULES
from liveevents.caliper.validation.vocabulary import ACTION_SPELLINGS, ACTIONS, CALIPER_V1P1, SUB_ROLES

__all__ = ["Walk"]

_ENVELOPE_KEYS: Final = ("sensor", "sendTime", "dataVersion", "data")
_EVENT_HINTS: Final = ("actor", "action", "eventTime")
_SLOT_RULES: Final = {slot: f"event.{slot}.type-not-allowed" for slot in ("actor", "object", "generated", "target", "referrer")}
_CANVAS_DEFAULT_APP: Final = "www.canvaslms.com"  # C9
_EVENT_SPEC: Final = NODE_SPECS["Event"]
_is_iri: Final = IRI.fullmatch
_EVENT_PROFILE: Final = EVENT_PROFILES["Event"]


def _expected_types(types: frozenset[str]) -> str:
    return " | ".join(sorted(types)) + " (or a subtype), or an IRI"


class Walk:
    """One validation run: collects findings for one document in one mode."""

    __slots__ = ("problems", "canvas", "ids", "event")

    def __init__(self, *, canvas: bool) -> None:
        self.problems: list[Problem] = []
        self.canvas = canvas
        # entity id -> type of its first occurrence (C7/C8: one id naming unrelated types)
        self.ids: dict[str, str] = {}
        # (event type, profile, slot types for its action) while inside an event
        self.event: tuple[str, EventProfile, Mapping[str, frozenset[str]]] = ("Event", _EVENT_PROFILE, _EVENT_PROFILE.slots)

    def report(self, rule: str, path: str, message: str, deviation: str | None = None) -> None:
        severity = RULES[rule].severity
        if deviation is not None:
            if self.canvas:
                severity = "warning"
                message = f"{message} [{deviation}: {DEVIATIONS[deviation]}; tolerated in canvas mode]"
            else:
                message = f"{message} [{deviation}: {DEVIATIONS[deviation]}; a warning in canvas mode]"
        self.problems.append(Problem(path, rule, message, severity))

    def wrong_kind(self, value: Any, expected: str, parent: str, key: str) -> None:
        """``parent/key`` holds a JSON value of the wrong kind (say, a number where a string belongs)."""
        self.report("property.kind", f"{parent}/{key}", f"{key!r} is {show(value)}; expected {expected}")

    # -- documents ---------------------------------------------------------------------------

    def document(self, document: Any) -> None:
        if not isinstance(document, dict):
            self.report("document.kind", "", f"the document is {show(document)}; expected an envelope, event or entity object")
        elif "type" not in document and any(key in document for key in _ENVELOPE_KEYS):
            self.envelope(document)
        else:
            self.describe(document, "")

    def envelope(self, envelope: dict[str, Any]) -> None:
        for key in envelope:
            if key not in _ENVELOPE_KEYS:
                self.report(
                    "envelope.key.unknown",
                    pointer("", key),
                    f"envelope key {key!r} is not allowed (expected only sensor, sendTime, dataVersion, data)",
                )
        for key in _ENVELOPE_KEYS:
            if envelope.get(key) is None:
                state = "is null" if key in envelope else "is missing"
                self.report("envelope.key.missing", pointer("", key), f"envelope {key!r} {state}")
        sensor = envelope.get("sensor")
        if sensor is not None:
            if not isinstance(sensor, str):
                self.report("property.kind", "/sensor", f"sensor is {show(sensor)}; expected a string (an IRI)")
            elif _is_iri(sensor) is None:
                self.report("envelope.sensor.not-iri", "/sensor", f"sensor {show(sensor)} is not an absolute IRI (SHOULD be)")
        send_time = envelope.get("sendTime")
        if send_time is not None:
            self.datetime(send_time, None, "", "sendTime", None)
        version = envelope.get("dataVersion")
        if version is not None and version != CALIPER_V1P1:
            self.report(
                "envelope.dataVersion.unsupported",
                "/dataVersion",
                f"dataVersion {show(version)} is not supported; expected {CALIPER_V1P1!r}",
            )
        data = envelope.get("data")
        if data is None:
            return
        if not isinstance(data, list):
            self.report("property.kind", "/data", f"data is {show(data)}; expected an array of events and entities")
            return
        if not data:
            self.report("envelope.data.empty", "/data", "data is an empty array; expected one or more events or entities")
        for index, item in enumerate(data):
            path = f"/data/{index}"
            if isinstance(item, dict):
                self.describe(item, path)
            else:
                self.report("envelope.data.item-kind", path, f"data item is {show(item)}; expected an event or entity object")

    def describe(self, node: dict[str, Any], path: str) -> None:
        """A top-level event or entity: it carries its own ``@context``."""
        if "@context" in node:
            scope = check_context(node["@context"], f"{path}/@context", self.report, nested=False, inherited=None)
            if scope is UNSUPPORTED:
                return
        else:
            self.report("context.missing", f"{path}/@context", f"@context is missing; expected {CALIPER_V1P1!r}")
            scope = None
        type_name = node.get("type")
        spec = NODE_SPECS.get(type_name) if isinstance(type_name, str) else None
        if spec.is_event if spec is not None else any(key in node for key in _EVENT_HINTS):
            self.event_node(node, path, scope)
        else:
            self.entity_node(node, path, scope, None, "", None)

    # -- nodes -------------------------------------------------------------------------------

    def resolve(self, node: dict[str, Any], path: str, scope: Scope | None, *, entity: bool) -> NodeSpec | None:
        """The spec of the node's ``type``, or ``None`` (reported) when it cannot be checked."""
        type_name = node.get("type")
        type_path = f"{path}/type"
        if type_name is None:
            state = "is null" if "type" in node else "is missing"
            self.report("property.required", type_path, f"type {state}; expected a Caliper type Term")
            return None
        if not isinstance(type_name, str):
            self.report("property.kind", type_path, f"type is {show(type_name)}; expected a type Term string")
            return None
        spec = NODE_SPECS.get(type_name)
        if spec is None:
            if scope is not None and scope.defines(type_name):
                self.report(
                    "type.external",
                    type_path,
                    f"type {type_name!r} is not a Caliper 1.1 term; assumed defined by {scope.describe()} (its properties are not checked)",
                )
            else:
                self.report("type.unknown", type_path, f"type {type_name!r} is not a Caliper 1.1 type Term")
            return None
        if entity and spec.is_event:
            self.report("type.not-entity", type_path, f"type {type_name!r} is an event type; expected an entity")
            return None
        if spec.retired:
            self.report("type.retired", type_path, f"type {type_name!r} is not a term of the Caliper 1.1 context", "I9")
        return spec

    def event_node(self, node: dict[str, Any], path: str, scope: Scope | None) -> None:
        spec = self.resolve(node, path, scope, entity=False) or _EVENT_SPEC
        type_name = spec.name
        profile = EVENT_PROFILES[type_name]
        action = self.action(node.get("action"), f"{path}/action", type_name, profile)
        slots = profile.by_action.get(action, profile.slots) if action is not None else profile.slots
        self.event = (type_name, profile, slots)
        self.properties(node, path, spec, scope)
        for name in spec.required:
            if node.get(name) is None:
                self.missing(node, path, spec, name)
        if action is None:
            return
        for name, actions in profile.recommended.items():
            if action in actions and node.get(name) is None:
                self.report(
                    "event.property.recommended",
                    f"{path}/{name}",
                    f"{type_name} {action} has no {name!r} (SHOULD be given)",
                )
        for slot, (entity_type, names) in profile.recommended_in.items():
            value = node.get(slot)
            slot_type = value.get("type") if isinstance(value, dict) else None
            spec_in_slot = NODE_SPECS.get(slot_type) if isinstance(slot_type, str) else None
            if spec_in_slot is not None and entity_type in spec_in_slot.ancestors:
                for name in names:
                    if value.get(name) is None:  # type: ignore[union-attr]
                        self.report(
                            "event.entity.incomplete",
                            f"{path}/{slot}/{name}",
                            f"the {spec_in_slot.name} {slot} by {type_name} has no {name!r} (SHOULD be given)",
                        )

    def entity_node(
        self,
        node: dict[str, Any],
        path: str,
        scope: Scope | None,
        allowed: frozenset[str] | None,
        type_rule: str,
        tolerated: Mapping[str, str] | None,
        owner: str = "",
    ) -> None:
        """An entity (or selector) object; ``allowed`` types (subtypes too) when the slot limits them
        (``owner``: the event slot whose profile sets the limit, for the message)."""
        if "@context" in node:
            scope = check_context(node["@context"], f"{path}/@context", self.report, nested=True, inherited=scope)
            if scope is UNSUPPORTED:
                return
        type_name = node.get("type")
        spec = NODE_SPECS.get(type_name) if type_name.__class__ is str else None
        if spec is None or spec.is_event or spec.retired:
            spec = self.resolve(node, path, scope, entity=True)
        identifier = node.get("id")
        if identifier.__class__ is str:
            if _is_iri(identifier) is None:
                self.report(
                    "id.not-iri",
                    f"{path}/id",
                    f"id {show(identifier)} is not an absolute IRI (expected a scheme such as https: or urn:, or a _: blank node)",
                    "C9" if identifier == _CANVAS_DEFAULT_APP else None,
                )
            if spec is not None:
                first = self.ids.setdefault(identifier, spec.name)
                if first != spec.name and first not in spec.ancestors and spec.name not in NODE_SPECS[first].ancestors:
                    self.report(
                        "id.reused",
                        f"{path}/id",
                        f"id {show(identifier)} is used for both {first} and {spec.name}; an id identifies one resource",
                    )
        elif identifier is not None:
            self.report("property.kind", f"{path}/id", f"id is {show(identifier)}; expected an IRI string")
        if spec is None:
            return
        if allowed is not None and spec.ancestors.isdisjoint(allowed):
            self.report(
                type_rule,
                f"{path}/type",
                f"type {spec.name!r} is not allowed {'as the ' + owner if owner else 'here'}; expected {_expected_types(allowed)}",
                tolerated.get(spec.name) if tolerated is not None else None,
            )
        self.properties(node, path, spec, scope)
        for name in spec.required:
            if node.get(name) is None:
                self.missing(node, path, spec, name)

    def missing(self, node: dict[str, Any], path: str, spec: NodeSpec, name: str) -> None:
        state = "is null" if name in node else "is missing"
        self.report("property.required", f"{path}/{name}", f"{spec.name} property {name!r} {state}")

    def properties(self, node: dict[str, Any], path: str, spec: NodeSpec, scope: Scope | None) -> None:
        kinds = spec.properties
        for key, value in node.items():
            kind = kinds.get(key)
            if kind is None:
                self.unknown(key, path, spec, scope)
                continue
            code = kind.code
            if code == "handled" or code == "action":
                continue
            if value is None or (not value and isinstance(value, (str, list, dict))):
                if not (value is None and key in spec.required):
                    self.report("property.empty", f"{path}/{key}", f"{key!r} is {show(value)}; null or empty values SHOULD be omitted")
                continue
            _CHECKS[code](self, value, kind, path, key, scope)

    def unknown(self, key: str, path: str, spec: NodeSpec, scope: Scope | None) -> None:
        key_path = pointer(path, key)
        if key in spec.deprecated:
            self.report("property.deprecated", key_path, f"{spec.name} property {key!r} is deprecated and MUST NOT be used")
        elif key in spec.canvas_properties:
            self.report("property.unknown", key_path, f"{key!r} is not a property of {spec.name}", "C6")
        elif isinstance(key, str) and key.startswith("@"):
            self.report("property.keyword", key_path, f"JSON-LD keyword {key!r} is not allowed here (Caliper 1.1 uses 'id' and 'type')")
        elif scope is not None and scope.defines(key):
            self.report("property.external", key_path, f"{key!r} is not a Caliper term; assumed defined by {scope.describe()} (not checked)")
        else:
            self.report(
                "property.unknown",
                key_path,
                f"{key!r} is not a property of {spec.name} (custom properties belong in 'extensions')",
            )

    def action(self, action: Any, path: str, type_name: str, profile: EventProfile) -> str | None:
        """Check ``action``; return the App. A Term it stands for when the type allows it."""
        if action is None:
            return None  # reported with the other missing required properties
        if not isinstance(action, str):
            self.report("property.kind", path, f"action is {show(action)}; expected an action Term string")
            return None
        if action in profile.actions:
            return action
        if action in profile.deprecated_actions:
            self.report("event.action.deprecated", path, f"action {action!r} is deprecated for {type_name} (SHOULD NOT be used)")
            return action
        allowed = ", ".join(sorted(profile.actions))
        tolerated = profile.canvas.get("action", {}).get(action)
        if tolerated is not None:
            self.report("event.action.not-allowed", path, f"action {action!r} is not allowed for {type_name} (expected one of {allowed})", tolerated)
            return action
        spelling = ACTION_SPELLINGS.get(action)
        term = action
        if spelling is not None:
            term, deviation = spelling
            if term in profile.actions or term in profile.deprecated_actions:
                rule = "event.action.misspelled" if deviation is not None else "event.action.context-spelling"
                self.report(rule, path, f"action {action!r} is spelled {term!r} in App. A", deviation)
                return term
        if term in ACTIONS:
            self.report("event.action.not-allowed", path, f"action {action!r} is not allowed for {type_name} (expected one of {allowed})")
        else:
            self.report("event.action.unknown", path, f"action {show(action)} is not an App. A action Term")
        return None

    # -- values, dispatched on Kind.code (same signature: value, kind, parent path, key, scope) --

    def slot(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        type_name, profile, slots = self.event
        path = f"{parent}/{key}"
        allowed: frozenset[str] | None = slots[key]
        if allowed is NOT_APPLICABLE:
            self.report(
                f"event.{key}.not-applicable",
                path,
                f"{type_name} has no {key!r} (not applicable)",
                profile.canvas.get(key, {}).get("*"),
            )
            allowed = None
        if isinstance(value, str):
            self.iri(value, path)
        elif isinstance(value, dict):
            self.entity_node(
                value,
                path,
                scope,
                allowed,
                _SLOT_RULES[key],
                profile.canvas.get(key),
                f"{type_name} {key}",
            )
        else:
            self.wrong_kind(value, "an entity object or an IRI", parent, key)

    def entity(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        path = f"{parent}/{key}"
        if isinstance(value, str):
            self.iri(value, path)
        elif isinstance(value, dict):
            self.entity_node(value, path, scope, kind.types, "property.type-not-allowed", None)
        else:
            self.wrong_kind(value, kind.expected, parent, key)

    def entity_list(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, list):
            self.wrong_kind(value, kind.expected, parent, key)
            return
        path = f"{parent}/{key}"
        for index, item in enumerate(value):
            self.entity(item, kind, path, index, scope)  # type: ignore[arg-type]

    def node(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if isinstance(value, dict):
            self.entity_node(value, f"{parent}/{key}", scope, kind.types, "property.type-not-allowed", None)
        else:
            self.wrong_kind(value, kind.expected, parent, key)

    def iri(self, value: str, path: str) -> None:
        if _is_iri(value) is None:
            self.report(
                "id.not-iri",
                path,
                f"reference {show(value)} is not an absolute IRI (expected an entity object or an IRI with a scheme)",
                "C9" if value == _CANVAS_DEFAULT_APP else None,
            )

    def string(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, str):
            self.wrong_kind(value, kind.expected, parent, key)

    def string_list(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, list):
            self.wrong_kind(value, kind.expected, parent, key)
            return
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.report("property.kind", f"{parent}/{key}/{index}", f"{key!r} item is {show(item)}; expected a string")

    def datetime(self, value: Any, kind: Kind | None, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, str):
            self.wrong_kind(value, "a DateTime string", parent, key)
        elif not is_datetime(value):
            self.report(
                "datetime.format",
                f"{parent}/{key}",
                f"{key!r} {show(value)} is not a UTC DateTime with milliseconds (expected YYYY-MM-DDTHH:mm:ss.SSSZ)",
            )

    def duration(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, str):
            self.wrong_kind(value, kind.expected, parent, key)
        elif not is_duration(value):
            self.report("duration.format", f"{parent}/{key}", f"{key!r} {show(value)} is not {kind.expected}")

    def integer(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if type(value) is not int:
            self.wrong_kind(value, kind.expected, parent, key)
        elif kind.minimum is not None and value < kind.minimum:
            self.report("property.range", f"{parent}/{key}", f"{key!r} is {value}; expected {kind.expected}")

    def decimal(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if type(value) is not int and type(value) is not float:
            self.wrong_kind(value, kind.expected, parent, key)

    def boolean(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if type(value) is not bool:
            self.wrong_kind(value, kind.expected, parent, key)

    def object(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, dict):
            self.wrong_kind(value, kind.expected, parent, key)

    def term(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, str):
            self.wrong_kind(value, kind.expected, parent, key)
        elif value not in kind.vocabulary:
            self.report(kind.rule, f"{parent}/{key}", f"{key!r} {show(value)} is not {kind.expected}")

    def roles(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        path = f"{parent}/{key}"
        if not isinstance(value, list):
            self.wrong_kind(value, kind.expected, parent, key)
            return
        for index, role in enumerate(value):
            if not isinstance(role, str) or role not in kind.vocabulary:
                self.report(kind.rule, f"{path}/{index}", f"role {show(role)} is not a membership role Term (App. E)")
                continue
            context = SUB_ROLES.get(role)
            if context is not None and context not in value:
                self.report(
                    "membership.role.context-missing",
                    f"{path}/{index}",
                    f"sub-role {role!r} is given without its context role {context!r} (SHOULD be given too)",
                )

    def event_id(self, value: Any, kind: Kind, parent: str, key: str, scope: Scope | None) -> None:
        if not isinstance(value, str) or not is_urn_uuid(value):
            self.report("event.id.format", f"{parent}/{key}", f"event id {show(value)} is not a urn:uuid: URN (expected urn:uuid:<RFC 4122 UUID>)")
        elif not is_uuid_v4(value):
            self.report("event.id.not-v4", f"{parent}/{key}", f"event id {value!r} is not a version-4 UUID (SHOULD be)")


_Check = Callable[[Walk, Any, Kind, str, str, "Scope | None"], None]

_CHECKS: Final[dict[str, _Check]] = {
    "slot": Walk.slot,
    "entity": Walk.entity,
    "entity-list": Walk.entity_list,
    "node": Walk.node,
    "string": Walk.string,
    "string-list": Walk.string_list,
    "datetime": Walk.datetime,  # type: ignore[dict-item]
    "duration": Walk.duration,
    "integer": Walk.integer,
    "decimal": Walk.decimal,
    "boolean": Walk.boolean,
    "object": Walk.object,
    "term": Walk.term,
    "roles": Walk.roles,
    "event-id": Walk.event_id,
}
