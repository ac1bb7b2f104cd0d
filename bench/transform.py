"""Benchmark: raw Canvas event bytes → Caliper envelope bytes, against a bare orjson round trip.

For every record of a realistic mix (~70% asset_accessed, like real Canvas traffic; the rest
grading, submissions, discussions, sessions, content edits, enrollments and a few job events),
the transform is ``CaliperTransformer().envelope_json(raw)`` (the bytes written by the compiled writer where
it is built) and the baseline, measured in the same run on the same bytes, is
``orjson.dumps(orjson.loads(raw))``. One core; best of several alternating rounds. Prints
events/s and the ratio to the baseline (target: ≤ 3×) of the transform, of the Python path
alone (``orjson.dumps(caliper_envelope(decode_record(raw)))``), and of the floor: the decoding,
hashing and encoding in C that any transform with this id rule does (docs/performance.md).

    .venv/bin/python bench/transform.py [--events 20000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import random
import time
from hashlib import sha256
from collections.abc import Callable
from typing import Any

import orjson

from liveevents import caliper_envelope, decode_record
from liveevents.caliper import native
from liveevents.caliper.envelope import CaliperTransformer

HOST = "canvas.riverton.edu"
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "CanvasStudent/7.12.0 (iPhone; iOS 17.5; Scale/3.00)",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
]
ASSETS = [  # (asset_type, asset_subtype, category)
    ("course", None, "home"), ("course", "modules", "modules"), ("course", "assignments", "assignments"), ("course", "grades", "grades"),
    ("wiki_page", None, "wiki"), ("assignment", None, "assignments"), ("discussion_topic", None, "topics"), ("attachment", None, "files"),
    ("quizzes:quiz", None, "quizzes"), ("context_external_tool", None, "external_tools"), ("group", "pages", "pages"),
    ("user", "calendar_feed", "calendar"),
]  # fmt: skip


def _global(rng: random.Random, local: int) -> str:
    return str(73000000000000 * 1000 + rng.randrange(local))


def _request(rng: random.Random, name: str, role: str = "StudentEnrollment", context: str = "Course") -> dict[str, Any]:
    course = rng.randrange(1, 3000)
    user = _global(rng, 400000)
    return {
        "root_account_uuid": "Rv8tQ2wE4rT6yU8iO0pA1sD3fG5hJ7kL9zX2cV4b",
        "root_account_id": "73000000000000001",
        "root_account_lti_guid": "5f3c9a1e7b2d4f6081a3c5e7d9b1f2a4c6e8d0f1.canvas.riverton.edu",
        "user_login": f"user{user[-6:]}@riverton.edu",
        "user_account_id": "73000000000000001",
        "user_sis_id": f"R{user[-7:]}",
        "user_id": user,
        "time_zone": "America/Denver",
        "context_type": context,
        "context_id": f"7300000000{course:07d}",
        "context_sis_source_id": f"2024FA-{course}",
        "context_account_id": "73000000000000042",
        "context_role": role,
        "request_id": f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}",
        "session_id": f"{rng.getrandbits(128):032x}",
        "hostname": HOST,
        "http_method": "GET",
        "user_agent": rng.choice(USER_AGENTS),
        "client_ip": f"198.51.{rng.randrange(256)}.{rng.randrange(256)}",
        "url": f"https://{HOST}/courses/{course}/modules/items/{rng.randrange(99999)}",
        "referrer": f"https://{HOST}/courses/{course}/modules",
        "producer": "canvas",
        "event_name": name,
        "event_time": f"2024-10-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
    }


def asset_accessed(rng: random.Random) -> dict[str, Any]:
    asset_type, subtype, category = rng.choice(ASSETS)
    metadata = _request(rng, "asset_accessed", rng.choice(["StudentEnrollment", "StudentEnrollment", "TeacherEnrollment", "TaEnrollment"]))
    body: dict[str, Any] = {
        "asset_name": f"{category.title()} item {rng.randrange(500)}", "asset_type": asset_type, "asset_id": _global(rng, 900000),
        "asset_subtype": subtype, "category": category, "role": metadata["context_role"], "level": rng.choice([None, None, "participate"]),
    }  # fmt: skip
    if asset_type == "context_external_tool":
        body |= {"url": "https://tools.example.org/lti/launch", "domain": "tools.example.org"}
    if asset_type == "attachment":
        body |= {"filename": "lecture+notes.pdf", "display_name": "lecture notes.pdf"}
    if asset_type == "user":  # calendar feeds are fetched without a login
        for key in ("user_id", "user_login", "user_sis_id", "user_account_id", "context_type", "context_id", "context_role", "referrer"):
            metadata.pop(key)
    return {"attributes": metadata, "body": body}


def other_event(rng: random.Random) -> dict[str, Any]:
    kind = rng.randrange(10)
    if kind == 0:
        metadata = _request(rng, "grade_change", "TeacherEnrollment")
        body = {"assignment_id": _global(rng, 90000), "grade": "18", "grader_id": metadata["user_id"], "grading_complete": True, "muted": False,
                "old_grade": "15", "old_points_possible": 20, "old_score": 15, "points_possible": 20.0, "score": 18.0, "student_id": _global(rng, 400000),
                "student_sis_id": "R0001234", "submission_id": _global(rng, 9000000), "user_id": _global(rng, 400000)}  # fmt: skip
    elif kind == 1:
        metadata = _request(rng, "submission_created")
        body = {"assignment_id": _global(rng, 90000), "attempt": 1, "body": "<p>" + "essay text " * 40 + "</p>", "grade": None, "late": False,
                "missing": False, "score": None, "submission_id": _global(rng, 9000000), "submission_type": "online_text_entry",
                "submitted_at": metadata["event_time"], "updated_at": metadata["event_time"], "url": None, "user_id": metadata["user_id"],
                "workflow_state": "submitted"}  # fmt: skip
    elif kind == 2:
        metadata = _request(rng, "discussion_entry_created")
        body = {"created_at": metadata["event_time"], "discussion_entry_id": _global(rng, 900000), "discussion_topic_id": _global(rng, 90000),
                "parent_discussion_entry_id": None, "text": "<p>" + "I think that " * 20 + "</p>", "user_id": metadata["user_id"]}  # fmt: skip
    elif kind == 3:
        metadata = _request(rng, rng.choice(["logged_in", "logged_out"]), context="")
        for key in ("context_type", "context_id", "context_role", "context_sis_source_id", "context_account_id"):
            metadata.pop(key)
        body = {"redirect_url": f"https://{HOST}/"} if metadata["event_name"] == "logged_in" else {}
    elif kind == 4:
        metadata = _request(rng, "wiki_page_updated", "TeacherEnrollment")
        body = {"body": "<p>" + "Week notes. " * 30 + "</p>", "old_body": "<p>Week notes.</p>", "old_title": "Notes", "title": "Week notes",
                "wiki_page_id": _global(rng, 90000)}  # fmt: skip
    elif kind == 5:
        metadata = _request(rng, "assignment_updated", "TeacherEnrollment")
        body = {"assignment_group_id": _global(rng, 9000), "assignment_id": _global(rng, 90000), "context_id": metadata["context_id"],
                "context_type": "Course", "description": "<p>Write 500 words.</p>", "due_at": "2024-11-01T05:59:59Z", "lock_at": None,
                "points_possible": 100.0, "submission_types": "online_upload", "title": "Essay 2", "unlock_at": "2024-10-20T06:00:00Z",
                "updated_at": metadata["event_time"], "workflow_state": "published"}  # fmt: skip
    elif kind == 6:
        metadata = _request(rng, "quiz_submitted")
        body = {"quiz_id": _global(rng, 90000), "submission_id": _global(rng, 9000000)}
    elif kind == 7:
        metadata = _request(rng, "enrollment_created", "TeacherEnrollment")
        course = metadata["context_id"]
        body = {"course_id": course, "course_section_id": _global(rng, 9000), "created_at": "2024-08-20T15:00:00Z", "enrollment_id": _global(rng, 900000),
                "limit_privileges_to_course_section": False, "type": "StudentEnrollment", "updated_at": "2024-08-20T15:00:00Z",
                "user_id": _global(rng, 400000), "user_name": "Alex Doe", "workflow_state": "active"}  # fmt: skip
    elif kind == 8:
        metadata = _request(rng, "attachment_created")
        body = {"attachment_id": _global(rng, 900000), "content_type": "application/pdf", "context_id": metadata["context_id"],
                "context_type": "Course", "display_name": "slides.pdf", "filename": "slides.pdf", "folder_id": _global(rng, 9000),
                "updated_at": metadata["event_time"], "user_id": metadata["user_id"]}  # fmt: skip
    else:
        metadata = {"event_name": "course_updated", "event_time": "2024-10-05 03:15:42 -0600", "job_id": str(rng.getrandbits(40)),
                    "job_tag": "SIS::CSV::ImportRefactored#run_parallel_importer", "producer": "canvas", "root_account_id": "73000000000000001",
                    "root_account_uuid": "Rv8tQ2wE4rT6yU8iO0pA1sD3fG5hJ7kL9zX2cV4b"}  # fmt: skip
        body = {"account_id": "73000000000000042", "course_id": _global(rng, 3000), "created_at": "2024-08-01T12:00:00Z", "name": "Chemistry 101",
                "updated_at": "2024-10-05 03:15:42 -0600", "uuid": "kQ2wE4rT6yU8iO0pA1sD3fG5hJ7kL9zX2cV4bN6m", "workflow_state": "available"}  # fmt: skip
    return {"attributes": metadata, "body": body}


def realistic_mix(count: int, seed: int = 20241005) -> list[bytes]:
    rng = random.Random(seed)
    return [orjson.dumps(asset_accessed(rng) if rng.random() < 0.7 else other_event(rng)) for _ in range(count)]


def baseline(records: list[bytes]) -> None:
    for raw in records:
        orjson.dumps(orjson.loads(raw))


def floor(records: list[bytes]) -> None:
    """The C work no transform with this output and id rule can skip: decode the record, write its
    canonical JSON and hash it (the deterministic id), write JSON out (the record itself: the
    envelope, ~1.7 times its size, costs more). A lower bound with no Python logic at all."""
    for raw in records:
        record = orjson.loads(raw)
        sha256(orjson.dumps({"metadata": record["attributes"], "body": record["body"]}, option=orjson.OPT_SORT_KEYS)).hexdigest()
        orjson.dumps(record)


#: One transformer for the whole run, as the CLI and delivery use (caliper_envelope_json(raw)
#: looks up the same default one per call).
TRANSFORMER = CaliperTransformer()


def transform(records: list[bytes]) -> None:
    for raw in records:
        TRANSFORMER.envelope_json(raw)


def python_path(records: list[bytes]) -> None:
    for raw in records:
        orjson.dumps(caliper_envelope(decode_record(raw)))


def seconds_for(run: Callable[[list[bytes]], None], records: list[bytes]) -> float:
    """Wall-clock seconds of one pass of ``run`` over ``records``."""
    start = time.perf_counter()
    run(records)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    records = realistic_mix(args.events)
    share = sum(b'"asset_accessed"' in raw for raw in records) / len(records)
    runs: dict[str, Callable[[list[bytes]], None]] = {"baseline": baseline, "floor": floor, "transform": transform, "python": python_path}
    for run in runs.values():
        run(records[:1000])  # warm up caches and imports
    rounds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):  # alternate, so all see the same machine conditions
        for name, run in runs.items():
            rounds[name].append(seconds_for(run, records))
    best = {name: min(times) for name, times in rounds.items()}
    count = len(records)
    labels = {
        "baseline": "orjson.loads + orjson.dumps",
        "floor": "loads + canonical id + dumps, no Python",
        "transform": "CaliperTransformer.envelope_json" + ("" if native.AVAILABLE else " (compiled writer NOT built)"),
        "python": "decode_record + caliper_envelope + dumps",
    }
    print(f"{count} events, {share:.0%} asset_accessed, {sum(map(len, records)) / count:.0f} bytes on average; best of {args.rounds} rounds")
    for name, seconds in best.items():
        print(f"{name:<10}{labels[name]:<46}{count / seconds:>10,.0f} events/s  ({seconds / count * 1e6:.2f} µs/event)")
    print(f"ratio transform / baseline: {best['transform'] / best['baseline']:.2f}×  (target ≤ 3×)")
    print(f"ratio python / baseline:    {best['python'] / best['baseline']:.2f}×  (the Python path alone)")
    print(f"ratio floor / baseline:     {best['floor'] / best['baseline']:.2f}×  (the C work any transform with this id rule does)")

if __name__ == "__main__":
    main()
