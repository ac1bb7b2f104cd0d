"""A throw-away schema on the local PostgreSQL server (database ``test``) for store tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

__all__ = ["POSTGRES_URL", "postgres_schema_url"]

POSTGRES_URL = os.environ.get("LIVEEVENTS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """Yield a URL whose ``search_path`` is a new empty schema; drop the schema afterwards.

    Skips the test when the server cannot be reached (it runs on the developers' machines and in CI).
    """
    import psycopg

    schema = f"liveevents_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {error}")
    with admin:
        admin.execute(f"CREATE SCHEMA {schema}")
        try:
            yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
