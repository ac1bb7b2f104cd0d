"""``liveevents events``: count, tail and show stored events and quarantined records.

Reads through the management API of a running service (so it works the same with SQLite or
PostgreSQL, locally or remotely).  The URL defaults to the service's own settings
(``--config``, ``LIVEEVENTS_*``), the admin token to ``LIVEEVENTS_ADMIN_TOKEN`` or the data
dir's ``secrets.json``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx
import orjson

from liveevents.config import ConfigError, load_settings, read_secret

__all__ = ["events"]


@dataclass(frozen=True, slots=True)
class _Api:
    url: str
    token: str

    def get(self, path: str, **params: Any) -> Any:
        query = {name: value for name, value in params.items() if value not in (None, ())}
        try:
            response = httpx.get(self.url + path, params=query, headers={"Authorization": f"Bearer {self.token}"}, timeout=30)
        except httpx.TransportError as error:
            raise click.ClickException(f"cannot reach liveevents at {self.url} ({error}); is 'liveevents serve' running?") from None
        if response.status_code == 401:
            raise click.ClickException("the admin token was refused (set LIVEEVENTS_ADMIN_TOKEN or --token)")
        if response.status_code >= 400:
            detail = response.json().get("detail", response.text) if response.headers.get("content-type", "").startswith("application/json") else response.text
            raise click.ClickException(f"{path}: HTTP {response.status_code}: {detail}")
        return response.json()


@click.group()
@click.option("--url", envvar="LIVEEVENTS_URL", default=None, help="Service URL [default: from the service settings, http://127.0.0.1:8080].")
@click.option("--token", default=None, help="Admin token [default: LIVEEVENTS_ADMIN_TOKEN, else <data dir>/secrets.json].")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="The service's data dir (for its settings and token).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="The service's TOML settings file.")
@click.pass_context
def events(context: click.Context, url: str | None, token: str | None, data_dir: Path | None, config_file: Path | None) -> None:
    """Inspect the event log and the quarantine of a running service."""
    try:
        settings = load_settings({"data_dir": data_dir}, config_file=config_file)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    token = token or read_secret("admin_token", settings.data_dir)
    if not token:
        raise click.UsageError(f"no admin token: set LIVEEVENTS_ADMIN_TOKEN, pass --token, or point --data-dir at the service's data dir (looked in {settings.data_dir})")
    context.obj = _Api((url or settings.endpoint_url).rstrip("/"), token)


@events.command()
@click.option("--name", "names", multiple=True, help="Only these event names (repeatable).")
@click.pass_obj
def count(api: _Api, names: tuple[str, ...]) -> None:
    """Count stored events (by name) and quarantined records."""
    stats = api.get("/api/v1/stats")
    by_name = {name: number for name, number in stats["events_by_name"].items() if not names or name in names}
    width = max((len(name) for name in by_name), default=0)
    for name, number in sorted(by_name.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"{name:<{width}}  {number:>10}")
    click.echo(f"events stored: {sum(by_name.values()) if names else stats['events_stored']}")
    click.echo(f"records rejected (quarantined): {stats['records_rejected']}")


def _line(event: dict[str, Any]) -> str:
    return f"{event['sequence_number']:>10}  {event['event_time']}  {event['event_name']:<32}  {event['partition_key']}"


@events.command()
@click.option("-n", "--lines", default=10, show_default=True, help="How many of the newest events to show.")
@click.option("--name", "names", multiple=True, help="Only these event names (repeatable).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new events as they arrive.")
@click.option("--json", "as_json", is_flag=True, help="Print each event as one JSON line (with the record).")
@click.pass_obj
def tail(api: _Api, lines: int, names: tuple[str, ...], follow: bool, as_json: bool) -> None:
    """Show the newest events (sequence, event time, name, partition key)."""

    def emit(event: dict[str, Any]) -> None:
        click.echo(orjson.dumps(event).decode() if as_json else _line(event))

    page = api.get("/api/v1/events", name=names, newest_first="true", limit=max(1, min(lines, 1000)))
    newest = page["events"][: max(lines, 0)]
    for event in reversed(newest):
        emit(event)
    last = newest[0]["sequence_number"] if newest else str(api.get("/api/v1/stats")["last_sequence"])
    while follow:
        page = api.get("/api/v1/events", name=names, after=last, limit=1000)
        for event in page["events"]:
            emit(event)
            last = event["sequence_number"]
        if page["next_cursor"] is None:
            time.sleep(1.0)


@events.command()
@click.argument("sequence", type=int)
@click.pass_obj
def show(api: _Api, sequence: int) -> None:
    """Print one event (its log entry and the record as received) as JSON."""
    click.echo(orjson.dumps(api.get(f"/api/v1/events/{sequence}"), option=orjson.OPT_INDENT_2).decode())


@events.command()
@click.option("--limit", default=20, show_default=True, help="How many records.")
@click.option("--after", default=None, help="Cursor: records with an id greater than this.")
@click.option("--json", "as_json", is_flag=True, help="Print each record as one JSON line (with its bytes).")
@click.pass_obj
def quarantine(api: _Api, limit: int, after: str | None, as_json: bool) -> None:
    """List quarantined records with the reason each was rejected."""
    page = api.get("/api/v1/quarantine", limit=max(1, min(limit, 1000)), after=after)
    for record in page["records"]:
        if as_json:
            click.echo(orjson.dumps(record).decode())
        else:
            click.echo(f"#{record['id']} {record['received_at']} {record['source']}: {record['field'] or 'record'}: {record['value']}: {record['rule']}")
    if page["next_cursor"] is not None:
        click.echo(f"(more: --after {page['next_cursor']})", err=True)
