"""Per-event-type constraints (SPEC App. B, §3 profiles) as data.

For each event type: the supported and deprecated actions, the allowed types of the ``actor``,
``object``, ``generated``, ``target`` and ``referrer`` slots (subtypes allowed; an IRI string
always passes, it cannot be type-checked), overrides for particular actions, properties that
SHOULD accompany some actions, and the Canvas deviations tolerated in canvas mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from liveevents.caliper.validation.vocabulary import ACTIONS

__all__ = ["EVENT_PROFILES", "EventProfile", "NOT_APPLICABLE", "SLOTS"]

SLOTS: Final = ("actor", "object", "generated", "target", "referrer")

#: A slot the event type must not use (GradeEvent/OutcomeEvent ``target``).
NOT_APPLICABLE: Final = frozenset[str]()

TypeSet = frozenset[str]


@dataclass(frozen=True, slots=True)
class EventProfile:
    actions: frozenset[str]
    deprecated_actions: frozenset[str]
    slots: Mapping[str, TypeSet]
    #: action -> slot -> allowed types, replacing ``slots`` for that action
    by_action: Mapping[str, Mapping[str, TypeSet]]
    #: property -> the actions it SHOULD accompany (lint, warning)
    recommended: Mapping[str, frozenset[str]]
    #: slot -> (type, properties an entity of that type in that slot SHOULD carry) (lint, warning)
    recommended_in: Mapping[str, tuple[str, tuple[str, ...]]]
    #: Canvas deviations: slot -> {type: tag}; "action" -> {action: tag}; slot -> {"*": tag} for a
    #: not-applicable slot Canvas or the spec's own schemas use anyway
    canvas: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def _types(spec: str) -> TypeSet:
    return frozenset(spec.split("|"))


def _profile(
    *,
    actor: str = "Agent",
    actions: str,
    deprecated: str = "",
    object: str = "Entity",
    generated: str = "Entity",
    target: str | None = "Entity",
    referrer: str = "Entity",
    by_action: Mapping[str, Mapping[str, str]] | None = None,
    recommended: Mapping[str, str] | None = None,
    recommended_in: Mapping[str, tuple[str, str]] | None = None,
    canvas: Mapping[str, Mapping[str, str]] | None = None,
) -> EventProfile:
    """One row of SPEC App. B; type sets are written ``"A|B"``, action lists space-separated."""
    action_set = frozenset(actions.split())
    slots = {
        "actor": _types(actor),
        "object": _types(object),
        "generated": _types(generated),
        "target": NOT_APPLICABLE if target is None else _types(target),
        "referrer": _types(referrer),
    }
    return EventProfile(
        actions=action_set,
        deprecated_actions=frozenset(deprecated.split()),
        slots=MappingProxyType(slots),
        by_action=MappingProxyType(
            {
                action: MappingProxyType({**slots, **{slot: _types(types) for slot, types in overrides.items()}})
                for action, overrides in (by_action or {}).items()
            }
        ),
        recommended=MappingProxyType(
            {name: frozenset(when.split()) if when else action_set for name, when in (recommended or {}).items()}
        ),
        recommended_in=MappingProxyType(
            {slot: (type_name, tuple(names.split())) for slot, (type_name, names) in (recommended_in or {}).items()}
        ),
        canvas=MappingProxyType(dict(canvas or {})),
    )


EVENT_PROFILES: Final[Mapping[str, EventProfile]] = MappingProxyType({
    # Basic Profile: any App. A action, "only for interactions no other profile models" (I10: unchecked).
    "Event": _profile(actions=" ".join(sorted(ACTIONS))),
    "AnnotationEvent": _profile(
        actor="Person",
        actions="Bookmarked Highlighted Shared Tagged",
        deprecated="Attached Classified Commented Described Disliked Identified Liked Linked Questioned Ranked Recommended Subscribed",
        object="DigitalResource",
        generated="Annotation",
        target="Frame",
        by_action={
            "Bookmarked": {"generated": "BookmarkAnnotation"},
            "Highlighted": {"generated": "HighlightAnnotation"},
            "Shared": {"generated": "SharedAnnotation"},
            "Tagged": {"generated": "TagAnnotation"},
        },
        recommended_in={"generated": ("Annotation", "annotator annotated")},
    ),
    "AssessmentEvent": _profile(
        actor="Person",
        actions="Started Paused Resumed Restarted Reset Submitted",
        object="Assessment",
        generated="Attempt",
        recommended={"generated": ""},
        recommended_in={"generated": ("Attempt", "assignee assignable count")},
        canvas={"object": {"Attempt": "C4"}},
    ),
    "AssessmentItemEvent": _profile(
        actor="Person",
        actions="Started Skipped Completed",
        deprecated="Reviewed Viewed",
        object="AssessmentItem",
        generated="Response",
        referrer="AssessmentItem",
        # I4: the profile text and the Started fixture generate an Attempt.
        by_action={"Started": {"generated": "Attempt"}},
    ),
    "AssignableEvent": _profile(
        actor="Person",
        actions="Activated Deactivated Started Completed Submitted Reviewed",
        deprecated="Abandoned Hid Showed",
        object="AssignableDigitalResource",
        generated="Attempt",
        target="Frame",
        recommended={"generated": "Started Completed Submitted Reviewed"},
        canvas={"object": {"Attempt": "C3"}},
    ),
    "ForumEvent": _profile(actor="Person", actions="Subscribed Unsubscribed", object="Forum"),
    "GradeEvent": _profile(
        actor="Person|SoftwareApplication",
        actions="Graded",
        object="Attempt",
        generated="Score",
        target=None,
        recommended={"generated": ""},
        canvas={"target": {"*": "I7"}},
    ),
    "MediaEvent": _profile(
        actor="Person",
        actions=(
            "Started Ended Paused Resumed Restarted ForwardedTo JumpedTo ChangedResolution ChangedSize "
            "ChangedSpeed ChangedVolume EnabledClosedCaptioning DisabledClosedCaptioning EnteredFullScreen "
            "ExitedFullScreen Muted Unmuted OpenedPopout ClosedPopout"
        ),
        deprecated="Rewound",
        object="MediaObject",
        target="MediaLocation",
    ),
    # I5: Posted is in the App. H change log for ThreadEvent but not in B.13; MessageEvent has it.
    "MessageEvent": _profile(actor="Person", actions="Posted MarkedAsRead MarkedAsUnread", object="Message"),
    "NavigationEvent": _profile(
        actor="Person",
        actions="NavigatedTo",
        object="DigitalResource|SoftwareApplication",
        target="Frame",
        referrer="DigitalResource|SoftwareApplication",
        canvas={"object": {"Entity": "C1"}, "actor": {"SoftwareApplication": "C2"}},
    ),
    "SessionEvent": _profile(
        actor="Person|SoftwareApplication",
        actions="LoggedIn LoggedOut TimedOut",
        object="SoftwareApplication|Session",
        target="DigitalResource",
        referrer="DigitalResource|SoftwareApplication",
        by_action={
            "LoggedIn": {"actor": "Person", "object": "SoftwareApplication"},
            "LoggedOut": {"actor": "Person", "object": "SoftwareApplication"},
            "TimedOut": {"actor": "SoftwareApplication", "object": "Session"},
        },
        recommended={"session": "LoggedIn LoggedOut"},
    ),
    "ThreadEvent": _profile(
        actor="Person",
        actions="MarkedAsRead MarkedAsUnread",
        object="Thread",
        canvas={"action": {"Created": "C5"}},
    ),
    "ToolUseEvent": _profile(actor="Person", actions="Used", object="SoftwareApplication", target="SoftwareApplication"),
    # I1: the Grading Profile lists ViewEvent with a Result object.
    "ViewEvent": _profile(actor="Person", actions="Viewed", object="DigitalResource|Result", target="Frame"),
    # Retired in 1.1 (I9), still described in App. B.
    "OutcomeEvent": _profile(actions="Graded", object="Attempt", generated="Result", target=None),
    "ReadingEvent": _profile(actor="Person", actions="NavigatedTo Searched Viewed", object="DigitalResource", target="Frame"),
})
