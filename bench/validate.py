"""Caliper validator throughput on typical ~3 KB Canvas-like envelopes, one core.

Builds a realistic mix of envelopes in Canvas's Caliper shape (asset_accessed navigations most,
then submissions, grades, logins, discussion posts, quiz submissions, course edits), serialises
them, and measures in the same run:

* ``orjson.loads`` of the bytes (the baseline),
* ``validate_caliper`` of the decoded documents (canvas mode, the delivery check; strict mode),
* ``orjson.loads`` + ``validate_caliper``,
* ``validate_caliper_json`` of the bytes (standard-library decoding with repeated-key detection).

Prints envelopes/s and each ratio to the orjson baseline (time per envelope / orjson's).
Target: >= 20,000 envelopes/s for validate_caliper (canvas mode) on one core.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson

from liveevents.caliper.validation import validate_caliper, validate_caliper_json

CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p1"
HOST = "http://canvas.bench.example.edu/"
URN = "urn:instructure:canvas:"
TARGET = 20_000


def _uuid(rng: random.Random) -> str:
    digits = f"{rng.getrandbits(128):032x}"
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{'89ab'[rng.getrandbits(2)]}{digits[17:20]}-{digits[20:]}"


def _canvas(**values: Any) -> dict[str, Any]:
    return {"com.instructure.canvas": values}


def _envelope(rng: random.Random, kind: str, index: int) -> dict[str, Any]:
    user = 21070000000000000 + rng.randrange(1, 90000)
    course = 21070000000000000 + rng.randrange(1, 900)
    when = f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z"
    actor = {
        "id": f"{URN}user:{user}",
        "type": "Person",
        "extensions": _canvas(user_login=f"student{user % 100000}@bench.example.edu", user_sis_id=f"SIS{user % 1000000}",
                              root_account_id="21070000000000001", root_account_lti_guid="7db438071375c02373713c12c73869ff2f470b68.canvas",
                              root_account_uuid="VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs", entity_id=str(user),
                              real_user_id=None, user_account_id="21070000000000079", time_zone="America/Denver"),
    }
    group = {
        "id": f"{URN}course:{course}",
        "type": "CourseOffering",
        "name": f"CHEM {course % 400 + 100}: General Chemistry",
        "extensions": _canvas(context_type="Course", entity_id=str(course), context_sis_source_id=f"CHEM-{course % 400 + 100}-2024FA"),
    }
    membership = {
        "id": f"{URN}course:{course}:Learner:{user}",
        "type": "Membership",
        "member": {"id": f"{URN}user:{user}", "type": "Person"},
        "organization": {"id": f"{URN}course:{course}", "type": "CourseOffering"},
        "roles": ["Learner"],
    }
    event: dict[str, Any] = {"@context": CONTEXT, "id": f"urn:uuid:{_uuid(rng)}", "type": "", "actor": actor, "action": "", "object": {}, "eventTime": when}
    item = rng.randrange(1, 10**6)
    if kind == "asset_accessed":
        event.update(type="NavigationEvent", action="NavigatedTo", object={
            "id": f"{URN}attachment:{item}", "type": "Entity", "name": f"lecture-notes-week-{index % 14}.pdf",
            "extensions": _canvas(asset_name=f"lecture-notes-week-{index % 14}.pdf", asset_type="attachment",
                                  asset_subtype=None, entity_id=str(item), http_method="GET", developer_key_id="170000000000016",
                                  filename=f"lecture-notes-week-{index % 14}.pdf", display_name="Lecture notes", domain="canvas.bench.example.edu"),
        })
    elif kind == "submission_created":
        event.update(type="AssignableEvent", action="Submitted", object={
            "id": f"{URN}submission:{item}", "type": "Attempt", "dateCreated": when,
            "assignee": {"id": f"{URN}user:{user}", "type": "Person"},
            "assignable": {"id": f"{URN}assignment:{item + 7}", "type": "AssignableDigitalResource"},
            "count": 1, "body": "<p>My lab report, with the titration table and the error analysis attached.</p>",
            "extensions": _canvas(submission_type="online_text_entry", entity_id=str(item), url=None, late=False, missing=False),
        })
    elif kind == "grade_change":
        submission = f"{URN}submission:{item}"
        event.update(type="GradeEvent", action="Graded", object={
            "id": submission, "type": "Attempt",
            "assignee": {"id": f"{URN}user:{user}", "type": "Person"},
            "assignable": {"id": f"{URN}assignment:{item + 7}", "type": "AssignableDigitalResource"},
            "extensions": _canvas(grade="8.5", entity_id=str(item)),
        }, generated={
            "id": submission, "type": "Score", "maxScore": 10, "scoreGiven": 8.5,
            "attempt": {"id": submission, "type": "Attempt", "extensions": _canvas(grade="8.5")},
            "scoredBy": f"{URN}user:{user + 1}",
            "extensions": _canvas(grade="8.5", entity_id=str(item)),
        })
    elif kind == "logged_in":
        event.update(type="SessionEvent", action="LoggedIn", object={
            "id": HOST, "type": "SoftwareApplication", "extensions": _canvas(redirect_url=f"{HOST}courses/{course}")})
    elif kind == "discussion_entry_created":
        event.update(type="MessageEvent", action="Posted", object={
            "id": f"{URN}discussion_entry:{item}", "type": "Message",
            "body": "<p>I think the second question asks for the limiting reagent, not the excess one. Anyone else?</p>",
            "isPartOf": {"id": f"{URN}discussion_topic:{item + 3}", "type": "Thread"},
            "extensions": _canvas(entity_id=str(item)),
        })
    elif kind == "quiz_submitted":
        event.update(type="AssessmentEvent", action="Submitted", object={
            "id": f"{URN}quiz_submission:{item}", "type": "Attempt",
            "assignable": {"id": f"{URN}quiz:{item + 1}", "type": "Assessment"},
            "extensions": _canvas(entity_id=str(item)),
        })
    else:  # assignment_updated
        event.update(type="Event", action="Modified", object={
            "id": f"{URN}assignment:{item}", "type": "AssignableDigitalResource", "name": "Lab report 3",
            "description": "<p>Write up the titration lab: method, results table, error analysis and conclusion.</p>",
            "dateCreated": when, "dateModified": when, "dateToShow": when, "dateToSubmit": when, "maxScore": 10,
            "extensions": _canvas(lock_at=None, workflow_state="published", entity_id=str(item)),
        })
    event.update(
        referrer=f"{HOST}courses/{course}/modules",
        edApp={"id": HOST, "type": "SoftwareApplication"},
        group=group,
        membership=membership,
        session={"id": f"{URN}session-{_uuid(rng).replace('-', '')}", "type": "Session"},
        extensions=_canvas(
            hostname="canvas.bench.example.edu",
            request_id=_uuid(rng),
            session_id=_uuid(rng).replace("-", ""),
            user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
            client_ip=f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
            request_url=f"{HOST}courses/{course}/files/{item}/download?verifier=Xq{rng.getrandbits(96):024x}&wrap=1&download_frd=1",
            root_account_id="21070000000000001",
            root_account_uuid="VicYj3cu5BIFpoZhDVU4DZumnlBrWi1grgJEzADs",
            root_account_lti_guid="7db438071375c02373713c12c73869ff2f470b68.canvas",
            context_role="StudentEnrollment",
            context_account_id="21070000000000079",
            developer_key_id="170000000000016",
            job_id=None,
            job_tag=None,
            version="1.0.0",
        ),
    )
    return {"sensor": HOST, "sendTime": when, "dataVersion": CONTEXT, "data": [event]}


# Canvas traffic is dominated by asset_accessed; the rest are common course activity.
MIX = [("asset_accessed", 50), ("submission_created", 10), ("grade_change", 10), ("logged_in", 8),
       ("discussion_entry_created", 8), ("quiz_submitted", 6), ("assignment_updated", 8)]


def build(count: int) -> list[bytes]:
    rng = random.Random(20241002)
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    return [orjson.dumps(_envelope(rng, kinds[index % len(kinds)], index)) for index in range(count)]


def _loop(step: Callable[[Any], object], items: list[Any]) -> Callable[[], None]:
    def run() -> None:
        for item in items:
            step(item)

    return run


def measure(runs: dict[str, Callable[[], None]], count: int, repeats: int) -> dict[str, float]:
    """Best-of-``repeats`` envelopes per second of each run; the runs take turns, so a noisy
    neighbour slows all of them alike rather than one."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: count / seconds for name, seconds in best.items()}


def main() -> int:
    texts = build(2000)
    documents = [orjson.loads(text) for text in texts]
    for document in documents:  # the corpus is what we claim it is
        problems = validate_caliper(document, mode="canvas")
        assert not any(problem.severity == "error" for problem in problems), problems
    sizes = [len(text) for text in texts]
    count, repeats = len(texts), 15

    loads = orjson.loads
    results = measure(
        {
            "orjson.loads (baseline)": _loop(loads, texts),
            "validate_caliper, canvas mode": _loop(lambda document: validate_caliper(document, mode="canvas"), documents),
            "validate_caliper, strict mode": _loop(validate_caliper, documents),
            "orjson.loads + validate_caliper (canvas)": _loop(lambda text: validate_caliper(loads(text), mode="canvas"), texts),
            "validate_caliper_json (bytes, repeated keys)": _loop(lambda text: validate_caliper_json(text, mode="canvas"), texts),
        },
        count,
        repeats,
    )
    baseline = results["orjson.loads (baseline)"]
    print(f"Caliper validator: {count} Canvas-like envelopes, {statistics.mean(sizes):.0f} B mean "
          f"({min(sizes)}-{max(sizes)} B), best of {repeats}, Python {sys.version.split()[0]}")
    for name, rate in results.items():
        print(f"  {name:<46} {rate:>10,.0f} envelopes/s   {baseline / rate:>5.1f}x orjson.loads time")
    validate_rate = results["validate_caliper, canvas mode"]
    verdict = "meets" if validate_rate >= TARGET else "MISSES"
    print(f"validate_caliper (canvas) {validate_rate:,.0f}/s {verdict} the {TARGET:,}/s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
