"""Where an event came from: an HTTP request or an automated job (``canvas-to-caliper.md`` §4.6–§4.9, §7).

A request event carries ``hostname``/``request_id``; its edApp and sensor are the Canvas account
URL. A job event carries ``job_id``/``job_tag`` instead, and Instructure's default edApp.
"""

from __future__ import annotations

from typing import Any

from liveevents.caliper.shapes import Body
from liveevents.caliper.values import urn
from liveevents.caliper.vocabulary import CANVAS_EXTENSIONS, CONVERTER_VERSION
from liveevents.canvas.redaction import redact_url

__all__ = ["account_url", "event_extensions", "is_request", "session"]

# Fixed order of the event extensions (request fields, then job fields, then version).
_REQUEST_FIELDS = ("hostname", "request_id", "user_agent", "client_ip")
_JOB_FIELDS = ("job_id", "job_tag")
_SESSION = urn("session", "")


def is_request(metadata: Body) -> bool:
    """Raised while serving an HTTP request (rather than in an asynchronous job)."""
    return metadata.get("hostname") is not None or metadata.get("request_id") is not None


def account_url(hostname: str) -> str:
    """``http://<hostname>/``: Canvas's sensor and edApp id, always ``http`` (T9), vanity domains as received."""
    return "http://" + hostname + "/"


def event_extensions(metadata: Body, redact_tokens: bool) -> dict[str, dict[str, Any]]:
    get = metadata.get
    extensions: dict[str, Any] = {}
    for key in _REQUEST_FIELDS:
        value = get(key)
        if value is not None:
            extensions[key] = value
    url = get("url")
    if url is not None:
        extensions["request_url"] = redact_url(url) if redact_tokens and type(url) is str else url
    for key in _JOB_FIELDS:
        value = get(key)
        if value is not None:
            extensions[key] = value
    extensions["version"] = CONVERTER_VERSION
    return {CANVAS_EXTENSIONS: extensions}


def session(session_id: str) -> dict[str, str]:
    """The web session (``metadata.session_id``), whatever the actor."""
    return {"id": _SESSION + session_id, "type": "Session"}
