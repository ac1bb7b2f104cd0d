"""The inspection API's token blanking on record bytes and JSON text that may not parse
(quarantined records): JSON escapes do not hide a token."""

from __future__ import annotations

import orjson
import pytest

from liveevents.api.redaction import redact_bytes, redact_text


@pytest.mark.parametrize(
    "data",
    [
        rb'{"url": "https://lms.example.org/c/5?access\u005ftoken=8~EscapedName&x=1"}',
        rb'{"url": "https://lms.example.org/c/5?access_token\u003d8~EscapedName&x=1"}',
        rb'{"url": "https://lms.example.org/c/5\u003faccess_token=8~EscapedName&x=1"}',
        rb'{"url": "https://lms.example.org/c/5?\u0061\u0063\u0063\u0065\u0073\u0073\u005F\u0074\u006F\u006B\u0065\u006E\u003D8~EscapedName&x=1"}',
    ],
    ids=["underscore", "equals", "question-mark", "every-character"],
)
def test_escaped_parameter_names_are_blanked(data: bytes) -> None:
    shown = redact_bytes(data)
    assert b"EscapedName" not in shown
    assert orjson.loads(shown) == {"url": "https://lms.example.org/c/5?access_token=[FILTERED]&x=1"}


def test_an_escape_inside_the_value_does_not_end_it() -> None:
    data = rb'{"url": "https://lms.example.org/c/5?access_token=8~Front\/Back&x=1", "n": 2}'
    assert orjson.loads(redact_bytes(data)) == {"url": "https://lms.example.org/c/5?access_token=[FILTERED]&x=1", "n": 2}


def test_only_the_string_that_held_a_token_is_written_again() -> None:
    data = b'{ "a" : "caf\\u00e9" ,\n  "url": "https://lms.example.org/?access\\u005ftoken=8~Tok",  "b": [1, 2] }'
    assert redact_bytes(data) == b'{ "a" : "caf\\u00e9" ,\n  "url": "https://lms.example.org/?access_token=[FILTERED]",  "b": [1, 2] }'


def test_a_truncated_record_is_blanked_up_to_where_it_stops() -> None:
    data = rb'{"id": "e-77", "url": "https://lms.example.org/?access\u005ftoken=8~CutShort", "body": {"na'
    shown = redact_bytes(data)
    assert shown == rb'{"id": "e-77", "url": "https://lms.example.org/?access_token=[FILTERED]", "body": {"na'
    cut_in_the_token = rb'{"id": "e-78", "url": "https://lms.example.org/?access\u005ftoken=8~CutInTheTok'
    assert redact_bytes(cut_in_the_token) == rb'{"id": "e-78", "url": "https://lms.example.org/?access_token=[FILTERED]'


def test_bytes_that_are_not_json_still_have_plain_tokens_blanked() -> None:
    data = b"\xff\xfeGET /x?access_token=8~Latin\xe9Token&y=2 \"unclosed \\"
    assert redact_bytes(data) == b"\xff\xfeGET /x?access_token=[FILTERED]&y=2 \"unclosed \\"


def test_text_is_blanked_the_same_way() -> None:
    value = '"https://lms.example.org/?access\\u005ftoken=8~InValue&z=\u00e9"'
    assert redact_text(value) == '"https://lms.example.org/?access_token=[FILTERED]&z=\u00e9"'


def test_records_without_tokens_are_returned_as_they_are() -> None:
    data = b'{"url": "https://lms.example.org/?q=\\u0041&access=1", "t": "\\"quoted\\""}'
    assert redact_bytes(data) == data
