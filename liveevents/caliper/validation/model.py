"""The Caliper 1.1 information model as data: type hierarchy and properties of every type.

Facts from SPEC §2, App. B-D and the v1p1 JSON-LD context (docs/validator.md).  Each type lists
its parents and the properties it adds; ``NODE_SPECS`` folds the inheritance once at import so
the walker does one dict lookup per node and one per property.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from liveevents.caliper.validation.kinds import (
    BOOLEAN,
    DATETIME,
    DECIMAL,
    DURATION,
    INTEGER,
    NON_NEGATIVE_INTEGER,
    OBJECT,
    ROLE_LIST,
    SELECTOR,
    STATUS,
    STRING,
    STRING_LIST,
    Kind,
    entity,
    entity_list,
)

__all__ = ["ENTITY_TYPES", "EVENT_TYPES", "NODE_SPECS", "NodeSpec", "PROPERTY_TERMS", "RETIRED_TYPES", "TYPE_TERMS"]

# Properties the walker handles itself before the property loop.
_HANDLED: Final = Kind("handled", "")
EVENT_ID: Final = Kind("event-id", "a urn:uuid: URN")
ACTION: Final = Kind("action", "an action Term")
SLOT: Final = Kind("slot", "an entity object or an IRI")

_EVENT_PROPERTIES: Final[dict[str, Kind]] = {
    "id": EVENT_ID,
    "action": ACTION,
    "actor": SLOT,
    "object": SLOT,
    "generated": SLOT,
    "target": SLOT,
    "referrer": SLOT,
    "eventTime": DATETIME,
    "edApp": entity("SoftwareApplication"),
    "group": entity("Organization"),
    "membership": entity("Membership"),
    "session": entity("Session"),
    "federatedSession": entity("LtiSession"),
    "extensions": OBJECT,
}

_DIGITAL_RESOURCE: Final = {
    "creators": entity_list("Agent"),
    "mediaType": STRING,
    "keywords": STRING_LIST,
    "learningObjectives": entity_list("LearningObjective"),
    "isPartOf": entity("Entity"),
    "datePublished": DATETIME,
    "version": STRING,
}
_TIMED: Final = {"startedAtTime": DATETIME, "endedAtTime": DATETIME, "duration": DURATION}

# type -> (parents, properties it adds).  Events and the Selector branch sit beside Entity.
_TYPES: Final[dict[str, tuple[tuple[str, ...], dict[str, Kind]]]] = {
    "Entity": ((), {
        "id": _HANDLED,
        "name": STRING,
        "description": STRING,
        "dateCreated": DATETIME,
        "dateModified": DATETIME,
        "extensions": OBJECT,
    }),
    "Agent": (("Entity",), {}),
    "Person": (("Agent",), {}),
    "SoftwareApplication": (("Agent",), {"version": STRING}),
    "Organization": (("Agent",), {"subOrganizationOf": entity("Organization"), "members": entity_list("Agent")}),
    "Group": (("Organization",), {}),
    "CourseOffering": (("Organization",), {"courseNumber": STRING, "academicSession": STRING}),
    "CourseSection": (("CourseOffering",), {"category": STRING}),
    "Membership": (("Entity",), {
        "organization": entity("Organization"),
        "member": entity("Person"),
        "roles": ROLE_LIST,
        "status": STATUS,
    }),
    "Session": (("Entity",), {"user": entity("Person"), **_TIMED}),
    "LtiSession": (("Session",), {"messageParameters": OBJECT}),
    "Annotation": (("Entity",), {"annotator": entity("Person"), "annotated": entity("DigitalResource")}),
    "BookmarkAnnotation": (("Annotation",), {"bookmarkNotes": STRING}),
    "HighlightAnnotation": (("Annotation",), {"selection": SELECTOR, "selectionText": STRING}),
    "SharedAnnotation": (("Annotation",), {"withAgents": entity_list("Agent")}),
    "TagAnnotation": (("Annotation",), {"tags": STRING_LIST}),
    "Attempt": (("Entity",), {
        "assignee": entity("Person"),
        "assignable": entity("DigitalResource"),
        "isPartOf": entity("Attempt"),
        "count": INTEGER,
        **_TIMED,
    }),
    "DigitalResource": (("Entity",), _DIGITAL_RESOURCE),
    "Chapter": (("DigitalResource",), {}),
    "Document": (("DigitalResource",), {}),
    "Page": (("DigitalResource",), {}),
    "WebPage": (("DigitalResource",), {}),
    "Frame": (("DigitalResource",), {"index": NON_NEGATIVE_INTEGER}),
    "MediaLocation": (("DigitalResource",), {"currentTime": DURATION}),
    "DigitalResourceCollection": (("DigitalResource",), {"items": entity_list("DigitalResource")}),
    "Forum": (("DigitalResourceCollection",), {"items": entity_list("Thread")}),
    "Thread": (("DigitalResourceCollection",), {"isPartOf": entity("Forum"), "items": entity_list("Message")}),
    "Message": (("DigitalResource",), {
        "isPartOf": entity("Thread"),
        "replyTo": entity("Message"),
        "body": STRING,
        "attachments": entity_list("DigitalResource"),
    }),
    "MediaObject": (("DigitalResource",), {"duration": DURATION}),
    "AudioObject": (("MediaObject",), {"volumeLevel": STRING, "volumeMin": STRING, "volumeMax": STRING, "muted": BOOLEAN}),
    "ImageObject": (("MediaObject",), {}),
    "VideoObject": (("MediaObject",), {}),
    "AssignableDigitalResource": (("DigitalResource",), {
        "dateToActivate": DATETIME,
        "dateToShow": DATETIME,
        "dateToStartOn": DATETIME,
        "dateToSubmit": DATETIME,
        "maxAttempts": NON_NEGATIVE_INTEGER,
        "maxSubmits": NON_NEGATIVE_INTEGER,
        "maxScore": DECIMAL,
    }),
    "Assessment": (("AssignableDigitalResource", "DigitalResourceCollection"), {"items": entity_list("AssessmentItem")}),
    "AssessmentItem": (("AssignableDigitalResource",), {"isTimeDependent": BOOLEAN}),
    "LearningObjective": (("Entity",), {}),
    "Response": (("Entity",), {"attempt": entity("Attempt"), **_TIMED}),
    "FillinBlankResponse": (("Response",), {"values": STRING_LIST}),
    "MultipleResponseResponse": (("Response",), {"values": STRING_LIST}),
    "SelectTextResponse": (("Response",), {"values": STRING_LIST}),
    "MultipleChoiceResponse": (("Response",), {"value": STRING}),
    "TrueFalseResponse": (("Response",), {"value": STRING}),
    "Result": (("Entity",), {
        "attempt": entity("Attempt"),
        "maxResultScore": DECIMAL,
        "resultScore": DECIMAL,
        "scoredBy": entity("Agent"),
        "comment": STRING,
    }),
    "Score": (("Entity",), {
        "attempt": entity("Attempt"),
        "maxScore": DECIMAL,
        "scoreGiven": DECIMAL,
        "scoredBy": entity("Agent"),
        "comment": STRING,
    }),
    # App. D: a Selector is not an Entity (no id).
    "Selector": ((), {}),
    "TextPositionSelector": (("Selector",), {"start": NON_NEGATIVE_INTEGER, "end": NON_NEGATIVE_INTEGER}),
    # Described in App. B/C but absent from the v1p1 context (I9): checked, and reported as retired.
    "Reading": (("DigitalResource",), {}),
    "EpubChapter": (("DigitalResource",), {}),
    "EpubPart": (("DigitalResource",), {}),
    "EpubSubChapter": (("DigitalResource",), {}),
    "EpubVolume": (("DigitalResource",), {}),
    "Event": ((), _EVENT_PROPERTIES),
    **{
        event_type: (("Event",), {})
        for event_type in (
            "AnnotationEvent",
            "AssessmentEvent",
            "AssessmentItemEvent",
            "AssignableEvent",
            "ForumEvent",
            "GradeEvent",
            "MediaEvent",
            "MessageEvent",
            "SessionEvent",
            "ThreadEvent",
            "ToolUseEvent",
            "ViewEvent",
            "OutcomeEvent",
            "ReadingEvent",
        )
    },
    "NavigationEvent": (("Event",), {}),
}

#: Required properties beyond ``type`` (SPEC §2.1, §2.2, App. D); inherited.
_REQUIRED: Final = {
    "Entity": ("id",),
    "Event": ("id", "actor", "action", "object", "eventTime"),
    "TextPositionSelector": ("start", "end"),
}

#: Deprecated properties that MUST NOT be used (SPEC App. B/C, H); inherited.
_DEPRECATED: Final = {
    "DigitalResource": ("objectType", "alignedLearningObjective"),
    "Attempt": ("actor",),
    "Session": ("actor",),
    "Response": ("actor", "assignable"),
    "Result": ("actor", "normalScore", "penaltyScore", "extraCreditScore", "totalScore", "curvedTotalScore", "curveFactor"),
    "NavigationEvent": ("navigatedFrom",),
}

#: Canvas deviation C6: non-model properties Instructure documents on exactly these types (not
#: inherited): an error in strict mode, a warning in canvas mode.
_CANVAS_PROPERTIES: Final = {
    "Attempt": ("body",),
    "Document": ("body",),
    "Entity": ("startedAtTime", "dateToShow", "dateToSubmit"),
    "Group": ("isPartOf",),
}

#: Types that 1.1 retired (I9): an error in strict mode, a warning in canvas mode.
RETIRED_TYPES: Final = frozenset({"OutcomeEvent", "ReadingEvent", "Reading", "EpubChapter", "EpubPart", "EpubSubChapter", "EpubVolume"})


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """Everything the walker needs about one type, inheritance already folded in."""

    name: str
    ancestors: frozenset[str]
    #: a plain dict (the hot path looks up every property in it); never mutated
    properties: dict[str, Kind]
    required: tuple[str, ...]
    deprecated: frozenset[str]
    canvas_properties: frozenset[str]
    is_event: bool
    #: retired in 1.1 (I9), or not an Entity/Event where one is expected: the walker's slow path
    retired: bool


def _ancestors(name: str) -> frozenset[str]:
    parents = _TYPES[name][0]
    return frozenset({name}).union(*(_ancestors(parent) for parent in parents))


def _lineage(name: str) -> list[str]:
    """``name`` and its ancestors, most general first, so subtypes override inherited kinds."""
    seen: list[str] = []
    for parent in _TYPES[name][0]:
        seen += [ancestor for ancestor in _lineage(parent) if ancestor not in seen]
    return [*seen, name]


def _spec(name: str) -> NodeSpec:
    lineage = _lineage(name)
    properties: dict[str, Kind] = {"type": _HANDLED, "@context": _HANDLED}
    required: list[str] = []
    deprecated: set[str] = set()
    for ancestor in lineage:
        properties.update(_TYPES[ancestor][1])
        required += [key for key in _REQUIRED.get(ancestor, ()) if key not in required]
        deprecated.update(_DEPRECATED.get(ancestor, ()))
    ancestors = _ancestors(name)
    return NodeSpec(
        name=name,
        ancestors=ancestors,
        properties=properties,
        required=tuple(required),
        deprecated=frozenset(deprecated),
        canvas_properties=frozenset(_CANVAS_PROPERTIES.get(name, ())),
        is_event="Event" in ancestors,
        retired=name in RETIRED_TYPES,
    )


#: type Term -> spec; a plain dict for the hot path, never mutated
NODE_SPECS: Final[dict[str, NodeSpec]] = {name: _spec(name) for name in _TYPES}

EVENT_TYPES: Final = frozenset(name for name, spec in NODE_SPECS.items() if spec.is_event)
ENTITY_TYPES: Final = frozenset(NODE_SPECS) - EVENT_TYPES

#: Type Terms of the v1p1 context (the retired ones are not among them).
TYPE_TERMS: Final = frozenset(NODE_SPECS) - RETIRED_TYPES

#: Property Terms of the v1p1 context.
PROPERTY_TERMS: Final = frozenset(key for spec in NODE_SPECS.values() for key in spec.properties) - {"@context", "id", "type"}
