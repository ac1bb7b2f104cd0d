"""Bearer tokens leak into Canvas URLs as ``access_token`` query parameters; blank them."""

from __future__ import annotations

import re

__all__ = ["FILTERED", "TOKEN_PARAMETER", "TOKEN_PATTERN", "redact_url"]

FILTERED = "[FILTERED]"
#: Present in every URL :func:`redact_url` changes (a cheap test that spares the call).
TOKEN_PARAMETER = "access_token="
#: The parameter (group 1) and its value.  The value ends where a query value ends, and also at a
#: quote, a backslash or white space: no URL holds them unencoded, and they end a URL written
#: inside JSON text or a log line (the inspection API applies this pattern to raw bytes).
TOKEN_PATTERN = r"(?<=[?&;])(access_token=)[^&#;\"\\\s]*"
_ACCESS_TOKEN = re.compile(TOKEN_PATTERN)


def redact_url(url: str) -> str:
    """Replace the value of every ``access_token`` query parameter with ``[FILTERED]``."""
    if TOKEN_PARAMETER not in url:
        return url
    return _ACCESS_TOKEN.sub(r"\g<1>" + FILTERED, url)
