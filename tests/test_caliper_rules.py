"""One test per shared rule of the Canvas → Caliper mapping (``canvas-to-caliper.md`` §4, §6, §7).

Records are built from our own small request/job metadata; each test asserts the part of the
envelope its rule decides (the full-envelope pairs are in ``test_caliper_cases.py``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from liveevents import CANVAS_EVENT_TYPES, RecordError, UnmappedEventError, caliper_envelope, caliper_event_types, parse_record
from liveevents.caliper.envelope import CaliperTransformer
from liveevents.caliper.roles import SUGGESTED_ROLE_MAP

EXT = "com.instructure.canvas"
HOST = "lms.westbrook.ac.uk"
REQUEST = {
    "event_time": "2025-02-03T10:20:30.456Z",
    "hostname": HOST,
    "request_id": "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d",
    "session_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "user_agent": "curl/8.5.0",
    "client_ip": "203.0.113.9",
    "url": f"https://{HOST}/courses/77",
    "user_id": "880000000000123",
    "user_login": "r.patel",
    "root_account_id": "880000000000001",
    "context_type": "Course",
    "context_id": "880000000000077",
    "context_role": "StudentEnrollment",
    "producer": "canvas",
}
JOB = {"event_time": "2025-02-03T01:00:00.000Z", "job_id": "4400012", "job_tag": "Course#process_nightly", "root_account_id": "880000000000001"}
WIKI_BODY = {"wiki_page_id": "880000000000555", "title": "Welcome"}
ASSET_BODY = {"asset_type": "wiki_page", "asset_id": "880000000000555", "asset_name": "Welcome"}


def event(name: str, body: dict[str, Any], base: dict[str, Any] = REQUEST, **metadata: Any) -> dict[str, Any]:
    merged = {**base, "event_name": name, **metadata}
    return {"attributes": {key: value for key, value in merged.items() if value is not ...}, "body": body}


def caliper(record: dict[str, Any], **options: Any) -> dict[str, Any]:
    return caliper_envelope(record, **options)["data"][0]


# --- actor (§4.4, §4.5) -------------------------------------------------------------------


def test_metadata_user_is_a_person_with_actor_extensions_in_order() -> None:
    actor = caliper(event("wiki_page_updated", WIKI_BODY, user_sis_id="SIS-123", root_account_uuid="uuid-1"))["actor"]
    assert actor["id"] == "urn:instructure:canvas:user:880000000000123"
    assert actor["type"] == "Person"
    assert list(actor["extensions"][EXT].items()) == [
        ("user_login", "r.patel"),
        ("user_sis_id", "SIS-123"),
        ("root_account_id", "880000000000001"),
        ("root_account_uuid", "uuid-1"),
        ("entity_id", "880000000000123"),
    ]


def test_masquerading_user_is_appended_after_entity_id() -> None:
    extensions = caliper(event("wiki_page_updated", WIKI_BODY, real_user_id="880000000000009"))["actor"]["extensions"][EXT]
    assert list(extensions)[-2:] == ["entity_id", "real_user_id"]
    assert extensions["real_user_id"] == "880000000000009"


def test_numeric_user_id_becomes_its_decimal_string() -> None:
    actor = caliper(event("wiki_page_updated", WIKI_BODY, user_id=880000000000123))["actor"]
    assert actor["id"] == "urn:instructure:canvas:user:880000000000123"
    assert actor["extensions"][EXT]["entity_id"] == "880000000000123"


@pytest.mark.parametrize("name", ["attachment_created", "attachment_updated", "attachment_deleted", "submission_created", "discussion_entry_created"])
def test_body_user_acts_when_the_metadata_has_none(name: str) -> None:
    body = {"attachment_id": "1", "submission_id": "2", "discussion_entry_id": "3", "user_id": "880000000000456"}
    actor = caliper(event(name, body, user_id=..., user_login=...))["actor"]
    assert actor["id"] == "urn:instructure:canvas:user:880000000000456"
    assert list(actor["extensions"][EXT]) == ["root_account_id", "entity_id"]


def test_body_user_is_not_the_actor_of_submission_updated() -> None:
    # body.user_id is the student whose submission changed, not who changed it.
    body = {"submission_id": "2", "user_id": "880000000000456", "assignment_id": "9"}
    data = caliper(event("submission_updated", body, user_id=...))
    assert data["actor"] == {"id": f"http://{HOST}/", "type": "SoftwareApplication"}
    assert data["object"]["assignee"]["id"] == "urn:instructure:canvas:user:880000000000456"
    assert "membership" not in data


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("logged_in", {}),
        ("logged_out", {}),
        ("quiz_submitted", {"submission_id": "5", "quiz_id": "6"}),
        ("submission_created", {"submission_id": "5"}),
        ("discussion_entry_created", {"discussion_entry_id": "7"}),
        ("discussion_topic_created", {"discussion_topic_id": "8", "context_type": "Course", "context_id": "77"}),
    ],
)
def test_unidentified_user_of_a_person_only_event_is_user_0(name: str, body: dict[str, Any]) -> None:
    data = caliper(event(name, body, user_id=..., user_login=...))
    assert data["actor"] == {"id": "urn:instructure:canvas:user:0", "type": "Person"}
    assert "membership" not in data


def test_unidentified_user_of_other_events_is_canvas_itself() -> None:
    data = caliper(event("asset_accessed", ASSET_BODY, user_id=..., user_login=...))
    assert data["actor"] == {"id": f"http://{HOST}/", "type": "SoftwareApplication"}
    assert data["group"]["id"] == "urn:instructure:canvas:course:880000000000077"
    assert "membership" not in data


def test_quiz_submitted_by_a_job_has_a_software_actor_and_no_assignee() -> None:
    data = caliper(event("quiz_submitted", {"submission_id": "5", "quiz_id": "6"}, base=JOB))
    assert data["actor"] == {"id": "www.canvaslms.com", "type": "SoftwareApplication"}
    assert "assignee" not in data["object"]


# --- job events, edApp and sensor (§4.7, §7) ----------------------------------------------


def test_request_events_name_the_account_host_over_http() -> None:
    envelope = caliper_envelope(event("wiki_page_updated", WIKI_BODY, hostname="learn.vanity.example"))
    assert envelope["sensor"] == "http://learn.vanity.example/"
    assert envelope["data"][0]["edApp"] == {"id": "http://learn.vanity.example/", "type": "SoftwareApplication"}


def test_job_event_defaults() -> None:
    envelope = caliper_envelope(event("wiki_page_updated", WIKI_BODY, base=JOB))
    data = envelope["data"][0]
    assert envelope["sensor"] == "www.canvaslms.com"
    assert data["edApp"] == {"id": "www.canvaslms.com", "type": "SoftwareApplication"}
    assert data["actor"] == {"id": "www.canvaslms.com", "type": "SoftwareApplication"}
    assert data["extensions"] == {EXT: {"job_id": "4400012", "job_tag": "Course#process_nightly", "version": "1.0.0"}}
    assert not {"session", "referrer", "group", "membership"} & set(data)


def test_job_event_sensor_is_the_configured_canvas_domain() -> None:
    envelope = caliper_envelope(event("wiki_page_updated", WIKI_BODY, base=JOB), canvas_domain="canvas.westbrook.ac.uk")
    assert envelope["sensor"] == "http://canvas.westbrook.ac.uk/"
    assert envelope["data"][0]["edApp"]["id"] == "www.canvaslms.com"


def test_strict_profile_job_edapp_is_an_absolute_iri() -> None:
    envelope = caliper_envelope(event("wiki_page_updated", WIKI_BODY, base=JOB), profile="strict")
    assert envelope["sensor"] == envelope["data"][0]["edApp"]["id"] == "http://www.canvaslms.com/"


@pytest.mark.parametrize("options", [{"profile": "lenient"}, {"canvas_domain": "https://canvas.example.edu/"}, {"canvas_domain": ""}])
def test_bad_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="profile|canvas_domain"):
        CaliperTransformer(**options)


# --- group and membership (§4.10, §4.11) --------------------------------------------------


@pytest.mark.parametrize("context_type", ["Account", "Group", "User", "CourseSection", None])
def test_only_course_contexts_give_a_group(context_type: str | None) -> None:
    data = caliper(event("wiki_page_updated", WIKI_BODY, context_type=context_type))
    assert "group" not in data and "membership" not in data


@pytest.mark.parametrize(
    ("context_role", "segment", "roles"),
    [("TeacherEnrollment", "Instructor", ["Instructor"]), ("StudentEnrollment", "Learner", ["Learner"]),
     ("TaEnrollment", "user", None), ("Training Teacher", "user", None), (None, "user", None)],
)  # fmt: skip
def test_default_role_mapping(context_role: str | None, segment: str, roles: list[str] | None) -> None:
    membership = caliper(event("wiki_page_updated", WIKI_BODY, context_role=context_role))["membership"]
    assert membership["id"] == f"urn:instructure:canvas:course:880000000000077:{segment}:880000000000123"
    assert membership.get("roles") == roles


def test_an_extra_role_map_adds_caliper_roles() -> None:
    record = event("wiki_page_updated", WIKI_BODY, context_role="TaEnrollment")
    membership = caliper(record, role_map=SUGGESTED_ROLE_MAP)["membership"]
    assert membership["id"] == "urn:instructure:canvas:course:880000000000077:Instructor:880000000000123"
    assert membership["roles"] == ["Instructor#TeachingAssistant", "Instructor"]
    # The default stays exactly Instructure's when no map is given.
    assert "roles" not in caliper(record)["membership"]


@pytest.mark.parametrize("role_map", [{"TaEnrollment": ["Teaching Assistant"]}, {"TaEnrollment": []}, {"TaEnrollment": "Instructor"}])
def test_role_map_values_must_be_caliper_roles(role_map: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="TaEnrollment"):
        CaliperTransformer(role_map=role_map)


def test_enrollment_without_section_belongs_to_its_course() -> None:
    body = {"enrollment_id": "9", "course_id": "880000000000077", "course_section_id": None}
    data = caliper(event("enrollment_updated", body, context_role="TeacherEnrollment"))
    assert data["group"]["type"] == "CourseOffering"
    assert data["membership"]["organization"] == {"id": "urn:instructure:canvas:course:880000000000077", "type": "CourseOffering"}


# --- session, referrer, extensions, tokens (§4.6, §4.8, §4.9, T19) ------------------------


def test_session_and_referrer_are_left_out_when_absent_or_null() -> None:
    data = caliper(event("wiki_page_updated", WIKI_BODY, session_id=..., referrer=None))
    assert "session" not in data and "referrer" not in data


def test_referrer_is_a_plain_iri_string() -> None:
    data = caliper(event("wiki_page_updated", WIKI_BODY, referrer=f"https://{HOST}/courses/77/pages"))
    assert data["referrer"] == f"https://{HOST}/courses/77/pages"


def test_access_tokens_are_redacted_by_default() -> None:
    record = event(
        "wiki_page_updated", WIKI_BODY,
        url=f"https://{HOST}/api/v1/courses/77?access_token=7~secretA&per_page=10",
        referrer=f"https://{HOST}/x?access_token=7~secretB",
    )  # fmt: skip
    data = caliper(record)
    assert data["extensions"][EXT]["request_url"] == f"https://{HOST}/api/v1/courses/77?access_token=[FILTERED]&per_page=10"
    assert data["referrer"] == f"https://{HOST}/x?access_token=[FILTERED]"
    kept = caliper(record, redact_tokens=False)
    assert "secretA" in kept["extensions"][EXT]["request_url"] and "secretB" in kept["referrer"]


def test_event_extensions_are_request_fields_then_version_and_drop_the_rest() -> None:
    extensions = caliper(event("wiki_page_updated", WIKI_BODY, time_zone="Europe/London", user_account_id="1"))["extensions"][EXT]
    assert list(extensions) == ["hostname", "request_id", "user_agent", "client_ip", "request_url", "version"]


# --- timestamps, numbers, nulls (§4.2, §4.12) ---------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [("2025-02-03T10:20:30.456Z", "2025-02-03T10:20:30.456Z"), ("2025-02-03T10:20:30Z", "2025-02-03T10:20:30.000Z"),
     ("2025-02-03T11:20:30.4567+01:00", "2025-02-03T10:20:30.456Z"), ("2025-02-03 02:20:30 -0800", "2025-02-03T10:20:30.000Z"),
     ("2025-02-03 10:20:30 UTC", "2025-02-03T10:20:30.000Z")],
)  # fmt: skip
def test_event_time_is_normalised_to_utc_milliseconds(given: str, expected: str) -> None:
    assert caliper(event("wiki_page_updated", WIKI_BODY, event_time=given))["eventTime"] == expected


@pytest.mark.parametrize("due_at", ["019-11-01T19:11:01.163Z", "2025-02-30T10:00:00Z", 20250201, ["2025-02-01"]])
def test_an_unreadable_body_timestamp_is_left_out(due_at: object) -> None:
    body = {"assignment_id": "3", "title": "Essay", "due_at": due_at, "unlock_at": "2025-02-01"}
    assignment = caliper(event("assignment_updated", body))["object"]
    assert "dateToSubmit" not in assignment
    assert assignment["dateToShow"] == "2025-02-01T00:00:00.000Z"


@pytest.mark.parametrize(("points", "expected"), [(100.0, 100), (99.5, 99.5), (7, 7), (0.0, 0)])
def test_integral_float_scores_become_integers(points: float, expected: float) -> None:
    max_score = caliper(event("quiz_updated", {"quiz_id": "4", "points_possible": points}))["object"]["maxScore"]
    assert max_score == expected and type(max_score) is type(expected)


def test_null_body_values_leave_their_keys_out() -> None:
    body = {"assignment_id": "3", "title": None, "description": None, "lock_at": None, "workflow_state": None, "points_possible": None}
    assignment = caliper(event("assignment_updated", body))["object"]
    assert assignment == {
        "id": "urn:instructure:canvas:assignment:3",
        "type": "AssignableDigitalResource",
        "extensions": {EXT: {"entity_id": "3"}},
    }


# --- asset_accessed object per asset type (§5.4) -------------------------------------------


@pytest.mark.parametrize(
    ("asset_type", "subtype", "urn_kind", "caliper_type", "name"),
    [("assignment", None, "assignment", "AssignableDigitalResource", None),
     ("discussion_topic", None, "discussion", "Thread", None),
     ("wiki_page", None, "wikiPage", "Page", None),
     ("quizzes:quiz", None, "quizzes:quiz", "Entity", "quizzes:quiz"),
     ("course", "grades", "course", "Entity", "grades"),
     ("planner_note", None, "planner_note", "Entity", "planner_note")],
)  # fmt: skip
def test_asset_accessed_object_per_asset_type(asset_type: str, subtype: str | None, urn_kind: str, caliper_type: str, name: str | None) -> None:
    body = {"asset_type": asset_type, "asset_id": "880000000000321", "asset_subtype": subtype, "category": "x", "role": "StudentEnrollment", "level": None}
    obj = caliper(event("asset_accessed", body))["object"]
    assert obj["id"] == f"urn:instructure:canvas:{urn_kind}:880000000000321"
    assert obj["type"] == caliper_type
    assert obj.get("name") == name
    assert obj["extensions"][EXT]["asset_type"] == asset_type
    assert not {"category", "role", "level", "asset_id"} & set(obj["extensions"][EXT])


# --- required fields -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "field", "shown"),
    [("grade_change", {"grade": "A"}, "body.submission_id", "missing"),
     ("grade_change", {"grade": "A", "submission_id": None}, "body.submission_id", "null"),
     ("asset_accessed", {"asset_id": "1"}, "body.asset_type", "missing"),
     ("wiki_page_updated", {"wiki_page_id": {"id": 1}}, "body.wiki_page_id", '{"id":1}')],
)  # fmt: skip
def test_an_event_missing_its_entity_id_is_rejected_by_name(name: str, body: dict[str, Any], field: str, shown: str) -> None:
    with pytest.raises(RecordError) as raised:
        caliper_envelope(event(name, body))
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{field}: {shown}: ")


@pytest.mark.parametrize(
    ("name", "body", "metadata", "field", "value"),
    [
        ("wiki_page_updated", {"wiki_page_id": "88 0"}, {}, "body.wiki_page_id", "88 0"),
        ("wiki_page_updated", WIKI_BODY, {"user_id": "<script>"}, "metadata.user_id", "<script>"),
        ("wiki_page_updated", WIKI_BODY, {"session_id": {"id": "0f1e"}}, "metadata.session_id", {"id": "0f1e"}),
        ("wiki_page_updated", WIKI_BODY, {"hostname": "lms westbrook"}, "metadata.hostname", "lms westbrook"),
        ("asset_accessed", {**ASSET_BODY, "asset_type": "wiki page"}, {}, "body.asset_type", "wiki page"),
    ],
)
def test_a_value_that_cannot_be_part_of_a_urn_is_rejected_by_name(
    name: str, body: dict[str, Any], metadata: dict[str, Any], field: str, value: object
) -> None:
    with pytest.raises(RecordError) as raised:
        caliper_envelope(event(name, body, **metadata))
    assert (raised.value.field, raised.value.value) == (field, value)


@pytest.mark.parametrize(
    ("name", "body", "metadata", "path", "expected"),
    [
        ("wiki_page_updated", {**WIKI_BODY, "title": 2024}, {}, ("object", "name"), None),
        ("quiz_updated", {"quiz_id": "4", "points_possible": "20"}, {}, ("object", "maxScore"), None),
        ("submission_updated", {"submission_id": "9", "attempt": 1.5}, {}, ("object", "count"), None),
        ("submission_updated", {"submission_id": "9", "attempt": 2.0}, {}, ("object", "count"), 2),
        ("wiki_page_updated", WIKI_BODY, {"referrer": 404}, ("referrer",), None),
        # A subtype that is not a string names nothing: the asset type names the Entity.
        ("asset_accessed", {**ASSET_BODY, "asset_type": "course", "asset_subtype": 7}, {}, ("object", "name"), "course"),
    ],
)
def test_a_wrongly_typed_optional_value_is_left_out(
    name: str, body: dict[str, Any], metadata: dict[str, Any], path: tuple[str, ...], expected: object
) -> None:
    node = caliper(event(name, body, **metadata))
    for key in path[:-1]:
        node = node[key]
    assert node.get(path[-1]) == expected


def test_an_invalid_record_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="event_time"):
        caliper_envelope({"attributes": {"event_name": "asset_accessed", "event_time": "yesterday"}, "body": {}})


# --- ids and sendTime (§6) ------------------------------------------------------------------

UUID4 = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_ids_are_deterministic_v4_urns_whatever_the_shape_or_key_order() -> None:
    record = event("asset_accessed", ASSET_BODY)
    first = caliper(record)["id"]
    assert UUID4.fullmatch(first)
    assert caliper(record)["id"] == first
    reordered = {"body": dict(reversed(list(ASSET_BODY.items()))), "metadata": dict(reversed(list(record["attributes"].items())))}
    assert caliper(reordered)["id"] == first
    assert caliper(parse_record(record))["id"] == first


def test_different_records_get_different_ids() -> None:
    ids = {
        caliper(event("asset_accessed", ASSET_BODY))["id"],
        caliper(event("asset_accessed", {**ASSET_BODY, "asset_name": "Welcome!"}))["id"],
        caliper(event("asset_accessed", ASSET_BODY, event_time="2025-02-03T10:20:30.457Z"))["id"],
        caliper(event("asset_accessed", ASSET_BODY, request_id="b0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"))["id"],
    }
    assert len(ids) == 4


def test_send_time_is_the_given_moment_in_utc_truncated_to_milliseconds() -> None:
    moment = datetime(2025, 2, 3, 11, 59, 59, 999999, tzinfo=timezone(timedelta(hours=1)))
    assert caliper_envelope(event("asset_accessed", ASSET_BODY), send_time=moment)["sendTime"] == "2025-02-03T10:59:59.999Z"


def test_send_time_defaults_to_now() -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    sent = caliper_envelope(event("asset_accessed", ASSET_BODY))["sendTime"]
    after = datetime.now(timezone.utc)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sent)
    assert before <= datetime.fromisoformat(sent) <= after


def test_a_naive_send_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="time zone"):
        caliper_envelope(event("asset_accessed", ASSET_BODY), send_time=datetime(2025, 2, 3, 10, 0))


# --- unmapped events and the listing (§2) -------------------------------------------------


def test_unmapped_event_error_names_the_type_and_points_to_the_canvas_format() -> None:
    with pytest.raises(UnmappedEventError) as raised:
        caliper_envelope(event("course_completed", {"course_id": "1"}))
    assert isinstance(raised.value, ValueError)
    assert raised.value.event_name == "course_completed"
    assert "'course_completed'" in str(raised.value) and "Canvas format" in str(raised.value)


def test_caliper_event_types_lists_the_32_documented_types() -> None:
    types = caliper_event_types()
    assert isinstance(types, frozenset)
    assert len(types) == 32
    assert types < CANVAS_EVENT_TYPES
    assert {"asset_accessed", "grade_change", "logged_in", "wiki_page_deleted"} <= types
    assert "course_completed" not in types
