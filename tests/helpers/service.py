"""A served instance (``liveevents serve`` as a subprocess on loopback) and clients for it.

Usage::

    with ServedInstance.start(tmp_path / "data") as service:
        service.kinesis().put_record(StreamName="live-events", Data=b"...", PartitionKey="1")
        httpx.get(service.url + "/api/v1/stats", headers=service.admin_headers())

The instance is the benchmarks' (:mod:`bench.support.served`) with what only the tests need:
known secrets by default, a purge that stays out of the way, the ingest and metrics tokens'
headers, ``/metrics`` and the instance's output.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Self

import httpx

from bench.support import served
from bench.support.served import REGION, free_port, wait_for_health

__all__ = ["KNOWN_SECRETS", "REGION", "ServedInstance", "free_port", "kinesis_client", "wait_for_health"]

KNOWN_SECRETS: dict[str, str] = {
    "admin_token": "test-admin-token-0123456789",
    "ingest_token": "test-ingest-token-0123456789",
    "metrics_token": "test-metrics-token-0123456789",
    "kinesis_access_key_id": "LETESTACCESSKEY00001",
    "kinesis_secret_access_key": "test-secret-access-key-0123456789abcdef",
}
# Settings every test instance starts with (a test's ``env`` overrides them): no purge runs in
# the middle of a test unless it asks for one, and the log holds what a test may read.
_TEST_SETTINGS = {"LIVEEVENTS_PURGE_INTERVAL_SECONDS": "3600", "LIVEEVENTS_LOG_LEVEL": "warning"}


def kinesis_client(
    endpoint_url: str,
    access_key_id: str = KNOWN_SECRETS["kinesis_access_key_id"],
    secret_access_key: str = KNOWN_SECRETS["kinesis_secret_access_key"],
    **options: Any,
) -> Any:
    """:func:`bench.support.served.kinesis_client` with the known key pair by default."""
    return served.kinesis_client(endpoint_url, access_key_id, secret_access_key, **options)


class ServedInstance(served.ServedInstance):
    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        secrets: Mapping[str, str] | None = KNOWN_SECRETS,
        env: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Self:
        """Start with :data:`KNOWN_SECRETS` unless told otherwise (``secrets=None`` lets the
        service generate them); see :meth:`bench.support.served.ServedInstance.start`."""
        return super().start(data_dir, secrets=secrets, env={**_TEST_SETTINGS, **(env or {})}, **options)

    def ingest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['ingest_token']}"}

    def metrics_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['metrics_token']}"}

    def metrics(self) -> str:
        """``GET /metrics`` with the metrics token, as Prometheus scrapes it; the exposition text."""
        response = httpx.get(self.url + "/metrics", headers=self.metrics_headers(), timeout=30)
        response.raise_for_status()
        return response.text

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
