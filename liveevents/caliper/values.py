"""How single Canvas values become Caliper values: ids, URNs, timestamps, numbers.

Rules from the mapping (``canvas-to-caliper.md`` §4.2, §4.3, §4.12): ids are copied verbatim
(a JSON number becomes its decimal string), an entity id is ``urn:instructure:canvas:<kind>:<id>``,
every timestamp is rendered ``YYYY-MM-DDTHH:MM:SS.sssZ``, an integral float score is an integer,
and a null or absent value leaves its Caliper key out.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from liveevents.caliper.vocabulary import CANVAS_EXTENSIONS, URN_PREFIX
from liveevents.canvas.record import MISSING, RecordError
from liveevents.timestamps import TimestampError, normalize_timestamp

__all__ = ["ID_RULE", "NOT_IN_IRI", "SECTION_INFIX", "USER_URN", "iri_safe", "canvas_extensions", "canvas_id", "optional_id", "optional_time", "required_id", "score", "section_urn", "urn"]


#: Characters an IRI cannot hold (RFC 3987): an id or host name with one would make its URN invalid.
NOT_IN_IRI = re.compile(r'[\s<>"{}|\\^`]')
ID_RULE = 'a Canvas id must be an integer or a string without spaces or any of <>"{}|\\^`'


def iri_safe(text: str) -> bool:
    """``text`` holds no character an IRI cannot.  Its callers remember the answer per value
    (host names in :class:`~liveevents.caliper.origin.Origins`, asset types in the navigation
    object's table): the few values that repeat in every event are checked once."""
    return NOT_IN_IRI.search(text) is None


def canvas_id(value: Any, field: str) -> str:
    """A Canvas id as its string: strings verbatim (any width, global or local), integers in decimal."""
    if type(value) is str:
        # Canvas ids are digits (session ids hex digits); anything else is checked for what its
        # URN cannot hold (a regular expression costs as much as building half an envelope).
        if value.isalnum() or NOT_IN_IRI.search(value) is None:
            return value
    elif type(value) is int:
        return str(value)
    raise RecordError(field, value, ID_RULE)


def optional_id(source: dict[str, Any], key: str, where: str = "body") -> str | None:
    value = source.get(key)
    return None if value is None else canvas_id(value, where + "." + key)


def required_id(body: dict[str, Any], key: str) -> str:
    value = body.get(key, MISSING)
    if value is None or value is MISSING:
        raise RecordError("body." + key, value, "required (a Canvas id) to build the Caliper form of this event")
    return canvas_id(value, "body." + key)


def urn(kind: str, canvas_id_text: str) -> str:
    return URN_PREFIX + kind + ":" + canvas_id_text


#: ``urn:instructure:canvas:user:``, the id of a Person without its Canvas user id.
USER_URN = urn("user", "")


#: Between a course URN and its section's id.
SECTION_INFIX = ":section:"


def section_urn(course_id: str, course_section_id: str) -> str:
    """``urn:instructure:canvas:course:<course_id>:section:<course_section_id>``."""
    return urn("course", course_id) + SECTION_INFIX + course_section_id


def optional_time(value: Any) -> str | None:
    """A body timestamp in the Caliper form; an unreadable one is left out, never invented
    (the source record, kept as received, still holds it)."""
    if type(value) is not str:
        return None
    try:
        return _normalized(value)
    except TimestampError:
        return None


# Body dates repeat across events (an assignment's due date is in every event about it); the
# values Canvas writes without milliseconds or with an offset take the slow parse.
_normalized = lru_cache(maxsize=4096)(normalize_timestamp)


def score(value: Any) -> Any:
    """Scores are copied as numbers; ``100.0`` becomes ``100`` (Canvas's Ruby floats print that way)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def canvas_extensions(fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {CANVAS_EXTENSIONS: fields}
