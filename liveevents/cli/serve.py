"""``liveevents serve``: the whole service in one process."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

import click

from liveevents.cli.datadir import DataDirInUse, lock_data_dir
from liveevents.config import ConfigError, Secrets, Settings, canvas_settings_text, load_secrets, load_settings

__all__ = ["serve"]


@click.command()
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1; LIVEEVENTS_HOST].")
@click.option("--port", type=int, default=None, help="TCP port [default: 8080; LIVEEVENTS_PORT].")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Data directory [default: ./liveevents-data; LIVEEVENTS_DATA_DIR].")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help="TOML settings file (flags and LIVEEVENTS_* variables override it).")
def serve(host: str | None, port: int | None, data_dir: Path | None, config_file: Path | None) -> None:
    """Run the Kinesis-compatible ingest API, HTTP ingest and the management API."""
    try:
        settings = load_settings({"host": host, "port": port, "data_dir": data_dir}, config_file=config_file)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    if settings.embedded_store:
        try:
            # Held until the process exits: never closed.
            lock_data_dir(settings.data_dir)
        except DataDirInUse as error:
            click.echo(f"liveevents serve: {error}", err=True)
            sys.exit(1)
    try:
        secrets, first_start = load_secrets(settings.data_dir)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if first_start:
        # The only time secrets are shown: they are never logged or returned by the API.
        click.echo(canvas_settings_text(settings, secrets))
    click.echo(
        f"liveevents: Kinesis endpoint {settings.endpoint_url} (stream {settings.stream_name!r}), "
        f"data in {settings.data_dir.resolve()}",
        err=True,
    )
    sys.stdout.flush()
    sys.exit(_run(settings, secrets))


def _run(settings: Settings, secrets: Secrets) -> int:
    import uvicorn
    from prometheus_client import CollectorRegistry

    from liveevents.api.app import create_app
    from liveevents.api.jwks import jwks_router
    from liveevents.api.runtime import Runtime
    from liveevents.api.subscriptions import subscriptions_router
    from liveevents.delivery.service import DeliveryService
    from liveevents.store.factory import store_from_settings

    runtime = Runtime(settings=settings, secrets=secrets, store=store_from_settings(settings), registry=CollectorRegistry())
    try:
        delivery = DeliveryService(settings, runtime.store, runtime.registry)
    except ConfigError as error:
        raise click.UsageError(str(error)) from None
    app = create_app(runtime, routers=(subscriptions_router(delivery.subscriptions), jwks_router(delivery.keys)), tasks=(delivery.run,))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    server = uvicorn.Server(config)
    # uvicorn drains on SIGTERM/SIGINT, then re-raises the signal under the handlers that were
    # in place before it started: make those a clean exit, since a drained stop is a success.
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _exit_cleanly)
    server.run()
    return 0 if server.started else 1


def _exit_cleanly(signal_number: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
