"""Prometheus metrics of delivery, per subscription (label ``subscription`` = its id).

Counters and the latency histogram count what this process did; the gauges (backlog,
retrying) describe the subscriptions this node delivers and, on one node (the first live one
by id), the inactive ones, refreshed every lease cycle: summed over the nodes, every
subscription counts once.  The store-wide figures per subscription are in ``GET /api/v1/stats``.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from liveevents.delivery.latency import LATENCY_BUCKETS

__all__ = ["DeliveryMetrics", "SubscriptionMetrics"]


@dataclass(frozen=True, slots=True)
class SubscriptionMetrics:
    """One subscription's metric children, looked up once (label look-ups cost per event)."""

    delivered: Counter
    retried: Counter
    failed: Counter
    latency: Histogram


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "liveevents_deliveries",
            "Deliveries by outcome: delivered; retried (a failed attempt queued for a retry); failed (given up, or no form in the format)",
            ["subscription", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "liveevents_delivery_latency_seconds",
            "From the event's arrival in the log to its delivery (first attempt or retry)",
            ["subscription"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.backlog = Gauge(
            "liveevents_delivery_backlog", "Matching events stored and not yet handed to the destination", ["subscription"], registry=registry
        )
        self.retrying = Gauge("liveevents_deliveries_retrying", "Deliveries waiting for a retry", ["subscription"], registry=registry)

    def of(self, subscription_id: str) -> SubscriptionMetrics:
        return SubscriptionMetrics(
            self.deliveries.labels(subscription_id, "delivered"),
            self.deliveries.labels(subscription_id, "retried"),
            self.deliveries.labels(subscription_id, "failed"),
            self.latency.labels(subscription_id),
        )

    def set_gauges(self, subscription_id: str, *, backlog: int, retrying: int) -> None:
        self.backlog.labels(subscription_id).set(backlog)
        self.retrying.labels(subscription_id).set(retrying)

    def forget_gauges(self, subscription_id: str) -> None:
        """The subscription is no longer delivered here (moved, deactivated or deleted)."""
        for gauge in (self.backlog, self.retrying):
            try:
                gauge.remove(subscription_id)
            except KeyError:
                pass
