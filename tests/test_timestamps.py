from __future__ import annotations

import pytest

from liveevents.timestamps import FORMAT_RULE, TimestampError, normalize_timestamp


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2021-06-07T08:09:10.456Z", "2021-06-07T08:09:10.456Z"),
        ("2021-06-07T08:09:10Z", "2021-06-07T08:09:10.000Z"),
        ("2021-06-07 01:09:10 -0700", "2021-06-07T08:09:10.000Z"),
        # Ruby Time#to_s (and Rails TimeWithZone#to_s) of a time in UTC.
        ("2021-06-07 08:09:10 UTC", "2021-06-07T08:09:10.000Z"),
        ("2021-06-07T02:09:10.98765-06:00", "2021-06-07T08:09:10.987Z"),
        ("2021-06-07T13:39:10+05:30", "2021-06-07T08:09:10.000Z"),
        ("2021-12-31T23:59:59.9999999Z", "2021-12-31T23:59:59.999Z"),
        ("2021-06-07", "2021-06-07T00:00:00.000Z"),
        ("2021-06-07T00:30:00+01:00", "2021-06-06T23:30:00.000Z"),
    ],
)
def test_normalises_canvas_forms(given: str, expected: str) -> None:
    assert normalize_timestamp(given) == expected


@pytest.mark.parametrize("bad", ["021-06-07T08:09:10Z", "2021-06-07T08:09:10", "yesterday", "2021-13-01T00:00:00.000Z", ""])
def test_rejects_unreadable(bad: str) -> None:
    with pytest.raises(ValueError, match=repr(bad).replace("(", r"\(")):
        normalize_timestamp(bad)


@pytest.mark.parametrize(
    ("bad", "rule"),
    [
        ("yesterday", "expected " + FORMAT_RULE),
        # Digits of other scripts are digits to Unicode, not to ISO 8601.
        ("\uff12019-11-01T19:11:05.222Z", "expected " + FORMAT_RULE),
        ("2019-11-01T19:11:05.22\u0663Z", "expected " + FORMAT_RULE),
        ("2019-11-01 12:11:05 -07\u06600", "expected " + FORMAT_RULE),
        ("2019-11-\u0967\u0968", "expected " + FORMAT_RULE),
        ("2021-06-07T08:09", "expected " + FORMAT_RULE),
        ("2021-02-29", "not a real calendar date and time (day is out of range for month)"),
        ("2021-06-07T24:00:00.000Z", "not a real calendar date and time (hour must be in 0..23)"),
        ("2021-06-07T08:09:10+2500", "the UTC offset must lie between -23:59 and +23:59"),
        ("0001-01-01T00:30:00+01:00", "outside the years 0001 to 9999 once converted to UTC"),
        (1623053350, "a timestamp must be a string"),
    ],
)
def test_errors_carry_the_rule_apart_from_the_value(bad: object, rule: str) -> None:
    with pytest.raises(TimestampError) as caught:
        normalize_timestamp(bad)  # type: ignore[arg-type]
    assert (caught.value.value, caught.value.rule) == (bad, rule)
