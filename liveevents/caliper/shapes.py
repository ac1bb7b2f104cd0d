"""A small declarative language for Caliper entities built from a Canvas event body.

Most Caliper objects Canvas emits are "an entity with a URN id and a type, then these keys in
this order, each taken from that body field". A :class:`Shape` says exactly that, so each
per-family module reads like the mapping table in ``canvas-to-caliper.md`` §5::

    Shape("quiz", "quiz_id", "Assessment",
          copy("name", "title"),
          date("dateCreated", "updated_at"),
          extensions(copy("quiz_type"), entity_id("quiz_id")),
          score("maxScore", "points_possible"))

Every field reads one value from the body; ``None`` leaves the key out (SPEC: null values
SHOULD be excluded), so key order is the order of the fields, absent keys skipped.

Each field also carries its rule as data (its ``op``), from which ``native.py`` compiles the
program of the compiled writer: the two are made side by side here, one helper per rule.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import methodcaller
from typing import Any

from liveevents.caliper.values import (
    canvas_extensions,
    optional_id,
    optional_time,
    required_id,
    section_urn,
    urn,
)
from liveevents.caliper.values import score as score_value
from liveevents.caliper.vocabulary import URN_PREFIX

__all__ = [
    "Body",
    "Entity",
    "Field",
    "ObjectBuilder",
    "Shape",
    "copy",
    "count",
    "date",
    "entity_id",
    "extensions",
    "identifier",
    "nested",
    "reference",
    "section_urn_of",
    "score",
    "text",
    "urn_of",
]

Body = dict[str, Any]
Entity = dict[str, Any]
#: Every object builder takes ``(body, metadata, actor, edApp)`` and returns the Caliper object.
ObjectBuilder = Callable[[Body, Body, Entity, Entity], Entity]
Reader = Callable[[Body], Any]
#: A field's rule as data for the compiled writer: an op number (below), then its key and arguments.
Op = tuple[Any, ...]
#: One output key, how to read its value from the body (``None`` = leave the key out), and the op.
Field = tuple[str, Reader, Op]

# Op numbers, as in _native.c.
COPY, DATE, TEXT, SCORE, COUNT, IDENTIFIER, URN, EXTENSIONS, REFERENCE, SHAPE, SECTION = range(1, 12)
#: The object op of a Shape (the other object builders have theirs in native.py).
SHAPE_OBJECT = 1


def copy(key: str, source: str | None = None) -> Field:
    """The body value, verbatim (strings byte for byte, numbers and booleans as they are): for
    extensions, which take any JSON value; typed Caliper properties use :func:`text`, :func:`score`..."""
    return key, methodcaller("get", source or key), (COPY, key, source or key)


def date(key: str, *sources: str) -> Field:
    """A body timestamp normalised to ``YYYY-MM-DDTHH:MM:SS.sssZ``; with several sources, the
    first one that is not null."""
    names = sources or (key,)
    op = (DATE, key, names)
    if len(names) == 1:
        name = names[0]
        return key, lambda body: optional_time(body.get(name)), op

    def read(body: Body) -> str | None:
        for name in names:
            value = body.get(name)
            if value is not None:
                return optional_time(value)
        return None

    return key, read, op


def text(key: str, source: str | None = None) -> Field:
    """A string property (``name``, ``description``, ``mediaType``...): the body value when it
    is a string; any other JSON type is left out, as Caliper types the property."""
    name = source or key

    def read(body: Body) -> str | None:
        value = body.get(name)
        return value if type(value) is str else None

    return key, read, (TEXT, key, name)


def score(key: str, source: str) -> Field:
    """A number; an integral float becomes an integer (``100.0`` → ``100``); a value that is
    not a number (a string, a boolean...) is left out."""

    def read(body: Body) -> Any:
        value = body.get(source)
        return score_value(value) if type(value) in _NUMBERS else None

    return key, read, (SCORE, key, source)


def count(key: str, source: str) -> Field:
    """A whole number (``100.0`` → ``100``); anything else (``1.5``, ``"2"``) is left out."""

    def read(body: Body) -> int | None:
        value = body.get(source)
        if type(value) is int:
            return value
        return int(value) if type(value) is float and value.is_integer() else None

    return key, read, (COUNT, key, source)


_NUMBERS = (int, float)


def identifier(key: str, source: str | None = None) -> Field:
    """A Canvas id as a string (a JSON number becomes its decimal form)."""
    name = source or key
    return key, lambda body: optional_id(body, name), (IDENTIFIER, key, name)


def entity_id(source: str) -> Field:
    """The ``entity_id`` extension: the entity's own Canvas id, as given in the body."""
    return identifier("entity_id", source)


def urn_of(key: str, kind: str, source: str) -> Field:
    """A Canvas id rendered as a URN (``user_id`` → ``urn:instructure:canvas:user:<id>``)."""

    def read(body: Body) -> str | None:
        value = optional_id(body, source)
        return None if value is None else urn(kind, value)

    return key, read, (URN, key, urn(kind, ""), source)


def section_urn_of(key: str) -> Field:
    """The URN of the body's section (``urn:instructure:canvas:course:<course_id>:section:<id>``),
    left out unless the body names both ``course_id`` and ``course_section_id``."""

    def read(body: Body) -> str | None:
        course_id = optional_id(body, "course_id")
        section_id = optional_id(body, "course_section_id")
        if course_id is None or section_id is None:
            return None
        return section_urn(course_id, section_id)

    return key, read, (SECTION, key, "course_id", "course_section_id")


def extensions(*fields: Field) -> Field:
    """``extensions: {"com.instructure.canvas": {...}}``, left out when every field is absent."""

    def read(body: Body) -> dict[str, Any] | None:
        found = _fill({}, fields, body)
        return canvas_extensions(found) if found else None

    return "extensions", read, (EXTENSIONS, "extensions", tuple(op for _, _, op in fields))


def reference(key: str, kind: str, source: str, type_: str, *fields: Field) -> Field:
    """A nested entity (``isPartOf``, ``assignable``...), left out when its id is absent."""

    def read(body: Body) -> dict[str, Any] | None:
        value = optional_id(body, source)
        if value is None:
            return None
        return _fill({"id": urn(kind, value), "type": type_}, fields, body)

    return key, read, (REFERENCE, key, urn(kind, ""), source, type_, tuple(op for _, _, op in fields))


def nested(key: str, shape: Shape) -> Field:
    """An entity of its own under ``key`` (its id required, like the object's)."""
    return key, shape, (SHAPE, key, shape.op)


class Shape:
    """A Caliper entity: ``id`` (URN of a required body id), ``type``, then ``fields`` in order.

    Called like every object builder (``body, metadata, actor, app``); a shape needs only the body.
    """

    __slots__ = ("fields", "id_key", "kind", "type")

    def __init__(self, kind: str, id_key: str, type_: str, *fields: Field) -> None:
        self.kind = kind
        self.id_key = id_key
        self.type = type_
        self.fields = fields

    def __call__(self, body: Body, metadata: object = None, actor: object = None, app: object = None) -> dict[str, Any]:
        entity = {"id": urn(self.kind, required_id(body, self.id_key)), "type": self.type}
        return _fill(entity, self.fields, body)

    @property
    def op(self) -> Op:
        """The object op of the compiled writer."""
        return (SHAPE_OBJECT, URN_PREFIX + self.kind + ":", self.id_key, self.type, tuple(op for _, _, op in self.fields))

    def __repr__(self) -> str:
        return f"Shape({self.kind!r}, {self.id_key!r}, {self.type!r}, {[key for key, _, _ in self.fields]})"


def _fill(target: dict[str, Any], fields: tuple[Field, ...], body: Body) -> dict[str, Any]:
    for key, read, _ in fields:
        value = read(body)
        if value is not None:
            target[key] = value
    return target
