"""``liveevents events``: count, tail and show stored events and quarantined records.

Reads through the management API of a running service (so it works the same with SQLite or
PostgreSQL, locally or remotely).  The URL defaults to the service's own settings
(``--config``, ``LIVEEVENTS_*``), the admin token to ``LIVEEVENTS_ADMIN_TOKEN`` or the data
dir's ``secrets.json``.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Iterable
from typing import Any

import click
import orjson

from liveevents.canvas.catalog import CANVAS_EVENT_TYPES
from liveevents.cli.client import ApiClient, api_options

__all__ = ["events"]


@click.group()
@api_options
@click.pass_context
def events(context: click.Context, api: ApiClient) -> None:
    """Inspect the event log and the quarantine of a running service."""
    context.obj = api


def _note_unknown_names(names: Iterable[str]) -> None:
    """A note on stderr for each name that is not a documented Canvas event type.

    Such a name is still asked for (Canvas adds event types the list does not know yet, and
    the log keeps whatever name arrived), but it is most often a typo, which would otherwise
    show only as an empty answer.
    """
    for name in names:
        if name in CANVAS_EVENT_TYPES:
            continue
        close = difflib.get_close_matches(name, sorted(CANVAS_EVENT_TYPES), n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        click.echo(f"note: --name {name!r} is not a documented Canvas event type (only events stored under that exact name match){hint}", err=True)


@events.command()
@click.option("--name", "names", multiple=True, help="Only these event names (repeatable; any name, with a note on stderr when it is not a documented Canvas event type).")
@click.pass_obj
def count(api: ApiClient, names: tuple[str, ...]) -> None:
    """Count stored events (by name) and quarantined records."""
    _note_unknown_names(names)
    stats = api.get("/api/v1/stats")
    by_name = {name: number for name, number in stats["events_by_name"].items() if not names or name in names}
    width = max((len(name) for name in by_name), default=0)
    for name, number in sorted(by_name.items(), key=lambda item: (-item[1], item[0])):
        click.echo(f"{name:<{width}}  {number:>10}")
    click.echo(f"events stored: {sum(by_name.values()) if names else stats['events_stored']}")
    click.echo(f"records rejected (quarantined): {stats['records_rejected']}")


raw_option = click.option(
    "--raw", is_flag=True, help="Records exactly as received: access tokens are not filtered (they are by default)."
)


def _raw_param(raw: bool) -> str | None:
    return "true" if raw else None


def _line(event: dict[str, Any]) -> str:
    return f"{event['sequence_number']:>10}  {event['event_time']}  {event['event_name']:<32}  {event['partition_key']}"


@events.command()
@click.option("-n", "--lines", default=10, show_default=True, help="How many of the newest events to show.")
@click.option("--name", "names", multiple=True, help="Only these event names (repeatable; any name, with a note on stderr when it is not a documented Canvas event type).")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new events as they arrive.")
@click.option("--json", "as_json", is_flag=True, help="Print each event as one JSON line (with the record).")
@raw_option
@click.pass_obj
def tail(api: ApiClient, lines: int, names: tuple[str, ...], follow: bool, as_json: bool, raw: bool) -> None:
    """Show the newest events (sequence, event time, name, partition key)."""

    def emit(event: dict[str, Any]) -> None:
        click.echo(orjson.dumps(event).decode() if as_json else _line(event))

    _note_unknown_names(names)
    page = api.get("/api/v1/events", name=names, newest_first="true", limit=max(1, min(lines, 1000)), raw=_raw_param(raw))
    newest = page["events"][: max(lines, 0)]
    for event in reversed(newest):
        emit(event)
    last = newest[0]["sequence_number"] if newest else str(api.get("/api/v1/stats")["last_sequence"])
    while follow:
        page = api.get("/api/v1/events", name=names, after=last, limit=1000, raw=_raw_param(raw))
        for event in page["events"]:
            emit(event)
            last = event["sequence_number"]
        if page["next_cursor"] is None:
            time.sleep(1.0)


@events.command()
@click.argument("sequence", type=int)
@raw_option
@click.pass_obj
def show(api: ApiClient, sequence: int, raw: bool) -> None:
    """Print one event (its log entry and the record, access tokens filtered unless --raw) as JSON."""
    event = api.get(f"/api/v1/events/{sequence}", raw=_raw_param(raw))
    click.echo(orjson.dumps(event, option=orjson.OPT_INDENT_2).decode())


@events.command()
@click.option("--limit", default=20, show_default=True, help="How many records.")
@click.option("--newest-first", is_flag=True, help="The latest rejections first.")
@click.option("--after", default=None, help="Cursor: records with an id greater than this.")
@click.option("--before", default=None, help="Cursor: records with an id less than this (the next page of --newest-first).")
@click.option("--json", "as_json", is_flag=True, help="Print each record as one JSON line (with its bytes).")
@raw_option
@click.pass_obj
def quarantine(api: ApiClient, limit: int, newest_first: bool, after: str | None, before: str | None, as_json: bool, raw: bool) -> None:
    """List quarantined records with the reason each was rejected (oldest first unless --newest-first)."""
    page = api.get(
        "/api/v1/quarantine",
        limit=max(1, min(limit, 1000)),
        after=after,
        before=before,
        newest_first="true" if newest_first else None,
        raw=_raw_param(raw),
    )
    for record in page["records"]:
        if as_json:
            click.echo(orjson.dumps(record).decode())
        else:
            click.echo(f"#{record['id']} {record['received_at']} {record['source']}: {record['field'] or 'record'}: {record['value']}: {record['rule']}")
    if page["next_cursor"] is not None:
        # The other bound stays in the hint: the next page must not run past the range asked for.
        if newest_first:
            more = f"--newest-first --before {page['next_cursor']}" + ("" if after is None else f" --after {after}")
        else:
            more = f"--after {page['next_cursor']}" + ("" if before is None else f" --before {before}")
        click.echo(f"(more: {more})", err=True)
