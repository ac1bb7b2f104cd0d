"""SigV4 verification against signatures made by botocore's signer (delivery.md §3)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from liveevents.ingest.sigv4 import SignatureError, SigV4Verifier
from tests.helpers.service import KNOWN_SECRETS
from tests.helpers.signing import signed_kinesis_request

HOST = "127.0.0.1:4567"
URL = f"http://{HOST}/"
KEY_ID = KNOWN_SECRETS["kinesis_access_key_id"]
BODY = b'{"StreamName": "live-events", "Limit": 1}'
NOW = datetime(2024, 3, 5, 10, 20, 30, tzinfo=timezone.utc)


def verifier(regions: tuple[str, ...] = ("us-east-1",)) -> SigV4Verifier:
    return SigV4Verifier({KEY_ID: KNOWN_SECRETS["kinesis_secret_access_key"]}, regions)


def wire(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Headers as an HTTP server receives them (with Host, which the client adds)."""
    return [(b"host", HOST.encode())] + [(name.lower().encode(), value.encode()) for name, value in headers.items()]


def verify(headers: dict[str, str], body: bytes = BODY, *, now: datetime = NOW, check: SigV4Verifier | None = None) -> str:
    return (check or verifier()).verify(method="POST", path="/", query="", headers=wire(headers), body=body, now=now)


def error_of(headers: dict[str, str], body: bytes = BODY, **options: object) -> tuple[str, str]:
    with pytest.raises(SignatureError) as caught:
        verify(headers, body, **options)  # type: ignore[arg-type]
    return caught.value.code, caught.value.message


def test_a_botocore_signature_verifies_and_names_the_key() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    assert verify(headers, body) == KEY_ID


def test_a_ruby_style_request_with_signed_content_sha256_verifies() -> None:
    headers, body = signed_kinesis_request(URL, "PutRecords", BODY, at=NOW, content_sha256=True, extra_headers={"amz-sdk-invocation-id": "7d0e"})
    assert "x-amz-content-sha256" in headers["Authorization"]
    assert verify(headers, body) == KEY_ID


def test_unsigned_extra_headers_do_not_matter_but_signed_ones_do() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    assert verify(headers | {"User-Agent": "something else"}, body) == KEY_ID
    assert error_of(headers | {"X-Amz-Target": "Kinesis_20131202.PutRecords"}, body)[0] == "InvalidSignatureException"


def test_a_changed_body_is_refused() -> None:
    headers, _ = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    code, message = error_of(headers, b'{"StreamName": "other", "Limit": 1}')
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match the signature you provided.")


def test_a_content_sha256_that_is_not_the_body_hash_is_refused() -> None:
    headers, _ = signed_kinesis_request(URL, "PutRecords", BODY, at=NOW, content_sha256=True)
    assert error_of(headers, BODY + b" ") == ("InvalidSignatureException", "The provided 'x-amz-content-sha256' header does not match what was computed.")


def test_a_wrong_secret_is_refused() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW, secret_access_key="not-the-secret")
    assert error_of(headers, body)[0] == "InvalidSignatureException"


def test_an_unknown_access_key_is_unrecognized() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW, access_key_id="AKIAUNKNOWN000000000")
    assert error_of(headers, body) == ("UnrecognizedClientException", "The security token included in the request is invalid.")


def test_a_missing_authorization_header_is_reported() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    del headers["Authorization"]
    assert error_of(headers, body) == ("MissingAuthenticationTokenException", "Missing Authentication Token")


def test_an_incomplete_authorization_header_is_reported() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    headers["Authorization"] = headers["Authorization"].split(", Signature=")[0]
    code, message = error_of(headers, body)
    assert code == "IncompleteSignature"
    assert "'Signature'" in message


def test_a_request_signed_more_than_five_minutes_ago_has_expired() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW - timedelta(minutes=6))
    assert error_of(headers, body) == (
        "InvalidSignatureException",
        "Signature expired: 20240305T101430Z is now earlier than 20240305T101530Z (20240305T102030Z - 5 min.)",
    )


def test_a_request_signed_more_than_five_minutes_ahead_is_not_yet_current() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW + timedelta(minutes=6))
    assert error_of(headers, body) == (
        "InvalidSignatureException",
        "Signature not yet current: 20240305T102630Z is still later than 20240305T102530Z (20240305T102030Z + 5 min.)",
    )


def test_a_signature_that_does_not_cover_the_operation_is_refused() -> None:
    # Valid over content-type;host;x-amz-date: replayed with another X-Amz-Target it would pass.
    headers, body = signed_kinesis_request(URL, "PutRecords", BODY, at=NOW, sign_target=False)
    assert "SignedHeaders=content-type;host;x-amz-date," in headers["Authorization"]
    assert error_of(headers, body) == ("InvalidSignatureException", "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.")


@pytest.mark.parametrize(
    ("signed", "message"),
    [
        ("content-type;x-amz-date;x-amz-target", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."),
        ("content-type;host;x-amz-target", "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."),
    ],
)
def test_host_and_request_time_must_be_signed(signed: str, message: str) -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    headers["Authorization"] = headers["Authorization"].replace("SignedHeaders=content-type;host;x-amz-date;x-amz-target", f"SignedHeaders={signed}")
    assert error_of(headers, body) == ("InvalidSignatureException", message)


def test_a_date_header_instead_of_x_amz_date_must_be_signed() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    del headers["X-Amz-Date"]
    headers["Date"] = "Tue, 05 Mar 2024 10:20:30 GMT"
    headers["Authorization"] = headers["Authorization"].replace("content-type;host;x-amz-date;x-amz-target", "content-type;host;x-amz-target")
    assert error_of(headers, body) == ("InvalidSignatureException", "'Date' must be a 'SignedHeader' in the AWS Authorization.")


def test_four_minutes_of_skew_are_accepted() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW - timedelta(minutes=4))
    assert verify(headers, body) == KEY_ID


def test_scope_region_and_service_are_checked() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW, region="eu-west-1")
    assert error_of(headers, body)[0] == "InvalidSignatureException"
    assert verify(headers, body, check=verifier(("us-east-1", "eu-west-1"))) == KEY_ID
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW, service="sqs")
    assert error_of(headers, body) == ("InvalidSignatureException", "Credential should be scoped to correct service: 'kinesis'. ")


def test_scope_date_must_match_the_request_date() -> None:
    headers, body = signed_kinesis_request(URL, "DescribeStream", BODY, at=NOW)
    headers["Authorization"] = headers["Authorization"].replace("/20240305/", "/20240304/")
    code, message = error_of(headers, body)
    assert code == "InvalidSignatureException"
    assert message.startswith("Date in Credential scope does not match YYYYMMDD")
