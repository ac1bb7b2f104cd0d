"""Timestamp normalisation to the Caliper form ``YYYY-MM-DDTHH:MM:SS.sssZ``.

Canvas emits several shapes (ISO 8601 with ``Z`` or an offset, with or without a
fraction, Ruby's ``Time#to_s`` ``2019-10-05 05:38:00 -0800``, bare dates); Caliper
accepts exactly one.  Ruby writes ``Time#to_s`` of a UTC time (and Rails a time in a UTC
zone) as ``2019-10-05 13:38:00 UTC``, so ``UTC`` is read as a zone too.  Fractions are
truncated, never rounded, so a timestamp never moves into the next millisecond (or day).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["TimestampError", "format_datetime", "normalize_timestamp", "parse_timestamp"]

#: The rule a value that does not look like a timestamp at all breaks.
FORMAT_RULE = (
    "an ISO 8601 timestamp with a UTC offset, such as 2019-11-01T19:11:05.222Z, "
    "2019-11-01T12:11:05-07:00, 2019-11-01 12:11:05 -0700 or the bare date 2019-11-01"
)

_TIMESTAMP = re.compile(
    r"""
    (?P<date>\d{4}-\d{2}-\d{2})
    (?:
        [T\x20]
        (?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?
        \x20?
        (?P<zone>Z|z|UTC|[+-]\d{2}:?\d{2}|[+-]\d{2})
    )?
    """,
    # ASCII: to Unicode, \d is also a fullwidth or an Arabic-Indic digit, which int() reads too.
    re.VERBOSE | re.ASCII,
)


class TimestampError(ValueError):
    """A value that is not a readable timestamp: ``value`` as given and the ``rule`` it broke.

    The rule is a phrase of its own (no value in it), so callers can report field, value and
    rule separately.
    """

    def __init__(self, value: object, rule: str) -> None:
        self.value = value
        self.rule = rule
        super().__init__(f"{value!r}: {rule}")


def parse_timestamp(value: str) -> datetime:
    """Parse a Canvas timestamp into an aware UTC ``datetime`` (microsecond precision).

    Raises :class:`TimestampError` when it cannot be read, including a time of day without a
    UTC offset (its instant would be a guess).
    """
    if type(value) is not str:
        raise TimestampError(value, "a timestamp must be a string")
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise TimestampError(value, "expected " + FORMAT_RULE)
    year, month, day = (int(part) for part in match["date"].split("-"))
    hour = match["hour"]
    if hour is None:
        return _moment(value, year, month, day, tzinfo=timezone.utc)
    zone = match["zone"]
    if zone in ("Z", "z", "UTC"):
        offset = timedelta(0)
    else:
        digits = zone[1:].replace(":", "").ljust(4, "0")
        offset_hours, offset_minutes = int(digits[:2]), int(digits[2:])
        if offset_hours > 23 or offset_minutes > 59:
            raise TimestampError(value, "the UTC offset must lie between -23:59 and +23:59")
        offset = timedelta(hours=offset_hours, minutes=offset_minutes)
        if zone[0] == "-":
            offset = -offset
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    return _moment(
        value, year, month, day, int(hour), int(match["minute"]), int(match["second"] or 0), int(fraction), tzinfo=timezone(offset)
    )


def _moment(value: str, *parts: int, tzinfo: timezone) -> datetime:
    try:
        return datetime(*parts, tzinfo=tzinfo).astimezone(timezone.utc)
    except ValueError as error:
        raise TimestampError(value, f"not a real calendar date and time ({error})") from None
    except OverflowError:
        raise TimestampError(value, "outside the years 0001 to 9999 once converted to UTC") from None


def format_datetime(moment: datetime) -> str:
    """Render an aware datetime as ``YYYY-MM-DDTHH:MM:SS.sssZ`` in UTC (truncated to ms)."""
    # isoformat truncates to the millisecond and always writes a 4-digit year (strftime's %Y
    # does not below year 1000); it is also twice as fast.
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


def normalize_timestamp(value: str) -> str:
    """Return ``value`` in the Caliper form; raise :class:`TimestampError` when it cannot be read."""
    # Already canonical (nearly every event_time): a few character checks select the shape
    # (cheaper than a regular expression), fromisoformat (C) checks the digits and the calendar.
    if type(value) is str and len(value) == 24 and value[23] == "Z" and value[4:20:3] == "--T::.":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass  # the full parse below names the rule
        else:
            return value
    return format_datetime(parse_timestamp(value))
