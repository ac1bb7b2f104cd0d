"""Input rules for raw Canvas records (both shapes) and their error messages."""

from __future__ import annotations

import hashlib
import uuid

import orjson
import pytest

from liveevents import RecordError, caliper_envelope, canvas_message, decode_record, parse_record
from liveevents.canvas.record import MISSING, check_nesting, load_record

METADATA = {
    "event_name": "course_created",
    "event_time": "2024-03-05T08:09:10.123Z",
    "hostname": "school.example.edu",
    "user_id": "3300000000000042",
    "url": "https://school.example.edu/api/v1/courses?access_token=s3cr3t&per_page=5",
}
BODY = {"course_id": "3300000000000777", "name": "Marine Biology 101"}


def test_both_shapes_are_the_same_event() -> None:
    kinesis = parse_record({"attributes": METADATA, "body": BODY})
    delivered = parse_record({"metadata": METADATA, "body": BODY})
    assert kinesis == delivered
    assert kinesis.event_name == "course_created"
    assert kinesis.event_id == delivered.event_id


def test_event_id_is_deterministic_v4_and_distinct() -> None:
    first = parse_record({"attributes": METADATA, "body": BODY}).event_id
    again = parse_record({"attributes": dict(reversed(list(METADATA.items()))), "body": BODY}).event_id
    other = parse_record({"attributes": METADATA, "body": {**BODY, "name": "Marine Biology 102"}}).event_id
    assert first == again
    assert first != other
    assert first[14] == "4" and first[19] in "89ab"


def test_event_id_is_the_documented_hash_of_the_canonical_json() -> None:
    record = {
        "attributes": {"hostname": "school.example.edu", "event_time": "2024-03-05T08:09:10.123Z", "event_name": "wiki_page_deleted"},
        "body": {"wiki_page_id": 77, "title": "Zoë's notes"},
    }
    # The rule (docs/conformance.md): SHA-256 of {"metadata": ..., "body": ...} as compact JSON,
    # keys sorted at every level, UTF-8; its first 128 bits as a UUID with the version-4 and
    # RFC 4122 variant bits set.
    canonical = (
        '{"body":{"title":"Zoë\'s notes","wiki_page_id":77},'
        '"metadata":{"event_name":"wiki_page_deleted","event_time":"2024-03-05T08:09:10.123Z","hostname":"school.example.edu"}}'
    )
    expected = uuid.UUID(bytes=hashlib.sha256(canonical.encode()).digest()[:16], version=4)
    assert parse_record(record).event_id == str(expected)
    assert caliper_envelope(record)["data"][0]["id"] == f"urn:uuid:{expected}"


@pytest.mark.parametrize(
    ("record", "field", "value", "rule_fragment"),
    [
        ([1, 2], "", [1, 2], "must be a JSON object, not an array"),
        ({"body": BODY}, "", ["body"], "needs 'attributes'"),
        ({}, "", [], "needs 'attributes' (Kinesis shape) or 'metadata' (delivered shape) (its top-level keys are shown)"),
        ({"attributes": METADATA, "metadata": METADATA, "body": BODY}, "", ["attributes", "body", "metadata"], "not both"),
        ({"attributes": METADATA}, "body", MISSING, "needs a 'body'"),
        ({"attributes": METADATA, "body": "x"}, "body", "x", "not a string"),
        ({"attributes": "x", "body": BODY}, "attributes", "x", "must be a JSON object"),
        ({"attributes": METADATA, "body": BODY, "extra": 1}, "extra", 1, "unknown top-level key"),
        ({"attributes": {**METADATA, "event_name": None}, "body": BODY}, "attributes.event_name", None, "Canvas event name"),
        ({"attributes": {**METADATA, "event_name": "has space"}, "body": BODY}, "attributes.event_name", "has space", "Canvas event name"),
        ({"metadata": {k: v for k, v in METADATA.items() if k != "event_time"}, "body": BODY}, "metadata.event_time", MISSING, "ISO 8601"),
        ({"attributes": {**METADATA, "event_time": "019-11-01T19:11:01.163Z"}, "body": BODY}, "attributes.event_time", "019-11-01T19:11:01.163Z", "ISO 8601"),
        ({"attributes": {**METADATA, "event_time": "2019-02-30T10:00:00Z"}, "body": BODY}, "attributes.event_time", "2019-02-30T10:00:00Z", "calendar"),
    ],
)
def test_rejections_name_field_value_and_rule(record: object, field: str, value: object, rule_fragment: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse_record(record)
    assert caught.value.field == field
    assert caught.value.value == value
    assert rule_fragment in caught.value.rule
    assert rule_fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("event_time", "rule"),
    [
        (
            "last tuesday",
            "expected an ISO 8601 timestamp with a UTC offset, such as 2019-11-01T19:11:05.222Z, "
            "2019-11-01T12:11:05-07:00, 2019-11-01 12:11:05 -0700 or the bare date 2019-11-01",
        ),
        ("2023-02-29", "not a real calendar date and time (day is out of range for month)"),
        ("2023-04-31T10:00:00.000Z", "not a real calendar date and time (day is out of range for month)"),
        ("2023-04-30T10:00:00+2500", "the UTC offset must lie between -23:59 and +23:59"),
        ("2023-04-30T10:00:00-07:60", "the UTC offset must lie between -23:59 and +23:59"),
        (
            "\uff12023-04-30T10:00:00.000Z",  # a fullwidth 2
            "expected an ISO 8601 timestamp with a UTC offset, such as 2019-11-01T19:11:05.222Z, "
            "2019-11-01T12:11:05-07:00, 2019-11-01 12:11:05 -0700 or the bare date 2019-11-01",
        ),
        # A present value of the wrong type is wrong, not missing: "required" would send the
        # producer looking for a field that is there.
        (20230430, "must be an ISO 8601 timestamp string such as '2019-11-01T19:11:05.222Z', not a number"),
        (None, "required: an ISO 8601 timestamp string such as '2019-11-01T19:11:05.222Z'"),
    ],
)
def test_unreadable_event_time_is_rejected_with_its_rule(event_time: object, rule: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse_record({"attributes": {**METADATA, "event_time": event_time}, "body": BODY})
    assert (caught.value.field, caught.value.value, caught.value.rule) == ("attributes.event_time", event_time, rule)


@pytest.mark.parametrize(
    ("event_name", "rule"),
    [
        (MISSING, "required: a Canvas event name such as 'asset_accessed' (a letter, then letters, digits, '_', '.', ':' or '-'; up to 128 characters)"),
        (None, "required: a Canvas event name such as 'asset_accessed' (a letter, then letters, digits, '_', '.', ':' or '-'; up to 128 characters)"),
        (42, "must be a Canvas event name such as 'asset_accessed' (a letter, then letters, digits, '_', '.', ':' or '-'; up to 128 characters), not a number"),
        (["grade_change"], "must be a Canvas event name such as 'asset_accessed' (a letter, then letters, digits, '_', '.', ':' or '-'; up to 128 characters), not an array"),
        ("grade change", "must be a Canvas event name such as 'asset_accessed' (a letter, then letters, digits, '_', '.', ':' or '-'; up to 128 characters)"),
        ("1st_event", "must be a Canvas event name such as 'asset_accessed' (a letter, then letters, digits, '_', '.', ':' or '-'; up to 128 characters)"),
    ],
)
def test_unreadable_event_name_says_whether_it_is_missing_or_wrong(event_name: object, rule: str) -> None:
    metadata = {key: value for key, value in METADATA.items() if key != "event_name"}
    if event_name is not MISSING:
        metadata["event_name"] = event_name
    with pytest.raises(RecordError) as caught:
        parse_record({"attributes": metadata, "body": BODY})
    assert (caught.value.field, caught.value.value, caught.value.rule) == ("attributes.event_name", event_name, rule)


@pytest.mark.parametrize("event_name", ["a:b", "lti-launch", "outcomes.retry_outcome_alignment_clone"])
def test_event_names_the_rule_allows_are_read(event_name: str) -> None:
    assert parse_record({"attributes": {**METADATA, "event_name": event_name}, "body": BODY}).event_name == event_name


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"attributes": METADATA}, "body: missing: a record needs a 'body' object"),
        (
            {"attributes": {**METADATA, "event_time": None}, "body": BODY},
            "attributes.event_time: null: required: an ISO 8601 timestamp string such as '2019-11-01T19:11:05.222Z'",
        ),
        (
            {"attributes": {**METADATA, "event_time": "2023-02-29"}, "body": BODY},
            'attributes.event_time: "2023-02-29": not a real calendar date and time (day is out of range for month)',
        ),
        ({"attributes": METADATA, "body": BODY, "extra": 3}, "extra: 3: unknown top-level key; a record holds only 'attributes' and 'body'"),
    ],
)
def test_messages_show_values_as_json_and_absent_fields_as_missing(record: object, message: str) -> None:
    with pytest.raises(RecordError) as caught:
        parse_record(record)
    assert str(caught.value) == message


def test_bad_json_is_a_record_error() -> None:
    with pytest.raises(RecordError, match="not valid JSON"):
        decode_record(b'{"attributes": ')


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview])
def test_bad_json_in_any_bytes_like_is_a_record_error_showing_its_start(wrap: type) -> None:
    with pytest.raises(RecordError) as caught:
        load_record(wrap(b'{"attributes": '))
    assert str(caught.value).startswith('record: "{\\"attributes\\": ": not valid JSON (')


def test_canvas_message_passes_through_and_redacts_tokens() -> None:
    message = canvas_message({"attributes": METADATA, "body": BODY})
    assert list(message) == ["metadata", "body"]
    assert message["body"] == BODY
    assert message["metadata"]["url"] == "https://school.example.edu/api/v1/courses?access_token=[FILTERED]&per_page=5"
    assert {k: v for k, v in message["metadata"].items() if k != "url"} == {k: v for k, v in METADATA.items() if k != "url"}
    unredacted = canvas_message({"metadata": METADATA, "body": BODY}, redact_tokens=False)
    assert unredacted == {"metadata": METADATA, "body": BODY}


def nested_lists(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


def test_a_record_nesting_more_than_64_levels_is_refused_naming_where() -> None:
    # The record is level 1, body level 2: 62 levels of lists below body reach 64, one more is too many.
    def record(list_levels: int) -> bytes:
        return b'{"attributes": {"event_name": "logged_in", "event_time": "2024-03-05T10:20:30Z"}, "body": {"tree": ' + nested_lists(list_levels) + b"}}"

    def check(data: bytes) -> None:
        check_nesting(data, load_record(data))

    check(record(62))
    with pytest.raises(RecordError) as caught:
        check(record(63))
    assert (caught.value.field, caught.value.rule) == ("body.tree", "objects and arrays may nest at most 64 levels deep")
    assert caught.value.value == orjson.loads(nested_lists(63))
    # As deep as a JSON parser goes (1024 levels): Python's repr would overflow; the message still names it.
    with pytest.raises(RecordError) as caught:
        check(record(1000))
    assert str(caught.value) == "body.tree: (an array nested too deeply to show): objects and arrays may nest at most 64 levels deep"
    with pytest.raises(RecordError) as caught:
        check(nested_lists(1000))
    assert (caught.value.field, caught.value.rule) == ("0.0", "objects and arrays may nest at most 64 levels deep")


def test_the_transform_takes_what_orjson_can_write_and_names_what_it_cannot() -> None:
    # The nesting limit is for what is stored; the library transform handles any depth up to orjson's 254 levels.
    def record(list_levels: int) -> bytes:
        return b'{"attributes": {"event_name": "logged_in", "event_time": "2024-03-05T10:20:30Z"}, "body": {"tree": ' + nested_lists(list_levels) + b"}}"

    assert len(decode_record(record(100)).event_id) == 36
    with pytest.raises(RecordError) as caught:
        decode_record(record(1000)).event_id
    assert caught.value.rule.startswith("the event cannot be written as JSON")