"""The result of one delivery attempt, as every sender reports it.

``Failed.error`` is a short, stable class name for counting and display:

* ``timeout`` — no (complete) answer within the timeout;
* ``connect`` — refused, unreachable, DNS or TLS failure, or a link-local destination (the
  host is such an address, or resolves only to such addresses: nothing is connected to);
* ``network`` — the connection broke mid-exchange;
* ``http_<status>`` — the endpoint answered with a non-2xx status (3xx included: redirects are
  not followed, as Svix does, since a POST body must not wander to another host);
* ``sqs:<Code>`` — an SQS error code (whole call or one entry);
* ``aws_credentials``, ``invalid_url`` — configuration problems on our side;
* ``encoding`` — the event has no form in the subscription's format (nothing was sent).

``retryable`` is false only when resending the same bytes to the same place cannot succeed
(an SQS entry refused as the sender's fault, an unusable URL); everything else — including
4xx answers, which are often a consumer's transient misconfiguration — is retried.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Delivered", "Failed", "Outcome"]


@dataclass(frozen=True, slots=True)
class Delivered:
    elapsed: float  # seconds, request to answer
    status_code: int | None = None  # HTTP status; None for SQS
    message_id: str | None = None  # SQS MessageId


@dataclass(frozen=True, slots=True)
class Failed:
    error: str
    detail: str  # short human-readable explanation (never the payload, never a secret)
    retryable: bool = True
    elapsed: float = 0.0
    status_code: int | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header

    @property
    def is_timeout(self) -> bool:
        """Instructure counts timeouts apart from other errors when deciding to deactivate."""
        return self.error == "timeout"


Outcome = Delivered | Failed
