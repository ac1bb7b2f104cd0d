"""grade_change → GradeEvent/Graded: the Attempt, the generated Score, and who graded
(``canvas-to-caliper.md`` §5.3, §8 T1–T5)."""

from __future__ import annotations

from liveevents.caliper.actor import software_application
from liveevents.caliper.origin import is_request
from liveevents.caliper.shapes import Body, Entity, Field, Shape, copy, entity_id, extensions, nested, reference, score
from liveevents.caliper.values import optional_id, urn

__all__ = ["GRADED_ATTEMPT", "SCORE", "grade_change_actor", "graded_score"]

_ASSIGNEE: Field = reference("assignee", "user", "user_id", "Person", extensions(copy("sis_id", "student_sis_id")))
_ASSIGNABLE: Field = reference("assignable", "assignment", "assignment_id", "AssignableDigitalResource")

GRADED_ATTEMPT = Shape(
    "submission", "submission_id", "Attempt",
    extensions(copy("grade"), entity_id("submission_id")),
    _ASSIGNEE,
    _ASSIGNABLE,
)  # fmt: skip

# The Score has the same id as the Attempt (T4), and its inner Attempt has no entity_id.
SCORE = Shape(
    "submission", "submission_id", "Score",
    extensions(copy("grade"), entity_id("submission_id")),
    nested("attempt", Shape("submission", "submission_id", "Attempt", extensions(copy("grade")), _ASSIGNEE, _ASSIGNABLE)),
    score("maxScore", "points_possible"),
    score("scoreGiven", "score"),
)  # fmt: skip


def graded_score(body: Body, metadata: Body, actor: Entity, app: Entity) -> Entity:
    """The generated Score, ``scoredBy`` the grader, or Canvas itself when grading was automatic."""
    result = SCORE(body)
    grader_id = optional_id(body, "grader_id")
    result["scoredBy"] = app["id"] if grader_id is None else urn("user", grader_id)
    return result


def grade_change_actor(metadata: Body, body: Body, app_id: str) -> tuple[Entity, str | None]:
    """The policy of §5.3 (resolving T1): a grader acting in a request is a Person without
    extensions (T3), a member of the course only when the request is the grader's own;
    automatic grading (no grader) and job events are Canvas, a SoftwareApplication."""
    grader_id = optional_id(body, "grader_id")
    if grader_id is None or not is_request(metadata):
        return software_application(app_id), None
    acting_user = optional_id(metadata, "user_id", "metadata")
    return {"id": urn("user", grader_id), "type": "Person"}, (grader_id if grader_id == acting_user else None)
