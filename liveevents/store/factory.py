"""Choosing the store from the settings."""

from __future__ import annotations

from pathlib import Path

from liveevents.config import ConfigError, Settings
from liveevents.store.base import Store
from liveevents.store.sqlite import DATABASE_FILE, SQLiteStore

__all__ = ["store_from_settings"]

SQLITE_PREFIX = "sqlite:///"


def store_from_settings(settings: Settings) -> Store:
    url = settings.database_url
    if not url:
        return SQLiteStore(settings.data_dir / DATABASE_FILE, max_pending_records=settings.max_pending_records)
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        # As SQLAlchemy spells it: sqlite:///relative/file, sqlite:////absolute/file.
        return SQLiteStore(Path(url.removeprefix(SQLITE_PREFIX)), max_pending_records=settings.max_pending_records)
    if url.startswith(("postgresql://", "postgres://")):
        from liveevents.store.postgres import PostgresStore

        return PostgresStore(url, max_pending_records=settings.max_pending_records)
    raise ConfigError(
        f"setting 'database_url': {url!r} is not supported: leave it empty for SQLite in the data dir, "
        "or give sqlite:///relative/path, sqlite:////absolute/path or postgresql://..."
    )
