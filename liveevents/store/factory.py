"""Choosing the store from the settings."""

from __future__ import annotations

from pathlib import Path

from liveevents.config import DATABASE_URL_RULE, POSTGRES_URL_SCHEMES, ConfigError, Settings, sqlite_url_path
from liveevents.delivery.urls import mask_url
from liveevents.store.base import Store
from liveevents.store.sqlite import DATABASE_FILE, SQLiteStore

__all__ = ["store_from_settings"]


def store_from_settings(settings: Settings) -> Store:
    url = settings.database_url
    limit = settings.max_pending_records
    if not url:
        return SQLiteStore(settings.data_dir / DATABASE_FILE, max_pending_records=limit)
    if (path := sqlite_url_path(url)) is not None:
        return SQLiteStore(path, max_pending_records=limit)
    if url.startswith(POSTGRES_URL_SCHEMES):
        from liveevents.store.postgres import PostgresStore

        store = PostgresStore(url, max_pending_records=limit)
        store.check_connection()
        return store
    # load_settings refuses such a URL first; Settings built in code can still reach here.
    raise ConfigError(f"setting 'database_url': {mask_url(url)!r} is not {DATABASE_URL_RULE}")
