"""One error shape for the management and ingest API: ``{"detail": message}``, plus
``"problems": [{"field", "value", "rule"}, ...]`` when there are several things to name.

The Kinesis endpoint at ``/`` answers as AWS does instead (``{"__type", "message"}``): the SDKs
read that shape.  Handlers installed here cover what FastAPI and Starlette answer on their own
(unknown paths, wrong methods, query validation, unexpected faults), and ``/openapi.json``
documents their 422 answers as :class:`ProblemReport`, the shape they have.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from liveevents.ingest.kinesis import CONTENT_TYPE as KINESIS_CONTENT_TYPE
from liveevents.store.base import StoreError

__all__ = ["Problem", "ProblemReport", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)

KINESIS_PATH = "/"
_COMPONENTS = "#/components/schemas/"


class Problem(BaseModel):
    field: str = Field(description="dotted path of the field ('' for the body as a whole)")
    value: Any = Field(description="the offending value (null when missing; secrets shown as '[secret]')")
    rule: str
    allowed: list[str] | None = Field(None, description="the valid values, where the rule is a list")


class ProblemReport(BaseModel):
    detail: str
    problems: list[Problem]


def error_response(status: int, detail: str, *, problems: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"detail": detail}
    if problems is not None:
        body["problems"] = problems
    return Response(orjson.dumps(body, default=str), status_code=status, media_type="application/json", headers=headers)


def _kinesis_error(status: int, code: str, message: str) -> Response:
    return Response(orjson.dumps({"__type": code, "message": message}), status_code=status, media_type=KINESIS_CONTENT_TYPE)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if request.url.path == KINESIS_PATH:
        # Kinesis SDKs read __type; a person who opened the service's address in a browser
        # reads the message, so it names where the human-facing pages are.
        message = (
            f"{request.method} / is not supported: the Kinesis API takes POST requests (AWS JSON 1.1); "
            "the management API is documented at /api/docs, the health check is /healthz"
        )
        return _kinesis_error(error.status_code, "UnknownOperationException", message)
    return error_response(error.status_code, str(error.detail), headers=error.headers)


async def _invalid_request(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [
        {"field": ".".join(str(part) for part in problem["loc"]), "value": problem.get("input"), "rule": problem["msg"]}
        for problem in error.errors()
    ]
    count = len(problems)
    return error_response(422, f"invalid request: {count} problem{'s' if count != 1 else ''}", problems=problems)


async def _store_unavailable(request: Request, error: Exception) -> Response:
    log.warning("%s %s: %s", request.method, request.url.path, error)
    return error_response(503, f"the event store is unavailable, retry later: {error}", headers={"Retry-After": "5"})


async def _unexpected(request: Request, error: Exception) -> Response:
    # Starlette logs the traceback after this answer; the client gets no internals.
    if request.url.path == KINESIS_PATH:
        return _kinesis_error(500, "InternalFailure", "Internal service failure; retry")
    return error_response(500, "internal error (the service log has the details)")


def _document_invalid_requests(app: FastAPI) -> None:
    """FastAPI documents every 422 as its own body (``HTTPValidationError``, ``detail`` a list);
    :func:`_invalid_request` answers a :class:`ProblemReport`, so the schema names that."""
    generate = app.openapi
    default = {"$ref": _COMPONENTS + "HTTPValidationError"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()  # cached as app.openapi_schema: changed in place below
            for operation in (operation for path in schema["paths"].values() for operation in path.values()):
                content = operation["responses"].get("422", {}).get("content", {}).get("application/json", {})
                if content.get("schema") == default:
                    content["schema"] = {"$ref": _COMPONENTS + "ProblemReport"}
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            _, definitions = models_json_schema([(ProblemReport, "serialization")], ref_template=_COMPONENTS + "{model}")
            components.update(definitions["$defs"])
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StoreError, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)
    _document_invalid_requests(app)
