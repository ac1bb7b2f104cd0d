"""``liveevents transform``, run as the installed console script (a real subprocess)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import threading
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = str(Path(sys.executable).parent / "liveevents")
SEND_TIME = "2024-09-16T14:05:09.031+00:00"


def record(name: str = "logged_out", user_id: str = "880000000000123", **extra: Any) -> dict[str, Any]:
    metadata = {"event_name": name, "event_time": "2025-02-03T10:20:30.456Z", "hostname": "lms.westbrook.ac.uk", "user_id": user_id, **extra}
    return {"attributes": metadata, "body": {}}


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([SCRIPT, "transform", *args], input=stdin, capture_output=True, timeout=60)


def lines(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.decode().splitlines()]


def test_json_lines_with_bad_lines_reports_each_and_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text(
        "\n".join([
            json.dumps(record(user_id="1")),
            "{not json",
            json.dumps(record("course_completed")),
            "",
            json.dumps({"attributes": {"event_name": "logged_in"}, "body": {}}),
            json.dumps(record(user_id="2")),
        ]) + "\n"
    )  # fmt: skip
    result = run("--send-time", SEND_TIME, str(source))
    assert result.returncode == 1
    out = lines(result.stdout)
    assert [envelope["data"][0]["actor"]["id"] for envelope in out] == ["urn:instructure:canvas:user:1", "urn:instructure:canvas:user:2"]
    assert {envelope["sendTime"] for envelope in out} == {"2024-09-16T14:05:09.031Z"}
    errors = result.stderr.decode().splitlines()
    assert errors[0].startswith(f"{source}: line 2: not valid JSON")
    # The CLI names the option that gives the Canvas format (the library's message cannot).
    assert errors[1] == (
        f"{source}: line 3: no Caliper mapping for event type 'course_completed': Instructure documents a Caliper form for "
        "32 event types only; the Canvas format is available for every event type (--format canvas)"
    )
    assert errors[2] == f"{source}: line 5: attributes.event_time: missing: required: an ISO 8601 timestamp string such as '2019-11-01T19:11:05.222Z'"
    assert errors[3] == "liveevents transform: 2 transformed, 3 failed"


def test_send_time_is_read_as_event_times_are_and_a_bad_one_gets_the_rule() -> None:
    # A Canvas-style time with a numeric offset: the sendTime is the same instant in UTC.
    canvas_style = run("--send-time", "2024-09-16 07:05:09 -0700", stdin=json.dumps(record()).encode())
    assert canvas_style.returncode == 0, canvas_style.stderr
    assert lines(canvas_style.stdout)[0]["sendTime"] == "2024-09-16T14:05:09.000Z"
    refused = run("--send-time", "yesterday", stdin=json.dumps(record()).encode())
    assert refused.returncode == 2
    assert refused.stderr.decode().splitlines()[-1] == (
        "Error: Invalid value for '--send-time': 'yesterday': expected an ISO 8601 timestamp with a UTC offset, such as "
        "2019-11-01T19:11:05.222Z, 2019-11-01T12:11:05-07:00, 2019-11-01 12:11:05 -0700 or the bare date 2019-11-01"
    )
    no_offset = run("--send-time", "2024-09-16T14:05:09", stdin=json.dumps(record()).encode())
    assert no_offset.returncode == 2 and "'2024-09-16T14:05:09': expected an ISO 8601 timestamp with a UTC offset" in no_offset.stderr.decode()


def test_a_json_file_may_hold_an_array_or_one_pretty_printed_record(tmp_path: Path) -> None:
    array = tmp_path / "array.json"
    array.write_text(json.dumps([record(user_id="1"), 7, record(user_id="2")], indent=2))
    single = tmp_path / "single.json"
    single.write_text(json.dumps(record(user_id="3"), indent=2))
    result = run(str(array), str(single))
    assert [envelope["data"][0]["actor"]["id"][-1] for envelope in lines(result.stdout)] == ["1", "2", "3"]
    assert result.stderr.decode().splitlines()[0] == f"{array}: item 2: record: 7: a record must be a JSON object, not a number"
    assert result.returncode == 1


def actors(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    """The Canvas user id of every transformed record, in output order."""
    return [envelope["data"][0]["actor"]["id"].removeprefix("urn:instructure:canvas:user:") for envelope in lines(result.stdout)]


def errors(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    return result.stderr.decode().splitlines()


TRUNCATED = '{"attributes": {"event_name": "logged_out"'  # a record cut short by a partial write


def test_a_broken_first_line_does_not_lose_the_lines_after_it(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join([TRUNCATED, json.dumps(record(user_id="2")), json.dumps(record(user_id="3"))]) + "\n")
    result = run(str(source))
    assert actors(result) == ["2", "3"]
    assert errors(result) == [
        f"{source}: line 1: not valid JSON: unexpected end of data (column 43)",
        "liveevents transform: 2 transformed, 1 failed",
    ]
    assert result.returncode == 1


def test_an_array_on_the_first_line_is_one_item_of_json_lines(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join([json.dumps([record(user_id="1")]), json.dumps(record(user_id="2")), json.dumps(record(user_id="3"))]) + "\n")
    result = run(str(source))
    assert actors(result) == ["2", "3"]
    [array_error, summary] = errors(result)
    assert array_error.startswith(f"{source}: line 1: record: ")
    assert array_error.endswith("a record must be a JSON object, not an array")
    assert summary == "liveevents transform: 2 transformed, 1 failed"
    assert result.returncode == 1


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    source = tmp_path / "events.jsonl"
    source.write_text("\n".join(["", "  ", json.dumps(record(user_id="3")), "", '{"attributes":', json.dumps(record(user_id="6")), " ", ""]))
    result = run(str(source))
    assert actors(result) == ["3", "6"]
    assert errors(result) == [
        f"{source}: line 5: not valid JSON: unexpected end of data (column 15)",
        "liveevents transform: 2 transformed, 1 failed",
    ]
    assert result.returncode == 1


def test_one_line_then_only_blank_lines_is_one_document(tmp_path: Path) -> None:
    source = tmp_path / "one.json"
    source.write_text("\n" + json.dumps({"attributes": {"event_name": "logged_in"}, "body": {}}) + "\n\n  \n")
    result = run(str(source))
    assert errors(result) == [
        f"{source}: document: attributes.event_time: missing: required: an ISO 8601 timestamp string such as '2019-11-01T19:11:05.222Z'",
        "liveevents transform: 0 transformed, 1 failed",
    ]
    assert result.returncode == 1


def test_an_input_with_no_json_line_is_reported_as_one_broken_document(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "attributes": {},\n  "body": \n}\n')
    result = run(str(broken))
    assert errors(result) == [
        f"{broken}: document: neither one JSON document nor JSON Lines (no line is JSON on its own): "
        "not valid JSON: unexpected character, expected a JSON value (line 4, column 1)",
        "liveevents transform: 0 transformed, 1 failed",
    ]
    assert result.stdout == b""
    assert result.returncode == 1


def test_blank_input_gives_nothing_and_succeeds() -> None:
    result = run(stdin=b"\n  \n\n")
    assert (result.stdout, result.stderr, result.returncode) == (b"", b"", 0)


def test_stdin_json_lines_with_a_broken_first_line() -> None:
    stdin = "\n".join(["oops", json.dumps(record(user_id="2")), "", json.dumps(record(user_id="4"))]).encode()
    result = run(stdin=stdin)
    assert actors(result) == ["2", "4"]
    assert errors(result) == [
        "<stdin>: line 1: not valid JSON: unexpected character, expected a JSON value (column 1)",
        "liveevents transform: 2 transformed, 1 failed",
    ]
    assert result.returncode == 1


def test_several_inputs_each_read_by_the_same_rule(tmp_path: Path) -> None:
    lines_file = tmp_path / "a.jsonl"
    lines_file.write_text("\n".join([json.dumps(record(user_id="1")), "{", json.dumps(record(user_id="2"))]) + "\n")
    array_file = tmp_path / "b.json"
    array_file.write_text(json.dumps([record(user_id="3"), "x", record(user_id="4")], indent=2))
    pretty_file = tmp_path / "c.json"
    pretty_file.write_text(json.dumps(record(user_id="5"), indent=4))
    stdin = "\n".join([TRUNCATED, json.dumps(record(user_id="6"))]).encode()
    result = run(str(lines_file), str(array_file), "-", str(pretty_file), stdin=stdin)
    assert actors(result) == ["1", "2", "3", "4", "6", "5"]
    assert errors(result) == [
        f"{lines_file}: line 2: not valid JSON: unexpected end of data (column 2)",
        f'{array_file}: item 2: record: "x": a record must be a JSON object, not a string',
        "<stdin>: line 1: not valid JSON: unexpected end of data (column 43)",
        "liveevents transform: 6 transformed, 3 failed",
    ]
    assert result.returncode == 1


def test_stdin_to_output_file_in_canvas_format(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    stdin = (json.dumps(record("course_completed", url="https://lms.westbrook.ac.uk/x?access_token=s3cret")) + "\n").encode()
    result = run("--format", "canvas", "--output", str(target), stdin=stdin)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    [message] = lines(target.read_bytes())
    assert set(message) == {"metadata", "body"}
    assert message["metadata"]["event_name"] == "course_completed"
    assert message["metadata"]["url"] == "https://lms.westbrook.ac.uk/x?access_token=[FILTERED]"


def test_strict_profile_and_canvas_domain_reach_the_transformer() -> None:
    job = {"attributes": {"event_name": "wiki_page_created", "event_time": "2025-02-03T01:00:00Z", "job_id": "1", "job_tag": "t"},
           "body": {"wiki_page_id": "9", "title": "T"}}  # fmt: skip
    result = run("--profile", "strict", "--canvas-domain", "canvas.westbrook.ac.uk", stdin=json.dumps(job).encode())
    [envelope] = lines(result.stdout)
    assert envelope["sensor"] == "http://canvas.westbrook.ac.uk/"
    assert envelope["data"][0]["edApp"]["id"] == "http://www.canvaslms.com/"


def test_a_missing_input_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr.decode()


def _run_with_terminal_stderr(source: Path, target: Path, *, from_stdin: bool = False, piped: bool = False) -> tuple[int, str]:
    """Run with stderr on a pseudo-terminal (stdout to a file, so nothing can block); the input
    named as an argument, or (``from_stdin``) redirected to stdin as ``< source`` does, or
    (``piped``) written into a pipe as ``cat source |`` does (its size unknown)."""
    leader, follower = pty.openpty()
    try:
        with target.open("wb") as stdout, source.open("rb") as stdin:
            arguments = [] if from_stdin or piped else [str(source)]
            process = subprocess.Popen(
                [SCRIPT, "transform", *arguments], stdout=stdout, stderr=follower, env={**os.environ, "COLUMNS": "100"},
                stdin=subprocess.PIPE if piped else stdin if from_stdin else subprocess.DEVNULL,
            )  # fmt: skip
        os.close(follower)
        if piped:
            assert process.stdin is not None
            feeder = threading.Thread(target=lambda: (process.stdin.write(source.read_bytes()), process.stdin.close()), daemon=True)  # type: ignore[union-attr]
            feeder.start()
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        process.wait(timeout=120)
    finally:
        os.close(leader)
    return process.returncode, seen.decode(errors="replace")


@pytest.mark.parametrize(("count", "expect_bar"), [(6000, True), (10, False)])
def test_progress_bar_only_for_big_inputs_on_a_terminal(tmp_path: Path, count: int, expect_bar: bool) -> None:
    source = tmp_path / "many.jsonl"
    line = json.dumps(record(user_agent="Mozilla/5.0 " + "x" * 200)) + "\n"
    source.write_text(line * count)
    target = tmp_path / "out.jsonl"
    returncode, terminal = _run_with_terminal_stderr(source, target)
    assert returncode == 0
    assert target.read_bytes().count(b"\n") == count
    assert ("transforming" in terminal) is expect_bar
    # Never on stderr when it is not a terminal, however big the input.
    assert b"transforming" not in run(str(source)).stderr


@pytest.mark.parametrize(("count", "expect_bar"), [(6000, True), (10, False)])
def test_progress_bar_for_a_big_input_piped_in_once_it_proves_big(tmp_path: Path, count: int, expect_bar: bool) -> None:
    source = tmp_path / "many.jsonl"
    source.write_text((json.dumps(record(user_agent="Mozilla/5.0 " + "x" * 200)) + "\n") * count)
    target = tmp_path / "out.jsonl"
    returncode, terminal = _run_with_terminal_stderr(source, target, piped=True)
    assert returncode == 0
    assert target.read_bytes().count(b"\n") == count
    assert ("transforming" in terminal) is expect_bar


def test_progress_bar_for_a_big_file_redirected_to_stdin(tmp_path: Path) -> None:
    source = tmp_path / "many.jsonl"
    source.write_text((json.dumps(record(user_agent="Mozilla/5.0 " + "x" * 200)) + "\n") * 6000)
    target = tmp_path / "out.jsonl"
    returncode, terminal = _run_with_terminal_stderr(source, target, from_stdin=True)
    assert returncode == 0
    assert target.read_bytes().count(b"\n") == 6000
    assert "transforming" in terminal
