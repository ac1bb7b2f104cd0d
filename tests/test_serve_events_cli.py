"""``liveevents events ...`` against a served instance."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner, Result

from liveevents.cli import main
from tests.helpers.fixtures import served  # noqa: F401
from tests.helpers.records import canvas_record
from tests.helpers.service import ServedInstance, free_port


@pytest.fixture(scope="module", autouse=True)
def some_events(served: ServedInstance) -> None:
    records = [canvas_record(n, event_name=name) for n, name in enumerate(["logged_in", "grade_change", "logged_in"])] + [{"attributes": {}, "body": {}}]
    httpx.post(served.url + "/api/v1/events", content=orjson.dumps(records), headers=served.ingest_headers() | {"Content-Type": "application/json"})


def run(service: ServedInstance, *arguments: str, token: str | None = None) -> Result:
    return CliRunner().invoke(main, ["events", "--url", service.url, "--token", token or service.secrets["admin_token"], *arguments])


def test_count_by_name(served: ServedInstance) -> None:
    result = run(served, "count")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["logged_in", "2"] and lines[1].split() == ["grade_change", "1"]
    assert "events stored: 3" in result.output and "records rejected (quarantined): 1" in result.output
    assert "events stored: 1" in run(served, "count", "--name", "grade_change").output


def test_tail_shows_the_newest_in_order(served: ServedInstance) -> None:
    result = run(served, "tail", "-n", "2")
    assert result.exit_code == 0, result.output
    assert [line.split()[2] for line in result.output.splitlines()] == ["grade_change", "logged_in"]
    assert [line.split()[0] for line in result.output.splitlines()] == ["2", "3"]
    as_json = [json.loads(line) for line in run(served, "tail", "--json", "--name", "grade_change").output.splitlines()]
    assert [event["record"]["attributes"]["event_name"] for event in as_json] == ["grade_change"]


def test_a_name_that_is_no_documented_event_type_is_asked_for_with_a_note(served: ServedInstance) -> None:
    """A typo in --name matched nothing and said nothing; the name is still asked for (Canvas
    adds event types), with a note on stderr naming the closest documented types."""
    tail = run(served, "tail", "--name", "grade_chnage")
    assert tail.exit_code == 0 and tail.stdout == ""
    assert tail.stderr == (
        "note: --name 'grade_chnage' is not a documented Canvas event type (only events stored under that exact name match); "
        "did you mean grade_change or course_grade_change?\n"
    )
    counted = run(served, "count", "--name", "logged_in", "--name", "not_an_event_xyz")
    assert counted.exit_code == 0 and "events stored: 2" in counted.stdout
    assert counted.stderr == "note: --name 'not_an_event_xyz' is not a documented Canvas event type (only events stored under that exact name match)\n"
    documented = run(served, "tail", "--name", "grade_change")
    assert documented.stderr == "" and [line.split()[2] for line in documented.stdout.splitlines()] == ["grade_change"]
    # The API takes any name as it is: nothing is refused, an unseen name matches nothing.
    listed = httpx.get(served.url + "/api/v1/events", params={"name": "grade_chnage"}, headers=served.admin_headers())
    assert listed.status_code == 200 and listed.json() == {"events": [], "next_cursor": None}


def test_show_prints_the_event_with_its_record(served: ServedInstance) -> None:
    result = run(served, "show", "2")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["sequence_number"] == "2" and shown["record"] == canvas_record(1, event_name="grade_change")
    missing = run(served, "show", "999")
    assert missing.exit_code == 1 and "HTTP 404" in missing.output


def test_quarantine_lists_reasons(served: ServedInstance) -> None:
    result = run(served, "quarantine")
    assert result.exit_code == 0, result.output
    assert "http: attributes.event_name: missing: required" in result.output


def test_quarantine_pages_oldest_first_or_newest_first(tmp_path: Path) -> None:
    with ServedInstance.start(tmp_path / "data") as service:
        # Five records without an event_name: five quarantined records, ids 1 to 5.
        for key in ("k1", "k2", "k3", "k4", "k5"):
            rejected = {"attributes": {"event_time": "2024-03-05T10:20:30.123Z"}, "body": {"marker": key}}
            httpx.post(service.url + "/api/v1/events", content=orjson.dumps(rejected), headers=service.ingest_headers() | {"Content-Type": "application/json"})

        def ids(*arguments: str) -> tuple[list[str], str]:
            result = CliRunner().invoke(main, ["events", "--url", service.url, "--token", service.secrets["admin_token"], "quarantine", *arguments])
            assert result.exit_code == 0, result.output
            lines = result.stdout.splitlines()
            return [line.split()[0] for line in lines], result.stderr.strip()

        assert ids("--limit", "2") == (["#1", "#2"], "(more: --after 2)")
        assert ids("--limit", "2", "--after", "2") == (["#3", "#4"], "(more: --after 4)")
        assert ids("--limit", "2", "--newest-first") == (["#5", "#4"], "(more: --newest-first --before 4)")
        assert ids("--limit", "2", "--newest-first", "--before", "4") == (["#3", "#2"], "(more: --newest-first --before 2)")
        assert ids("--limit", "2", "--newest-first", "--before", "2") == (["#1"], "")
        # The hint keeps the other bound, so that following it stays within the range asked for.
        assert ids("--limit", "2", "--before", "4") == (["#1", "#2"], "(more: --after 2 --before 4)")
        assert ids("--limit", "1", "--newest-first", "--after", "2") == (["#5"], "(more: --newest-first --before 5 --after 2)")
        assert ids("--limit", "2", "--newest-first", "--before", "5", "--after", "2") == (["#4", "#3"], "(more: --newest-first --before 3 --after 2)")


def test_a_wrong_token_and_an_unreachable_service_are_explained(served: ServedInstance, tmp_path: Path) -> None:
    refused = run(served, "count", token="wrong")
    assert refused.exit_code == 1 and "admin token (from --token) was refused" in refused.output
    unreachable = CliRunner().invoke(main, ["events", "--url", f"http://127.0.0.1:{free_port()}", "--token", "x", "count"])
    assert unreachable.exit_code == 1 and "is 'liveevents serve' running?" in unreachable.output
    no_token = CliRunner().invoke(main, ["events", "--data-dir", str(tmp_path / "empty"), "count"], env={"LIVEEVENTS_ADMIN_TOKEN": ""})
    assert no_token.exit_code == 2 and "no admin token" in no_token.output


def test_a_refused_token_names_where_it_came_from_and_where_it_went(served: ServedInstance, tmp_path: Path) -> None:
    # The walk-through case: --data-dir of a service on another port, the URL left to the default
    # settings, so that another service refuses the token; the message must say so.
    other = tmp_path / "other"
    other.mkdir()
    (other / "secrets.json").write_text(json.dumps({"admin_token": "not-this-service's"}))
    from_data_dir = CliRunner().invoke(main, ["events", "--data-dir", str(other), "--url", served.url, "count"], env={"LIVEEVENTS_ADMIN_TOKEN": ""})
    assert from_data_dir.exit_code == 1
    assert from_data_dir.output == (
        f"Error: the admin token (from {other}/secrets.json) was refused by {served.url}; "
        "pass the service's --url, or its token with LIVEEVENTS_ADMIN_TOKEN or --token\n"
    )
    from_env = CliRunner().invoke(main, ["events", "--url", served.url, "count"], env={"LIVEEVENTS_ADMIN_TOKEN": "wrong"})
    assert "the admin token (from LIVEEVENTS_ADMIN_TOKEN) was refused by " + served.url in from_env.output
    assert "the admin token (from --token) was refused by " + served.url in run(served, "count", token="wrong").output


def test_the_url_may_come_from_liveevents_url_and_the_help_says_so(served: ServedInstance) -> None:
    result = CliRunner().invoke(main, ["events", "--token", served.secrets["admin_token"], "count"], env={"LIVEEVENTS_URL": served.url})
    assert result.exit_code == 0, result.output
    assert "events stored: 3" in result.output
    assert "[default: LIVEEVENTS_URL, else from the service settings" in " ".join(CliRunner().invoke(main, ["events", "--help"]).output.split())


def test_the_token_is_read_from_the_data_dir(served: ServedInstance, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secrets.json").write_text(json.dumps({"admin_token": served.secrets["admin_token"]}))
    result = CliRunner().invoke(main, ["events", "--data-dir", str(data_dir), "--url", served.url, "count"], env={"LIVEEVENTS_ADMIN_TOKEN": ""})
    assert result.exit_code == 0, result.output


def test_tail_follow_prints_new_events_as_they_arrive(served: ServedInstance) -> None:
    command = [sys.executable, "-m", "liveevents.cli", "events", "--url", served.url, "--token", served.secrets["admin_token"], "tail", "-n", "0", "-f"]
    follower = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        httpx.post(served.url + "/api/v1/events", content=orjson.dumps(canvas_record(9, event_name="user_account_association_created")),
                   headers=served.ingest_headers() | {"Content-Type": "application/json"})
        assert follower.stdout is not None
        line = follower.stdout.readline()
        assert "user_account_association_created" in line
    finally:
        follower.kill()
        follower.wait()


def test_show_blanks_access_tokens(served: ServedInstance) -> None:
    record = canvas_record(12, event_name="asset_accessed")
    record["attributes"]["referrer"] = "https://canvas.example.edu/courses/417?access_token=9~CliSecretToken"
    answer = httpx.post(served.url + "/api/v1/events", content=orjson.dumps(record), headers=served.ingest_headers() | {"Content-Type": "application/json"})
    result = run(served, "show", answer.json()["results"][0]["sequence_number"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["record"]["attributes"]["referrer"] == "https://canvas.example.edu/courses/417?access_token=[FILTERED]"
    assert "CliSecretToken" not in result.output


def test_show_raw_prints_the_record_as_received(served: ServedInstance) -> None:
    record = canvas_record(13, event_name="asset_accessed")
    record["attributes"]["referrer"] = "https://canvas.example.edu/courses/418?access_token=9~RawWanted"
    answer = httpx.post(served.url + "/api/v1/events", content=orjson.dumps(record), headers=served.ingest_headers() | {"Content-Type": "application/json"})
    sequence = answer.json()["results"][0]["sequence_number"]
    result = run(served, "show", "--raw", sequence)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["record"]["attributes"]["referrer"] == "https://canvas.example.edu/courses/418?access_token=9~RawWanted"
    tailed = run(served, "tail", "-n", "1", "--json", "--raw")
    assert json.loads(tailed.output)["record"]["attributes"]["referrer"] == "https://canvas.example.edu/courses/418?access_token=9~RawWanted"
    filtered = run(served, "tail", "-n", "1", "--json")
    assert "9~RawWanted" not in filtered.output and "access_token=[FILTERED]" in filtered.output
