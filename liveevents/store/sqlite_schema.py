"""The SQLite schema as an append-only list of migrations (``PRAGMA user_version`` = applied count).

To change the schema, append a new migration; never edit an applied one.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[str] = [
    # 1: the event log, the quarantine and the streams.
    """
    CREATE TABLE streams (
        name        TEXT PRIMARY KEY,
        shard_count INTEGER NOT NULL,
        created_at  INTEGER NOT NULL             -- epoch milliseconds
    );
    -- AUTOINCREMENT: a purged sequence number is never handed out again.
    CREATE TABLE events (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        stream        TEXT    NOT NULL,
        received_at   INTEGER NOT NULL,          -- epoch ms, non-decreasing in seq order
        event_name    TEXT    NOT NULL,
        event_time    TEXT    NOT NULL,          -- YYYY-MM-DDTHH:MM:SS.sssZ (sorts as text)
        partition_key TEXT    NOT NULL,
        data          BLOB    NOT NULL,
        source        TEXT    NOT NULL,
        access_key_id TEXT
    );
    -- "events after N with these names" (delivery cursors) and counts by name.
    CREATE INDEX events_name_seq ON events (event_name, seq);
    CREATE TABLE quarantine (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at   INTEGER NOT NULL,
        source        TEXT    NOT NULL,
        data          BLOB    NOT NULL,
        field         TEXT    NOT NULL,
        value         TEXT    NOT NULL,
        rule          TEXT    NOT NULL,
        stream        TEXT,
        partition_key TEXT,
        access_key_id TEXT
    );
    """,
]
