"""``liveevents serve`` in a subprocess on loopback, for the benchmarks.

The instance gets a free port, its own data dir and fresh secrets through ``LIVEEVENTS_*``
environment variables; ``start`` returns once ``/healthz`` answers 200, and leaving the ``with``
block stops it with SIGTERM (the way an operator does).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import httpx
from botocore.config import Config

__all__ = ["ServedInstance", "free_port"]

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ServedInstance:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    secrets: dict[str, str]

    @classmethod
    def start(cls, data_dir: Path, *, env: Mapping[str, str] | None = None, timeout: float = 30.0) -> ServedInstance:
        """Start the service on a free loopback port and wait until it is healthy; its output
        goes to ``<data_dir>.log``."""
        port = free_port()
        values = {
            "admin_token": secrets.token_urlsafe(24),
            "ingest_token": secrets.token_urlsafe(24),
            "kinesis_access_key_id": "LEBENCH" + secrets.token_hex(7).upper()[:13],
            "kinesis_secret_access_key": secrets.token_urlsafe(30),
        }
        environment = {name: value for name, value in os.environ.items() if not name.startswith("LIVEEVENTS_")}
        environment |= {f"LIVEEVENTS_{name.upper()}": value for name, value in values.items()}
        environment |= dict(env or {})
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "liveevents.cli", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
        with data_dir.with_name(data_dir.name + ".log").open("ab") as log:
            process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        instance = cls(f"http://127.0.0.1:{port}", data_dir, process, values)
        try:
            instance._wait_until_healthy(timeout)
        except BaseException:
            process.kill()
            process.wait(10)
            raise
        return instance

    def _wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"liveevents serve exited with {self.process.returncode} before it was ready")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{self.url}/healthz did not answer 200 within {timeout} s")

    def kinesis(self) -> Any:
        """A boto3 Kinesis client (SigV4 with the instance's key pair) that does not retry, so a
        refused batch shows in the figures instead of being sent again."""
        return boto3.client(
            "kinesis",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.secrets["kinesis_access_key_id"],
            aws_secret_access_key=self.secrets["kinesis_secret_access_key"],
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=60),
        )

    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['admin_token']}"}

    def admin_get(self, path: str) -> Any:
        """GET a management API path (``/api/v1/...``) with the admin token; the JSON answer."""
        response = httpx.get(self.url + path, headers=self.admin_headers(), timeout=30)
        response.raise_for_status()
        return response.json()

    def __enter__(self) -> ServedInstance:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
