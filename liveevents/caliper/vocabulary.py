"""Constants of Instructure's Caliper 1.1 rendering of Canvas live events."""

from __future__ import annotations

from typing import Final

__all__ = [
    "CALIPER_CONTEXT",
    "CANVAS_EXTENSIONS",
    "CONVERTER_VERSION",
    "DEFAULT_APP_ID",
    "PERSON_ACTOR_TYPES",
    "STRICT_DEFAULT_APP_ID",
    "URN_PREFIX",
]

#: ``dataVersion`` of the envelope and ``@context`` of every event.
CALIPER_CONTEXT: Final = "http://purl.imsglobal.org/ctx/caliper/v1p1"

#: The one key under which Canvas puts its non-Caliper properties, on events and entities.
CANVAS_EXTENSIONS: Final = "com.instructure.canvas"

#: ``extensions.version`` in every documented example: it versions Instructure's converter.
CONVERTER_VERSION: Final = "1.0.0"

URN_PREFIX: Final = "urn:instructure:canvas:"

#: ``edApp.id`` of events raised by an automated job (Instructure's ``DEFAULT_URL``), verbatim,
#: and its absolute-IRI form for the strict profile (the bare host is not an IRI).
DEFAULT_APP_ID: Final = "www.canvaslms.com"
STRICT_DEFAULT_APP_ID: Final = "http://www.canvaslms.com/"

#: Caliper event types whose actor must be a Person (SPEC App. B): for these a request whose
#: user Canvas could not identify gets the ``user:0`` Person, never a SoftwareApplication.
PERSON_ACTOR_TYPES: Final = frozenset({"SessionEvent", "AssessmentEvent", "AssignableEvent", "MessageEvent", "ThreadEvent"})
