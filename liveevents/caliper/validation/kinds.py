"""Value kinds of Caliper properties: what a property table says a value must be.

A ``Kind`` is data; the walker dispatches on ``Kind.code``.  ``expected`` is the phrase used in
messages ("expected <expected>").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from liveevents.caliper.validation.vocabulary import ROLES, STATUSES

__all__ = [
    "BOOLEAN",
    "DATETIME",
    "DECIMAL",
    "DURATION",
    "INTEGER",
    "Kind",
    "NON_NEGATIVE_INTEGER",
    "OBJECT",
    "ROLE_LIST",
    "SELECTOR",
    "STATUS",
    "STRING",
    "STRING_LIST",
    "entity",
    "entity_list",
]


@dataclass(frozen=True, slots=True)
class Kind:
    code: str
    expected: str
    #: entity kinds: the allowed types (a subtype of any of them is allowed too)
    types: frozenset[str] = field(default_factory=frozenset)
    #: Term kinds: the vocabulary and the rule id of a value outside it
    vocabulary: frozenset[str] = field(default_factory=frozenset)
    rule: str = "property.kind"
    #: integer kinds: the smallest allowed value
    minimum: int | None = None


STRING: Final = Kind("string", "a string")
STRING_LIST: Final = Kind("string-list", "an array of strings")
DATETIME: Final = Kind("datetime", "a UTC DateTime with milliseconds, YYYY-MM-DDTHH:mm:ss.SSSZ")
DURATION: Final = Kind("duration", "an ISO 8601 duration such as PT50M12S")
INTEGER: Final = Kind("integer", "an integer")
NON_NEGATIVE_INTEGER: Final = Kind("integer", "a non-negative integer", minimum=0)
DECIMAL: Final = Kind("decimal", "a number")
BOOLEAN: Final = Kind("boolean", "true or false")
OBJECT: Final = Kind("object", "a JSON object")
STATUS: Final = Kind("term", "a status Term (Active, Inactive)", vocabulary=STATUSES, rule="membership.status.unknown")
ROLE_LIST: Final = Kind("roles", "an array of role Terms (App. E)", vocabulary=ROLES, rule="membership.role.unknown")
SELECTOR: Final = Kind("node", "a TextPositionSelector object", types=frozenset({"Selector"}))


def _alternatives(types: tuple[str, ...]) -> str:
    return " | ".join(types)


def entity(*types: str) -> Kind:
    """An entity slot: an object of one of ``types`` (or a subtype), or an IRI string."""
    return Kind("entity", f"a {_alternatives(types)} object or an IRI", types=frozenset(types))


def entity_list(*types: str) -> Kind:
    """An array whose items are ``entity(*types)`` values."""
    return Kind("entity-list", f"an array of {_alternatives(types)} objects or IRIs", types=frozenset(types))
