"""Blanking bearer tokens (``access_token`` query values) in what the inspection API returns.

Canvas puts API tokens into URLs it records (``url``, ``referrer``, ``request_url``...), and
the log keeps records exactly as received.  The API answers with them blanked unless the
caller asks for the raw record; :func:`redact_json` covers a parsed record wherever the URL
sits, :func:`redact_text` covers bytes that may not be JSON (quarantined records).
"""

from __future__ import annotations

import re
from typing import Any

from liveevents.canvas.redaction import FILTERED, redact_url

__all__ = ["redact_bytes", "redact_json", "redact_text"]

# In arbitrary text a token ends where a URL query value ends, and also at a JSON string's
# closing quote or escape, or at white space.
_TOKEN = r"(?<=[?&;])(access_token=)[^&#;\"\\\s]*"
_TEXT_TOKEN = re.compile(_TOKEN)
_BYTES_TOKEN = re.compile(_TOKEN.encode())


def redact_json(value: Any) -> Any:
    """``value`` (parsed JSON) with every string's ``access_token`` query values blanked."""
    if isinstance(value, str):
        return redact_url(value)
    if isinstance(value, dict):
        return {key: redact_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item) for item in value]
    return value


def redact_text(text: str) -> str:
    """``text`` with the value of every ``access_token=`` query parameter blanked."""
    if "access_token=" not in text:
        return text
    return _TEXT_TOKEN.sub(r"\g<1>" + FILTERED, text)


def redact_bytes(data: bytes) -> bytes:
    """:func:`redact_text` for bytes in any encoding (other bytes are kept as they are)."""
    if b"access_token=" not in data:
        return data
    return _BYTES_TOKEN.sub(rb"\g<1>" + FILTERED.encode(), data)
