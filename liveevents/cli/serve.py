"""``liveevents serve``: the whole service in one process.

Start-up goes from what can fail on a setting to what writes: settings are checked, the data dir
is locked, the socket is bound (so that the real port of ``--port 0`` is known to everything
built after it), the store and the delivery service are built, and only then are secrets
generated.
Generated secrets are printed once the service has started (a background task of the app), and
recorded as shown only then, so a start that fails never swallows them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from dataclasses import fields, replace
from pathlib import Path
from types import FrameType
from typing import NoReturn

import click

from liveevents.cli.datadir import StoreInUse, lock_data_dir, lock_database_file
from liveevents.config import (
    ENV_PREFIX,
    SECRETS_FILE,
    ConfigError,
    Secrets,
    Settings,
    load_secrets,
    load_settings,
    mark_secrets_shown,
    secrets_text,
    sqlite_url_path,
)

__all__ = ["serve"]

# Exit statuses: a setting that cannot be used; a data dir or address in use by another process.
EXIT_SETTING = 2
EXIT_CANNOT_START = 1
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
        _fail(str(error), EXIT_SETTING)
    if settings.embedded_store:
        try:
            # Held until the process exits: never closed.
            lock_data_dir(settings.data_dir)
            if (database := sqlite_url_path(settings.database_url)) is not None:
                lock_database_file(database)
        except StoreInUse as error:
            _fail(str(error), EXIT_CANNOT_START)
        except OSError as error:
            _fail(f"cannot create or lock {error.filename}: {error.strerror}", EXIT_CANNOT_START)
    try:
        listener = _listen(settings.host, settings.port)
    except OSError as error:
        _fail(f"cannot listen on {settings.host}:{settings.port}: {error.strerror or error}", EXIT_CANNOT_START)
    settings = replace(settings, port=listener.getsockname()[1])
    # One format for every line, uvicorn's included: it gets no logging configuration of its own
    # (log_config=None below), so its loggers propagate to this handler.
    handler = logging.StreamHandler()
    handler.addFilter(_uvicorn_name)
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT, handlers=[handler])
    # httpx (the notices' client) logs every request's whole URL at INFO, credentials in the query
    # included; liveevents.delivery.notify logs the outcome with the URL masked instead.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # botocore (the SQS sender) logs whole request bodies, student data, at DEBUG.
    logging.getLogger("botocore").setLevel(max(logging.INFO, logging.getLogger().level))
    sys.exit(_run(settings, listener))


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (uvicorn listens on it), as uvicorn itself would bind it."""
    family, kind, protocol, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    listener = socket.socket(family, kind, protocol)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
    except OSError:
        listener.close()
        raise
    return listener


def _uvicorn_name(record: logging.LogRecord) -> bool:
    """uvicorn logs its server's life (started, shutting down) as ``uvicorn.error``: shown as
    ``uvicorn``, so that an operator scanning for errors does not stop at an INFO line."""
    if record.name == "uvicorn.error":
        record.name = "uvicorn"
    return True


def _fail(message: str, status: int) -> NoReturn:
    click.echo(f"liveevents serve: {message}", err=True)
    sys.exit(status)


def _run(settings: Settings, listener: socket.socket) -> int:
    import uvicorn
    from prometheus_client import CollectorRegistry

    from liveevents.api.app import create_app
    from liveevents.api.jwks import jwks_router
    from liveevents.api.runtime import Runtime
    from liveevents.api.subscriptions import subscriptions_router
    from liveevents.delivery.service import DeliveryService
    from liveevents.store.base import StoreError
    from liveevents.store.factory import store_from_settings

    registry = CollectorRegistry()
    try:
        store = store_from_settings(settings)
        delivery = DeliveryService(settings, store, registry)
    except ConfigError as error:
        _fail(str(error), EXIT_SETTING)
    except StoreError as error:
        _fail(str(error), EXIT_CANNOT_START)
    secrets, to_show = load_secrets(settings.data_dir)
    runtime = Runtime(settings=settings, secrets=secrets, store=store, registry=registry)

    async def announce(_: Runtime) -> None:
        _announce(settings, secrets, to_show)

    app = create_app(runtime, routers=(subscriptions_router(delivery.subscriptions), jwks_router(delivery.keys)), tasks=(delivery.run, announce))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_config=None,
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
    server.run(sockets=[listener])
    return 0 if server.started else 1


def _announce(settings: Settings, secrets: Secrets, to_show: frozenset[str]) -> None:
    """Once the service has started: the generated secrets not shown yet (the Canvas settings, or
    the metrics token alone when only it is new)."""
    if to_show:
        # The only time secrets are shown: they are never logged or returned by the API.
        click.echo(secrets_text(settings, secrets, to_show))
        sys.stdout.flush()
        mark_secrets_shown(settings.data_dir)
    click.echo(
        f"liveevents: Kinesis endpoint {settings.endpoint_url} (stream {settings.stream_name!r}), "
        f"data in {settings.data_dir.resolve()}, {_secrets_place(settings)}",
        err=True,
    )


def _secrets_place(settings: Settings) -> str:
    """Where the secrets are kept, for the start line (a restart shows no secrets, so this is
    where an operator finds them): the data dir's file and the environment variables set."""
    from_environment = [name for name in (ENV_PREFIX + item.name.upper() for item in fields(Secrets)) if os.environ.get(name)]
    if len(from_environment) == len(fields(Secrets)):
        return f"secrets from the environment ({', '.join(from_environment)})"
    place = f"secrets in {settings.data_dir.resolve() / SECRETS_FILE}"
    return f"{place} and {', '.join(from_environment)}" if from_environment else place


def _exit_cleanly(signal_number: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
