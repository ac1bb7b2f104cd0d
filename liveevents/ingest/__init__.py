"""Ingest: the Kinesis-compatible API, HTTP ingest and file input."""
