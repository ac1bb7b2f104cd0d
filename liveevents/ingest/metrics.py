"""Prometheus metrics of the ingest paths (registered on the service's registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["IngestMetrics"]


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "liveevents_ingest_records",
            "Records received, by source (kinesis, http) and outcome (stored, quarantined, retry)",
            ["source", "outcome"],
            registry=registry,
        )
        self.requests = Counter(
            "liveevents_ingest_requests",
            "Ingest requests by operation and result (ok or an error code)",
            ["operation", "result"],
            registry=registry,
        )
        self.append_seconds = Histogram(
            "liveevents_store_append_seconds",
            "Time from handing a batch to the store to its durable commit",
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
