"""``liveevents validate``: the real console script, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_validation_rules import VALID, load

SCRIPT = Path(sys.executable).with_name("liveevents")


def run(*arguments: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "validate", *map(str, arguments)],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def compact(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


@pytest.fixture
def canvas_shaped(tmp_path: Path) -> Path:
    """An own NavigationEvent in Canvas's asset_accessed shape (object typed Entity, C1)."""
    event = load("navigation-navigated-to")
    event["object"] = {"id": "urn:example:lms:attachment:81", "type": "Entity", "name": "week1.pdf"}
    path = tmp_path / "canvas.json"
    path.write_text(json.dumps(event, indent=2))
    return path


def test_valid_document_exits_zero_with_a_readable_report() -> None:
    result = run(VALID / "grade-graded.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{VALID / 'grade-graded.json'}: document: valid (strict mode; 0 errors, 0 warnings)" in result.stdout
    assert "1 document checked: 1 valid, 0 invalid" in result.stdout


def test_json_lines_report_each_line_and_exit_one_when_any_is_invalid(tmp_path: Path) -> None:
    bad = load("assessment-started")
    bad["action"] = "Viewed"
    lines = tmp_path / "events.jsonl"
    lines.write_text(f"{compact(load('grade-graded'))}\n\n{compact(bad)}\n{compact(load('tool-use-used'))}\n")
    result = run(lines)
    assert result.returncode == 1
    assert f"{lines}: line 1: valid" in result.stdout
    assert f"{lines}: line 3: INVALID (strict mode; 1 error, 0 warnings)" in result.stdout
    assert "/action  event.action.not-allowed  action 'Viewed' is not allowed for AssessmentEvent" in result.stdout
    assert f"{lines}: line 4: valid" in result.stdout
    assert "3 documents checked: 2 valid, 1 invalid" in result.stdout


def test_stdin_is_read_when_no_input_is_named() -> None:
    result = run(stdin=(VALID / "media-paused.json").read_bytes())
    assert result.returncode == 0
    assert "<stdin>: document: valid" in result.stdout
    assert run("-", stdin=b'{"type": "Person"}').returncode == 1


def test_json_format_is_one_object_per_document(tmp_path: Path) -> None:
    bad = load("envelope-mixed-batch")
    bad["sendTime"] = "2024-10-02T11:00:01Z"
    lines = tmp_path / "envelopes.jsonl"
    lines.write_text(f"{compact(bad)}\n{compact(load('envelope-mixed-batch'))}\n")
    result = run("--format", "json", lines)
    assert result.returncode == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(record["location"], record["valid"], record["errors"], record["warnings"]) for record in records] == [
        ("line 1", False, 1, 0),
        ("line 2", True, 0, 0),
    ]
    assert records[0]["input"] == str(lines) and records[0]["mode"] == "strict"
    [problem] = records[0]["problems"]
    assert (problem["path"], problem["rule"], problem["severity"]) == ("/sendTime", "datetime.format", "error")
    assert "'2024-10-02T11:00:01Z'" in problem["message"]


def test_mode_decides_whether_a_canvas_deviation_fails(canvas_shaped: Path) -> None:
    strict = run(canvas_shaped)
    assert strict.returncode == 1
    assert "/object/type  event.object.type-not-allowed" in strict.stdout
    canvas = run("--mode", "canvas", "--format", "json", canvas_shaped)
    assert canvas.returncode == 0
    [record] = [json.loads(line) for line in canvas.stdout.splitlines()]
    assert (record["valid"], record["errors"], record["warnings"], record["mode"]) == (True, 0, 1, "canvas")
    assert record["problems"][0]["severity"] == "warning"


def test_unreadable_input_is_reported_and_the_others_still_checked(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = run(missing, VALID / "grade-graded.json")
    assert result.returncode == 1
    assert f"{missing}: cannot read: No such file or directory" in result.stdout
    assert f"{VALID / 'grade-graded.json'}: document: valid" in result.stdout
    record = json.loads(run("--format", "json", missing).stdout)
    assert record == {"input": str(missing), "location": None, "mode": "strict", "valid": False, "error": "cannot read: No such file or directory"}


def test_syntax_error_in_a_json_file_names_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "type": "Person",\n  "id": "https://lms.example.org/p/1"\n  "name": "Ada"\n}\n')
    result = run(broken)
    assert result.returncode == 1
    assert f"{broken}: document: INVALID" in result.stdout
    assert "json.syntax" in result.stdout and "Expecting ',' delimiter (line 4, column 3)" in result.stdout


def test_syntax_error_on_a_json_lines_line(tmp_path: Path) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(f"{compact(load('grade-graded'))}\n{{\"type\": \"Person\",\n")
    result = run("--format", "json", lines)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["location"] for record in records] == ["line 1", "line 2"]
    # The column is the line's own; no "line 1" of the decoder's view of that single line.
    assert (records[1]["problems"][0]["rule"], records[1]["problems"][0]["message"]) == (
        "json.syntax",
        "not JSON: Expecting property name enclosed in double quotes (column 19)",
    )
    assert result.returncode == 1


def test_repeated_keys_are_reported(tmp_path: Path) -> None:
    repeated = tmp_path / "repeated.json"
    repeated.write_text((VALID / "grade-graded.json").read_text().replace('"action": "Graded"', '"action": "Graded", "action": "Graded"'))
    result = run("--format", "json", repeated)
    assert result.returncode == 1
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(p["path"], p["rule"]) for p in record["problems"]] == [("/action", "json.key.duplicate")]


def test_array_of_documents_reports_each_item(tmp_path: Path) -> None:
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([load("grade-graded"), {"type": "Person"}], indent=1))
    result = run("--format", "json", batch)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(record["location"], record["valid"]) for record in records] == [("item 1", True), ("item 2", False)]
    assert {(p["path"], p["rule"]) for p in records[1]["problems"]} == {("/@context", "context.missing"), ("/id", "property.required")}


@pytest.mark.parametrize("stdin", [b"", b"\n  \n"])
def test_empty_input_is_not_valid(stdin: bytes) -> None:
    result = run(stdin=stdin)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["<stdin>: no JSON document: the input is empty", "1 document checked: 0 valid, 1 invalid"]


def locations(result: subprocess.CompletedProcess[str]) -> list[tuple[str, str | None, bool]]:
    """(input, location, valid) of every document reported with --format json."""
    return [(record["input"], record["location"], record["valid"]) for record in map(json.loads, result.stdout.splitlines())]


def test_a_broken_first_line_does_not_lose_the_lines_after_it(tmp_path: Path) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(f'{{"type": "Person",\n{compact(load("grade-graded"))}\n{compact(load("tool-use-used"))}\n')
    result = run("--format", "json", lines)
    assert locations(result) == [(str(lines), "line 1", False), (str(lines), "line 2", True), (str(lines), "line 3", True)]
    problem = json.loads(result.stdout.splitlines()[0])["problems"][0]
    assert (problem["rule"], problem["message"]) == ("json.syntax", "not JSON: Expecting property name enclosed in double quotes (column 19)")
    assert result.returncode == 1


def test_an_array_on_the_first_line_is_one_document_of_json_lines(tmp_path: Path) -> None:
    lines = tmp_path / "events.jsonl"
    lines.write_text(f'{compact([load("grade-graded")])}\n\n{compact(load("tool-use-used"))}\n{compact(load("grade-graded"))}\n')
    result = run(lines)
    assert result.stdout.splitlines()[0] == f"{lines}: line 1: INVALID (strict mode; 1 error, 0 warnings)"
    assert f"{lines}: line 3: valid (strict mode; 0 errors, 0 warnings)" in result.stdout
    assert f"{lines}: line 4: valid (strict mode; 0 errors, 0 warnings)" in result.stdout
    assert result.stdout.splitlines()[-1] == "3 documents checked: 2 valid, 1 invalid"
    assert result.returncode == 1


def test_several_inputs_and_stdin_each_read_by_the_same_rule(tmp_path: Path) -> None:
    lines = tmp_path / "a.jsonl"
    lines.write_text(f'\n{compact(load("grade-graded"))}\n{{\n\n{compact(load("tool-use-used"))}\n')
    pretty = tmp_path / "b.json"
    pretty.write_text(json.dumps(load("grade-graded"), indent=3))
    one_line = tmp_path / "c.json"
    one_line.write_text(compact(load("tool-use-used")) + "\n\n")
    stdin = f'[{compact(load("grade-graded"))},\n{{"type": "Person"}}]'.encode()
    result = run("--format", "json", lines, "-", pretty, one_line, stdin=stdin)
    assert locations(result) == [
        (str(lines), "line 2", True),
        (str(lines), "line 3", False),
        (str(lines), "line 5", True),
        ("<stdin>", "item 1", True),
        ("<stdin>", "item 2", False),
        (str(pretty), "document", True),
        (str(one_line), "document", True),
    ]
    assert result.returncode == 1


def test_repeated_keys_inside_an_array_document_are_reported_on_their_item(tmp_path: Path) -> None:
    batch = tmp_path / "batch.json"
    repeated = compact(load("grade-graded")).replace('"action":"Graded"', '"action":"Graded","action":"Graded"')
    batch.write_text(f'[\n{compact(load("grade-graded"))},\n{repeated}\n]\n')
    result = run("--format", "json", batch)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(record["location"], [(p["path"], p["rule"]) for p in record["problems"]]) for record in records] == [
        ("item 1", []),
        ("item 2", [("/action", "json.key.duplicate")]),
    ]


def test_unknown_mode_is_a_usage_error() -> None:
    result = run("--mode", "lenient", VALID / "grade-graded.json")
    assert result.returncode == 2
    assert "lenient" in result.stderr


def test_a_raw_canvas_live_event_gets_a_hint_to_transform_it_first(tmp_path: Path) -> None:
    """The validator names only the missing @context and type of a raw Canvas record, which
    does not say what the document is; the CLI adds what to do."""
    raw = tmp_path / "raw.jsonl"
    raw.write_text(
        '{"attributes": {"event_name": "logged_in", "event_time": "2025-02-03T10:20:30Z"}, "body": {"redirect_url": null}}\n'
        '{"metadata": {"event_name": "grade_change"}, "body": {"grade": "A"}}\n'
        '{"type": "Person", "id": "urn:example:person:1", "body": {}}\n'
    )
    result = run(raw)
    assert result.returncode == 1
    hint = "  hint    this is a raw Canvas live event; run `liveevents transform` first"
    assert result.stdout.splitlines() == [
        f"{raw}: line 1: INVALID (strict mode; 2 errors, 0 warnings)",
        "  error   /@context  context.missing  @context is missing; expected 'http://purl.imsglobal.org/ctx/caliper/v1p1'",
        "  error   /type  property.required  type is missing; expected a Caliper type Term",
        hint,
        f"{raw}: line 2: INVALID (strict mode; 2 errors, 0 warnings)",
        "  error   /@context  context.missing  @context is missing; expected 'http://purl.imsglobal.org/ctx/caliper/v1p1'",
        "  error   /type  property.required  type is missing; expected a Caliper type Term",
        hint,
        f"{raw}: line 3: INVALID (strict mode; 2 errors, 0 warnings)",
        "  error   /@context  context.missing  @context is missing; expected 'http://purl.imsglobal.org/ctx/caliper/v1p1'",
        "  error   /body  property.unknown  'body' is not a property of Person (custom properties belong in 'extensions')",
        "3 documents checked: 0 valid, 3 invalid",
    ]
    records = [json.loads(line) for line in run("--format", "json", raw).stdout.splitlines()]
    assert [record.get("hint") for record in records] == [
        "this is a raw Canvas live event; run `liveevents transform` first",
        "this is a raw Canvas live event; run `liveevents transform` first",
        None,
    ]
