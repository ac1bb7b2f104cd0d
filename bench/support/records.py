"""Realistic raw Canvas live events for the benchmarks (Kinesis shape, made-up ids and values).

Every record carries what Canvas sends with a user's request (account, user, course, request and
session ids, user agent, URLs), and the body of its event type.  The mix is weighted like real
traffic: asset_accessed (page views) most, then the common course activity.  Every event type here
has a Caliper form, so the records serve the transform and validator benchmarks as well as ingest.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["MIX", "realistic_records"]

HOST = "canvas.lakeshore.example.edu"
ROOT_ACCOUNT = "38150000000000001"
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "CanvasStudent/7.14.1 (iPhone; iOS 17.6; Scale/3.00)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:129.0) Gecko/20100101 Firefox/129.0",
)
ASSETS = (  # (asset_type, asset_subtype, category, name)
    ("wiki_page", None, "wiki", "Week {n}: reading guide"),
    ("course", "modules", "modules", "Modules"),
    ("assignment", None, "assignments", "Problem set {n}"),
    ("attachment", None, "files", "lecture-{n}-slides.pdf"),
    ("discussion_topic", None, "topics", "Week {n} discussion"),
    ("quizzes:quiz", None, "quizzes", "Quiz {n}"),
    ("course", "grades", "grades", "Grades"),
    ("context_external_tool", None, "external_tools", "Lab simulator"),
)


def _id(rng: random.Random, local_range: int) -> str:
    return str(38150000000000000 + rng.randrange(1, local_range))


def _uuid(rng: random.Random) -> str:
    digits = f"{rng.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{'89ab'[rng.getrandbits(2)]}{digits[17:20]}-{digits[20:]}"


def _attributes(rng: random.Random, kind: Kind) -> dict[str, Any]:
    course = rng.randrange(100, 4000)
    user = rng.randrange(1000, 600000)
    when = f"2024-10-{rng.randrange(1, 32):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
    return {
        "root_account_uuid": "Lk4sW8eR2tY6uI0oP3aS5dF7gH9jK1lZ3xC5vB7n",
        "root_account_id": ROOT_ACCOUNT,
        "root_account_lti_guid": f"9c2e4a6b8d0f1e3c5a7b9d1f3e5c7a9b1d3f5e7a.{HOST}",
        "user_login": f"u{user}@lakeshore.example.edu",
        "user_account_id": ROOT_ACCOUNT,
        "user_sis_id": f"LS-{user:07d}",
        "user_id": str(38150000000000000 + user),
        "time_zone": "America/Chicago",
        "context_type": "Course",
        "context_id": str(38150000000000000 + course),
        "context_sis_source_id": f"2024FA-CHEM-{course}-001",
        "context_account_id": "38150000000000042",
        "context_role": kind.role,
        "request_id": _uuid(rng),
        "session_id": f"{rng.getrandbits(128):032x}",
        "hostname": HOST,
        "http_method": kind.method,
        "user_agent": rng.choice(USER_AGENTS),
        "client_ip": f"203.0.{rng.randrange(114, 116)}.{rng.randrange(1, 255)}",
        "url": f"https://{HOST}/courses/{course}/{kind.path}",
        "referrer": f"https://{HOST}/courses/{course}/modules",
        "producer": "canvas",
        "event_name": kind.name,
        "event_time": when,
    }


# Each body maker gets the record's attributes and may adjust them (a page view's role, a login
# made outside any course).
BodyMaker = Callable[[random.Random, dict[str, Any]], dict[str, Any]]


def _asset_accessed(rng: random.Random, attributes: dict[str, Any]) -> dict[str, Any]:
    asset_type, subtype, category, name = rng.choice(ASSETS)
    role = rng.choice(("StudentEnrollment", "StudentEnrollment", "StudentEnrollment", "TeacherEnrollment", "TaEnrollment"))
    attributes["context_role"] = role
    body: dict[str, Any] = {
        "asset_name": name.format(n=rng.randrange(1, 15)),
        "asset_type": asset_type,
        "asset_id": _id(rng, 900000),
        "asset_subtype": subtype,
        "category": category,
        "role": role,
        "level": rng.choice((None, None, "participate")),
    }
    if asset_type == "attachment":
        body |= {"filename": body["asset_name"], "display_name": body["asset_name"]}
    if asset_type == "context_external_tool":
        body |= {"url": "https://labsim.example.org/lti/launch", "domain": "labsim.example.org"}
    return body


def _submission_created(rng: random.Random, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "assignment_id": _id(rng, 90000),
        "attempt": rng.randrange(1, 4),
        "body": "<p>Titration results: the endpoint came at 23.4 mL, so the acid was 0.117 M; see the table below.</p>",
        "grade": None,
        "late": rng.random() < 0.1,
        "missing": False,
        "score": None,
        "submission_id": _id(rng, 9000000),
        "submission_type": "online_text_entry",
        "submitted_at": attributes["event_time"],
        "updated_at": attributes["event_time"],
        "url": None,
        "user_id": attributes["user_id"],
        "workflow_state": "submitted",
    }


def _grade_change(rng: random.Random, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "assignment_id": _id(rng, 90000),
        "assignment_name": "Lab report 2",
        "grade": "17",
        "grader_id": attributes["user_id"],
        "grading_complete": True,
        "muted": False,
        "old_grade": None,
        "old_points_possible": 20,
        "old_score": None,
        "points_possible": 20.0,
        "score": 17.0,
        "student_id": _id(rng, 600000),
        "student_sis_id": f"LS-{rng.randrange(1000, 600000):07d}",
        "submission_id": _id(rng, 9000000),
        "user_id": _id(rng, 600000),
    }


def _logged_in(rng: random.Random, attributes: dict[str, Any]) -> dict[str, Any]:
    for key in ("context_type", "context_id", "context_role", "context_sis_source_id", "context_account_id"):
        del attributes[key]
    attributes |= {"url": f"https://{HOST}/login/saml", "referrer": "https://sso.lakeshore.example.edu/idp/profile/SAML2/Redirect/SSO"}
    return {"redirect_url": f"https://{HOST}/"}


def _discussion_entry_created(rng: random.Random, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "created_at": attributes["event_time"],
        "discussion_entry_id": _id(rng, 900000),
        "discussion_topic_id": _id(rng, 90000),
        "parent_discussion_entry_id": rng.choice((None, _id(rng, 900000))),
        "text": "<p>I got a different limiting reagent for question 3: did anyone else use the hydrate's molar mass?</p>",
        "user_id": attributes["user_id"],
    }


def _quiz_submitted(rng: random.Random, attributes: dict[str, Any]) -> dict[str, Any]:
    return {"quiz_id": _id(rng, 90000), "submission_id": _id(rng, 9000000)}


def _assignment_updated(rng: random.Random, attributes: dict[str, Any]) -> dict[str, Any]:
    return {
        "assignment_group_id": _id(rng, 9000),
        "assignment_id": _id(rng, 90000),
        "context_id": attributes["context_id"],
        "context_type": "Course",
        "description": "<p>Write up the titration lab: method, results table, error analysis and conclusion.</p>",
        "due_at": "2024-11-08T05:59:59Z",
        "lock_at": None,
        "points_possible": 20.0,
        "submission_types": "online_upload,online_text_entry",
        "title": "Lab report 2",
        "unlock_at": "2024-10-28T05:00:00Z",
        "updated_at": attributes["event_time"],
        "workflow_state": "published",
    }


@dataclass(frozen=True, slots=True)
class Kind:
    """One event type of the mix: how often it occurs and the request that triggers it."""

    name: str
    weight: int
    role: str
    method: str
    path: str
    body: BodyMaker


# Page views dominate Canvas traffic; then the common course activity.
MIX: tuple[Kind, ...] = (
    Kind("asset_accessed", 50, "StudentEnrollment", "GET", "modules/items/4127", _asset_accessed),
    Kind("submission_created", 10, "StudentEnrollment", "POST", "assignments/812/submissions", _submission_created),
    Kind("grade_change", 10, "TeacherEnrollment", "PUT", "gradebook/speed_grader", _grade_change),
    Kind("logged_in", 8, "", "POST", "", _logged_in),
    Kind("discussion_entry_created", 8, "StudentEnrollment", "POST", "discussion_topics/77/entries", _discussion_entry_created),
    Kind("quiz_submitted", 6, "StudentEnrollment", "POST", "quizzes/315/submissions", _quiz_submitted),
    Kind("assignment_updated", 8, "TeacherEnrollment", "PUT", "assignments/812", _assignment_updated),
)


def realistic_records(count: int, seed: int = 20241015) -> list[dict[str, Any]]:
    """``count`` raw records of the weighted mix, in a shuffled but reproducible order."""
    rng = random.Random(seed)
    kinds = [kind for kind in MIX for _ in range(kind.weight)]
    records = []
    for _ in range(count):
        kind = rng.choice(kinds)
        attributes = _attributes(rng, kind)
        records.append({"attributes": attributes, "body": kind.body(rng, attributes)})
    return records
