"""Choosing the store from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from liveevents.config import DATABASE_URL_RULE, POSTGRES_URL_SCHEMES, ConfigError, Settings, sqlite_url_path
from liveevents.delivery.urls import mask_url
from liveevents.store.base import Store
from liveevents.store.sqlite import DATABASE_FILE, SQLiteStore

if TYPE_CHECKING:
    from liveevents.store.postgres import PostgresStore

__all__ = ["store_from_settings"]


def store_from_settings(settings: Settings) -> Store:
    url = settings.database_url
    limit = settings.max_pending_records
    store: SQLiteStore | PostgresStore
    if not url:
        store = SQLiteStore(settings.data_dir / DATABASE_FILE, max_pending_records=limit)
    elif (path := sqlite_url_path(url)) is not None:
        store = SQLiteStore(path, max_pending_records=limit)
    elif url.startswith(POSTGRES_URL_SCHEMES):
        from liveevents.store.postgres import PostgresStore

        store = PostgresStore(url, max_pending_records=limit)
    else:
        # load_settings refuses such a URL first; Settings built in code can still reach here.
        raise ConfigError(f"setting 'database_url': {mask_url(url)!r} is not {DATABASE_URL_RULE}")
    store.check()
    return store
