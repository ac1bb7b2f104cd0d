"""Every validator rule, on the project's own hand-written documents.

``tests/fixtures/validation/valid/`` holds valid Caliper 1.1 documents (own ids and values); each
invalid case below mutates one of them and states the complete set of findings it must produce
(rule id, JSON Pointer, severity).  A final test checks that every catalogued rule is exercised.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any

import pytest

from liveevents import Problem, validate_caliper
from liveevents.caliper.validation import RULES, is_valid, validate_caliper_json

VALID = Path(__file__).parent / "fixtures" / "validation" / "valid"
V1P1 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
LMS = "https://lms.example.org"


def load(name: str) -> Any:
    return json.loads((VALID / f"{name}.json").read_text())


# -- JSON Pointer mutations (test-side helpers, independent of the code under test) ---------------

def _parent(document: Any, pointer: str) -> tuple[Any, str | int]:
    tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
    node = document
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node[token]
    last = tokens[-1]
    return node, int(last) if isinstance(node, list) else last


Mutation = Callable[[Any], None]


def put(pointer: str, value: Any) -> Mutation:
    def apply(document: Any) -> None:
        node, key = _parent(document, pointer)
        node[key] = copy.deepcopy(value)

    return apply


def drop(pointer: str) -> Mutation:
    def apply(document: Any) -> None:
        node, key = _parent(document, pointer)
        del node[key]

    return apply


def findings(problems: list[Problem]) -> set[tuple[str, str, str]]:
    return {(problem.rule, problem.path, problem.severity) for problem in problems}


# -- the valid documents --------------------------------------------------------------------------

VALID_NAMES = sorted(path.stem for path in VALID.glob("*.json"))


def test_valid_fixture_set_covers_every_event_type() -> None:
    types = {load(name).get("type") for name in VALID_NAMES}
    assert types >= {
        "Event", "AnnotationEvent", "AssessmentEvent", "AssessmentItemEvent", "AssignableEvent", "ForumEvent",
        "GradeEvent", "MediaEvent", "MessageEvent", "NavigationEvent", "SessionEvent", "ThreadEvent",
        "ToolUseEvent", "ViewEvent",
    }


@pytest.mark.parametrize("mode", ["strict", "canvas"])
@pytest.mark.parametrize("name", VALID_NAMES)
def test_own_valid_documents_have_no_findings(name: str, mode: str) -> None:
    assert validate_caliper(load(name), mode=mode) == []


def test_thinned_event_with_iri_strings_in_every_slot_is_valid() -> None:
    event = {
        "@context": V1P1,
        "id": "urn:uuid:9d0f6b2e-4c1a-4e57-8f3b-2a6c0d9e1f47",
        "type": "ViewEvent",
        "actor": f"{LMS}/people/ada",
        "action": "Viewed",
        "object": "urn:example:lms:file:12",
        "eventTime": "2024-10-02T09:15:00.000Z",
        "edApp": f"{LMS}/",
        "group": f"{LMS}/courses/chem-101",
        "membership": f"{LMS}/courses/chem-101/roster/ada",
        "session": "_:session-1",
    }
    assert validate_caliper(event) == []


# -- invalid (and lint) cases: base document, mutations, every expected finding ------------------

E, W = "error", "warning"
CASES: list[tuple[str, str, list[Mutation], set[tuple[str, str, str]]]] = [
    # envelope
    ("envelope key missing", "envelope-mixed-batch", [drop("/sendTime")], {("envelope.key.missing", "/sendTime", E)}),
    ("envelope key null", "envelope-mixed-batch", [put("/sensor", None)], {("envelope.key.missing", "/sensor", E)}),
    ("envelope custom key", "envelope-mixed-batch", [put("/extensions", {})], {("envelope.key.unknown", "/extensions", E)}),
    ("envelope @context key", "envelope-mixed-batch", [put("/@context", V1P1)], {("envelope.key.unknown", "/@context", E)}),
    ("sensor not an IRI", "envelope-mixed-batch", [put("/sensor", "web sensor 1")], {("envelope.sensor.not-iri", "/sensor", W)}),
    ("sensor not a string", "envelope-mixed-batch", [put("/sensor", 7)], {("property.kind", "/sensor", E)}),
    ("sendTime without milliseconds", "envelope-mixed-batch", [put("/sendTime", "2024-10-02T11:00:01Z")], {("datetime.format", "/sendTime", E)}),
    ("sendTime with a UTC offset", "envelope-mixed-batch", [put("/sendTime", "2024-10-02T11:00:01.123+00:00")], {("datetime.format", "/sendTime", E)}),
    ("dataVersion 1.2", "envelope-mixed-batch", [put("/dataVersion", "http://purl.imsglobal.org/ctx/caliper/v1p2")], {("envelope.dataVersion.unsupported", "/dataVersion", E)}),
    ("dataVersion with a trailing slash", "envelope-mixed-batch", [put("/dataVersion", f"{V1P1}/")], {("envelope.dataVersion.unsupported", "/dataVersion", E)}),
    ("data empty", "envelope-mixed-batch", [put("/data", [])], {("envelope.data.empty", "/data", E)}),
    ("data not an array", "envelope-mixed-batch", [put("/data", {"x": 1})], {("property.kind", "/data", E)}),
    ("data item a string", "envelope-mixed-batch", [put("/data/1", f"{LMS}/media/welcome.webm")], {("envelope.data.item-kind", "/data/1", E)}),
    ("describe in a batch without @context", "envelope-mixed-batch", [drop("/data/4/@context")], {("context.missing", "/data/4/@context", E)}),
    # @context
    ("context missing", "assessment-started", [drop("/@context")], {("context.missing", "/@context", E)}),
    ("context a number", "assessment-started", [put("/@context", 3)], {("context.kind", "/@context", E)}),
    ("context array item a number", "assessment-started", [put("/@context", [4, V1P1])], {("context.kind", "/@context/0", E)}),
    ("context not Caliper", "assessment-started", [put("/@context", "https://schema.org/")], {("context.not-caliper", "/@context", E)}),
    ("context array without Caliper", "assessment-started", [put("/@context", ["https://ctx.example.org/lms"])], {("context.not-caliper", "/@context", E)}),
    ("context Caliper 1.2", "assessment-started", [put("/@context", "http://purl.imsglobal.org/ctx/caliper/v1p2")], {("context.unsupported", "/@context", E)}),
    ("context profile extension", "assessment-started", [put("/@context", f"{V1P1}/SurveyProfile-extension")], {("context.unsupported", "/@context", E)}),
    ("context profile extension in an array", "assessment-started", [put("/@context", [f"{V1P1}/ToolUseProfile-extension", V1P1])], {("context.unsupported", "/@context/0", E)}),
    ("Caliper context not last", "assessment-started", [put("/@context", [V1P1, "https://ctx.example.org/lms"])], {("context.caliper-not-last", "/@context/0", E)}),
    ("inline context redefines a Caliper term", "assessment-started", [put("/@context", [{"actor": "https://schema.org/agent"}, V1P1])], {("context.term-redefined", "/@context/0/actor", E)}),
    ("context referenced twice", "assessment-started", [put("/@context", [V1P1, V1P1])], {("context.duplicate", "/@context/1", W)}),
    ("nested context of another Caliper version", "assessment-started", [put("/object/@context", "http://purl.imsglobal.org/ctx/caliper/v1p0")], {("context.unsupported", "/object/@context", E)}),
    # document kinds and types
    ("type missing", "assessment-started", [drop("/object/type")], {("property.required", "/object/type", E)}),
    ("type not a string", "assessment-started", [put("/object/type", ["Assessment"])], {("property.kind", "/object/type", E)}),
    ("type unknown", "assessment-started", [put("/object/type", "Quiz")], {("type.unknown", "/object/type", E)}),
    ("IRI as type", "assessment-started", [put("/type", "http://purl.imsglobal.org/caliper/AssessmentEvent")], {("type.unknown", "/type", E)}),
    ("event type where an entity belongs", "assessment-started", [put("/generated/type", "GradeEvent")], {("type.not-entity", "/generated/type", E)}),
    ("retired type Reading", "view-viewed-document", [put("/object/type", "Reading")], {("type.retired", "/object/type", E)}),
    ("retired type OutcomeEvent", "grade-graded", [put("/type", "OutcomeEvent"), put("/generated/type", "Result"), drop("/generated/maxScore"), drop("/generated/scoreGiven")], {("type.retired", "/type", E)}),
    ("type from an inline context", "assessment-started", [put("/@context", [{"Quiz": "https://vocab.example.org/Quiz"}, V1P1]), put("/object/type", "Quiz")], {("type.external", "/object/type", W)}),
    # properties
    ("event property missing", "assessment-started", [drop("/eventTime")], {("property.required", "/eventTime", E)}),
    ("eventTime with an offset", "assessment-started", [put("/eventTime", "2024-10-02T11:15:00.000+02:00")], {("datetime.format", "/eventTime", E)}),
    ("event property null", "assessment-started", [put("/object", None)], {("property.required", "/object", E)}),
    ("entity id missing", "assessment-started", [drop("/object/id")], {("property.required", "/object/id", E)}),
    ("selector end missing", "annotation-highlighted", [drop("/generated/selection/end")], {("property.required", "/generated/selection/end", E)}),
    ("string property holds a number", "assessment-started", [put("/object/name", 5)], {("property.kind", "/object/name", E)}),
    ("entity list holds one object", "assessment-started", [put("/object/items", {"id": f"{LMS}/i/1", "type": "AssessmentItem"})], {("property.kind", "/object/items", E)}),
    ("string list item a number", "annotation-tagged", [put("/generated/tags/1", 2)], {("property.kind", "/generated/tags/1", E)}),
    ("integer as text", "assessment-started", [put("/generated/count", "1")], {("property.kind", "/generated/count", E)}),
    ("integer with a fraction", "assessment-started", [put("/object/maxAttempts", 2.5)], {("property.kind", "/object/maxAttempts", E)}),
    ("boolean as integer", "media-paused", [put("/object/muted", 0)], {("property.kind", "/object/muted", E)}),
    ("decimal as text", "grade-graded", [put("/generated/scoreGiven", "17")], {("property.kind", "/generated/scoreGiven", E)}),
    ("decimal as boolean", "grade-graded", [put("/generated/scoreGiven", True)], {("property.kind", "/generated/scoreGiven", E)}),
    ("object property holds an array", "assessment-started", [put("/federatedSession/messageParameters", ["iss"])], {("property.kind", "/federatedSession/messageParameters", E)}),
    ("extensions holds a string", "event-created", [put("/extensions", "revision 1")], {("property.kind", "/extensions", E)}),
    ("entity slot holds a number", "assessment-started", [put("/edApp", 42)], {("property.kind", "/edApp", E)}),
    ("event slot holds an array", "assessment-started", [put("/actor", [f"{LMS}/people/ada"])], {("property.kind", "/actor", E)}),
    ("selector holds an IRI", "annotation-highlighted", [put("/generated/selection", f"{LMS}/selectors/1")], {("property.kind", "/generated/selection", E)}),
    ("roles not an array", "assessment-started", [put("/membership/roles", "Learner")], {("property.kind", "/membership/roles", E)}),
    ("custom entity property", "assessment-started", [put("/object/difficulty", "hard")], {("property.unknown", "/object/difficulty", E)}),
    ("custom event property", "assessment-started", [put("/profile", "AssessmentProfile")], {("property.unknown", "/profile", E)}),
    ("custom property name escaped in the pointer", "assessment-started", [put("/object/a~0b~1c", 1)], {("property.unknown", "/object/a~0b~1c", E)}),
    ("isPartOf is no Organization property", "assessment-started", [put("/group/isPartOf", f"{LMS}/terms/2024")], {("property.unknown", "/group/isPartOf", E)}),
    ("deprecated DigitalResource property", "view-viewed-document", [put("/object/objectType", "Document")], {("property.deprecated", "/object/objectType", E)}),
    ("deprecated Attempt actor", "assessment-started", [put("/generated/actor", f"{LMS}/people/ada")], {("property.deprecated", "/generated/actor", E)}),
    ("deprecated inherited by LtiSession", "assessment-started", [put("/federatedSession/actor", f"{LMS}/people/ada")], {("property.deprecated", "/federatedSession/actor", E)}),
    ("deprecated Result score", "view-viewed-result", [put("/object/totalScore", 9)], {("property.deprecated", "/object/totalScore", E)}),
    ("deprecated navigatedFrom", "navigation-navigated-to", [put("/navigatedFrom", f"{LMS}/courses/chem-101/home")], {("property.deprecated", "/navigatedFrom", E)}),
    ("deprecated Response assignable", "assessment-item-completed", [put("/generated/assignable", f"{LMS}/courses/chem-101/quizzes/4")], {("property.deprecated", "/generated/assignable", E)}),
    ("JSON-LD @id keyword", "assessment-started", [put("/object/@id", f"{LMS}/courses/chem-101/quizzes/4")], {("property.keyword", "/object/@id", E)}),
    ("JSON-LD @type keyword on the event", "assessment-started", [put("/@type", "AssessmentEvent")], {("property.keyword", "/@type", E)}),
    ("property from a remote context", "assessment-started", [put("/@context", ["https://ctx.example.org/lms", V1P1]), put("/object/difficulty", "hard")], {("property.external", "/object/difficulty", W)}),
    ("property from an inline context", "assessment-started", [put("/@context", [{"difficulty": "https://vocab.example.org/difficulty"}, V1P1]), put("/object/difficulty", "hard")], {("property.external", "/object/difficulty", W)}),
    ("inline context does not define the property", "assessment-started", [put("/@context", [{"level": "https://vocab.example.org/level"}, V1P1]), put("/object/difficulty", "hard")], {("property.unknown", "/object/difficulty", E)}),
    ("empty string", "assessment-started", [put("/object/name", "")], {("property.empty", "/object/name", W)}),
    ("null optional property", "assessment-started", [put("/referrer", None)], {("property.empty", "/referrer", W)}),
    ("empty list", "view-viewed-document", [put("/object/keywords", [])], {("property.empty", "/object/keywords", W)}),
    ("member is an Organization", "assessment-started", [put("/membership/member", {"id": f"{LMS}/orgs/science", "type": "Organization"})], {("property.type-not-allowed", "/membership/member/type", E)}),
    ("group is a Person", "assessment-started", [put("/group", {"id": f"{LMS}/people/bo", "type": "Person"})], {("property.type-not-allowed", "/group/type", E)}),
    ("creators item is a Document", "view-viewed-document", [put("/object/creators/0", {"id": f"{LMS}/files/1", "type": "Document"})], {("property.type-not-allowed", "/object/creators/0/type", E)}),
    ("Message isPartOf a Forum", "message-posted", [put("/object/isPartOf", {"id": f"{LMS}/courses/chem-101/forums/1", "type": "Forum"})], {("property.type-not-allowed", "/object/isPartOf/type", E)}),
    ("negative frame index", "assignable-submitted", [put("/target/index", -1)], {("property.range", "/target/index", E)}),
    ("negative selector start", "annotation-highlighted", [put("/generated/selection/start", -5)], {("property.range", "/generated/selection/start", E)}),
    # ids
    ("entity id without a scheme", "assessment-started", [put("/object/id", "quizzes/4")], {("id.not-iri", "/object/id", E)}),
    ("entity id with a space", "assessment-started", [put("/object/id", "https://lms.example.org/quiz 4")], {("id.not-iri", "/object/id", E)}),
    ("IRI reference without a scheme", "assessment-started", [put("/actor", "ada")], {("id.not-iri", "/actor", E)}),
    ("IRI reference in a list", "view-viewed-document", [put("/object/creators/0", "bo")], {("id.not-iri", "/object/creators/0", E)}),
    ("id reused for an unrelated type", "assessment-started", [put("/generated/id", f"{LMS}/courses/chem-101/quizzes/4")], {("id.reused", "/generated/id", W)}),
    ("event id not a URN", "assessment-started", [put("/id", f"{LMS}/events/1")], {("event.id.format", "/id", E)}),
    ("event id a short UUID", "assessment-started", [put("/id", "urn:uuid:1234")], {("event.id.format", "/id", E)}),
    ("event id a number", "assessment-started", [put("/id", 1234)], {("event.id.format", "/id", E)}),
    ("event id version 1", "assessment-started", [put("/id", "urn:uuid:a2bb1185-ab6f-1b03-adc3-f54b9d3ed220")], {("event.id.not-v4", "/id", W)}),
    # formats
    ("duration in words", "assessment-started", [put("/federatedSession/duration", "15 minutes")], {("duration.format", "/federatedSession/duration", E)}),
    ("duration without a component", "assessment-started", [put("/federatedSession/duration", "PT")], {("duration.format", "/federatedSession/duration", E)}),
    ("duration with a dangling T", "assessment-started", [put("/federatedSession/duration", "P1DT")], {("duration.format", "/federatedSession/duration", E)}),
    ("negative duration", "assessment-started", [put("/federatedSession/duration", "-PT1M")], {("duration.format", "/federatedSession/duration", E)}),
    ("duration with a fraction on hours", "assessment-started", [put("/federatedSession/duration", "PT1.5H")], {("duration.format", "/federatedSession/duration", E)}),
    ("duration mixing weeks and days", "assessment-started", [put("/federatedSession/duration", "P1W2D")], {("duration.format", "/federatedSession/duration", E)}),
    ("duration a number", "media-paused", [put("/target/currentTime", 754)], {("property.kind", "/target/currentTime", E)}),
    ("DateTime a number", "assessment-started", [put("/eventTime", 1727860500000)], {("property.kind", "/eventTime", E)}),
    # vocabularies
    ("unknown role", "assessment-started", [put("/membership/roles", ["Learner", "Student"])], {("membership.role.unknown", "/membership/roles/1", E)}),
    ("role IRI instead of Term", "assessment-started", [put("/membership/roles", ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"])], {("membership.role.unknown", "/membership/roles/0", E)}),
    ("sub-role without its context role", "assessment-started", [put("/membership/roles", ["Instructor#TeachingAssistant"])], {("membership.role.context-missing", "/membership/roles/0", W)}),
    ("sub-role under another context role", "assessment-started", [put("/membership/roles", ["Learner", "Learner#Instructor"])], {("membership.role.unknown", "/membership/roles/1", E)}),
    ("unknown status", "assessment-started", [put("/membership/status", "Enrolled")], {("membership.status.unknown", "/membership/status", E)}),
    # actions
    ("action not a Term", "assessment-started", [put("/action", "Began")], {("event.action.unknown", "/action", E)}),
    ("action IRI", "assessment-started", [put("/action", "http://purl.imsglobal.org/caliper/actions/Started")], {("event.action.unknown", "/action", E)}),
    ("action of another profile", "assessment-started", [put("/action", "Viewed")], {("event.action.not-allowed", "/action", E)}),
    ("Posted on a ThreadEvent (I5)", "thread-marked-as-read", [put("/action", "Posted")], {("event.action.not-allowed", "/action", E)}),
    ("captioning action on a ViewEvent", "view-viewed-document", [put("/action", "EnabledCloseCaptioning")], {("event.action.not-allowed", "/action", E)}),
    ("action a list", "assessment-started", [put("/action", ["Started"])], {("property.kind", "/action", E)}),
    ("deprecated annotation action", "annotation-highlighted", [put("/action", "Liked")], {("event.action.deprecated", "/action", W)}),
    ("MarkedAsUnRead spelling", "thread-marked-as-read", [put("/action", "MarkedAsUnRead")], {("event.action.misspelled", "/action", E)}),
    ("context spelling of a captioning action", "media-paused", [put("/action", "EnabledCloseCaptioning")], {("event.action.context-spelling", "/action", W)}),
    # per-event-type slots
    ("AssessmentEvent actor SoftwareApplication", "assessment-started", [put("/actor", {"id": f"{LMS}/", "type": "SoftwareApplication"})], {("event.actor.type-not-allowed", "/actor/type", E)}),
    ("supertype Agent where a Person is required", "navigation-navigated-to", [put("/actor", {"id": f"{LMS}/agents/7", "type": "Agent"})], {("event.actor.type-not-allowed", "/actor/type", E)}),
    ("supertype Session where an LtiSession is required", "assessment-started", [put("/federatedSession", {"id": f"{LMS}/sessions/9", "type": "Session"})], {("property.type-not-allowed", "/federatedSession/type", E)}),
    ("AssessmentEvent object Document", "assessment-started", [put("/object", {"id": f"{LMS}/files/9", "type": "Document"})], {("event.object.type-not-allowed", "/object/type", E)}),
    ("AssessmentEvent generates a Score", "assessment-started", [put("/generated", {"id": f"{LMS}/scores/1", "type": "Score"})], {("event.generated.type-not-allowed", "/generated/type", E)}),
    ("Highlighted generates a TagAnnotation", "annotation-tagged", [put("/action", "Highlighted")], {("event.generated.type-not-allowed", "/generated/type", E)}),
    ("AssessmentItem Completed generates an Attempt (I4)", "assessment-item-started", [put("/action", "Completed")], {("event.generated.type-not-allowed", "/generated/type", E)}),
    ("AssessmentItem Started generates a Response (I4)", "assessment-item-completed", [put("/action", "Started")], {("event.generated.type-not-allowed", "/generated/type", E)}),
    ("NavigationEvent target a Person", "navigation-navigated-to", [put("/target", {"id": f"{LMS}/people/bo", "type": "Person"})], {("event.target.type-not-allowed", "/target/type", E)}),
    ("NavigationEvent referrer a Person", "navigation-navigated-to", [put("/referrer", {"id": f"{LMS}/people/bo", "type": "Person"})], {("event.referrer.type-not-allowed", "/referrer/type", E)}),
    ("GradeEvent actor an Organization", "grade-graded", [put("/actor", {"id": f"{LMS}/departments/chemistry", "type": "Organization"})], {("event.actor.type-not-allowed", "/actor/type", E)}),
    ("entity id a number", "assessment-started", [put("/object/id", 4)], {("property.kind", "/object/id", E)}),
    ("entity id an object", "assessment-started", [put("/object/id", {"href": f"{LMS}/quizzes/4"})], {("property.kind", "/object/id", E)}),
    ("TimedOut by a Person", "session-timed-out", [put("/actor", {"id": f"{LMS}/people/ada", "type": "Person"})], {("event.actor.type-not-allowed", "/actor/type", E)}),
    ("LoggedIn into a Session", "session-logged-in", [put("/object", {"id": f"{LMS}/sessions/7f3e", "type": "Session"})], {("event.object.type-not-allowed", "/object/type", E)}),
    ("GradeEvent with a target (I7)", "grade-graded", [put("/target", f"{LMS}/courses/chem-101/quizzes/4#q1")], {("event.target.not-applicable", "/target", E)}),
    ("MediaEvent object a Document", "media-paused", [put("/object/type", "Document"), drop("/object/duration"), drop("/object/volumeLevel"), drop("/object/volumeMin"), drop("/object/volumeMax"), drop("/object/muted")], {("event.object.type-not-allowed", "/object/type", E)}),
    # lint
    ("GradeEvent without a Score", "grade-graded", [drop("/generated")], {("event.property.recommended", "/generated", W)}),
    ("LoggedIn without a session", "session-logged-in", [drop("/session")], {("event.property.recommended", "/session", W)}),
    ("assessment Attempt without count", "assessment-started", [drop("/generated/count")], {("event.entity.incomplete", "/generated/count", W)}),
    ("annotation without annotator", "annotation-bookmarked", [drop("/generated/annotator")], {("event.entity.incomplete", "/generated/annotator", W)}),
]


@pytest.mark.parametrize(("base", "mutations", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_invalid_case_reports_exactly_its_findings(base: str, mutations: list[Mutation], expected: set[tuple[str, str, str]]) -> None:
    document = load(base)
    for mutate in mutations:
        mutate(document)
    assert findings(validate_caliper(document)) == expected


DATETIMES = [
    "2024-10-02T09:15:00Z",
    "2024-10-02T09:15:00.000000Z",
    "2024-10-02T09:15:00.00Z",
    "2024-10-02T09:15:00.000+00:00",
    "2024-10-02T09:15:00.000z",
    "2024-10-02 09:15:00.000Z",
    "2024-02-30T09:15:00.000Z",
    "2024-10-02T24:00:00.000Z",
    "2024-10-02",
    "２０２４-10-02T09:15:00.000Z",
]


@pytest.mark.parametrize("value", DATETIMES)
def test_datetime_outside_the_one_caliper_form_is_rejected(value: str) -> None:
    document = load("assessment-started")
    document["object"]["dateToSubmit"] = value
    assert findings(validate_caliper(document)) == {("datetime.format", "/object/dateToSubmit", E)}


@pytest.mark.parametrize("value", ["PT50M12S", "P1Y2M3DT4H5M6.5S", "P3W", "PT0S", "P1D", "PT1,5S", "PT1H30M", "P1Y2M"])
def test_iso_8601_durations_are_accepted(value: str) -> None:
    document = load("media-paused")
    document["object"]["duration"] = value
    assert validate_caliper(document) == []


@pytest.mark.parametrize("identifier", ["urn:example:lms:item:1", "_:b0", "mailto:ada@lms.example.org", "https://lms.example.org/a?b=1#c"])
def test_iri_forms_are_accepted_as_ids(identifier: str) -> None:
    document = load("view-viewed-document")
    document["object"]["id"] = identifier
    assert validate_caliper(document) == []


def test_subtype_satisfies_a_supertype_slot() -> None:
    document = load("assignable-submitted")
    document["object"]["type"] = "Assessment"  # an AssignableDigitalResource (and a DigitalResourceCollection)
    document["object"]["items"] = [{"id": f"{LMS}/items/1", "type": "AssessmentItem"}]
    assert validate_caliper(document) == []


def test_entity_describe_checks_its_properties() -> None:
    membership = {
        "@context": V1P1,
        "id": f"{LMS}/courses/chem-101/roster/cy",
        "type": "Membership",
        "member": {"id": f"{LMS}/people/cy", "type": "CourseSection"},
        "roles": ["Mentor#Tutor", "Mentor"],
        "status": "Active",
        "dateCreated": "2024-09-01T08:00:00Z",
    }
    assert findings(validate_caliper(membership)) == {
        ("property.type-not-allowed", "/member/type", E),
        ("datetime.format", "/dateCreated", E),
    }


def test_findings_come_in_document_order_with_all_fields() -> None:
    document = load("assessment-started")
    document["action"] = "Viewed"
    document["eventTime"] = "yesterday"
    problems = validate_caliper(document)
    assert [problem.path for problem in problems] == ["/action", "/eventTime"]
    first = problems[0]
    assert first.rule == "event.action.not-allowed"
    assert "'Viewed'" in first.message and "AssessmentEvent" in first.message and "Started" in first.message
    assert first.as_dict() == {"path": "/action", "rule": first.rule, "severity": "error", "message": first.message}
    assert "'yesterday'" in problems[1].message and "YYYY-MM-DDTHH:mm:ss.SSSZ" in problems[1].message


def test_problem_is_a_frozen_slotted_dataclass() -> None:
    problem = Problem("/a", "type.unknown", "m", "error")
    with pytest.raises(FrozenInstanceError):
        problem.path = "/b"  # type: ignore[misc]
    assert not hasattr(problem, "__dict__")


def test_document_that_is_not_an_object() -> None:
    assert findings(validate_caliper([load("grade-graded")])) == {("document.kind", "", E)}


def _nested(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {"@context": V1P1, "id": f"{LMS}/r/0", "type": "DigitalResource"}
    node = root
    for level in range(1, depth):
        node["isPartOf"] = node = {"id": f"{LMS}/r/{level}", "type": "DigitalResource"}
    return root


def test_deep_nesting_is_followed_and_excessive_nesting_is_a_finding() -> None:
    assert validate_caliper(_nested(100)) == []
    assert findings(validate_caliper(_nested(5000))) == {("document.depth", "", E)}
    assert findings(validate_caliper_json(json.dumps(_nested(600)))) == {("document.depth", "", E)}
    assert findings(validate_caliper_json("[" * 100_000 + "]" * 100_000)) == {("json.syntax", "", E)}


def test_keys_that_are_not_strings_are_findings_not_crashes() -> None:
    """Python callers may pass dicts JSON cannot hold."""
    document = load("grade-graded")
    document[7] = "seven"
    document["@context"] = [{8: "x"}, V1P1]
    assert findings(validate_caliper(document)) == {("property.unknown", "/7", E)}


def test_unknown_mode_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="'lenient'"):
        validate_caliper(load("grade-graded"), mode="lenient")
    with pytest.raises(ValueError, match="'lenient'"):
        validate_caliper_json(b"{}", mode="lenient")


def test_validation_does_not_modify_the_document() -> None:
    document = load("envelope-mixed-batch")
    document["data"][0]["object"]["name"] = ""
    before = copy.deepcopy(document)
    validate_caliper(document)
    assert document == before


def test_is_valid_ignores_warnings() -> None:
    document = load("grade-graded")
    del document["generated"]
    problems = validate_caliper(document)
    assert problems and is_valid(problems)
    document["action"] = "Viewed"
    assert not is_valid(validate_caliper(document))


# Rules exercised elsewhere: json.* in test_validation_json.py; the canvas-tolerated ones there too.
RULES_TESTED_ELSEWHERE = {"json.syntax", "json.key.duplicate"}


def test_every_catalogued_rule_has_a_case() -> None:
    exercised = {rule for _, _, _, expected in CASES for rule, _, _ in expected}
    exercised |= {"datetime.format", "document.kind", "document.depth"} | RULES_TESTED_ELSEWHERE
    assert exercised == set(RULES)


def test_every_case_severity_matches_the_catalogue() -> None:
    for name, _, _, expected in CASES:
        for rule, _, severity in expected:
            assert RULES[rule].severity == severity, name


JUNK: list[Any] = [None, True, 0, -1, 2.5, "", "x", "urn:x", [], [1, None], {}, {"type": ["Person"]}, {"type": "Person"}, {"id": 3}, {"@context": {}}]


def _locations(value: Any, path: str = "") -> list[str]:
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _locations(item, f"{path}/{key.replace('~', '~0').replace('/', '~1')}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _locations(item, f"{path}/{index}")
    return found


@pytest.mark.parametrize("name", ["envelope-mixed-batch", "assessment-started", "annotation-highlighted"])
def test_any_value_anywhere_gives_findings_never_an_exception(name: str) -> None:
    """Bad input gets findings: put every kind of junk at every location of a valid document."""
    base = load(name)
    for location in _locations(base):
        for junk in JUNK:
            document = load(name)
            put(location, junk)(document)
            for mode in ("strict", "canvas"):
                for problem in validate_caliper(document, mode=mode):
                    assert problem.rule in RULES and problem.severity in ("error", "warning")


def test_a_misspelled_action_that_is_not_allowed_is_named_as_sent() -> None:
    document = load("view-viewed-document")
    document["action"] = "EnabledCloseCaptioning"
    [problem] = validate_caliper(document)
    assert (problem.rule, problem.path) == ("event.action.not-allowed", "/action")
    assert problem.message.startswith("action 'EnabledCloseCaptioning' is not allowed for ViewEvent (expected one of ")


def test_an_empty_list_is_called_empty_and_a_standalone_entity_id_must_be_a_string() -> None:
    document = load("view-viewed-document")
    document["object"]["keywords"] = []
    [problem] = validate_caliper(document)
    assert problem.message == "'keywords' is an empty array; null or empty values SHOULD be omitted"
    entity = {"@context": V1P1, "id": 5, "type": "Person"}
    assert [(p.rule, p.path, p.message) for p in validate_caliper(entity)] == [("property.kind", "/id", "id is 5; expected an IRI string")]
