"""``liveevents replay``: re-deliver a subscription's retained events, through the management API.

The events get the same ids as before (JWT ``jti``, Caliper ``id``, ``webhook-id``), so
consumers that de-duplicate recognise them; the subscription's live delivery goes on
undisturbed.  The replay covers the log up to its newest event at the time of the request
(later events come live); an event that live delivery had not sent yet may arrive twice.
"""

from __future__ import annotations

import time
from typing import Any

import click

from liveevents.cli.client import ApiClient, api_options

__all__ = ["replay"]


def _progress(job: dict[str, Any]) -> str:
    return (
        f"replay {job['id']} of subscription {job['subscription_id']}: {job['state']}; "
        f"{job['delivered']} delivered, {job['queued']} queued for retry, {job['failed']} failed"
    )


@click.command()
@api_options
@click.option("--subscription", "subscription_id", required=True, help="The subscription's id.")
@click.option("--since", required=True, help="Events with event_time >= this (ISO 8601).")
@click.option("--until", default=None, help="Events with event_time < this (ISO 8601) [default: no limit].")
@click.option("--event-type", "event_types", multiple=True, help="Only these of the subscription's event types (repeatable).")
@click.option("--wait", is_flag=True, help="Follow the replay until it is done.")
def replay(api: ApiClient, subscription_id: str, since: str, until: str | None, event_types: tuple[str, ...], wait: bool) -> None:
    """Re-deliver retained events of a subscription (same ids)."""
    body: dict[str, Any] = {"since": since, "until": until}
    if event_types:
        body["event_types"] = list(event_types)
    job = api.post(f"/api/v1/subscriptions/{subscription_id}/replay", body)
    click.echo(_progress(job))
    while wait and job["state"] != "done":
        time.sleep(0.5)
        job = api.get(f"/api/v1/subscriptions/{subscription_id}/replays/{job['id']}")
        click.echo(_progress(job))
