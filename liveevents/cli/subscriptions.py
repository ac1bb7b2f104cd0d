"""``liveevents subscriptions``: create, list, show, update, delete, activate and deactivate
subscriptions, and list their failed and pending deliveries — through the management API.

Secrets given as options (``--bearer-token``, ``--aws-secret-access-key``) end up in the shell
history; ``--from-json FILE`` (``-`` for stdin) takes the same fields from a JSON object.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import orjson

from liveevents.cli.client import ApiClient, api_options

__all__ = ["subscriptions"]

F = TypeVar("F", bound=Callable[..., Any])

# What liveevents.delivery.notify is called for (the worker's verdicts of the retry profile).
_NOTIFICATION_HELP = (
    "POSTed a JSON notice when the service deactivates the subscription because its deliveries keep failing, "
    "and (retry profile durable) once when it has had no successful delivery for 3 days; "
    "not when an operator deactivates it."
)

# option name -> subscription field; flags and multiple values are handled by click.
_FIELDS: list[tuple[str, str, dict[str, Any]]] = [
    ("--name", "name", {"help": "A name for people."}),
    ("--method", "delivery_method", {"type": click.Choice(["https", "sqs", "caliper"]), "help": "Delivery method."}),
    ("--url", "url", {"help": "Webhook URL, SQS queue URL or IMS Caliper endpoint."}),
    ("--format", "format", {"type": click.Choice(["canvas", "caliper"]), "help": "Message format [default: caliper for --method caliper, else canvas]."}),
    ("--event-type", "event_types", {"multiple": True, "help": "A Canvas event name (repeatable); replaces the list on update."}),
    ("--jwt-body", "jwt_body", {"type": click.Choice(["raw", "quoted", "unsigned"]), "help": "https: the compact JWT, the JWT as a JSON string, or unsigned JSON [default: raw]."}),
    ("--bearer-token", "bearer_token", {"help": "caliper: the endpoint's token (prefer --from-json)."}),
    ("--aws-access-key-id", "aws_access_key_id", {"help": "sqs: key id [default: the standard AWS configuration]."}),
    ("--aws-secret-access-key", "aws_secret_access_key", {"help": "sqs: secret key (prefer --from-json)."}),
    ("--aws-region", "aws_region", {"help": "sqs: region [default: from the queue URL or the AWS configuration]."}),
    ("--sqs-fifo/--no-sqs-fifo", "sqs_fifo", {"default": None, "help": "sqs: deliver to a .fifo queue."}),
    ("--retry-profile", "retry_profile", {"type": click.Choice(["durable", "instructure"]), "help": "Retries and deactivation [default: durable]."}),
    ("--notification-url", "notification_url", {"help": _NOTIFICATION_HELP}),
    ("--redact-tokens/--keep-tokens", "redact_tokens", {"default": None, "help": "Blank access_token values in URLs [default: redact]."}),
    ("--active/--inactive", "active", {"default": None, "help": "Deliver now or not [default: active]."}),
]


def _field_options(function: F) -> F:
    for option, field, settings in reversed(_FIELDS):
        function = click.option(option, field, **settings)(function)
    return click.option("--from-json", "from_json", type=click.File("rb"), help="Fields as a JSON object from a file ('-': stdin); options override it.")(function)


def _body(from_json: Any, fields: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if from_json is not None:
        try:
            body = orjson.loads(from_json.read())
        except orjson.JSONDecodeError as error:
            raise click.UsageError(f"--from-json: not JSON ({error})") from None
        if not isinstance(body, dict):
            raise click.UsageError("--from-json: expected a JSON object of subscription fields")
    given = {name: list(value) if isinstance(value, tuple) else value for name, value in fields.items() if value not in (None, ())}
    return {**body, **given}


def _echo_json(document: Any) -> None:
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


@click.group()
@api_options
@click.pass_context
def subscriptions(context: click.Context, api: ApiClient) -> None:
    """Manage the subscriptions of a running service."""
    context.obj = api


@subscriptions.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print each subscription as one JSON line.")
@click.pass_obj
def list_subscriptions(api: ApiClient, as_json: bool) -> None:
    """List subscriptions: id, state, method, format, delivered/failed, name, URL."""
    for item in api.get("/api/v1/subscriptions")["subscriptions"]:
        if as_json:
            click.echo(orjson.dumps(item).decode())
            continue
        state = "active" if item["active"] else "inactive"
        click.echo(
            f"{item['id']}  {state:<8}  {item['delivery_method']:<7}  {item['format']:<7}  "
            f"{item['delivered']:>9} delivered  {item['failed']:>6} failed  {item['name']}  {item['url']}"
        )


@subscriptions.command()
@click.argument("subscription_id")
@click.pass_obj
def show(api: ApiClient, subscription_id: str) -> None:
    """Print one subscription as JSON (secrets are never shown)."""
    _echo_json(api.get(f"/api/v1/subscriptions/{subscription_id}"))


@subscriptions.command()
@_field_options
@click.pass_obj
def create(api: ApiClient, from_json: Any, **fields: Any) -> None:
    """Create a subscription (it receives the events stored from now on) and print it."""
    _echo_json(api.post("/api/v1/subscriptions", _body(from_json, fields)))


@subscriptions.command()
@click.argument("subscription_id")
@_field_options
@click.pass_obj
def update(api: ApiClient, subscription_id: str, from_json: Any, **fields: Any) -> None:
    """Change the given fields of a subscription and print it."""
    body = _body(from_json, fields)
    if not body:
        raise click.UsageError("nothing to change: give at least one field option or --from-json")
    _echo_json(api.patch(f"/api/v1/subscriptions/{subscription_id}", body))


@subscriptions.command()
@click.argument("subscription_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def delete(api: ApiClient, subscription_id: str, yes: bool) -> None:
    """Delete a subscription with its pending and failed deliveries."""
    if not yes and not click.confirm(f"Delete subscription {subscription_id} and its pending deliveries?", err=True):
        raise click.Abort()
    api.delete(f"/api/v1/subscriptions/{subscription_id}")
    click.echo(f"deleted {subscription_id}", err=True)


@subscriptions.command()
@click.argument("subscription_id")
@click.pass_obj
def activate(api: ApiClient, subscription_id: str) -> None:
    """Deliver again, from where the subscription stopped (nothing is skipped)."""
    _echo_json(api.post(f"/api/v1/subscriptions/{subscription_id}/activate"))


@subscriptions.command()
@click.argument("subscription_id")
@click.pass_obj
def deactivate(api: ApiClient, subscription_id: str) -> None:
    """Stop delivering (events wait in the log for the activation)."""
    _echo_json(api.post(f"/api/v1/subscriptions/{subscription_id}/deactivate"))


@subscriptions.command()
@click.argument("subscription_id")
@click.option("--state", type=click.Choice(["pending", "failed"]), default=None, help="Only pending (retried later) or failed (given up).")
@click.option("--limit", default=50, show_default=True, help="How many.")
@click.option("--after", default=None, help="Cursor: delivery ids greater than this.")
@click.option("--json", "as_json", is_flag=True, help="Print each delivery as one JSON line.")
@click.pass_obj
def deliveries(api: ApiClient, subscription_id: str, state: str | None, limit: int, after: str | None, as_json: bool) -> None:
    """List deliveries that did not succeed at the first attempt, with their last status and error."""
    page = api.get(f"/api/v1/subscriptions/{subscription_id}/deliveries", state=state, limit=max(1, min(limit, 1000)), after=after)
    if not page["deliveries"]:
        # An empty output would not tell "none" from "the command printed nothing"; stderr keeps --json clean.
        click.echo(f"no {state or 'pending or failed'} deliveries" + ("" if after is None else f" after {after}"), err=True)
    for item in page["deliveries"]:
        if as_json:
            click.echo(orjson.dumps(item).decode())
            continue
        upcoming = f"next {item['next_attempt_at']}" if item["next_attempt_at"] else "given up"
        click.echo(
            f"#{item['id']} seq {item['sequence_number']} {item['event_name']} {item['state']} "
            f"after {item['attempts']} attempt{'s' if item['attempts'] != 1 else ''} ({upcoming}): {item['last_error']}: {item['last_detail']}"
        )
    if page["next_cursor"] is not None:
        click.echo(f"(more: --after {page['next_cursor']})", err=True)
    sys.stdout.flush()
