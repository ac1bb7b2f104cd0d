"""Classic quizzes: quiz_created / _updated (Assessment) and quiz_submitted (``canvas-to-caliper.md`` §5.1, §5.2)."""

from __future__ import annotations

from typing import Any

from liveevents.caliper.shapes import Body, Entity, Field, Shape, copy, date, entity_id, extensions, score, text
from liveevents.caliper.values import canvas_extensions, optional_id, required_id, urn

__all__ = ["QUIZ_CREATED", "QUIZ_UPDATED", "quiz_attempt"]


# description is dropped (unlike assignments), as are the other quiz settings.
def _quiz(timestamp: Field) -> Shape:
    return Shape(
        "quiz", "quiz_id", "Assessment",
        text("name", "title"),
        timestamp,
        extensions(
            copy("quiz_type"),
            copy("time_limit"),
            copy("access_code"),
            copy("workflow_state"),
            entity_id("quiz_id"),
        ),
        date("dateToShow", "unlock_at"),
        date("dateToSubmit", "due_at"),
        score("maxScore", "points_possible"),
    )  # fmt: skip


QUIZ_CREATED = _quiz(date("dateCreated", "updated_at"))
QUIZ_UPDATED = _quiz(date("dateModified", "updated_at"))


def quiz_attempt(body: Body, metadata: Body, actor: Entity, app: Entity) -> Entity:
    """The submitted Attempt; its assignee is the acting Person (the body names no user)."""
    submission_id = required_id(body, "submission_id")
    attempt: dict[str, Any] = {
        "id": urn("submission", submission_id),
        "type": "Attempt",
        "extensions": canvas_extensions({"entity_id": submission_id}),
    }
    if actor["type"] == "Person":
        attempt["assignee"] = {"id": actor["id"], "type": "Person"}
    quiz_id = optional_id(body, "quiz_id")
    if quiz_id is not None:
        attempt["assignable"] = {"id": urn("quiz", quiz_id), "type": "Assessment"}
    return attempt
