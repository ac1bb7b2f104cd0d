"""HTTP ingest for producers other than Canvas: ``POST /api/v1/events``.

The body is one JSON record, a JSON array of records, or JSON Lines (one record per line).
Each record is stored as the bytes it had in the body (an array item exactly as sent, not
re-serialised), and gets the same checks as a Kinesis record (1 MiB at most).  Every record gets a result naming its ``index`` (and ``line`` for JSON Lines): either its
``sequence_number`` or the ``field``, ``value`` and ``rule`` it broke.  Bad records are
quarantined, good ones stored, in one durable append.  Status: 200 when at least one record was
stored, 422 when every record was rejected (all quarantined), 503 when the service is
overloaded (nothing stored: send the whole request again).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from liveevents.api.auth import bearer_matches
from liveevents.api.errors import error_response
from liveevents.config import Settings
from liveevents.ingest.body import BodyTooLarge, read_body
from liveevents.ingest.metrics import IngestMetrics
from liveevents.ingest.records import Origin, check_record, commit
from liveevents.logthrottle import LogThrottle
from liveevents.store.base import NewEvent, Rejection, Store, StoreClosed, StoreError, StoreOverloaded

__all__ = ["HttpIngest"]

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024
_JSON_LINES = {"application/x-ndjson", "application/jsonl", "application/json-lines", "application/x-jsonlines"}
_JSON = {"application/json", "text/json", ""}

# (index, line number or None, the record's bytes)
_Item = tuple[int, int | None, bytes]
_DECODER = json.JSONDecoder()
_JSON_SPACE = " \t\n\r"
_BRACKET_OR_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class HttpIngest:
    def __init__(self, settings: Settings, store: Store, metrics: IngestMetrics, ingest_token: str) -> None:
        self._stream = settings.stream_name
        self._store = store
        self._metrics = metrics
        self._token = ingest_token
        self._refusals = LogThrottle()

    async def handle(self, request: Request) -> Response:
        if not bearer_matches(request.headers.get("authorization"), self._token):
            self._log_refusal(request)
            return error_response(401, "a valid 'Authorization: Bearer <ingest token>' header is required", headers={"WWW-Authenticate": 'Bearer realm="ingest"'})
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in _JSON | _JSON_LINES:
            return error_response(415, f"Content-Type {content_type!r} is not supported: send application/json (a record or an array) or application/x-ndjson")
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge as error:
            return error_response(413, str(error))
        items = _split(body, lines=content_type in _JSON_LINES)
        if not items:
            return error_response(400, "the body holds no records")
        origin = Origin("http", self._stream)
        verdicts = [check_record(data, None, origin) for _, _, data in items]
        try:
            sequences = await commit(self._store, verdicts, self._metrics)
        except StoreOverloaded:
            self._metrics.records.labels("http", "retry").inc(len(verdicts))
            return error_response(503, "the service is overloaded; nothing was stored, send the request again", headers={"Retry-After": "1"})
        except StoreClosed:
            return error_response(503, "the service is shutting down; nothing was stored, send the request again", headers={"Retry-After": "5"})
        except StoreError as error:
            return error_response(500, f"nothing was stored: {error}")
        results = [_result(item, verdict, sequence) for item, verdict, sequence in zip(items, verdicts, sequences)]
        stored = sum(sequence is not None for sequence in sequences)
        answer = {"stored": stored, "rejected": len(items) - stored, "results": results}
        return Response(orjson.dumps(answer), status_code=200 if stored else 422, media_type="application/json")

    def _log_refusal(self, request: Request) -> None:
        """A refused producer, in the service log (its operator finds why here): at most one line
        a minute per reason and client address, and never the token presented."""
        client = request.client.host if request.client else "an unknown address"
        reason = _refusal_reason(request.headers.get("authorization"))
        suppressed = self._refusals.admit((reason, client))
        if suppressed is not None:
            log.warning("HTTP ingest from %s refused (401): %s%s", client, reason, self._refusals.note(suppressed))


def _refusal_reason(authorization: str | None) -> str:
    """Why a header did not pass :func:`bearer_matches`, without what it holds."""
    if not authorization:
        return "no Authorization header"
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return "the Authorization header is not 'Bearer <ingest token>'"
    return "the bearer token is not the ingest token (ingest_token in the data dir's secrets.json, or LIVEEVENTS_INGEST_TOKEN)"


def _split(body: bytes, *, lines: bool) -> list[_Item]:
    if not lines:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            # Not one JSON document: JSON Lines sent as application/json, or one broken record.
            lines = body.strip().count(b"\n") > 0
            if not lines:
                return [(0, None, body.strip())] if body.strip() else []
        else:
            if isinstance(document, list):
                return [(index, None, record) for index, record in enumerate(_array_items(body))]
            return [(0, None, body.strip())]
    numbered = [(number, line.strip()) for number, line in enumerate(body.split(b"\n"), start=1) if line.strip()]
    return [(index, number, line) for index, (number, line) in enumerate(numbered)]


def _array_items(body: bytes) -> list[bytes]:
    """Each item of ``body`` (known to be a valid JSON array) as the bytes it has there.

    orjson gives no positions; the standard library's decoder does (``raw_decode`` returns where
    an item ends).  It costs a second parse of the body (about 8 us per 1.5 kB record), which
    buys storing what the producer sent rather than a re-serialisation of it.  A valid body is
    UTF-8, so an item's text encodes back to exactly its original bytes.
    """
    text = body.decode()
    position = _skip_space(text, text.index("[") + 1)
    items: list[bytes] = []
    while text[position] != "]":
        try:
            _, end = _DECODER.raw_decode(text, position)
        except RecursionError:  # an item nested deeper than the decoder recurses (orjson allows 1024)
            end = _container_end(text, position)
        items.append(text[position:end].encode())
        position = _skip_space(text, end)
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    return items


def _container_end(text: str, position: int) -> int:
    """Where the (valid) array or object starting at ``position`` ends, found without recursion."""
    depth = 0
    for token in _BRACKET_OR_STRING.finditer(text, position):
        if token[0] in ("[", "{"):
            depth += 1
        elif token[0] in ("]", "}"):
            depth -= 1
            if depth == 0:
                return token.end()
    raise ValueError("unterminated JSON container")  # unreachable: orjson parsed the body


def _skip_space(text: str, position: int) -> int:
    # A valid array ends with "]", so this stops before the end of the text.
    while text[position] in _JSON_SPACE:
        position += 1
    return position


def _result(item: _Item, verdict: NewEvent | Rejection, sequence: int | None) -> dict[str, Any]:
    index, line, _ = item
    result: dict[str, Any] = {"index": index}
    if line is not None:
        result["line"] = line
    if sequence is not None:
        result |= {"status": "stored", "sequence_number": str(sequence)}
    else:
        assert isinstance(verdict, Rejection)
        result |= {"status": "rejected", "field": verdict.field, "value": verdict.value, "rule": verdict.rule}
    return result
