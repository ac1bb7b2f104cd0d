"""The project's own input → expected Caliper pairs, for all 32 mapped event types.

Cases live in ``fixtures/transform/cases/<event_name>.json`` (our own fictional Canvas instance,
expected outputs written by hand); ``fixtures/transform/fragments.json`` holds the pieces many
cases share (a metadata base, the teacher as an actor, ...). Every comparison includes key
order: the JSON texts must be identical. ``data[0].id`` is checked on its own (it is a hash).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from liveevents import caliper_envelope, caliper_event_types, parse_record

FIXTURES = Path(__file__).parent / "fixtures" / "transform"
SEND_TIME = datetime(2024, 9, 16, 14, 5, 9, 31999, tzinfo=timezone.utc)  # truncated, never rounded: .031Z


def _fragments() -> dict[str, Any]:
    return json.loads((FIXTURES / "fragments.json").read_text())


def _with_bases(node: Any, bases: dict[str, dict[str, Any]]) -> Any:
    if isinstance(node, dict):
        resolved = {key: _with_bases(value, bases) for key, value in node.items() if key != "$base"}
        return {**bases[node["$base"]], **resolved} if "$base" in node else resolved
    if isinstance(node, list):
        return [_with_bases(item, bases) for item in node]
    return node


def _with_fragments(node: Any, fragments: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        if set(node) == {"$fragment"}:
            return fragments[node["$fragment"]]
        return {key: _with_fragments(value, fragments) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_fragments(item, fragments) for item in node]
    return node


def load_cases() -> list[pytest.param]:
    shared = _fragments()
    params = []
    for path in sorted((FIXTURES / "cases").glob("*.json")):
        for number, case in enumerate(json.loads(path.read_text()), 1):
            resolved = {
                "event_type": path.stem,
                "input": _with_bases(case["input"], shared["bases"]),
                "expected": _with_fragments(case["expected"], shared["fragments"]),
                "options": case.get("options", {}),
            }
            params.append(pytest.param(resolved, id=f"{path.stem}-{number}"))
    return params


CASES = load_cases()


def as_text(value: Any) -> str:
    """Order-sensitive, diff-friendly rendering (100 and 100.0 differ, as they must)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("case", CASES)
def test_case_transforms_exactly(case: dict[str, Any]) -> None:
    envelope = caliper_envelope(case["input"], send_time=SEND_TIME, **case["options"])
    event_id = envelope["data"][0].pop("id")
    assert event_id == "urn:uuid:" + parse_record(case["input"]).event_id
    assert as_text(envelope) == as_text(case["expected"])


def test_cases_cover_every_mapped_event_type() -> None:
    covered = {param.values[0]["event_type"] for param in CASES}
    assert covered == caliper_event_types()
    assert len(covered) == 32


def test_each_case_is_of_its_files_event_type() -> None:
    for param in CASES:
        case = param.values[0]
        assert case["input"]["attributes"]["event_name"] == case["event_type"]
