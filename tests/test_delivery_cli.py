"""``liveevents subscriptions ...`` and ``liveevents keys ...`` against a served instance."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from click.testing import CliRunner, Result

from liveevents.cli import main
from liveevents.delivery.keys import KeyStore
from tests.helpers.fixtures import served  # noqa: F401
from tests.helpers.service import ServedInstance

LRS_TOKEN = "cli-lrs-token-7741"


def run(service: ServedInstance, *arguments: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["subscriptions", "--url", service.url, "--token", service.secrets["admin_token"], *arguments], input=stdin)


def test_create_from_options_and_json_without_echoing_the_secret(served: ServedInstance) -> None:
    result = run(
        served, "create", "--name", "lrs", "--method", "caliper", "--url", "https://lrs.uni-example.org/caliper",
        "--event-type", "logged_in", "--event-type", "asset_accessed", "--from-json", "-",
        stdin=json.dumps({"bearer_token": LRS_TOKEN, "name": "overridden by --name"}),
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert (created["name"], created["format"], created["event_types"]) == ("lrs", "caliper", ["logged_in", "asset_accessed"])
    assert created["has_bearer_token"] is True and LRS_TOKEN not in result.output

    shown = run(served, "show", created["id"])
    assert json.loads(shown.output) == created
    listed = run(served, "list")
    [line] = [line for line in listed.output.splitlines() if line.startswith(created["id"])]
    assert line.split()[1:4] == ["active", "caliper", "caliper"] and "https://lrs.uni-example.org/caliper" in line


def test_invalid_input_lists_every_problem_and_the_valid_names(served: ServedInstance) -> None:
    result = run(served, "create", "--name", "x", "--method", "https", "--url", "ftp://files.example.org", "--event-type", "loged_in")
    assert result.exit_code == 1
    assert "HTTP 422: invalid subscription: 2 problems" in result.output
    assert "  url: 'ftp://files.example.org': an absolute https:// URL" in result.output
    assert "  event_types: ['loged_in']: not documented Canvas event types: loged_in" in result.output
    assert "    valid: account_created, account_notification_created, " in result.output and ", logged_in, " in result.output


def test_update_activate_deactivate_delete_and_deliveries(served: ServedInstance) -> None:
    created = json.loads(run(served, "create", "--name", "hook", "--method", "https", "--url", "https://h.uni-example.org/x", "--event-type", "logged_in").output)
    updated = run(served, "update", created["id"], "--jwt-body", "quoted", "--inactive")
    assert updated.exit_code == 0, updated.output
    assert (json.loads(updated.output)["jwt_body"], json.loads(updated.output)["active"]) == ("quoted", False)
    assert run(served, "update", created["id"]).exit_code == 2  # nothing to change
    assert json.loads(run(served, "activate", created["id"]).output)["active"] is True
    assert json.loads(run(served, "deactivate", created["id"]).output)["deactivated_reason"] == "deactivated by the operator"
    # Nothing matching: said on stderr (it printed nothing at all), stdout stays empty for scripts.
    deliveries = run(served, "deliveries", created["id"], "--state", "failed")
    assert (deliveries.exit_code, deliveries.stdout, deliveries.stderr) == (0, "", "no failed deliveries\n")
    as_json = run(served, "deliveries", created["id"], "--json", "--after", "7")
    assert (as_json.exit_code, as_json.stdout, as_json.stderr) == (0, "", "no pending or failed deliveries after 7\n")
    assert run(served, "delete", created["id"], stdin="n\n").exit_code == 1  # not confirmed
    assert run(served, "delete", created["id"], "--yes").exit_code == 0
    missing = run(served, "show", created["id"])
    assert missing.exit_code == 1 and "HTTP 404" in missing.output


def test_notification_url_help_says_when_notices_are_sent() -> None:
    """It said "when the subscription is deactivated": the service also warns (durable profile)
    after 3 days of failures, and sends nothing when an operator deactivates."""
    shown = CliRunner().invoke(main, ["subscriptions", "create", "--help"], terminal_width=1000)
    assert shown.exit_code == 0
    [line] = [line for line in shown.output.splitlines() if "--notification-url" in line]
    assert line.split("TEXT", 1)[1].strip() == (
        "POSTed a JSON notice when the service deactivates the subscription because its deliveries keep failing, "
        "and (retry profile durable) once when it has had no successful delivery for 3 days; not when an operator deactivates it."
    )


def test_keys_rotate_acts_on_the_key_directory_and_the_service_publishes_it(served: ServedInstance) -> None:
    jwks_url = served.url + "/.well-known/jwks.json"
    before = [key["kid"] for key in httpx.get(jwks_url).json()["keys"]]
    shown = CliRunner().invoke(main, ["keys", "--data-dir", str(served.data_dir), "show"])
    assert shown.exit_code == 0 and [key["kid"] for key in json.loads(shown.output)["keys"]] == before
    rotated = CliRunner().invoke(main, ["keys", "--data-dir", str(served.data_dir), "rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert f"previous {before[1]}, current {before[2]} (signs now)" in rotated.output
    after = [key["kid"] for key in httpx.get(jwks_url).json()["keys"]]
    assert after[:2] == before[1:] and after[2] not in before
    assert KeyStore(Path(served.data_dir) / "keys").keys().current.kid == before[2]
