"""Delivery: subscriptions, senders (HTTPS+JWT, SQS, Caliper endpoint), retries, replay.

The flow for one stored event and one matching subscription::

    subscription.Subscription      what to deliver where (validated operator input)
        │
    payload.PayloadEncoder.encode  event → Canvas message or Caliper envelope → Payload
        │   (signing.Signer, keys.KeyStore)     bytes signed once, stored, resent unchanged
    senders.Dispatcher.deliver     one attempt → outcome.Delivered | outcome.Failed
        │
    policy                         RetrySchedule.next_attempt_at: when to retry, or give up
                                   DeactivationRule.observe: Health → ok | warn | deactivate
        │
    notify.send_notice             log + optional notification URL POST
"""
