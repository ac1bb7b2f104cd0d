"""The Kinesis-compatible API with boto3's real client (SigV4) against a served instance."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import botocore.auth
import httpx
import orjson
import pytest
from botocore.exceptions import ClientError

from tests.helpers.fixtures import served  # noqa: F401
from tests.helpers.postgres import postgres_schema_url
from tests.helpers.records import canvas_record, record_bytes
from tests.helpers.service import KNOWN_SECRETS, ServedInstance, kinesis_client
from tests.helpers.signing import signed_kinesis_request

STREAM = "live-events"


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def stored_count(service: ServedInstance) -> tuple[int, int]:
    stats = service.admin_get("/api/v1/stats")
    return stats["events_stored"], stats["records_rejected"]


def test_describe_stream_answers_canvas_validity_probe(served: ServedInstance) -> None:
    description = served.kinesis().describe_stream(StreamName=STREAM, Limit=1)["StreamDescription"]
    assert description["StreamName"] == STREAM
    assert description["StreamStatus"] == "ACTIVE"
    assert description["StreamARN"] == "arn:aws:kinesis:us-east-1:000000000000:stream/live-events"
    assert [shard["ShardId"] for shard in description["Shards"]] == ["shardId-000000000000"]
    assert description["HasMoreShards"] is False
    assert description["RetentionPeriodHours"] == 14 * 24


def test_put_record_stores_the_record_as_sent(served: ServedInstance) -> None:
    data = record_bytes(1, event_name="grade_change", event_time="2024-03-05T10:20:30Z")
    answer = served.kinesis().put_record(StreamName=STREAM, Data=data, PartitionKey="880000000000001")
    assert answer["ShardId"] == "shardId-000000000000"
    event = served.admin_get(f"/api/v1/events/{answer['SequenceNumber']}")
    assert event["record"] == orjson.loads(data)
    assert event["event_name"] == "grade_change"
    assert event["event_time"] == "2024-03-05T10:20:30.000Z"
    assert event["partition_key"] == "880000000000001"
    assert event["source"] == "kinesis"
    assert event["access_key_id"] == served.secrets["kinesis_access_key_id"]


def test_put_records_beyond_500_keeps_good_records_and_quarantines_bad_ones(served: ServedInstance) -> None:
    records = [{"Data": record_bytes(1000 + number), "PartitionKey": str(number)} for number in range(1200)]
    bad = {
        17: (b'{"attributes": {"event_name": "logged_in"', "", "not valid JSON"),
        503: (orjson.dumps({"attributes": {"event_time": "2024-03-05T10:20:30Z"}, "body": {}}), "attributes.event_name", "required"),
        1100: (orjson.dumps(canvas_record(5, event_time="yesterday")), "attributes.event_time", "ISO 8601 timestamp"),
    }
    for index, (data, _, _) in bad.items():
        records[index]["Data"] = data
    before_stored, before_rejected = stored_count(served)

    answer = served.kinesis().put_records(StreamName=STREAM, Records=records)

    assert answer["FailedRecordCount"] == 3
    assert len(answer["Records"]) == 1200
    sequences = []
    for index, result in enumerate(answer["Records"]):
        if index in bad:
            _, field, rule = bad[index]
            assert result["ErrorCode"] == "InvalidArgumentException"
            assert f": {field or 'record'}: " in result["ErrorMessage"] and rule in result["ErrorMessage"]
        else:
            assert "ErrorCode" not in result
            sequences.append(int(result["SequenceNumber"]))
    assert sequences == sorted(sequences) and len(set(sequences)) == 1197
    assert stored_count(served) == (before_stored + 1197, before_rejected + 3)
    quarantined = served.admin_get("/api/v1/quarantine", limit=1000)["records"][-3:]
    assert [(q["field"], q["partition_key"], base64.b64decode(q["data_base64"])) for q in quarantined] == [
        (field, str(index), data) for index, (data, field, _) in bad.items()
    ]
    first = served.admin_get(f"/api/v1/events/{sequences[0]}")
    assert first["record"]["body"]["marker"] == "1000"


def test_create_list_and_describe_streams(served: ServedInstance) -> None:
    client = served.kinesis()
    client.create_stream(StreamName="course-events", ShardCount=4)
    with pytest.raises(ClientError) as exists:
        client.create_stream(StreamName="course-events", ShardCount=1)
    assert error_code(exists) == "ResourceInUseException"
    assert {STREAM, "course-events"} <= set(client.list_streams()["StreamNames"])

    shards = client.list_shards(StreamName="course-events")["Shards"]
    assert [shard["ShardId"] for shard in shards] == [f"shardId-00000000000{n}" for n in range(4)]
    assert shards[0]["HashKeyRange"]["StartingHashKey"] == "0"
    assert shards[3]["HashKeyRange"]["EndingHashKey"] == str(2**128 - 1)
    for left, right in zip(shards, shards[1:]):
        assert int(left["HashKeyRange"]["EndingHashKey"]) + 1 == int(right["HashKeyRange"]["StartingHashKey"])
    page = client.describe_stream(StreamName="course-events", Limit=3)["StreamDescription"]
    assert len(page["Shards"]) == 3 and page["HasMoreShards"] is True
    summary = client.describe_stream_summary(StreamName="course-events")["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 4

    # Records land on the shard whose hash-key range holds MD5(partition key), as on AWS.
    answer = client.put_record(StreamName="course-events", Data=record_bytes(7), PartitionKey="user-7")
    hash_key = int.from_bytes(__import__("hashlib").md5(b"user-7").digest())
    (owner,) = [s["ShardId"] for s in shards if int(s["HashKeyRange"]["StartingHashKey"]) <= hash_key <= int(s["HashKeyRange"]["EndingHashKey"])]
    assert answer["ShardId"] == owner


def test_unknown_stream_is_resource_not_found_and_stores_nothing(served: ServedInstance) -> None:
    before = stored_count(served)
    with pytest.raises(ClientError) as caught:
        served.kinesis().put_records(StreamName="no-such-stream", Records=[{"Data": record_bytes(1), "PartitionKey": "1"}])
    assert error_code(caught) == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as described:
        served.kinesis().describe_stream(StreamName="no-such-stream")
    assert error_code(described) == "ResourceNotFoundException"
    assert stored_count(served) == before


@pytest.mark.parametrize(
    ("key_id", "secret", "code"),
    [
        ("LETESTACCESSKEY00001", "wrong-secret", "InvalidSignatureException"),
        ("AKIAWRONGKEY00000000", "test-secret-access-key-0123456789abcdef", "UnrecognizedClientException"),
    ],
)
def test_wrong_keys_get_aws_errors_and_store_nothing(served: ServedInstance, key_id: str, secret: str, code: str) -> None:
    before = stored_count(served)
    client = kinesis_client(served.url, key_id, secret)
    with pytest.raises(ClientError) as caught:
        client.put_records(StreamName=STREAM, Records=[{"Data": record_bytes(2), "PartitionKey": "2"}])
    assert error_code(caught) == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError):
        client.put_record(StreamName=STREAM, Data=record_bytes(3), PartitionKey="3")
    assert stored_count(served) == before


def test_a_skewed_client_clock_is_refused_with_a_date_header_to_correct_it(served: ServedInstance) -> None:
    before = stored_count(served)
    skewed = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=20)
    client = served.kinesis()
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: skewed), pytest.raises(ClientError) as caught:
        client.put_records(StreamName=STREAM, Records=[{"Data": record_bytes(4), "PartitionKey": "4"}])
    assert error_code(caught) == "InvalidSignatureException"
    assert caught.value.response["Error"]["Message"].startswith("Signature expired: ")
    server_date = caught.value.response["ResponseMetadata"]["HTTPHeaders"]["date"]
    assert abs(datetime.strptime(server_date, "%a, %d %b %Y %H:%M:%S GMT") - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(minutes=1)
    assert stored_count(served) == before


def test_a_ruby_sdk_style_request_with_content_sha256_is_accepted(served: ServedInstance) -> None:
    body = orjson.dumps({"StreamName": STREAM, "Records": [{"Data": base64.b64encode(record_bytes(9)).decode(), "PartitionKey": "9"}]})
    headers, body = signed_kinesis_request(served.url + "/", "PutRecords", body, content_sha256=True, extra_headers={"amz-sdk-request": "attempt=1; max=3"})
    response = httpx.post(served.url + "/", content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert "x-amzn-requestid" in response.headers
    assert response.json()["FailedRecordCount"] == 0


def test_a_non_json_content_type_gets_a_json_400(served: ServedInstance) -> None:
    headers, body = signed_kinesis_request(served.url + "/", "PutRecords", b"\xa2cbor", extra_headers={"Content-Type": "application/x-amz-cbor-1.1"})
    response = httpx.post(served.url + "/", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"
    assert "application/x-amz-cbor-1.1" in response.json()["message"]


def test_an_unsupported_operation_is_named_in_the_error(served: ServedInstance) -> None:
    with pytest.raises(ClientError) as caught:
        served.kinesis().get_shard_iterator(StreamName=STREAM, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON")
    assert error_code(caught) == "UnknownOperationException"
    assert "Kinesis_20131202.GetShardIterator" in caught.value.response["Error"]["Message"]


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedInstance]:
    settings = {
        "LIVEEVENTS_KINESIS_STRICT_RECORD_COUNT": "true",
        "LIVEEVENTS_VERIFY_SIGNATURES": "false",
        "LIVEEVENTS_MAX_PENDING_RECORDS": "100",
    }
    with ServedInstance.start(Path(tmp_path_factory.mktemp("strict")) / "data", env=settings) as instance:
        yield instance


def test_strict_switch_refuses_more_than_500_records_like_aws(strict: ServedInstance) -> None:
    with pytest.raises(ClientError) as caught:
        strict.kinesis().put_records(StreamName=STREAM, Records=[{"Data": record_bytes(n), "PartitionKey": "1"} for n in range(501)])
    assert error_code(caught) == "ValidationException"
    assert stored_count(strict) == (0, 0)


def test_overload_answers_internal_failure_per_record_so_canvas_retries(strict: ServedInstance) -> None:
    answer = strict.kinesis().put_records(StreamName=STREAM, Records=[{"Data": record_bytes(n), "PartitionKey": "1"} for n in range(101)])
    assert answer["FailedRecordCount"] == 101
    assert {result["ErrorCode"] for result in answer["Records"]} == {"InternalFailure"}
    assert stored_count(strict) == (0, 0)
    # Within the limit the same call succeeds.
    answer = strict.kinesis().put_records(StreamName=STREAM, Records=[{"Data": record_bytes(n), "PartitionKey": "1"} for n in range(100)])
    assert answer["FailedRecordCount"] == 0


def test_with_verification_off_any_key_is_accepted_and_recorded(strict: ServedInstance) -> None:
    client = kinesis_client(strict.url, "ANYKEYONTRUSTEDNET01", "whatever")
    answer = client.put_record(StreamName=STREAM, Data=record_bytes(1), PartitionKey="1")
    event = strict.admin_get(f"/api/v1/events/{answer['SequenceNumber']}")
    assert event["access_key_id"] == "ANYKEYONTRUSTEDNET01"


def test_a_record_over_1_mib_is_rejected_alone_and_quarantined(served: ServedInstance) -> None:
    big = b'{"attributes": {"event_name": "x", "event_time": "2024-03-05T10:20:30Z"}, "body": {"text": "' + b"y" * (1024 * 1024) + b'"}}'
    records = [{"Data": record_bytes(70), "PartitionKey": "70"}, {"Data": big, "PartitionKey": "71"}]
    before_stored, before_rejected = stored_count(served)
    answer = served.kinesis().put_records(StreamName=STREAM, Records=records)
    assert answer["FailedRecordCount"] == 1
    assert "SequenceNumber" in answer["Records"][0]
    assert answer["Records"][1]["ErrorCode"] == "InvalidArgumentException"
    size = len(big) + 2
    assert answer["Records"][1]["ErrorMessage"] == (
        f'Record rejected and quarantined: Records[1].Data: "{size} bytes": data plus partition key must be at most 1048576 bytes (1 MiB), not {size}'
    )
    assert stored_count(served) == (before_stored + 1, before_rejected + 1)


def test_a_call_over_5_mib_is_refused_whole(served: ServedInstance) -> None:
    data = record_bytes(80, body_size=900_000)
    before = stored_count(served)
    with pytest.raises(ClientError) as caught:
        served.kinesis().put_records(StreamName=STREAM, Records=[{"Data": data, "PartitionKey": str(n)} for n in range(6)])
    assert error_code(caught) == "InvalidArgumentException"
    assert stored_count(served) == before


def test_http_ingest_overload_is_a_503_with_nothing_stored(strict: ServedInstance) -> None:
    before = stored_count(strict)
    body = orjson.dumps([canvas_record(n) for n in range(101)])
    response = httpx.post(strict.url + "/api/v1/events", content=body, headers=strict.ingest_headers() | {"Content-Type": "application/json"})
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert stored_count(strict) == before


def test_a_replayed_signature_with_an_unsigned_operation_stores_nothing(served: ServedInstance) -> None:
    body = orjson.dumps({"StreamName": STREAM, "Records": [{"Data": base64.b64encode(record_bytes(95)).decode(), "PartitionKey": "95"}]})
    headers, body = signed_kinesis_request(served.url + "/", "PutRecords", body, sign_target=False)
    before = stored_count(served)
    response = httpx.post(served.url + "/", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json() == {"__type": "InvalidSignatureException", "message": "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."}
    assert stored_count(served) == before


def test_each_malformed_entry_gets_its_own_error_and_is_quarantined_with_the_reason(served: ServedInstance) -> None:
    # Entries boto3 would refuse to send (bad base64, bad keys, not an object): a raw signed call.
    def data(record: object) -> str:
        return base64.b64encode(orjson.dumps(record)).decode()

    no_event_time = {"attributes": {"event_name": "logged_in"}, "body": {}}
    entries: list[object] = [
        {"Data": data(canvas_record(300)), "PartitionKey": "300"},
        {"Data": "@@@ not base64", "PartitionKey": "301"},
        {"Data": data(canvas_record(302)), "PartitionKey": ""},
        {"Data": data(canvas_record(303)), "PartitionKey": "k" * 257},
        5,
        {"Data": data({"foo": 1}), "PartitionKey": "305"},
        {"Data": data(no_event_time), "PartitionKey": "306"},
        {"Data": data(canvas_record(307)), "PartitionKey": "307"},
    ]
    body = orjson.dumps({"StreamName": STREAM, "Records": entries})
    headers, body = signed_kinesis_request(served.url + "/", "PutRecords", body)
    before_stored, before_rejected = stored_count(served)

    response = httpx.post(served.url + "/", content=body, headers=headers)

    assert response.status_code == 200
    answer = response.json()
    assert answer["FailedRecordCount"] == 6
    results = answer["Records"]
    assert [("SequenceNumber" in result, result.get("ErrorCode")) for result in results] == [
        (True, None), *[(False, "InvalidArgumentException")] * 6, (True, None)
    ]
    assert stored_count(served) == (before_stored + 2, before_rejected + 6)
    quarantined = served.admin_get("/api/v1/quarantine", limit=1000)["records"][-6:]
    assert [(q["field"], q["partition_key"], base64.b64decode(q["data_base64"])) for q in quarantined] == [
        ("Records[1].Data", "301", b"@@@ not base64"),
        ("Records[2].PartitionKey", "", record_bytes(302)),
        ("Records[3].PartitionKey", "k" * 257, record_bytes(303)),
        ("Records[4]", None, b"5"),
        ("", "305", b'{"foo":1}'),
        ("attributes.event_time", "306", orjson.dumps(no_event_time)),
    ]
    rules = [q["rule"] for q in quarantined]
    assert rules[0].startswith("not valid base64")
    assert rules[1] == rules[2] == "required: a string of 1 to 256 characters"
    assert rules[3] == "a record entry must be an object with Data and PartitionKey"
    assert "'attributes'" in rules[4]
    assert rules[5].startswith("required: an ISO 8601 timestamp")
    # Each answer names the entry's field and the rule it broke.
    for result, record in zip(results[1:7], quarantined):
        assert result["ErrorMessage"].startswith(f"Record rejected and quarantined: {record['field'] or 'record'}: ")
        assert result["ErrorMessage"].endswith(record["rule"])


def test_put_record_of_a_malformed_record_is_refused_as_invalid_and_quarantined(served: ServedInstance) -> None:
    no_event_name = orjson.dumps({"attributes": {"event_time": "2024-03-05T10:20:30Z"}, "body": {"marker": "310"}})
    before_stored, before_rejected = stored_count(served)
    with pytest.raises(ClientError) as caught:
        served.kinesis().put_record(StreamName=STREAM, Data=no_event_name, PartitionKey="310")
    # Not InternalFailure: Canvas would send a record that can never succeed again.
    assert error_code(caught) == "InvalidArgumentException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Message"].startswith("Record rejected and quarantined: attributes.event_name: missing: required")
    assert stored_count(served) == (before_stored, before_rejected + 1)
    (quarantined,) = served.admin_get("/api/v1/quarantine", limit=1000)["records"][-1:]
    assert (quarantined["field"], quarantined["partition_key"], base64.b64decode(quarantined["data_base64"])) == (
        "attributes.event_name", "310", no_event_name
    )


def test_records_of_exactly_1_mib_in_a_call_of_exactly_5_mib_are_accepted(served: ServedInstance) -> None:
    mib = 1024 * 1024
    records = []
    for number in range(320, 325):
        key = str(number)
        padding = mib - len(key) - len(record_bytes(number))
        records.append({"Data": record_bytes(number, body_size=padding), "PartitionKey": key})
    assert sum(len(record["Data"]) + len(record["PartitionKey"]) for record in records) == 5 * mib
    before_stored, before_rejected = stored_count(served)

    answer = served.kinesis().put_records(StreamName=STREAM, Records=records)

    assert answer["FailedRecordCount"] == 0
    assert stored_count(served) == (before_stored + 5, before_rejected)
    # One more (small, valid) record puts the call over 5 MiB: refused whole, nothing stored.
    records.append({"Data": record_bytes(325), "PartitionKey": "325"})
    with pytest.raises(ClientError) as caught:
        served.kinesis().put_records(StreamName=STREAM, Records=records)
    assert error_code(caught) == "InvalidArgumentException"
    assert stored_count(served) == (before_stored + 5, before_rejected)


def test_a_call_of_many_small_records_under_5_mib_is_accepted_though_its_body_is_larger(served: ServedInstance) -> None:
    # Without the 500-record cap, base64 and ~40 bytes of JSON per record make the body far
    # larger than the records it carries; the 5 MiB rule is about the records.
    data = b'{"attributes":{"event_name":"logged_in","event_time":"2024-03-05T10:20:30.123Z"},"body":{}}'
    records = [{"Data": data, "PartitionKey": "k"} for _ in range(55_000)]
    assert sum(len(record["Data"]) + len(record["PartitionKey"]) for record in records) < 5 * 1024 * 1024
    body = orjson.dumps({"StreamName": STREAM, "Records": [{"Data": base64.b64encode(data).decode(), "PartitionKey": "k"}] * len(records)})
    assert len(body) > 8 * 1024 * 1024
    before_stored, before_rejected = stored_count(served)

    answer = served.kinesis().put_records(StreamName=STREAM, Records=records)

    assert answer["FailedRecordCount"] == 0 and len(answer["Records"]) == 55_000
    assert stored_count(served) == (before_stored + 55_000, before_rejected)


def test_an_unsigned_put_records_is_refused_as_aws_does_and_stores_nothing(served: ServedInstance) -> None:
    body = orjson.dumps({"StreamName": STREAM, "Records": [{"Data": base64.b64encode(record_bytes(330)).decode(), "PartitionKey": "330"}]})
    before = stored_count(served)
    response = httpx.post(served.url + "/", content=body, headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert response.json() == {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}
    assert stored_count(served) == before


def put_records_raw(service: ServedInstance, body: bytes) -> httpx.Response:
    headers, body = signed_kinesis_request(service.url + "/", "PutRecords", body)
    return httpx.post(service.url + "/", content=body, headers=headers)


def test_records_nested_too_deep_are_rejected_alone_never_as_internal_failure(served: ServedInstance) -> None:
    # 1000 levels: within what a JSON parser takes (1024), beyond what repr and orjson.dumps
    # write; both were a whole-call InternalFailure, which Canvas retries for ever.
    deep = b"[" * 1000 + b"]" * 1000
    deep_record = b'{"attributes": {"event_name": "logged_in", "event_time": "2024-03-05T10:20:30Z"}, "body": {"tree": ' + deep + b"}}"
    entries = [
        b'{"Data": "' + base64.b64encode(record_bytes(400)) + b'", "PartitionKey": "400"}',
        b'{"Data": "' + base64.b64encode(deep_record) + b'", "PartitionKey": "401"}',
        deep,
        b'{"Data": "' + base64.b64encode(record_bytes(403)) + b'", "PartitionKey": "403"}',
    ]
    before_stored, before_rejected = stored_count(served)

    response = put_records_raw(served, b'{"StreamName": "live-events", "Records": [' + b", ".join(entries) + b"]}")

    assert response.status_code == 200
    results = response.json()["Records"]
    assert [result.get("ErrorCode") for result in results] == [None, "InvalidArgumentException", "InvalidArgumentException", None]
    assert results[1]["ErrorMessage"] == (
        "Record rejected and quarantined: body.tree: (an array nested too deeply to show): objects and arrays may nest at most 64 levels deep"
    )
    assert results[2]["ErrorMessage"] == (
        "Record rejected and quarantined: Records[2]: (an array nested too deeply to show): a record entry must be an object with Data and PartitionKey"
    )
    assert stored_count(served) == (before_stored + 2, before_rejected + 2)
    quarantined = served.admin_get("/api/v1/quarantine", limit=1000)["records"][-2:]
    assert [(q["field"], q["partition_key"], base64.b64decode(q["data_base64"])) for q in quarantined] == [
        ("body.tree", "401", deep_record),
        ("Records[2]", None, b"(an array nested too deeply to show)"),
    ]


@pytest.mark.parametrize("name", ["", "live\x00events", "s" * 129, "live events"])
def test_a_stream_name_aws_would_refuse_is_a_validation_error(served: ServedInstance, name: str) -> None:
    before = stored_count(served)
    response = put_records_raw(served, orjson.dumps({"StreamName": name, "Records": [{"Data": "e30=", "PartitionKey": "1"}]}))
    assert response.status_code == 400
    assert response.json() == {
        "__type": "ValidationException",
        "message": f"1 validation error detected: Value {name!r} at 'streamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ (1 to 128 characters)",
    }
    assert stored_count(served) == before


def test_nul_characters_in_partition_keys_and_key_names_are_kept_escaped_on_postgresql(tmp_path: Path) -> None:
    # PostgreSQL text cannot hold NUL: such a key or field name failed the whole call with InternalFailure.
    unknown_nul_key = b'{"attributes": {"event_name": "logged_in", "event_time": "2024-03-05T10:20:30Z"}, "body": {}, "\\u0000k": 1}'
    records = [
        {"Data": record_bytes(410), "PartitionKey": "a\x00b"},
        {"Data": unknown_nul_key, "PartitionKey": "k\x00"},
        {"Data": record_bytes(412), "PartitionKey": "412"},
    ]
    with postgres_schema_url() as url, ServedInstance.start(tmp_path / "data", env={"LIVEEVENTS_DATABASE_URL": url}) as service:
        answer = service.kinesis().put_records(StreamName=STREAM, Records=records)

        assert [result.get("ErrorCode") for result in answer["Records"]] == [None, "InvalidArgumentException", None]
        assert answer["Records"][1]["ErrorMessage"] == (
            "Record rejected and quarantined: \\u0000k: 1: unknown top-level key; a record holds only 'attributes' and 'body'"
        )
        event = service.admin_get(f"/api/v1/events/{answer['Records'][0]['SequenceNumber']}")
        assert (event["partition_key"], event["record"]) == ("a\\u0000b", canvas_record(410))
        (quarantined,) = service.admin_get("/api/v1/quarantine")["records"]
        assert (quarantined["field"], quarantined["partition_key"], base64.b64decode(quarantined["data_base64"])) == ("\\u0000k", "k\\u0000", unknown_nul_key)
        assert stored_count(service) == (2, 1)


def raw_call(service: ServedInstance, target: str, payload: dict[str, object]) -> httpx.Response:
    headers, body = signed_kinesis_request(service.url + "/", target, orjson.dumps(payload))
    return httpx.post(service.url + "/", content=body, headers=headers)


ARN_RULE = r"Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:stream/\S+ (1 to 2048 characters)"


@pytest.mark.parametrize(
    ("arn", "shown"),
    [
        # A stream's name is no ARN: it named the stream, and the record was stored.
        ("live-events", "'live-events'"),
        ("", "''"),
        ("arn:aws:kinesis:us-east-1:00000000000:stream/live-events", "'arn:aws:kinesis:us-east-1:00000000000:stream/live-events'"),
        ("arn:aws:sqs:us-east-1:000000000000:stream/live-events", "'arn:aws:sqs:us-east-1:000000000000:stream/live-events'"),
        ("arn:aws:kinesis:us-east-1:000000000000:stream/", "'arn:aws:kinesis:us-east-1:000000000000:stream/'"),
        ("arn:aws:kinesis:us-east-1:000000000000:stream/live events", "'arn:aws:kinesis:us-east-1:000000000000:stream/live events'"),
        ("arn:aws:kinesis:us-east-1:000000000000:stream/" + "s" * 2003, "'arn:aws:kinesis:us-east-1:000000000000:stream/" + "s" * 54 + "'... (2049 characters)"),
        (7, "7"),
    ],
)
def test_a_stream_arn_that_is_no_kinesis_stream_arn_is_a_validation_error(served: ServedInstance, arn: object, shown: str) -> None:
    expected = {
        "__type": "ValidationException",
        "message": f"1 validation error detected: Value {shown} at 'streamARN' failed to satisfy constraint: {ARN_RULE}",
    }
    before = stored_count(served)
    put = raw_call(served, "PutRecords", {"StreamARN": arn, "Records": [{"Data": base64.b64encode(record_bytes(500)).decode(), "PartitionKey": "500"}]})
    assert (put.status_code, put.json()) == (400, expected)
    described = raw_call(served, "DescribeStreamSummary", {"StreamARN": arn})
    assert (described.status_code, described.json()) == (400, expected)
    # Beside a StreamName too: AWS checks every parameter it is given.
    beside = raw_call(served, "PutRecord", {"StreamName": STREAM, "StreamARN": arn, "Data": base64.b64encode(record_bytes(501)).decode(), "PartitionKey": "501"})
    assert (beside.status_code, beside.json()) == (400, expected)
    assert stored_count(served) == before


def test_a_well_formed_stream_arn_names_its_stream_and_an_unknown_one_is_not_found(served: ServedInstance) -> None:
    client = served.kinesis()
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/live-events"
    answer = client.put_records(StreamARN=arn, Records=[{"Data": record_bytes(510), "PartitionKey": "510"}])
    assert answer["FailedRecordCount"] == 0
    event = served.admin_get(f"/api/v1/events/{answer['Records'][0]['SequenceNumber']}")
    assert event["record"] == canvas_record(510)
    assert client.describe_stream_summary(StreamARN=arn)["StreamDescriptionSummary"]["StreamName"] == "live-events"
    before = stored_count(served)
    for unknown, name in [
        ("arn:aws:kinesis:us-east-1:000000000000:stream/no-such-stream", "no-such-stream"),
        # Well-formed, but no stream can have that name.
        ("arn:aws-cn:kinesis:cn-north-1:123456789012:stream/live/events", "live/events"),
    ]:
        with pytest.raises(ClientError) as caught:
            client.put_record(StreamARN=unknown, Data=record_bytes(511), PartitionKey="511")
        assert error_code(caught) == "ResourceNotFoundException"
        assert caught.value.response["Error"]["Message"] == f"Stream {name} under account 000000000000 not found."
    assert stored_count(served) == before


HASH_KEY_RULE = r"Member must satisfy regular expression pattern: 0|([1-9]\d{0,38})"


def test_a_malformed_explicit_hash_key_fails_the_whole_put_records_call(served: ServedInstance) -> None:
    def entry(number: int, hash_key: object) -> dict[str, object]:
        return {"Data": base64.b64encode(record_bytes(number)).decode(), "PartitionKey": str(number), "ExplicitHashKey": hash_key}

    before = stored_count(served)
    entries = [entry(520, "7"), entry(521, "abc"), entry(522, "0"), entry(523, "007"), entry(524, -1), entry(525, "1" * 40), entry(526, None)]
    response = raw_call(served, "PutRecords", {"StreamName": STREAM, "Records": entries})
    assert response.status_code == 400
    assert response.json() == {
        "__type": "ValidationException",
        "message": "4 validation errors detected: "
        f"Value 'abc' at 'records.2.member.explicitHashKey' failed to satisfy constraint: {HASH_KEY_RULE}; "
        f"Value '007' at 'records.4.member.explicitHashKey' failed to satisfy constraint: {HASH_KEY_RULE}; "
        f"Value -1 at 'records.5.member.explicitHashKey' failed to satisfy constraint: {HASH_KEY_RULE}; "
        f"Value '1111111111111111111111111111111111111111' at 'records.6.member.explicitHashKey' failed to satisfy constraint: {HASH_KEY_RULE}",
    }
    # At most 10 errors are listed, as AWS lists them.
    response = raw_call(served, "PutRecords", {"StreamName": STREAM, "Records": [entry(530 + n, "x") for n in range(12)]})
    assert response.json()["message"].startswith("10 validation errors detected: Value 'x' at 'records.1.member.explicitHashKey'")
    assert response.json()["message"].endswith(f"Value 'x' at 'records.10.member.explicitHashKey' failed to satisfy constraint: {HASH_KEY_RULE}")
    assert stored_count(served) == before


def test_an_explicit_hash_key_beyond_2_to_the_128_fails_the_whole_call(served: ServedInstance) -> None:
    client = served.kinesis()
    before = stored_count(served)
    with pytest.raises(ClientError) as caught:
        client.put_records(
            StreamName=STREAM,
            Records=[
                {"Data": record_bytes(540), "PartitionKey": "540"},
                {"Data": record_bytes(541), "PartitionKey": "541", "ExplicitHashKey": "340282366920938463463374607431768211456"},
            ],
        )
    assert error_code(caught) == "InvalidArgumentException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Message"] == (
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
        "Specified value was 340282366920938463463374607431768211456 (at 'records.2.member.explicitHashKey')"
    )
    with pytest.raises(ClientError) as single:
        client.put_record(StreamName=STREAM, Data=record_bytes(542), PartitionKey="542", ExplicitHashKey="999999999999999999999999999999999999999")
    assert error_code(single) == "InvalidArgumentException"
    assert single.value.response["Error"]["Message"] == (
        "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
        "Specified value was 999999999999999999999999999999999999999 (at 'explicitHashKey')"
    )
    with pytest.raises(ClientError) as malformed:
        client.put_record(StreamName=STREAM, Data=record_bytes(543), PartitionKey="543", ExplicitHashKey="0x10")
    assert error_code(malformed) == "ValidationException"
    assert malformed.value.response["Error"]["Message"] == (
        f"1 validation error detected: Value '0x10' at 'explicitHashKey' failed to satisfy constraint: {HASH_KEY_RULE}"
    )
    assert stored_count(served) == before


def test_an_explicit_hash_key_picks_the_shard_whose_range_holds_it(served: ServedInstance) -> None:
    client = served.kinesis()
    client.create_stream(StreamName="hash-keyed", ShardCount=3)
    # 2^128 = 3 * 113427455640312821154458202477256070485 + 1
    starts = ["0", "113427455640312821154458202477256070485", "226854911280625642308916404954512140970"]
    assert [shard["HashKeyRange"]["StartingHashKey"] for shard in client.list_shards(StreamName="hash-keyed")["Shards"]] == starts
    placed = {
        "0": "shardId-000000000000",
        "113427455640312821154458202477256070484": "shardId-000000000000",
        "113427455640312821154458202477256070485": "shardId-000000000001",
        "226854911280625642308916404954512140969": "shardId-000000000001",
        "226854911280625642308916404954512140970": "shardId-000000000002",
        "340282366920938463463374607431768211455": "shardId-000000000002",
    }
    records = [{"Data": record_bytes(550 + n), "PartitionKey": "same-key", "ExplicitHashKey": key} for n, key in enumerate(placed)]
    answer = client.put_records(StreamName="hash-keyed", Records=records)
    assert answer["FailedRecordCount"] == 0
    assert [result["ShardId"] for result in answer["Records"]] == list(placed.values())
    # The key picks the shard only: the record is stored as sent, under its partition key.
    event = served.admin_get(f"/api/v1/events/{answer['Records'][2]['SequenceNumber']}")
    assert (event["stream"], event["partition_key"], event["record"]) == ("hash-keyed", "same-key", canvas_record(552))
    single = client.put_record(StreamName="hash-keyed", Data=record_bytes(560), PartitionKey="same-key", ExplicitHashKey="113427455640312821154458202477256070485")
    assert single["ShardId"] == "shardId-000000000001"


def test_refused_calls_are_logged_once_per_fault_with_the_key_id_never_a_secret(tmp_path: Path) -> None:
    """An operator whose Canvas cannot connect finds why in the service log: one line per fault
    (code, access key id, what is wrong), however often the client retries; never the secret,
    the signature or a credential sent as the Authorization header."""
    body = orjson.dumps({"StreamName": STREAM, "Records": [{"Data": base64.b64encode(record_bytes(600)).decode(), "PartitionKey": "600"}]})
    raw_headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords"}
    signature = "ab" * 32
    signatures: set[str] = set()
    answers: list[str] = []

    def post(headers: dict[str, str]) -> None:
        response = httpx.post(service.url + "/", content=body, headers=headers)
        assert response.status_code == 400
        answers.append(response.json()["__type"])
        if "Signature=" in headers.get("Authorization", ""):
            signatures.add(headers["Authorization"].rpartition("Signature=")[2])

    def signed(**signing: object) -> None:
        post(signed_kinesis_request(service.url + "/", "PutRecords", body, **signing)[0])  # type: ignore[arg-type]

    with ServedInstance.start(tmp_path / "data") as service:
        for _ in range(3):  # a client retrying in a loop
            signed(access_key_id="AKIAUNKNOWN000000001")
            signed(secret_access_key="not-the-secret-access-key")
            signed(region="eu-west-9")
            signed(at=datetime.now(timezone.utc) - timedelta(minutes=20))
            signed(sign_target=False)
            post(raw_headers)
            post(raw_headers | {"Authorization": "bare-credential-0123456789"})
            post(raw_headers | {"Authorization": f"AWS4-HMAC-SHA256 Signature={signature}"})
        output = service.output()

    assert answers[:8] == [
        "UnrecognizedClientException", "InvalidSignatureException", "InvalidSignatureException", "InvalidSignatureException",
        "InvalidSignatureException", "MissingAuthenticationTokenException", "IncompleteSignature", "IncompleteSignature",
    ]
    lines = [line.split(" ", 2)[2] for line in output.splitlines() if " liveevents.ingest.kinesis: " in line]
    prefix = "WARNING liveevents.ingest.kinesis: Kinesis PutRecords from 127.0.0.1 refused: "
    key = "(access key id 'LETESTACCESSKEY00001')"
    assert len(lines) == 8
    assert lines[:3] == [
        prefix + "UnrecognizedClientException: The security token included in the request is invalid. "
        "(access key id 'AKIAUNKNOWN000000001', which is not this service's kinesis_access_key_id)",
        prefix + "InvalidSignatureException: The request signature we calculated does not match the signature you provided. "
        f"Check your AWS Secret Access Key and signing method. Consult the service documentation for details. {key}",
        prefix + f"InvalidSignatureException: Credential should be scoped to a valid region, not 'eu-west-9'. {key}",
    ]
    stamp = r"\d{8}T\d{6}Z"
    expired = rf"{stamp} is now earlier than {stamp} \({stamp} - 5 min\.\) "
    assert re.fullmatch(re.escape(prefix + "InvalidSignatureException: Signature expired: ") + expired + re.escape(key), lines[3]), lines[3]
    assert lines[4:] == [
        prefix + f"InvalidSignatureException: 'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization. {key}",
        prefix + "MissingAuthenticationTokenException: Missing Authentication Token (no access key id)",
        prefix + "IncompleteSignature: Unsupported AWS 'algorithm': (a single word, not shown). (no access key id)",
        prefix + "IncompleteSignature: Authorization header requires 'Credential' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. (no access key id)",
    ]
    assert signature in signatures and len(signatures) >= 6  # the five signed faults (repeats within a second sign alike)
    for secret in (KNOWN_SECRETS["kinesis_secret_access_key"], "not-the-secret-access-key", "bare-credential-0123456789", *signatures):
        assert secret not in output


@pytest.mark.parametrize(
    ("secret", "refusal"),
    [
        (KNOWN_SECRETS["kinesis_secret_access_key"], "UnrecognizedClientException: The security token included in the request is invalid."),
        # A secret with '/' (as AWS's have) splits the Credential, and the refusal quotes it whole.
        (
            "secret/with/slashes-0123456789abcdefghij",
            "IncompleteSignature: Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            "got '****/{date}/us-east-1/kinesis/aws4_request'",
        ),
    ],
)
def test_a_refusal_never_logs_the_secret_access_key_sent_where_the_key_id_goes(tmp_path: Path, secret: str, refusal: str) -> None:
    """An operator who swaps the key id and the secret in Canvas's settings sends the secret as
    the access key id: the refusal is logged and says so; the secret, or a part of it, is not."""
    body = orjson.dumps({"StreamName": STREAM, "Records": [{"Data": base64.b64encode(record_bytes(610)).decode(), "PartitionKey": "610"}]})
    at = datetime.now(timezone.utc)
    with ServedInstance.start(tmp_path / "data", secrets=KNOWN_SECRETS | {"kinesis_secret_access_key": secret}) as service:
        headers, _ = signed_kinesis_request(
            service.url + "/", "PutRecords", body, access_key_id=secret, secret_access_key=KNOWN_SECRETS["kinesis_access_key_id"], at=at
        )
        assert httpx.post(service.url + "/", content=body, headers=headers).status_code == 400
        output = service.output()

    lines = [line.split(" ", 2)[2] for line in output.splitlines() if " liveevents.ingest.kinesis: " in line]
    assert lines == [
        "WARNING liveevents.ingest.kinesis: Kinesis PutRecords from 127.0.0.1 refused: "
        + refusal.format(date=at.strftime("%Y%m%d"))
        + " (access key id '****', which is this service's kinesis_secret_access_key: are the key id and the secret swapped?)"
    ]
    assert secret not in output and secret.partition("/")[0] + "'" not in output
