"""Every envelope liveevents produces validates in canvas mode (caliper-1.1.md §1).

The raw records are the hand-written Canvas inputs of the transform cases (our fictional Canvas
instance, ``tests/fixtures/transform/cases``): every event type of ``caliper_event_types()``,
request and job events, both transform profiles.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from liveevents import caliper_envelope, caliper_event_types, validate_caliper
from tests.test_caliper_cases import load_cases

SEND_TIME = datetime(2024, 9, 16, 14, 5, 9, tzinfo=timezone.utc)
CASES = load_cases()


def _envelope(case: dict[str, Any], profile: str) -> dict[str, Any]:
    options = {key: value for key, value in case["options"].items() if key in ("canvas_domain", "role_map", "redact_tokens")}
    return caliper_envelope(case["input"], send_time=SEND_TIME, profile=profile, **options)  # type: ignore[arg-type]


def test_the_raw_records_cover_every_caliper_event_type() -> None:
    assert {case.values[0]["event_type"] for case in CASES} >= caliper_event_types()


@pytest.mark.parametrize("profile", ["canvas", "strict"])
@pytest.mark.parametrize("case", CASES)
def test_transform_output_has_no_errors_in_canvas_mode(case: dict[str, Any], profile: str) -> None:
    problems = validate_caliper(_envelope(case, profile), mode="canvas")
    assert [problem for problem in problems if problem.severity == "error"] == []


@pytest.mark.parametrize("profile", ["canvas", "strict"])
@pytest.mark.parametrize("case", CASES)
def test_transform_output_breaks_strict_mode_only_by_documented_deviations(case: dict[str, Any], profile: str) -> None:
    for problem in validate_caliper(_envelope(case, profile), mode="strict"):
        if problem.severity == "error":
            assert "a warning in canvas mode" in problem.message, problem
            # the strict transform profile writes the job edApp as an absolute IRI (T8)
            assert not (profile == "strict" and "[C9:" in problem.message), problem
