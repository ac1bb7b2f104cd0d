"""The ``liveevents`` command line: one group, each subcommand in its own module.

Subcommands are imported only when invoked, so ``liveevents transform`` does not pay for
the service's imports (Starlette, uvicorn, boto3).
"""

from __future__ import annotations

from importlib import import_module

import click

from liveevents import __version__

# command name -> "module:attribute" of a click.Command
_COMMANDS: dict[str, str] = {
    "transform": "liveevents.cli.transform:transform",
    "validate": "liveevents.cli.validate:validate",
    "serve": "liveevents.cli.serve:serve",
    "events": "liveevents.cli.events:events",
    "subscriptions": "liveevents.cli.subscriptions:subscriptions",
    "replay": "liveevents.cli.replay:replay",
    "keys": "liveevents.cli.keys:keys",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(import_module(module), attribute)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="liveevents")
def main() -> None:
    """Canvas LMS live events: ingest, transform (Canvas / IMS Caliper 1.1), validate, deliver."""
