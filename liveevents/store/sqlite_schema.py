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
    # 2: delivery state: subscriptions (with cursor, health and lease), deliveries awaiting a
    # retry or given up, the attempt log, replay jobs, the nodes delivering (liveevents.delivery.state).
    """
    CREATE TABLE subscriptions (
        id                 TEXT PRIMARY KEY,
        config             TEXT NOT NULL,        -- Subscription.to_record() as JSON: secrets included, never returned
        active             INTEGER NOT NULL,
        version            INTEGER NOT NULL,     -- +1 on every change of config or active: workers restart
        created_at         INTEGER NOT NULL,     -- epoch ms
        updated_at         INTEGER NOT NULL,
        cursor             INTEGER NOT NULL,     -- every matching event up to here is delivered or in deliveries
        delivered          INTEGER NOT NULL DEFAULT 0,
        failed             INTEGER NOT NULL DEFAULT 0, -- given up on (retries exhausted, or no form in the format)
        health             TEXT NOT NULL DEFAULT '{}', -- policy.Health as JSON
        deactivated_at     INTEGER,
        deactivated_reason TEXT,
        lease_owner        TEXT,                 -- the node delivering it (several nodes on PostgreSQL)
        lease_until        INTEGER NOT NULL DEFAULT 0
    );
    -- Only deliveries that did not succeed at the first attempt get a row: the happy path writes
    -- nothing per event, just the subscription's cursor.
    CREATE TABLE deliveries (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        subscription_id  TEXT NOT NULL,
        seq              INTEGER NOT NULL,
        event_id         TEXT NOT NULL,
        event_name       TEXT NOT NULL,
        origin           TEXT NOT NULL,          -- 'live' | 'replay'
        state            TEXT NOT NULL,          -- 'pending' (will be retried) | 'failed' (given up)
        attempts         INTEGER NOT NULL,
        received_at      INTEGER NOT NULL,       -- when the event was stored (latency)
        first_attempt_at INTEGER,
        last_attempt_at  INTEGER,
        next_attempt_at  INTEGER,                -- pending only
        last_status      INTEGER,
        last_error       TEXT NOT NULL,
        last_detail      TEXT NOT NULL,
        body             BLOB,                   -- the exact bytes every retry sends; NULL: nothing to send
        content_type     TEXT,
        partition_key    TEXT
    );
    CREATE INDEX deliveries_due ON deliveries (subscription_id, state, next_attempt_at);
    CREATE TABLE delivery_attempts (
        id              INTEGER PRIMARY KEY,
        delivery_id     INTEGER NOT NULL,
        subscription_id TEXT NOT NULL,
        attempt         INTEGER NOT NULL,
        at              INTEGER NOT NULL,
        status          INTEGER,
        error           TEXT,                    -- NULL: delivered
        detail          TEXT,
        elapsed_ms      INTEGER NOT NULL
    );
    CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
    CREATE TABLE replays (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        subscription_id TEXT NOT NULL,
        since           TEXT NOT NULL,           -- event_time range, normalised
        until           TEXT,
        event_types     TEXT NOT NULL,           -- JSON list
        end_seq         INTEGER NOT NULL,        -- as created: the newest event (or the cursor); later events come live
        position        INTEGER NOT NULL,
        state           TEXT NOT NULL,           -- 'running' | 'done'
        delivered       INTEGER NOT NULL DEFAULT 0,
        queued          INTEGER NOT NULL DEFAULT 0,
        failed          INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        finished_at     INTEGER
    );
    CREATE TABLE delivery_nodes (
        node_id TEXT PRIMARY KEY,
        seen_at INTEGER NOT NULL
    );
    """,
    # 3: listing by event time; stored and quarantined counts kept up to date by every append
    # and purge (in their transactions), so that stats read a few rows instead of the whole log.
    """
    CREATE INDEX events_time ON events (event_time);
    CREATE TABLE log_counts (
        log        TEXT NOT NULL,        -- 'events' | 'quarantine'
        stream     TEXT NOT NULL,        -- '' for the quarantine
        event_name TEXT NOT NULL,        -- '' for the quarantine
        records    INTEGER NOT NULL,
        PRIMARY KEY (log, stream, event_name)
    );
    INSERT INTO log_counts (log, stream, event_name, records)
        SELECT 'events', stream, event_name, count(*) FROM events GROUP BY stream, event_name;
    INSERT INTO log_counts (log, stream, event_name, records)
        SELECT 'quarantine', '', '', count(*) FROM quarantine;
    """,
    # 4: the delivery latency histogram of each subscription, store-wide (GET /api/v1/stats):
    # the ledger adds every commit's deliveries to their bucket.
    """
    CREATE TABLE delivery_latency (
        subscription_id TEXT NOT NULL,
        le_ms           INTEGER NOT NULL,        -- the bucket's upper bound in ms (delivery.latency); 0: above the last one
        deliveries      INTEGER NOT NULL,
        total_us        INTEGER NOT NULL,        -- their summed latency in microseconds
        PRIMARY KEY (subscription_id, le_ms)
    );
    """,
]
