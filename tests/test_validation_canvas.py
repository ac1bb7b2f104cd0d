"""Canvas mode: exactly the documented deviations (caliper-1.1.md §9, §7, §8) become warnings.

Each deviation is applied to one of the project's own valid documents: strict mode reports an
error, canvas mode the same rule and path as a warning.  Shapes that merely resemble a deviation
stay errors in canvas mode.
"""

from __future__ import annotations

from typing import Any

import pytest

from liveevents import validate_caliper
from tests.test_validation_rules import LMS, Mutation, drop, findings, load, put

CANVAS_APP = "www.canvaslms.com"

# name, base document, mutations, (rule, path) of the one finding
DEVIATIONS: list[tuple[str, str, list[Mutation], tuple[str, str]]] = [
    ("C1 NavigationEvent object Entity", "navigation-navigated-to",
     [put("/object", {"id": "urn:example:lms:asset:9", "type": "Entity", "name": "Syllabus"})], ("event.object.type-not-allowed", "/object/type")),
    ("C2 NavigationEvent actor SoftwareApplication", "navigation-navigated-to",
     [put("/actor", {"id": f"{LMS}/feeds", "type": "SoftwareApplication"}), drop("/membership")], ("event.actor.type-not-allowed", "/actor/type")),
    ("C3 AssignableEvent object Attempt", "assignable-submitted",
     [put("/object", {"id": f"{LMS}/submissions/5", "type": "Attempt", "assignee": f"{LMS}/people/ada", "assignable": f"{LMS}/a/3", "count": 1})],
     ("event.object.type-not-allowed", "/object/type")),
    ("C4 AssessmentEvent object Attempt", "assessment-started",
     [put("/action", "Submitted"), put("/object", {"id": f"{LMS}/quiz-submissions/5", "type": "Attempt", "count": 1})],
     ("event.object.type-not-allowed", "/object/type")),
    ("C5 ThreadEvent Created", "thread-marked-as-read", [put("/action", "Created")], ("event.action.not-allowed", "/action")),
    ("C6 Attempt.body", "assessment-started", [put("/generated/body", "<p>my answer</p>")], ("property.unknown", "/generated/body")),
    ("C6 Document.body", "view-viewed-document", [put("/object/body", "<h1>Syllabus</h1>")], ("property.unknown", "/object/body")),
    ("C6 Entity.startedAtTime", "event-created",
     [put("/object", {"id": "urn:example:lms:enrollment:4", "type": "Entity", "startedAtTime": "2024-09-01T08:00:00.000Z"})],
     ("property.unknown", "/object/startedAtTime")),
    ("C6 Entity.dateToShow", "event-created",
     [put("/object", {"id": "urn:example:lms:override:4", "type": "Entity", "dateToShow": "2024-09-01T08:00:00.000Z"})],
     ("property.unknown", "/object/dateToShow")),
    ("C6 Entity.dateToSubmit", "event-created",
     [put("/object", {"id": "urn:example:lms:override:4", "type": "Entity", "dateToSubmit": "2024-09-08T08:00:00.000Z"})],
     ("property.unknown", "/object/dateToSubmit")),
    ("C6 Group.isPartOf", "event-created",
     [put("/object", {"id": "urn:example:lms:group:4", "type": "Group", "isPartOf": {"id": "urn:example:lms:group_category:2", "type": "Entity"}})],
     ("property.unknown", "/object/isPartOf")),
    ("C9 edApp id www.canvaslms.com", "event-created", [put("/edApp", {"id": CANVAS_APP, "type": "SoftwareApplication"})], ("id.not-iri", "/edApp/id")),
    ("C9 edApp IRI www.canvaslms.com", "event-created", [put("/edApp", CANVAS_APP)], ("id.not-iri", "/edApp")),
    ("C9 job actor www.canvaslms.com", "event-created",
     [put("/actor", {"id": CANVAS_APP, "type": "SoftwareApplication"}), drop("/membership"), drop("/session")], ("id.not-iri", "/actor/id")),
    ("I7 GradeEvent target", "grade-graded", [put("/target", {"id": f"{LMS}/frames/1", "type": "Frame"})], ("event.target.not-applicable", "/target")),
    ("I9 retired type", "view-viewed-document", [put("/object/type", "EpubChapter")], ("type.retired", "/object/type")),
    ("S7 MarkedAsUnRead", "message-posted", [put("/action", "MarkedAsUnRead")], ("event.action.misspelled", "/action")),
]


def _apply(base: str, mutations: list[Mutation]) -> Any:
    document = load(base)
    for mutate in mutations:
        mutate(document)
    return document


@pytest.mark.parametrize(("base", "mutations", "finding"), [case[1:] for case in DEVIATIONS], ids=[case[0] for case in DEVIATIONS])
def test_documented_deviation_is_an_error_in_strict_and_a_warning_in_canvas_mode(
    base: str, mutations: list[Mutation], finding: tuple[str, str]
) -> None:
    document = _apply(base, mutations)
    rule, path = finding
    strict = validate_caliper(document, mode="strict")
    canvas = validate_caliper(document, mode="canvas")
    assert findings(strict) == {(rule, path, "error")}
    assert findings(canvas) == {(rule, path, "warning")}
    assert "a warning in canvas mode" in strict[0].message
    assert "tolerated in canvas mode" in canvas[0].message


# Shapes near a deviation that Instructure does not document: errors in both modes.
NOT_DEVIATIONS: list[tuple[str, str, list[Mutation], tuple[str, str]]] = [
    ("NavigationEvent object Person", "navigation-navigated-to",
     [put("/object", {"id": f"{LMS}/people/bo", "type": "Person"})], ("event.object.type-not-allowed", "/object/type")),
    ("NavigationEvent actor Organization", "navigation-navigated-to",
     [put("/actor", {"id": f"{LMS}/orgs/science", "type": "Organization"})], ("event.actor.type-not-allowed", "/actor/type")),
    ("AssignableEvent object Score", "assignable-submitted",
     [put("/object", {"id": f"{LMS}/scores/5", "type": "Score"})], ("event.object.type-not-allowed", "/object/type")),
    ("ViewEvent object Attempt", "view-viewed-document",
     [put("/object", {"id": f"{LMS}/submissions/5", "type": "Attempt"})], ("event.object.type-not-allowed", "/object/type")),
    ("ThreadEvent Deleted", "thread-marked-as-read", [put("/action", "Deleted")], ("event.action.not-allowed", "/action")),
    ("MessageEvent Created", "message-posted", [put("/action", "Created")], ("event.action.not-allowed", "/action")),
    ("Person.body", "view-viewed-document", [put("/object/creators/0/body", "bio")], ("property.unknown", "/object/creators/0/body")),
    ("Page.body", "event-created", [put("/object/body", "<p>hi</p>")], ("property.unknown", "/object/body")),
    ("Group.startedAtTime", "event-created",
     [put("/object", {"id": "urn:example:lms:group:4", "type": "Group", "startedAtTime": "2024-09-01T08:00:00.000Z"})],
     ("property.unknown", "/object/startedAtTime")),
    ("CourseSection.isPartOf", "event-created", [put("/group/isPartOf", "urn:example:lms:account:1")], ("property.unknown", "/group/isPartOf")),
    ("another host without a scheme", "event-created", [put("/edApp", {"id": "lms.example.org", "type": "SoftwareApplication"})], ("id.not-iri", "/edApp/id")),
    ("eventTime without milliseconds", "event-created", [put("/eventTime", "2024-10-02T09:15:00Z")], ("datetime.format", "/eventTime")),
    ("unknown role", "event-created", [put("/membership/roles", ["TeacherEnrollment"])], ("membership.role.unknown", "/membership/roles/0")),
]


@pytest.mark.parametrize(("base", "mutations", "finding"), [case[1:] for case in NOT_DEVIATIONS], ids=[case[0] for case in NOT_DEVIATIONS])
def test_undocumented_shape_stays_an_error_in_canvas_mode(base: str, mutations: list[Mutation], finding: tuple[str, str]) -> None:
    document = _apply(base, mutations)
    rule, path = finding
    assert findings(validate_caliper(document, mode="canvas")) == {(rule, path, "error")}
    assert findings(validate_caliper(document, mode="strict")) == {(rule, path, "error")}


def test_same_id_for_score_and_attempt_is_a_warning_in_both_modes() -> None:
    """C7 (grade_change): the Score shares the submission id with the Attempt."""
    document = load("grade-graded")
    document["generated"]["id"] = document["object"]["id"]
    for mode in ("strict", "canvas"):
        assert findings(validate_caliper(document, mode=mode)) == {("id.reused", "/generated/id", "warning")}


def test_document_with_the_course_id_is_a_warning_in_both_modes() -> None:
    """C8 (syllabus_updated): a Document whose id is the course's (a CourseOffering elsewhere)."""
    document = load("event-created")
    document["object"] = {"id": document["group"]["subOrganizationOf"]["id"], "type": "Document", "body": "<p>Week 1</p>"}
    assert findings(validate_caliper(document, mode="canvas")) == {
        ("property.unknown", "/object/body", "warning"),
        ("id.reused", "/group/subOrganizationOf/id", "warning"),
    }
