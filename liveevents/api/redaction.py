"""Blanking bearer tokens (``access_token`` query values) in what the inspection API returns.

Canvas puts API tokens into URLs it records (``url``, ``referrer``, ``request_url``...), and
the log keeps records exactly as received.  The API answers with them blanked unless the
caller asks for the raw record; :func:`redact_json` covers a parsed record wherever the URL
sits, :func:`redact_bytes` and :func:`redact_text` cover data that may not be JSON
(quarantined records).

In such data, a JSON string literal written with escapes (``access\\u005ftoken=``,
``\\u003faccess_token=``, ``\\/`` in the value) is decoded before it is looked at, so escapes do
not hide a token; outside string literals only the plain form ``access_token=`` is recognised.
A token inside JSON text that is itself inside a JSON string (escaped twice) is not.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from liveevents.canvas.redaction import FILTERED, TOKEN_PARAMETER, TOKEN_PATTERN, redact_url

__all__ = ["redact_bytes", "redact_json", "redact_text"]

_TOKEN = re.compile(TOKEN_PATTERN.encode())
_FILTERED = rb"\g<1>" + FILTERED.encode()
_PARAMETER = TOKEN_PARAMETER.encode()
# A JSON string literal.  One that is not closed runs to the end of the data (a truncated
# record); with the possessive repeats the scan never reads the same bytes twice, whatever the
# data (quarantined records are arbitrary bytes).
_STRING_LITERAL = re.compile(rb'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)


def redact_json(value: Any) -> Any:
    """``value`` (parsed JSON) with every string's ``access_token`` query values blanked."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_bytes(data: bytes) -> bytes:
    """``data`` (bytes in any encoding) with the value of every ``access_token=`` query
    parameter blanked; other bytes are kept as they are."""
    if b"\\" in data:
        data = _STRING_LITERAL.sub(_redact_escaped, data)
    if _PARAMETER not in data:
        return data
    return _TOKEN.sub(_FILTERED, data)


def redact_text(text: str) -> str:
    """:func:`redact_bytes` for text."""
    if "\\" not in text and TOKEN_PARAMETER not in text:
        return text
    return redact_bytes(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")


def _redact_escaped(match: re.Match[bytes]) -> bytes:
    """A string literal with escapes, decoded and blanked; encoded again only if it held a token
    (the plain ones are left to the byte pattern)."""
    literal = match.group()
    if b"\\" not in literal:
        return literal
    closed = len(literal) > 1 and literal.endswith(b'"')
    try:
        value = orjson.loads(literal if closed else literal + b'"')
    except orjson.JSONDecodeError:
        return literal
    redacted = redact_url(value)
    if redacted == value:
        return literal
    encoded = orjson.dumps(redacted)
    return encoded if closed else encoded[:-1]
