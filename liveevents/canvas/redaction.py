"""Bearer tokens leak into Canvas URLs as ``access_token`` query parameters; blank them."""

from __future__ import annotations

import re

__all__ = ["FILTERED", "TOKEN_PARAMETER", "redact_url"]

FILTERED = "[FILTERED]"
#: Present in every URL :func:`redact_url` changes (a cheap test that spares the call).
TOKEN_PARAMETER = "access_token="
_ACCESS_TOKEN = re.compile(r"(?<=[?&;])(access_token=)[^&#;]*")


def redact_url(url: str) -> str:
    """Replace the value of every ``access_token`` query parameter with ``[FILTERED]``."""
    if TOKEN_PARAMETER not in url:
        return url
    return _ACCESS_TOKEN.sub(r"\g<1>" + FILTERED, url)
