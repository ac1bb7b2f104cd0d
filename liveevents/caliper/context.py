"""Where the action took place: the Caliper ``group`` and the actor's ``membership`` in it
(``canvas-to-caliper.md`` §4.10, §4.11).

Only Canvas courses and sections become groups (T23). A context source returns the group and
the membership's organization: they differ in shape (the group carries extensions, the
organization of a section carries ``subOrganizationOf``) and syllabus_updated has an
organization but no group (T13).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from liveevents.caliper.roles import compile_role_map
from liveevents.caliper.shapes import Body, Entity
from liveevents.caliper.values import USER_URN, canvas_id, optional_id, section_urn, urn
from liveevents.caliper.vocabulary import CANVAS_EXTENSIONS

__all__ = [
    "ContextSource",
    "Memberships",
    "body_context",
    "enrollment_section",
    "metadata_context",
    "syllabus_course",
]

#: ``(metadata, body) -> (group or None, organization or None)``
ContextSource = Callable[[Body, Body], tuple[Entity | None, Entity | None]]
_NOWHERE: tuple[None, None] = (None, None)


_COURSE = urn("course", "")


def _course(course_id: str) -> tuple[Entity, Entity]:
    course = _COURSE + course_id
    group = {
        "id": course,
        "type": "CourseOffering",
        "extensions": {CANVAS_EXTENSIONS: {"context_type": "Course", "entity_id": course_id}},
    }
    return group, {"id": course, "type": "CourseOffering"}


def _context(where: str) -> ContextSource:
    """The course named by ``context_type``/``context_id`` of the metadata or the body."""
    field = where + ".context_id"
    in_body = where == "body"

    def context(metadata: Body, body: Body) -> tuple[Entity | None, Entity | None]:
        get = body.get if in_body else metadata.get
        if get("context_type") != "Course":
            return _NOWHERE  # Account, Group, User, CourseSection (no course id: T30) or none
        context_id = get("context_id")
        if context_id is None:
            return _NOWHERE
        if type(context_id) is not str or not context_id.isalnum():  # digits: no call needed
            context_id = canvas_id(context_id, field)
        return _course(context_id)

    return context


#: The request's context (most events).
metadata_context = _context("metadata")
#: The entity's own context (attachments, groups, group categories, discussion topics).
body_context = _context("body")


def enrollment_section(metadata: Body, body: Body) -> tuple[Entity | None, Entity | None]:
    """The enrollment's section (T12: context_type stays "Course", entity_id is the course id).
    Policy: without a section id, the enrollment's course."""
    course_id = optional_id(body, "course_id")
    if course_id is None:
        return _NOWHERE
    section_id = optional_id(body, "course_section_id")
    if section_id is None:
        return _course(course_id)
    section = section_urn(course_id, section_id)
    group = {
        "id": section,
        "type": "CourseSection",
        "extensions": {CANVAS_EXTENSIONS: {"context_type": "Course", "entity_id": course_id}},
    }
    organization = {
        "id": section,
        "type": "CourseSection",
        "subOrganizationOf": {"id": urn("course", course_id), "type": "CourseOffering"},
    }
    return group, organization


def syllabus_course(metadata: Body, body: Body) -> tuple[Entity | None, Entity | None]:
    """A membership in the syllabus's course, but no group (T13)."""
    course_id = optional_id(body, "course_id")
    return _NOWHERE if course_id is None else (None, _course(course_id)[1])


class Memberships:
    """Builds the actor's Membership in an organization, roles from ``metadata.context_role``."""

    __slots__ = ("roles",)

    def __init__(self, role_map: Mapping[str, Sequence[str]] | None = None) -> None:
        self.roles = compile_role_map(role_map)

    def __call__(self, organization: Entity, user_id: str, context_role: Any) -> Entity:
        mapped = self.roles.get(context_role) if type(context_role) is str else None
        if mapped is None:
            return {
                "id": organization["id"] + ":user:" + user_id,
                "type": "Membership",
                "member": {"id": USER_URN + user_id, "type": "Person"},
                "organization": organization,
            }
        segment, roles = mapped
        return {
            "id": organization["id"] + ":" + segment + ":" + user_id,
            "type": "Membership",
            "member": {"id": USER_URN + user_id, "type": "Person"},
            "organization": organization,
            "roles": list(roles),
        }
