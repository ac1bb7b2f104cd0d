"""Store: the durable event log and delivery state (SQLite embedded, PostgreSQL multi-node)."""
