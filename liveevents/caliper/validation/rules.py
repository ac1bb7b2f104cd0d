"""The rule catalogue: every rule id the validator reports, its severity and what it checks.

Rule ids are stable (tests, users' filters and the CLI's JSON output rely on them).  A rule's
severity is fixed, except where a finding is tagged with a deviation from ``DEVIATIONS``: such a
finding is an error in strict mode and a warning in canvas mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

__all__ = ["DEVIATIONS", "MODES", "RULES", "Rule"]

MODES: Final = ("strict", "canvas")


@dataclass(frozen=True, slots=True)
class Rule:
    severity: Literal["error", "warning"]
    summary: str


_E, _W = "error", "warning"

RULES: Final = MappingProxyType({
    # JSON text (validate_caliper_json only)
    "json.syntax": Rule(_E, "the input is not well-formed JSON"),
    "json.key.duplicate": Rule(_E, "an object repeats a key (SPEC §2.1, §2.2, §5.2: each property once)"),
    # document
    "document.kind": Rule(_E, "the document is not a JSON object (an envelope, event or entity)"),
    "document.depth": Rule(_E, "the document nests deeper than the validator follows (Python's recursion limit)"),
    # envelope (SPEC §5.2)
    "envelope.key.missing": Rule(_E, "sensor, sendTime, dataVersion or data is missing"),
    "envelope.key.unknown": Rule(_E, "a key other than sensor, sendTime, dataVersion, data (no custom properties)"),
    "envelope.sensor.not-iri": Rule(_W, "sensor SHOULD be an IRI"),
    "envelope.dataVersion.unsupported": Rule(_E, "dataVersion is not http://purl.imsglobal.org/ctx/caliper/v1p1 (an endpoint answers 422)"),
    "envelope.data.empty": Rule(_E, "data holds no describe (SPEC: one or more; policy I11)"),
    "envelope.data.item-kind": Rule(_E, "an item of data is not an event or entity object"),
    # @context (SPEC §4.1)
    "context.missing": Rule(_E, "a top-level event or entity has no @context"),
    "context.kind": Rule(_E, "@context (or an item of a @context array) is not a string, object or array"),
    "context.not-caliper": Rule(_E, "@context does not include the Caliper 1.1 context"),
    "context.unsupported": Rule(_E, "another Caliper context (other versions, 1.1 profile extensions): not supported"),
    "context.caliper-not-last": Rule(_E, "in a @context array the Caliper 1.1 context is not the last item"),
    "context.term-redefined": Rule(_E, "an inline context redefines a Caliper term"),
    "context.duplicate": Rule(_W, "a @context array references the same context twice (SHOULD be omitted)"),
    # any node (event or entity)
    "type.unknown": Rule(_E, "type is not a Caliper 1.1 type Term"),
    "type.not-entity": Rule(_E, "an event type where an entity is expected"),
    "type.retired": Rule(_E, "a type described by the spec but absent from the 1.1 context (I9)"),
    "type.external": Rule(_W, "type is not a Caliper term but may be defined by an additional context (not checked)"),
    "property.required": Rule(_E, "a required property is missing or null"),
    "property.kind": Rule(_E, "a value has the wrong JSON kind (string, number, object, array ...)"),
    "property.unknown": Rule(_E, "a property the type does not define (custom properties belong in extensions)"),
    "property.deprecated": Rule(_E, "a deprecated property, which MUST NOT be used"),
    "property.keyword": Rule(_E, "a JSON-LD keyword such as @id/@type (1.1 uses id/type, App. H)"),
    "property.external": Rule(_W, "a property that is no Caliper term but may be defined by an additional context (not checked)"),
    "property.empty": Rule(_W, "a null or empty value, which SHOULD be excluded (SPEC §2.1)"),
    "property.type-not-allowed": Rule(_E, "an entity property holds an entity of a type it does not allow"),
    "property.range": Rule(_E, "an integer below its minimum (counts and positions are non-negative)"),
    "id.not-iri": Rule(_E, "an id or entity reference is not an absolute IRI (or _: blank node)"),
    "id.reused": Rule(_W, "the same id names entities of different types (C7, C8)"),
    "datetime.format": Rule(_E, "a DateTime is not YYYY-MM-DDTHH:mm:ss.SSSZ (UTC, milliseconds) or not a calendar date"),
    "duration.format": Rule(_E, "a duration is not an ISO 8601 duration"),
    "membership.role.unknown": Rule(_E, "a role that is not an App. E Term"),
    "membership.role.context-missing": Rule(_W, "a sub-role without its context role (SHOULD be given too)"),
    "membership.status.unknown": Rule(_E, "a status other than Active or Inactive"),
    # events (SPEC §2.1, App. B)
    "event.id.format": Rule(_E, "an event id is not a urn:uuid: URN"),
    "event.id.not-v4": Rule(_W, "an event id is not a version-4 UUID (SHOULD)"),
    "event.action.unknown": Rule(_E, "action is not an App. A Term"),
    "event.action.not-allowed": Rule(_E, "action is an App. A Term the event type does not support"),
    "event.action.deprecated": Rule(_W, "action is deprecated for the event type (SHOULD NOT be used)"),
    "event.action.misspelled": Rule(_E, "action uses a spelling the spec prints besides its App. A Term"),
    "event.action.context-spelling": Rule(_W, "action uses the JSON-LD context's spelling instead of App. A's"),
    "event.actor.type-not-allowed": Rule(_E, "actor type not allowed for the event type (and action)"),
    "event.object.type-not-allowed": Rule(_E, "object type not allowed for the event type (and action)"),
    "event.generated.type-not-allowed": Rule(_E, "generated type not allowed for the event type (and action)"),
    "event.target.type-not-allowed": Rule(_E, "target type not allowed for the event type"),
    "event.referrer.type-not-allowed": Rule(_E, "referrer type not allowed for the event type"),
    "event.target.not-applicable": Rule(_E, "the event type has no target (GradeEvent, I7)"),
    "event.property.recommended": Rule(_W, "a property the profile says SHOULD be given is missing"),
    "event.entity.incomplete": Rule(_W, "an entity in an event slot lacks a property the profile says it SHOULD carry"),
})

#: Documented deviations a finding can be tagged with: errors in strict mode, warnings in canvas mode.
DEVIATIONS: Final = MappingProxyType({
    "C1": "Canvas asset_accessed: NavigationEvent with an Entity object",
    "C2": "Canvas asset_accessed: NavigationEvent with a SoftwareApplication actor",
    "C3": "Canvas submission_created: AssignableEvent with an Attempt object",
    "C4": "Canvas quiz_submitted: AssessmentEvent with an Attempt object",
    "C5": "Canvas discussion_topic_created: ThreadEvent with action Created",
    "C6": "Canvas non-model entity properties",
    "C9": "Canvas default edApp id www.canvaslms.com (no scheme)",
    "I7": "GradeEvent target: not applicable in SPEC, allowed by the IMS schemas",
    "I9": "types described by the spec but absent from the 1.1 context",
    "S7": "MarkedAsUnRead, the App. B spelling of MarkedAsUnread",
})
