"""The service as one ASGI app: Kinesis API at ``/``, HTTP ingest, management API, health, metrics.

The ingest routes are plain Starlette endpoints (no validation layer on the hot path); the
management API is FastAPI routers with typed models (OpenAPI at ``/openapi.json``).  Further
parts of the service plug in through :func:`create_app`'s ``routers`` and ``tasks``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from liveevents import __version__
from liveevents.api import admin
from liveevents.api.auth import require_metrics_reader
from liveevents.api.errors import install_error_handlers
from liveevents.api.runtime import BackgroundTask, Runtime
from liveevents.ingest.http import HttpIngest
from liveevents.ingest.kinesis import KinesisApi
from liveevents.ingest.metrics import IngestMetrics
from liveevents.ingest.sigv4 import SigV4Verifier
from liveevents.store.retention import purge_periodically

__all__ = ["create_app"]

log = logging.getLogger(__name__)


async def _retention(runtime: Runtime) -> None:
    settings = runtime.settings
    await purge_periodically(runtime.store, timedelta(days=settings.retention_days), settings.purge_interval_seconds)


def create_app(runtime: Runtime, *, routers: Sequence[APIRouter] = (), tasks: Sequence[BackgroundTask] = ()) -> FastAPI:
    """Build the app.  ``routers`` are included after the built-in ones; ``tasks`` run beside the
    retention purge for the life of the service (see :data:`liveevents.api.runtime.BackgroundTask`)."""
    settings, secrets, store = runtime.settings, runtime.secrets, runtime.store
    background = (_retention, *tasks)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await store.open()
        await store.ensure_stream(settings.stream_name)
        running = [asyncio.create_task(task(runtime), name=getattr(task, "__name__", "task")) for task in background]
        try:
            yield
        finally:
            for task in running:
                task.cancel()
            for outcome in await asyncio.gather(*running, return_exceptions=True):
                if isinstance(outcome, Exception):
                    log.error("background task failed: %r", outcome)
            await store.close()

    app = FastAPI(title="liveevents", version=__version__, lifespan=lifespan, docs_url="/api/docs", redoc_url=None)
    app.state.runtime = runtime
    install_error_handlers(app)

    metrics = IngestMetrics(runtime.registry)
    Gauge("liveevents_last_sequence", "Highest committed sequence number", registry=runtime.registry).set_function(lambda: store.last_sequence)
    credentials = {secrets.kinesis_access_key_id: secrets.kinesis_secret_access_key}
    kinesis = KinesisApi(settings, store, SigV4Verifier(credentials, settings.kinesis_regions), metrics)
    http_ingest = HttpIngest(settings, store, metrics, secrets.ingest_token)

    app.router.add_route("/", kinesis.handle, methods=["POST"], include_in_schema=False)
    app.router.add_route("/api/v1/events", http_ingest.handle, methods=["POST"], include_in_schema=False)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Response:
        return JSONResponse({"status": "ok", "last_sequence": store.last_sequence})

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(require_metrics_reader)])
    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(runtime.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(admin.router)
    for router in routers:
        app.include_router(router)
    return app
