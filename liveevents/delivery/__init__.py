"""Delivery: subscriptions, senders (HTTPS+JWT, SQS, Caliper endpoint), retries, replay."""
