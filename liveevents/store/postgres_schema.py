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
    # 2: delivery state: subscriptions (with cursor, health and lease), deliveries awaiting a
    # retry or given up, the attempt log, replay jobs, the nodes delivering (liveevents.delivery.state).
    """
    CREATE TABLE subscriptions (
        id                 text PRIMARY KEY,
        config             text NOT NULL,        -- Subscription.to_record() as JSON: secrets included, never returned
        active             integer NOT NULL,
        version            integer NOT NULL,     -- +1 on every change of config or active: workers restart
        created_at         bigint NOT NULL,      -- epoch ms
        updated_at         bigint NOT NULL,
        cursor             bigint NOT NULL,      -- every matching event up to here is delivered or in deliveries
        delivered          bigint NOT NULL DEFAULT 0,
        failed             bigint NOT NULL DEFAULT 0, -- given up on (retries exhausted, or no form in the format)
        health             text NOT NULL DEFAULT '{}', -- policy.Health as JSON
        deactivated_at     bigint,
        deactivated_reason text,
        lease_owner        text,                 -- the node delivering it (several nodes on PostgreSQL)
        lease_until        bigint NOT NULL DEFAULT 0
    );
    -- Only deliveries that did not succeed at the first attempt get a row: the happy path writes
    -- nothing per event, just the subscription's cursor.
    CREATE TABLE deliveries (
        id               bigserial PRIMARY KEY,
        subscription_id  text NOT NULL,
        seq              bigint NOT NULL,
        event_id         text NOT NULL,
        event_name       text NOT NULL,
        origin           text NOT NULL,          -- 'live' | 'replay'
        state            text NOT NULL,          -- 'pending' (will be retried) | 'failed' (given up)
        attempts         integer NOT NULL,
        received_at      bigint NOT NULL,        -- when the event was stored (latency)
        first_attempt_at bigint,
        last_attempt_at  bigint,
        next_attempt_at  bigint,                 -- pending only
        last_status      integer,
        last_error       text NOT NULL,
        last_detail      text NOT NULL,
        body             bytea,                  -- the exact bytes every retry sends; NULL: nothing to send
        content_type     text,
        partition_key    text
    );
    CREATE INDEX deliveries_due ON deliveries (subscription_id, state, next_attempt_at);
    CREATE TABLE delivery_attempts (
        id              bigserial PRIMARY KEY,
        delivery_id     bigint NOT NULL,
        subscription_id text NOT NULL,
        attempt         integer NOT NULL,
        at              bigint NOT NULL,
        status          integer,
        error           text,                    -- NULL: delivered
        detail          text,
        elapsed_ms      integer NOT NULL
    );
    CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id);
    CREATE TABLE replays (
        id              bigserial PRIMARY KEY,
        subscription_id text NOT NULL,
        since           text NOT NULL,           -- event_time range, normalised
        until           text,
        event_types     text NOT NULL,           -- JSON list
        end_seq         bigint NOT NULL,         -- as created: the newest event (or the cursor); later events come live
        position        bigint NOT NULL,
        state           text NOT NULL,           -- 'running' | 'done'
        delivered       bigint NOT NULL DEFAULT 0,
        queued          bigint NOT NULL DEFAULT 0,
        failed          bigint NOT NULL DEFAULT 0,
        created_at      bigint NOT NULL,
        finished_at     bigint
    );
    CREATE TABLE delivery_nodes (
        node_id text PRIMARY KEY,
        seen_at bigint NOT NULL
    );
    """,
    # 3: listing by event time; stored and quarantined counts kept up to date by every append
    # and purge (in their transactions), so that stats read a few rows instead of the whole log.
    """
    CREATE INDEX events_time ON events (event_time);
    CREATE TABLE log_counts (
        log        text NOT NULL,        -- 'events' | 'quarantine'
        stream     text NOT NULL,        -- '' for the quarantine
        event_name text NOT NULL,        -- '' for the quarantine
        records    bigint NOT NULL,
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
        subscription_id text NOT NULL,
        le_ms           bigint NOT NULL,        -- the bucket's upper bound in ms (delivery.latency); 0: above the last one
        deliveries      bigint NOT NULL,
        total_us        bigint NOT NULL,        -- their summed latency in microseconds
        PRIMARY KEY (subscription_id, le_ms)
    );
    """,
]
