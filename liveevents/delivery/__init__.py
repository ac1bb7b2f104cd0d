"""Delivery: subscriptions, senders (HTTPS+JWT, SQS, Caliper endpoint), retries, replay.

The flow for one stored event and one matching subscription::

    subscription.Subscription      what to deliver where (validated operator input)
        │
    worker.SubscriptionWorker      reads the log after the subscription's cursor (per node:
        │                          service.DeliveryService runs one per subscription it leases)
    encoding.EncodingPool          on threads: payload.PayloadEncoder renders the Canvas message
        │   (signing.Signer,       or Caliper envelope and signs it once — shared by the
        │    keys.KeyStore)        subscriptions of one payload.Variant
    senders.Dispatcher.deliver     one attempt → outcome.Delivered | outcome.Failed
        │
    policy                         RetrySchedule.next_attempt_at: when to retry, or give up
        │                          DeactivationRule.observe: Health → ok | warn | deactivate
    ledger.Ledger → state          cursor, failed deliveries (with their bytes), retry results,
        │                          replay positions: one transaction per interval for all
    notify.send_notice             log + optional notification URL POST

``management`` holds the operations of the subscriptions API; ``metrics`` the Prometheus side.
"""
