"""Where an event came from: an HTTP request or an automated job (``canvas-to-caliper.md`` §4.6–§4.9, §7).

A request event carries ``hostname``/``request_id``; its edApp and sensor are the Canvas account
URL. A job event carries ``job_id``/``job_tag`` instead, and Instructure's default edApp.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from liveevents.caliper.shapes import Body
from liveevents.caliper.values import iri_safe, urn
from liveevents.caliper.vocabulary import CANVAS_EXTENSIONS, CONVERTER_VERSION
from liveevents.canvas.record import RecordError
from liveevents.canvas.redaction import TOKEN_PARAMETER, redact_url

__all__ = ["JOB_FIELDS", "REQUEST_FIELDS", "SESSION_URN", "Origins", "account_url", "event_extensions", "is_request"]

# Fixed order of the event extensions (request fields, then job fields, then version).
REQUEST_FIELDS = ("hostname", "request_id", "user_agent", "client_ip")
JOB_FIELDS = ("job_id", "job_tag")
#: The id of the web session (``metadata.session_id``) without its id, whatever the actor.
SESSION_URN = urn("session", "")


def is_request(metadata: Body) -> bool:
    """Raised while serving an HTTP request (rather than in an asynchronous job)."""
    return metadata.get("hostname") is not None or metadata.get("request_id") is not None


def account_url(hostname: str) -> str:
    """``http://<hostname>/``: Canvas's sensor and edApp id, always ``http`` (T9), vanity domains as received."""
    return "http://" + hostname + "/"


class Origins(dict[str, tuple[str, str]]):
    """``(edApp id, sensor)`` of an event by its ``metadata.hostname``, each host name checked and
    rendered once (a few hosts send every event): ``http://<host>/`` twice for a request event,
    the default edApp and the job sensor for a job event (no hostname)."""

    __slots__ = ("_job",)

    def __init__(self, default_app_id: str, job_sensor: str) -> None:
        super().__init__()
        self._job = (default_app_id, job_sensor)

    def of(self, hostname: object) -> tuple[str, str]:
        if hostname is None:
            return self._job
        if type(hostname) is str:
            return self[hostname]
        raise RecordError("metadata.hostname", hostname, _HOST_RULE)

    def __missing__(self, hostname: str) -> tuple[str, str]:
        if not hostname or not iri_safe(hostname):
            raise RecordError("metadata.hostname", hostname, _HOST_RULE)
        url = account_url(hostname)
        if len(self) < 1024:  # bounded: host names come from the records
            self[hostname] = (url, url)
        return url, url


_HOST_RULE = "the Canvas host name, such as 'canvas.example.edu'"


def event_extensions(redact_tokens: bool) -> Callable[[Body], dict[str, dict[str, Any]]]:
    """The event's Canvas extensions: request fields, ``request_url``, job fields, ``version``."""

    def extensions_of(metadata: Body) -> dict[str, dict[str, Any]]:
        get = metadata.get
        extensions: dict[str, Any] = {}
        for key in REQUEST_FIELDS:
            value = get(key)
            if value is not None:
                extensions[key] = value
        url = get("url")
        if url is not None:
            extensions["request_url"] = redact_url(url) if redact_tokens and type(url) is str and TOKEN_PARAMETER in url else url
        for key in JOB_FIELDS:
            value = get(key)
            if value is not None:
                extensions[key] = value
        extensions["version"] = CONVERTER_VERSION
        return {CANVAS_EXTENSIONS: extensions}

    return extensions_of

