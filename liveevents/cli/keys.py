"""``liveevents keys``: the RS256 keys that sign webhook JWTs.

These commands act on the key directory itself (``keys_dir``, default ``<data dir>/keys``),
not through the API: rotating is a file operation under a lock, safe while the service runs,
which picks the new keys up within a second and publishes them at ``/.well-known/jwks.json``.
The service also rotates by itself every ``key_rotation_days`` (default 30).
"""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from liveevents.config import ConfigError, Settings, load_settings
from liveevents.delivery.keys import KeyStore

__all__ = ["keys"]


def _settings(data_dir: Path | None, config_file: Path | None) -> Settings:
    try:
        return load_settings({"data_dir": data_dir}, config_file=config_file)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None


@click.group()
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="The service's data dir [default: ./liveevents-data; LIVEEVENTS_DATA_DIR].")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="The service's TOML settings file.")
@click.pass_context
def keys(context: click.Context, data_dir: Path | None, config_file: Path | None) -> None:
    """Show or rotate the JWT signing keys (previous, current, next)."""
    context.obj = KeyStore(_settings(data_dir, config_file).keys_path)


@keys.command()
@click.pass_obj
def rotate(store: KeyStore) -> None:
    """next → current, current → previous, and a new next key."""
    key_set = store.rotate()
    click.echo(f"rotated {store.directory}: previous {key_set.previous.kid}, current {key_set.current.kid} (signs now), next {key_set.next.kid}")


@keys.command()
@click.pass_obj
def show(store: KeyStore) -> None:
    """Print the JWKS (public keys only), as served at /.well-known/jwks.json."""
    click.echo(orjson.dumps(store.jwks(), option=orjson.OPT_INDENT_2).decode())
