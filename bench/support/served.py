"""``liveevents serve`` in a subprocess on loopback, and clients for it.

The benchmarks use this module directly; the tests build on it (``tests/helpers/service.py``)
and add what only they need.  It imports nothing from the test package, so the benchmarks run
from a checkout without it.

The instance gets a free port, its own data dir and the given secrets through ``LIVEEVENTS_*``
environment variables; ``start`` returns once ``/healthz`` answers 200, and leaving the ``with``
block stops it with SIGTERM (the way an operator does).
"""

from __future__ import annotations

import os
import secrets as tokens
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import boto3
import httpx
from botocore.config import Config

__all__ = ["REGION", "ServedInstance", "fresh_secrets", "free_port", "kinesis_client", "wait_for_health"]

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_secrets() -> dict[str, str]:
    """Random values for the five secrets a served instance is given."""
    return {
        "admin_token": tokens.token_urlsafe(24),
        "ingest_token": tokens.token_urlsafe(24),
        "metrics_token": tokens.token_urlsafe(24),
        "kinesis_access_key_id": "LEBENCH" + tokens.token_hex(7).upper()[:13],
        "kinesis_secret_access_key": tokens.token_urlsafe(30),
    }


def wait_for_health(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 30.0) -> None:
    """Poll ``url/healthz`` until it answers 200; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"liveevents serve exited with {process.returncode} before it was ready")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url}/healthz did not answer 200 within {timeout} s")


def kinesis_client(endpoint_url: str, access_key_id: str, secret_access_key: str, *, region: str = REGION, retries: int = 0) -> Any:
    """A boto3 Kinesis client (SigV4) for ``endpoint_url``; no retries unless asked, so a refused
    batch shows as it is (in a test's assertion, in a benchmark's figures) instead of being sent again."""
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
    secrets: dict[str, str]

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        secrets: Mapping[str, str] | None,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        args: tuple[str, ...] = (),
        timeout: float = 30.0,
    ) -> Self:
        """Start the service on ``port`` (a free one if None) and wait until it is healthy.

        ``secrets=None`` leaves the secrets unset, so that the service generates them.  ``env``
        adds or overrides ``LIVEEVENTS_*`` settings.  Output goes to ``<data_dir>.log``.
        """
        port = port or free_port()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        log_path = data_dir.with_name(data_dir.name + ".log")
        environment = {name: value for name, value in os.environ.items() if not name.startswith("LIVEEVENTS_")}
        environment |= {f"LIVEEVENTS_{name.upper()}": value for name, value in (secrets or {}).items()}
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
        """A :func:`kinesis_client` with the instance's key pair."""
        return kinesis_client(self.url, self.secrets["kinesis_access_key_id"], self.secrets["kinesis_secret_access_key"], **options)

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['admin_token']}"}

    def admin_get(self, path: str, **params: Any) -> Any:
        """GET a management API path (``/api/v1/...``) with the admin token; the JSON answer."""
        response = httpx.get(self.url + path, params=params, headers=self.admin_headers(), timeout=30)
        response.raise_for_status()
        return response.json()

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None) -> None:
        if self.process.poll() is None:
            try:
                self.stop()
            except subprocess.TimeoutExpired:
                self.kill()
