"""Lexical formats: DateTime, duration, IRI, UUID URN (SPEC §1.4, §4.2, §4.3).

Precompiled, ASCII-only patterns (``\\d`` would accept any Unicode digit).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

__all__ = ["IRI", "is_datetime", "is_duration", "is_urn_uuid", "is_uuid_v4"]

# SPEC §1.4: "YYYY-MM-DDTHH:mm:ss.SSSZ set to UTC with no offset specified".
_DATETIME: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")

# ISO 8601 duration: PnYnMnDTnHnMnS (a fraction on the seconds only) or PnW; at least one
# component, and a T only when a time component follows.
_DURATION: Final = re.compile(
    r"P(?:[0-9]+W|(?=[0-9]|T[0-9])(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?"
    r"(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:[.,][0-9]+)?S)?)?)"
)

# An absolute IRI (RFC 3987: a scheme, a colon, no whitespace or characters IRIs exclude), or a
# blank node identifier "_:name" (SPEC §4.2 allows both; "urn:" ids are IRIs).
IRI: Final = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.\-]*|_):[^\s<>\"{}|\\^`]+")

_URN_UUID: Final = re.compile(r"urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_datetime(value: str) -> bool:
    if _DATETIME.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value)  # the calendar: no 2019-02-30, no 24:00
    except ValueError:
        return False
    return True


def is_duration(value: str) -> bool:
    return _DURATION.fullmatch(value) is not None


def is_urn_uuid(value: str) -> bool:
    return _URN_UUID.fullmatch(value) is not None


def is_uuid_v4(urn: str) -> bool:
    """For a ``urn:uuid:`` value: version nibble 4 and the RFC 4122 variant (SHOULD, SPEC §4.3)."""
    return urn[23] == "4" and urn[28] in "89abAB"
