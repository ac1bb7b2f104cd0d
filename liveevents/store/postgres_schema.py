"""The PostgreSQL schema as an append-only list of migrations (``liveevents_schema.version`` =
applied count).  To change the schema, append a new migration; never edit an applied one."""

from __future__ import annotations

__all__ = ["MIGRATIONS"]

MIGRATIONS: list[str] = [
    # 1: the event log, the quarantine and the streams (same columns as the SQLite schema).
    """
    CREATE TABLE streams (
        name        text PRIMARY KEY,
        shard_count integer NOT NULL,
        created_at  bigint NOT NULL
    );
    -- Handed out only under the append lock, so sequence order is commit order on every node.
    CREATE SEQUENCE events_seq AS bigint;
    CREATE TABLE events (
        seq           bigint PRIMARY KEY,
        stream        text   NOT NULL,
        received_at   bigint NOT NULL,
        event_name    text   NOT NULL,
        event_time    text   NOT NULL,
        partition_key text   NOT NULL,
        data          bytea  NOT NULL,
        source        text   NOT NULL,
        access_key_id text
    );
    CREATE INDEX events_name_seq ON events (event_name, seq);
    CREATE TABLE quarantine (
        id            bigserial PRIMARY KEY,
        received_at   bigint NOT NULL,
        source        text   NOT NULL,
        data          bytea  NOT NULL,
        field         text   NOT NULL,
        value         text   NOT NULL,
        rule          text   NOT NULL,
        stream        text,
        partition_key text,
        access_key_id text
    );
    """,
]
