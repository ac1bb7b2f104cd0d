"""A served instance (``liveevents serve`` as a subprocess on loopback) and clients for it.

Usage::

    with ServedInstance.start(tmp_path / "data") as service:
        service.kinesis().put_record(StreamName="live-events", Data=b"...", PartitionKey="1")
        httpx.get(service.url + "/api/v1/stats", headers=service.admin_headers())

The instance gets a free port, its own data dir and known secrets through ``LIVEEVENTS_*``
environment variables, and is ready (``/healthz`` answered 200) when ``start`` returns.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import httpx
from botocore.config import Config

__all__ = ["KNOWN_SECRETS", "ServedInstance", "free_port", "kinesis_client", "wait_for_health"]

KNOWN_SECRETS: dict[str, str] = {
    "admin_token": "test-admin-token-0123456789",
    "ingest_token": "test-ingest-token-0123456789",
    "kinesis_access_key_id": "LETESTACCESSKEY00001",
    "kinesis_secret_access_key": "test-secret-access-key-0123456789abcdef",
}
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_health(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    """Poll ``url/healthz`` until it answers 200; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url}/healthz did not answer 200 within {timeout} s")


def kinesis_client(
    endpoint_url: str,
    access_key_id: str = KNOWN_SECRETS["kinesis_access_key_id"],
    secret_access_key: str = KNOWN_SECRETS["kinesis_secret_access_key"],
    *,
    region: str = REGION,
    retries: int = 0,
) -> Any:
    """A boto3 Kinesis client (SigV4) for ``endpoint_url``; no retries unless asked, so tests see
    each answer as it is."""
    return boto3.client(
        "kinesis",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(retries={"total_max_attempts": retries + 1, "mode": "standard"}, read_timeout=60),
    )


@dataclass
class ServedInstance:
    data_dir: Path
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    secrets: dict[str, str] = field(default_factory=lambda: dict(KNOWN_SECRETS))

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = KNOWN_SECRETS,
        args: tuple[str, ...] = (),
        timeout: float = 20.0,
    ) -> ServedInstance:
        """Start ``liveevents serve`` and wait until it is healthy.

        ``secrets=None`` leaves the secrets unset, so that the service generates them.
        ``env`` adds or overrides ``LIVEEVENTS_*`` settings.  Output goes to
        ``<data_dir>.log`` (read it with :meth:`output`).
        """
        port = port or free_port()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        log_path = data_dir.with_name(data_dir.name + ".log")
        environment = {name: value for name, value in os.environ.items() if not name.startswith("LIVEEVENTS_")}
        environment["LIVEEVENTS_PURGE_INTERVAL_SECONDS"] = "3600"
        environment["LIVEEVENTS_LOG_LEVEL"] = "warning"
        if secrets is not None:
            environment |= {f"LIVEEVENTS_{name.upper()}": value for name, value in secrets.items()}
        environment |= dict(env or {})
        command = [sys.executable, "-m", "liveevents.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir), *args]
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        instance = cls(data_dir, port, process, log_path, dict(secrets or {}))
        try:
            wait_for_health(instance.url, process, timeout)
        except BaseException:
            instance.kill()
            raise
        return instance

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kinesis(self, **options: Any) -> Any:
        return kinesis_client(self.url, self.secrets["kinesis_access_key_id"], self.secrets["kinesis_secret_access_key"], **options)

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['admin_token']}"}

    def ingest_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['ingest_token']}"}

    def admin_get(self, path: str, **params: Any) -> Any:
        """GET a management API path (``/api/v1/...``) with the admin token; the JSON answer."""
        response = httpx.get(self.url + path, params=params, headers=self.admin_headers(), timeout=30)
        response.raise_for_status()
        return response.json()

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL (no chance to clean up)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def __enter__(self) -> ServedInstance:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None) -> None:
        if self.process.poll() is None:
            try:
                self.stop(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
