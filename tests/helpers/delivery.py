"""Helpers for the end-to-end delivery tests: subscribe through the API of a served instance,
put records through its Kinesis API, wait for deliveries."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
import orjson

from tests.helpers.service import ServedInstance

__all__ = ["FAST_DELIVERY", "jwt_payload", "put", "subscribe", "wait_until"]

# Settings for a served instance whose retries and leases take fractions of a second.
FAST_DELIVERY = {
    "LIVEEVENTS_RETRY_SCHEDULE_SECONDS": "0.2,0.4,0.8,1.6,3.2",
    "LIVEEVENTS_RETRY_JITTER": "0",
    "LIVEEVENTS_LEASE_SECONDS": "1.5",
    "LIVEEVENTS_PROBE_SECONDS": "0.3",
    "LIVEEVENTS_DELIVERY_TIMEOUT_SECONDS": "1",
    "LIVEEVENTS_SIGNING_THREADS": "1",
}


def subscribe(service: ServedInstance, **fields: Any) -> dict[str, Any]:
    """Create a subscription through the API; its public view."""
    response = httpx.post(service.url + "/api/v1/subscriptions", json=fields, headers=service.admin_headers(), timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def put(service: ServedInstance, records: Iterable[dict[str, Any]]) -> list[str]:
    """Put ``records`` with boto3 ``put_records``; their sequence numbers."""
    entries = [{"Data": orjson.dumps(record), "PartitionKey": str(record["attributes"].get("user_id", "0"))} for record in records]
    answer = service.kinesis().put_records(StreamName="live-events", Records=entries)
    assert answer["FailedRecordCount"] == 0, answer
    return [result["SequenceNumber"] for result in answer["Records"]]


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until ``condition()`` is truthy (and return it); AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not met within {timeout} s: {getattr(condition, '__name__', condition)}")
        time.sleep(interval)
    return result


def jwt_payload(token: bytes) -> dict[str, Any]:
    """The claims of a compact JWS, unverified (for counting deliveries cheaply)."""
    part = token.strip(b'"').split(b".")[1]
    return orjson.loads(base64.urlsafe_b64decode(part + b"=" * (-len(part) % 4)))
