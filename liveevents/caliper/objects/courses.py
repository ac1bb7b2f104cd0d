"""Courses and their syllabus (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from typing import Any

from liveevents.caliper.shapes import Body, Entity, Shape, copy, entity_id, extensions, text
from liveevents.caliper.values import required_id, urn

__all__ = ["COURSE_CREATED", "COURSE_UPDATED", "syllabus"]

COURSE_CREATED = Shape("course", "course_id", "CourseOffering", text("name"), extensions(entity_id("course_id")))
COURSE_UPDATED = Shape(
    "course", "course_id", "CourseOffering",
    text("name"),
    extensions(entity_id("course_id"), copy("workflow_state")),
)  # fmt: skip


def syllabus(body: Body, metadata: Body, actor: Entity, app: Entity) -> Entity:
    """The syllabus is a Document whose id is the course URN, created by the acting Person."""
    document: dict[str, Any] = {"id": urn("course", required_id(body, "course_id")), "type": "Document", "name": "Syllabus"}
    if actor["type"] == "Person":
        document["creators"] = [{"id": actor["id"], "type": "Person"}]
    text = body.get("syllabus_body")
    if type(text) is str:
        document["body"] = text
    return document
