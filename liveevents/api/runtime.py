"""What every part of the running service shares, reachable from any request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request
from prometheus_client import CollectorRegistry

from liveevents.config import Secrets, Settings
from liveevents.store.base import Store

__all__ = ["BackgroundTask", "Runtime", "get_runtime"]


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    secrets: Secrets
    store: Store
    # The service's Prometheus registry: register further metrics here, not on the global one.
    registry: CollectorRegistry


# A coroutine run for the whole life of the service, started after the store opens and cancelled
# (then awaited) at shutdown before the store closes.
BackgroundTask = Callable[[Runtime], Awaitable[None]]


def get_runtime(request: Request) -> Runtime:
    """FastAPI dependency: ``runtime: Runtime = Depends(get_runtime)``."""
    return request.app.state.runtime
