"""``validate_caliper_json``: JSON text, repeated keys (invisible once decoded) and syntax errors."""

from __future__ import annotations

import json

import pytest

from liveevents import validate_caliper
from liveevents.caliper.validation import validate_caliper_json
from tests.test_validation_rules import VALID, VALID_NAMES, findings, load

E = "error"


@pytest.mark.parametrize("name", VALID_NAMES)
def test_text_path_agrees_with_decoded_path_on_valid_documents(name: str) -> None:
    text = (VALID / f"{name}.json").read_bytes()
    assert validate_caliper_json(text) == validate_caliper(json.loads(text)) == []
    assert validate_caliper_json(text.decode()) == []


def test_repeated_envelope_key() -> None:
    text = '{"sensor": "https://lms.example.org/s", "sensor": "https://lms.example.org/t", "sendTime": "2024-10-02T11:00:01.123Z",' \
        ' "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p1", "data": [' + (VALID / "grade-graded.json").read_text() + "]}"
    assert findings(validate_caliper_json(text)) == {("json.key.duplicate", "/sensor", E)}


def test_repeated_keys_deep_inside_are_located() -> None:
    event = (VALID / "assessment-started.json").read_text()
    event = event.replace('"count": 1,', '"count": 1, "count": 2,', 1)
    event = event.replace('"status": "Active",', '"status": "Active", "status": "Inactive",', 1)
    text = event.replace('"roles": [', '"a/b": 1, "a/b": 2, "roles": [', 1)
    assert findings(validate_caliper_json(text)) == {
        ("json.key.duplicate", "/generated/count", E),
        ("json.key.duplicate", "/membership/status", E),
        ("json.key.duplicate", "/membership/a~1b", E),
        ("property.unknown", "/membership/a~1b", E),
    }


def test_repeated_key_inside_extensions_is_still_reported() -> None:
    text = (VALID / "event-created.json").read_text().replace('"revision": 1,', '"revision": 1, "revision": 2,')
    assert findings(validate_caliper_json(text)) == {("json.key.duplicate", "/extensions/org.example.lms/revision", E)}


def test_repeated_key_in_an_array_item() -> None:
    text = (VALID / "envelope-mixed-batch.json").read_text().replace('"value": "B"', '"value": "B", "value": "C"')
    assert findings(validate_caliper_json(text)) == {("json.key.duplicate", "/data/4/value", E)}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"type": "Person", "id": "https://lms.example.org/p/1",}', "line 1 column 56"),
        ('{\n  "type": "Person"\n  "id": "x"\n}', "line 3 column 3"),
        ("", "line 1 column 1"),
        ('{"type": "Person"} {"type": "Person"}', "line 1 column 20"),
    ],
)
def test_syntax_error_names_line_and_column(text: str, where: str) -> None:
    problems = validate_caliper_json(text)
    assert findings(problems) == {("json.syntax", "", E)}
    assert where in problems[0].message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_syntax_errors(constant: str) -> None:
    text = (VALID / "grade-graded.json").read_text().replace('"scoreGiven": 17', f'"scoreGiven": {constant}')
    problems = validate_caliper_json(text)
    assert findings(problems) == {("json.syntax", "", E)}
    assert constant.lstrip("-") in problems[0].message


def test_bytes_that_are_not_utf8() -> None:
    problems = validate_caliper_json(b'{"type": "Person", "name": "\xff"}')
    assert findings(problems) == {("json.syntax", "", E)}
    assert "UTF-8" in problems[0].message


def test_utf8_byte_order_mark_is_accepted() -> None:
    assert validate_caliper_json(b"\xef\xbb\xbf" + (VALID / "grade-graded.json").read_bytes()) == []


def test_decoded_document_with_repeats_is_validated_as_plain_data() -> None:
    document = load("grade-graded")
    text = json.dumps(document).replace('"action": "Graded"', '"action": "Viewed", "action": "Graded"')
    assert findings(validate_caliper_json(text, mode="canvas")) == {("json.key.duplicate", "/action", E)}
