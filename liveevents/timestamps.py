"""Timestamp normalisation to the Caliper form ``YYYY-MM-DDTHH:MM:SS.sssZ``.

Canvas emits several shapes (ISO 8601 with ``Z`` or an offset, with or without a
fraction, Ruby's ``Time#to_s`` ``2019-10-05 05:38:00 -0800``, bare dates); Caliper
accepts exactly one.  Fractions are truncated, never rounded, so a timestamp never
moves into the next millisecond (or day).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["CALIPER_DATETIME", "format_datetime", "normalize_timestamp", "parse_timestamp"]

CALIPER_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

_TIMESTAMP = re.compile(
    r"""
    (?P<date>\d{4}-\d{2}-\d{2})
    (?:
        [T\x20]
        (?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
        \x20?
        (?P<zone>Z|z|[+-]\d{2}:?\d{2}|[+-]\d{2})
    )?
    """,
    re.VERBOSE,
)


def parse_timestamp(value: str) -> datetime:
    """Parse a Canvas timestamp into an aware UTC ``datetime`` (microsecond precision).

    Raises ``ValueError`` naming the value and the accepted forms when it cannot be read,
    including a time of day without a UTC offset (its instant would be a guess).
    """
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError(
            f"{value!r} is not an ISO 8601 timestamp with a UTC offset "
            "(accepted: 2019-11-01T19:11:05.222Z, 2019-11-01T12:11:05-07:00, "
            "2019-11-01 12:11:05 -0700, 2019-11-01)"
        )
    year, month, day = (int(part) for part in match["date"].split("-"))
    if match["hour"] is None:
        return datetime(year, month, day, tzinfo=timezone.utc)
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    zone = match["zone"]
    if zone in ("Z", "z"):
        offset = timedelta(0)
    else:
        digits = zone[1:].replace(":", "").ljust(4, "0")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        if zone[0] == "-":
            offset = -offset
    try:
        local = datetime(
            year,
            month,
            day,
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"] or 0),
            int(fraction),
            tzinfo=timezone(offset),
        )
    except ValueError as error:
        raise ValueError(f"{value!r} is not a real calendar date and time: {error}") from None
    return local.astimezone(timezone.utc)


def format_datetime(moment: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC (truncated to ms)."""
    # isoformat truncates to the millisecond and always writes a 4-digit year (strftime's %Y
    # does not below year 1000); it is also twice as fast.
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def normalize_timestamp(value: str) -> str:
    """Return ``value`` in the Caliper form; raise ``ValueError`` when it cannot be read."""
    if CALIPER_DATETIME.fullmatch(value):
        # Already canonical (the common case): only the calendar needs checking.
        try:
            datetime.fromisoformat(value)  # C-fast; ISO 8601 with "Z" since Python 3.11
        except ValueError as error:
            raise ValueError(f"{value!r} is not a real calendar date and time: {error}") from None
        return value
    return format_datetime(parse_timestamp(value))
