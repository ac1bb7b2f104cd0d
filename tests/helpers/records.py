"""Raw Canvas records for tests and benchmarks (made-up ids and values)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["canvas_record", "record_bytes"]

_EVENTS = ("asset_accessed", "grade_change", "submission_created", "logged_in", "discussion_entry_created", "wiki_page_updated")


def canvas_record(number: int, *, event_name: str | None = None, event_time: str = "2024-03-05T10:20:30.123Z", body_size: int = 0) -> dict[str, Any]:
    """A realistic raw record (Kinesis shape); ``number`` makes it unique (``body.marker``)."""
    user_id = str(880000000000000 + number % 997)
    return {
        "attributes": {
            "root_account_id": "880000000000001",
            "root_account_uuid": "Zq3pEJ2rVb4Lm8TxNw6sKy1HcA5oGd7fUe9iRtMj",
            "root_account_lti_guid": "Zq3pEJ2rVb4Lm8TxNw6sKy1HcA5oGd7fUe9iRtMj:canvas-lms",
            "user_id": user_id,
            "user_login": f"student{number % 997}@example.edu",
            "user_account_id": "880000000000001",
            "user_sis_id": f"S{number % 997:07d}",
            "context_type": "Course",
            "context_id": "880000000000417",
            "context_role": "StudentEnrollment",
            "request_id": f"5b1c0a9e-7d3f-4e2a-9c61-{number:012d}",
            "session_id": "7f3e9b2c4d1a6e8f0b5c3d2e1f4a7b9c",
            "hostname": "canvas.example.edu",
            "http_method": "GET",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "client_ip": "192.0.2.44",
            "url": f"https://canvas.example.edu/courses/417/pages/week-{number % 12}",
            "referrer": "https://canvas.example.edu/courses/417/modules",
            "producer": "canvas",
            "event_name": event_name or _EVENTS[number % len(_EVENTS)],
            "event_time": event_time,
        },
        "body": {
            "asset_id": str(880000000005000 + number % 211),
            "asset_type": "wiki_page",
            "asset_subtype": None,
            "category": "wiki",
            "role": "StudentEnrollment",
            "level": "participate",
            "marker": str(number),
            "notes": "x" * body_size,
        },
    }


def record_bytes(number: int, **options: Any) -> bytes:
    return orjson.dumps(canvas_record(number, **options))
