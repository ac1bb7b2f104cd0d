"""A throw-away PostgreSQL database for a benchmark run (``--store postgres``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

__all__ = ["DEFAULT_SERVER", "postgres_database", "store_settings"]

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def postgres_database(server: str) -> Iterator[str]:
    """A new empty database on ``server`` (a URL of an existing database, superuser or
    CREATEDB), dropped afterwards; yields its URL."""
    import psycopg
    from psycopg import sql

    name = f"liveevents_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
        finally:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def store_settings(store: str, server: str) -> Iterator[dict[str, str]]:
    """The service's environment for ``store`` (``sqlite``: the data dir's file; ``postgres``: a
    throw-away database on ``server``)."""
    if store == "sqlite":
        yield {}
        return
    with postgres_database(server) as url:
        yield {"LIVEEVENTS_DATABASE_URL": url}
