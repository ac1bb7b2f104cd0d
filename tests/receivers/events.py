"""Raw Canvas events for delivery tests (our own ids and values, in Canvas's Kinesis shape)."""

from __future__ import annotations

from typing import Any

from liveevents.canvas.record import CanvasEvent, parse_record

HOST = "canvas.uni-example.org"


def logged_in(number: int = 1) -> dict[str, Any]:
    """A ``logged_in`` record (has a Caliper form); ``number`` makes it distinct, and its user."""
    return {
        "attributes": {
            "event_name": "logged_in",
            "event_time": f"2024-03-05T10:11:{number % 60:02d}.345Z",
            "root_account_id": "30000000000001",
            "user_id": f"3000000000{number:04d}",
            "user_login": f"student{number}@uni-example.org",
            "hostname": HOST,
            "request_id": f"5f0c3d7e-1b2a-4c9d-8e7f-{number:012d}",
            "session_id": f"0a1b2c3d4e5f6071{number:016d}",
            "producer": "canvas",
            "url": f"https://{HOST}/login/canvas?access_token=leaky-{number}",
            "referrer": None,
        },
        "body": {"redirect_url": f"https://{HOST}/courses/{number}"},
    }


def course_completed(number: int = 1) -> dict[str, Any]:
    """A ``course_completed`` record, a job event without a user (no Caliper form)."""
    return {
        "attributes": {
            "event_name": "course_completed",
            "event_time": "2024-06-30T23:59:59.001Z",
            "root_account_id": "30000000000001",
            "context_type": "Course",
            "context_id": f"3000000000{number:04d}",
            "job_id": f"88000{number}",
            "job_tag": "ContextModuleProgression#evaluate",
            "producer": "canvas",
        },
        "body": {"progress": {"requirement_count": 4, "requirement_completed_count": 4}, "user": {"id": "30000000009999"}},
    }


def event(record: dict[str, Any]) -> CanvasEvent:
    return parse_record(record)
