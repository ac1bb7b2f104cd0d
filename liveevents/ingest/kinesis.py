"""The Kinesis-compatible API: AWS JSON 1.1 at ``POST /`` (``X-Amz-Target: Kinesis_20131202.*``).

Built for what Canvas's client does with each answer (delivery.md §1.2, §2.3): a malformed
record gets its own non-retryable ``ErrorCode`` and goes to the quarantine; overload answers
records with ``InternalFailure`` (Canvas retries those, and only those); a failing store fails
the whole call with a 5xx (the SDK retries it).  The handler is a plain Starlette endpoint: the
hot path does one body read, one SigV4 check, one JSON parse and one store append per call.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from liveevents.canvas.record import RecordError
from liveevents.config import Settings
from liveevents.ingest.body import BodyTooLarge, read_body
from liveevents.ingest.metrics import IngestMetrics
from liveevents.ingest.records import Origin, check_record, commit, reject, render_value
from liveevents.ingest.sigv4 import SECRET_MASK, SignatureError, SigV4Verifier
from liveevents.logthrottle import LogThrottle
from liveevents.store.base import NewEvent, Rejection, Store, StoreClosed, StoreError, StoreOverloaded, StreamExists, StreamInfo

__all__ = ["KinesisApi", "KinesisError", "TARGET_PREFIX"]

log = logging.getLogger(__name__)

TARGET_PREFIX = "Kinesis_20131202."
CONTENT_TYPE = "application/x-amz-json-1.1"
ACCOUNT_ID = "000000000000"
MAX_CALL_BYTES = 5 * 1024 * 1024  # all records' data + partition keys
# The JSON body carries the data base64-encoded (4/3) plus ~40 bytes of keys and punctuation per
# record; with no 500-record cap, a call of 5 MiB in records of ~60 bytes needs about 10 MiB.
# Bounded all the same (the body is read into memory before it is checked): a call of records
# under ~25 bytes each, which only a client ignoring AWS's 500-record cap can send, may exceed it.
MAX_BODY_BYTES = 16 * 1024 * 1024
AWS_MAX_RECORDS = 500
MAX_PARTITION_KEY = 256
MAX_HASH_KEY = 2**128 - 1
STREAM_NAME = re.compile(r"[a-zA-Z0-9_.-]{1,128}")
# AWS's patterns (as its validation messages word them) and their Python equivalents: ASCII, as in
# Java, so that \d is no other script's digit; the ARN's group is the stream name.
STREAM_ARN_PATTERN = r"arn:aws.*:kinesis:.*:\d{12}:stream/\S+"
STREAM_ARN = re.compile(r"arn:aws.*:kinesis:.*:\d{12}:stream/(\S+)", re.ASCII)
MAX_STREAM_ARN = 2048
HASH_KEY_PATTERN = r"0|([1-9]\d{0,38})"
HASH_KEY = re.compile(HASH_KEY_PATTERN, re.ASCII)
AWS_MAX_VALIDATION_ERRORS = 10  # AWS lists at most 10 in one ValidationException
MAX_SHARDS = 500
MAX_LOGGED_KEY_ID = 64  # what a client claims is logged, so it is cut short
# The per-record code for bad input: not InternalFailure (Canvas would retry a record that can
# never succeed) and an existing Kinesis error code, so that SDKs and logs show it plainly.
RECORD_REJECTED = "InvalidArgumentException"


class KinesisError(Exception):
    """A whole-call error answered as ``{"__type": code, "message": ...}``."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _json_response(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps(payload),
        status_code=status,
        media_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
    )


def _shard_id(index: int) -> str:
    return f"shardId-{index:012d}"


def _shard_of(partition_key: str, explicit_hash_key: int | None, shard_count: int) -> int:
    """The shard whose ``HashKeyRange`` (as :func:`_shard_description` publishes it) holds the
    record's hash key: its ``ExplicitHashKey``, else the MD5 of its partition key, as on Kinesis."""
    if shard_count == 1:
        return 0
    if explicit_hash_key is None:
        hash_key = int.from_bytes(hashlib.md5(partition_key.encode()).digest())
    else:
        hash_key = explicit_hash_key
    # The last shard starting at or below hash_key: start(i) = 2^128 * i // n <= hash_key.
    return (shard_count * (hash_key + 1) - 1) >> 128


def _shard_description(index: int, shard_count: int) -> dict[str, Any]:
    start = (MAX_HASH_KEY + 1) * index // shard_count
    end = (MAX_HASH_KEY + 1) * (index + 1) // shard_count - 1
    return {
        "ShardId": _shard_id(index),
        "HashKeyRange": {"StartingHashKey": str(start), "EndingHashKey": str(end)},
        "SequenceNumberRange": {"StartingSequenceNumber": "0"},
    }


def sequence_number(sequence: int) -> str:
    """The Kinesis ``SequenceNumber`` of a log entry: its sequence as a decimal string."""
    return str(sequence)


class KinesisApi:
    """The endpoint (:meth:`handle`) and the operations behind it."""

    def __init__(self, settings: Settings, store: Store, verifier: SigV4Verifier, metrics: IngestMetrics) -> None:
        self._settings = settings
        self._store = store
        self._verifier = verifier
        self._metrics = metrics
        self._refusals = LogThrottle()
        self._streams: dict[str, StreamInfo] = {}
        self._operations: dict[str, Callable[[dict[str, Any], str | None], Awaitable[dict[str, Any]]]] = {
            "PutRecords": self.put_records,
            "PutRecord": self.put_record,
            "CreateStream": self.create_stream,
            "DescribeStream": self.describe_stream,
            "DescribeStreamSummary": self.describe_stream_summary,
            "ListStreams": self.list_streams,
            "ListShards": self.list_shards,
        }

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target", "")
        operation = target.removeprefix(TARGET_PREFIX)
        try:
            payload, access_key_id = await self._authenticate_and_parse(request)
            run = self._operations.get(operation) if target.startswith(TARGET_PREFIX) else None
            if run is None:
                raise KinesisError(
                    "UnknownOperationException",
                    f"Operation {target or '(no X-Amz-Target header)'!r} is not supported by liveevents; "
                    f"supported: {', '.join(TARGET_PREFIX + name for name in sorted(self._operations))}",
                )
            result = await run(payload, access_key_id)
        except KinesisError as error:
            # Only known names as labels: a client must not be able to mint new time series.
            self._metrics.requests.labels(operation if operation in self._operations else "other", error.code).inc()
            if error.status >= 500:
                log.warning("Kinesis %s failed: %s: %s", operation, error.code, error.message)
            return _json_response({"__type": error.code, "message": error.message}, error.status)
        except Exception:
            # A fault of ours: a retryable AWS-shaped 500, so the client sends the call again.
            log.exception("Kinesis %s failed unexpectedly", operation)
            self._metrics.requests.labels(operation if operation in self._operations else "other", "InternalFailure").inc()
            return _json_response({"__type": "InternalFailure", "message": "Internal service failure; retry"}, 500)
        self._metrics.requests.labels(operation, "ok").inc()
        return _json_response(result)

    async def _authenticate_and_parse(self, request: Request) -> tuple[dict[str, Any], str | None]:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != CONTENT_TYPE:
            raise KinesisError(
                "SerializationException",
                f"Content-Type {content_type or '(none)'!r} is not supported: liveevents speaks the AWS JSON 1.1 protocol "
                f"({CONTENT_TYPE}); configure the SDK for JSON (e.g. disable CBOR in Java producers)",
            )
        try:
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyTooLarge as error:
            raise KinesisError("InvalidArgumentException", str(error), 413) from None
        if self._settings.verify_signatures:
            try:
                access_key_id: str | None = self._verifier.verify(
                    method=request.method, path=request.url.path, query=request.url.query, headers=request.headers.raw, body=body
                )
            except SignatureError as error:
                self._log_refusal(request, error)
                raise KinesisError(error.code, error.message) from None
        else:
            access_key_id = _claimed_access_key_id(request.headers.get("authorization", ""))
        try:
            payload = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as error:
            raise KinesisError("SerializationException", f"The request body is not valid JSON: {error}") from None
        if not isinstance(payload, dict):
            raise KinesisError("SerializationException", "The request body must be a JSON object")
        return payload, access_key_id

    def _log_refusal(self, request: Request, error: SignatureError) -> None:
        """A refused signature, in the service log: where an operator whose Canvas cannot connect
        looks first.  At most one line a minute per error code, access key id and fault (a
        client retrying in a loop must not flood the log); never the secret or the signature."""
        # Read from the header with our secret masked: a client with its key id and secret swapped
        # presents the secret as the key id (a '/' in it splits it: then only a part).
        access_key_id = _claimed_access_key_id(self._verifier.hide_secrets(request.headers.get("authorization", "")))
        logged = self._verifier.hide_secrets(error.logged)
        # The message without its numbers (an expired signature's times change with every call)
        # is part of the key: a client repeating a mistake is not logged again within the minute,
        # one that fixes it (the secret) and makes the next (the region) is, at once.
        suppressed = self._refusals.admit((error.code, access_key_id, re.sub(r"\d+", "", logged)))
        if suppressed is None:
            return
        operation = request.headers.get("x-amz-target", "").removeprefix(TARGET_PREFIX)
        if access_key_id == SECRET_MASK:
            hint = ", which is this service's kinesis_secret_access_key: are the key id and the secret swapped?"
        elif error.code == "UnrecognizedClientException":
            hint = ", which is not this service's kinesis_access_key_id"
        else:
            hint = ""
        log.warning(
            "Kinesis %s from %s refused: %s: %s (%s%s)%s",
            operation if operation in self._operations else "call",
            request.client.host if request.client else "an unknown address",
            error.code,
            logged.strip(),  # AWS ends some with a space
            _shown_key_id(access_key_id),
            hint,
            self._refusals.note(suppressed),
        )

    # -- streams -------------------------------------------------------------------------------

    async def _stream(self, payload: dict[str, Any]) -> StreamInfo:
        name = payload.get("StreamName")
        arn = payload.get("StreamARN")
        # Checked even beside a StreamName, as AWS checks every parameter it is given.
        arn_name = None if arn is None else _stream_arn_name(arn)
        if name is None and arn_name is not None:
            if not STREAM_NAME.fullmatch(arn_name):
                # A well-formed ARN of a stream that cannot exist: no such stream, as on AWS.
                raise KinesisError("ResourceNotFoundException", f"Stream {arn_name} under account {ACCOUNT_ID} not found.")
            name = arn_name
        if not isinstance(name, str):
            raise KinesisError("ValidationException", "Either StreamName or StreamARN must be provided.")
        if not STREAM_NAME.fullmatch(name):
            # As AWS answers; and a name no stream can have is not looked up (PostgreSQL refuses NUL).
            raise _stream_name_error(name)
        stream = self._streams.get(name)
        if stream is None:
            # Another process sharing the store may have created it: ask the store before refusing.
            stream = await self._store.get_stream(name)
            if stream is None:
                raise KinesisError("ResourceNotFoundException", f"Stream {name} under account {ACCOUNT_ID} not found.")
            self._streams[name] = stream
        return stream

    def _arn(self, name: str) -> str:
        return f"arn:aws:kinesis:{self._settings.region}:{ACCOUNT_ID}:stream/{name}"

    def _stream_basics(self, stream: StreamInfo) -> dict[str, Any]:
        return {
            "StreamName": stream.name,
            "StreamARN": self._arn(stream.name),
            "StreamStatus": "ACTIVE",
            "StreamModeDetails": {"StreamMode": "PROVISIONED"},
            "StreamCreationTimestamp": stream.created_at.timestamp(),
        }

    async def create_stream(self, payload: dict[str, Any], _access_key_id: str | None) -> dict[str, Any]:
        name = payload.get("StreamName")
        if not isinstance(name, str) or not STREAM_NAME.fullmatch(name):
            raise _stream_name_error(name)
        shard_count = payload.get("ShardCount", 1)
        if not isinstance(shard_count, int) or isinstance(shard_count, bool) or shard_count < 1:
            raise KinesisError(
                "ValidationException",
                f"1 validation error detected: Value {shard_count!r} at 'shardCount' failed to satisfy constraint: "
                "Member must have value greater than or equal to 1",
            )
        if shard_count > MAX_SHARDS:
            raise KinesisError("LimitExceededException", f"This request would exceed the shard limit of {MAX_SHARDS} for the stream.")
        try:
            self._streams[name] = await self._store.create_stream(name, shard_count)
        except StreamExists:
            raise KinesisError("ResourceInUseException", f"Stream {name} under account {ACCOUNT_ID} already exists.") from None
        return {}

    async def describe_stream(self, payload: dict[str, Any], _access_key_id: str | None) -> dict[str, Any]:
        stream = await self._stream(payload)
        limit = _int_parameter(payload, "Limit", default=100, low=1, high=10000)
        shards = self._shards_after(stream, payload.get("ExclusiveStartShardId"))
        description = self._stream_basics(stream) | {
            "Shards": shards[:limit],
            "HasMoreShards": len(shards) > limit,
            "RetentionPeriodHours": self._retention_hours,
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
        }
        return {"StreamDescription": description}

    async def describe_stream_summary(self, payload: dict[str, Any], _access_key_id: str | None) -> dict[str, Any]:
        stream = await self._stream(payload)
        summary = self._stream_basics(stream) | {
            "RetentionPeriodHours": self._retention_hours,
            "EnhancedMonitoring": [{"ShardLevelMetrics": []}],
            "EncryptionType": "NONE",
            "OpenShardCount": stream.shard_count,
            "ConsumerCount": 0,
        }
        return {"StreamDescriptionSummary": summary}

    async def list_streams(self, payload: dict[str, Any], _access_key_id: str | None) -> dict[str, Any]:
        limit = _int_parameter(payload, "Limit", default=100, low=1, high=10000)
        start = payload.get("ExclusiveStartStreamName") or _decode_token(payload.get("NextToken"))
        streams = [stream for stream in await self._store.list_streams() if start is None or stream.name > start]
        page = streams[:limit]
        result: dict[str, Any] = {
            "StreamNames": [stream.name for stream in page],
            "HasMoreStreams": len(streams) > limit,
            "StreamSummaries": [self._stream_basics(stream) for stream in page],
        }
        if len(streams) > limit:
            result["NextToken"] = _encode_token(page[-1].name)
        return result

    async def list_shards(self, payload: dict[str, Any], _access_key_id: str | None) -> dict[str, Any]:
        token = _decode_token(payload.get("NextToken"))
        if token is not None:
            name, _, after = token.partition("|")
            stream = await self._stream({"StreamName": name})
        else:
            stream = await self._stream(payload)
            after = payload.get("ExclusiveStartShardId")
        limit = _int_parameter(payload, "MaxResults", default=1000, low=1, high=10000)
        shards = self._shards_after(stream, after)
        result: dict[str, Any] = {"Shards": shards[:limit]}
        if len(shards) > limit:
            result["NextToken"] = _encode_token(f"{stream.name}|{shards[limit - 1]['ShardId']}")
        return result

    @property
    def _retention_hours(self) -> int:
        return max(1, round(self._settings.retention_days * 24))

    @staticmethod
    def _shards_after(stream: StreamInfo, exclusive_start: object) -> list[dict[str, Any]]:
        shards = [_shard_description(index, stream.shard_count) for index in range(stream.shard_count)]
        if isinstance(exclusive_start, str):
            shards = [shard for shard in shards if shard["ShardId"] > exclusive_start]
        return shards

    # -- puts ----------------------------------------------------------------------------------

    async def put_records(self, payload: dict[str, Any], access_key_id: str | None) -> dict[str, Any]:
        stream = await self._stream(payload)
        records = payload.get("Records")
        if not isinstance(records, list) or not records:
            raise KinesisError(
                "ValidationException",
                "1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1",
            )
        if self._settings.kinesis_strict_record_count and len(records) > AWS_MAX_RECORDS:
            raise KinesisError(
                "ValidationException",
                f"1 validation error detected: Value '{len(records)} records' at 'records' failed to satisfy constraint: "
                f"Member must have length less than or equal to {AWS_MAX_RECORDS}",
            )
        hash_keys = _explicit_hash_keys(
            [entry.get("ExplicitHashKey") if isinstance(entry, dict) else None for entry in records],
            lambda index: f"records.{index + 1}.member.explicitHashKey",  # AWS counts entries from 1
        )
        origin = Origin("kinesis", stream.name, access_key_id)
        verdicts = [self._check_entry(entry, index, origin) for index, entry in enumerate(records)]
        total = sum(len(verdict.data) + len((verdict.partition_key or "").encode()) for verdict in verdicts)
        if total > MAX_CALL_BYTES:
            raise KinesisError(
                "InvalidArgumentException",
                f"Records size {total} bytes exceeds the limit of {MAX_CALL_BYTES} bytes (5 MiB) per PutRecords call",
            )
        try:
            sequences = await commit(self._store, verdicts, self._metrics)
        except StoreOverloaded as error:
            # Nothing was queued: every record, good or bad, is to be sent again (Canvas retries
            # InternalFailure only), and the bad ones are quarantined on that retry.
            log.warning("PutRecords: %d records answered InternalFailure: %s", len(records), error)
            self._metrics.records.labels("kinesis", "retry").inc(len(records))
            failure = {"ErrorCode": "InternalFailure", "ErrorMessage": "Internal service failure (overloaded, retry)"}
            return {"FailedRecordCount": len(records), "Records": [failure] * len(records), "EncryptionType": "NONE"}
        except StoreError as error:
            raise _store_failure(error) from None
        results = []
        failed = 0
        for verdict, sequence, hash_key in zip(verdicts, sequences, hash_keys):
            if sequence is None:
                failed += 1
                results.append({"ErrorCode": RECORD_REJECTED, "ErrorMessage": _rejection_message(verdict)})
            else:
                shard = _shard_of(verdict.partition_key or "", hash_key, stream.shard_count)
                results.append({"SequenceNumber": sequence_number(sequence), "ShardId": _shard_id(shard)})
        return {"FailedRecordCount": failed, "Records": results, "EncryptionType": "NONE"}

    async def put_record(self, payload: dict[str, Any], access_key_id: str | None) -> dict[str, Any]:
        stream = await self._stream(payload)
        (hash_key,) = _explicit_hash_keys([payload.get("ExplicitHashKey")], lambda _: "explicitHashKey")
        verdict = self._check_entry(payload, None, Origin("kinesis", stream.name, access_key_id))
        try:
            (sequence,) = await commit(self._store, [verdict], self._metrics)
        except StoreOverloaded as error:
            self._metrics.records.labels("kinesis", "retry").inc()
            raise KinesisError("InternalFailure", f"Internal service failure (overloaded, retry): {error}", 500) from None
        except StoreError as error:
            raise _store_failure(error) from None
        if sequence is None:
            raise KinesisError(RECORD_REJECTED, _rejection_message(verdict))
        shard = _shard_of(verdict.partition_key or "", hash_key, stream.shard_count)
        return {"ShardId": _shard_id(shard), "SequenceNumber": sequence_number(sequence), "EncryptionType": "NONE"}

    @staticmethod
    def _check_entry(entry: object, index: int | None, origin: Origin) -> NewEvent | Rejection:
        prefix = "" if index is None else f"Records[{index}]."
        if not isinstance(entry, dict):
            error = RecordError(prefix.rstrip("."), entry, "a record entry must be an object with Data and PartitionKey")
            return reject(_entry_bytes(entry), None, origin, error)
        partition_key = entry.get("PartitionKey")
        encoded = entry.get("Data")
        raw = b""
        try:
            if not isinstance(encoded, str):
                raise RecordError(f"{prefix}Data", encoded, "required: the record bytes, base64-encoded")
            raw = binascii.a2b_base64(encoded, strict_mode=True)
        except binascii.Error as error:
            return reject(encoded.encode(), _text(partition_key), origin, RecordError(f"{prefix}Data", encoded[:40], f"not valid base64 ({error})"))
        except RecordError as error:
            return reject(b"", _text(partition_key), origin, error)
        if not isinstance(partition_key, str) or not 1 <= len(partition_key) <= MAX_PARTITION_KEY:
            rule = f"required: a string of 1 to {MAX_PARTITION_KEY} characters"
            return reject(raw, _text(partition_key), origin, RecordError(f"{prefix}PartitionKey", partition_key, rule))
        return check_record(raw, partition_key, origin, field=f"{prefix}Data")


def _stream_name_error(name: object) -> KinesisError:
    return KinesisError(
        "ValidationException",
        f"1 validation error detected: Value {name!r} at 'streamName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ (1 to 128 characters)",
    )


def _stream_arn_name(arn: object) -> str:
    """The stream name in a ``StreamARN``; a value that is no Kinesis stream ARN is refused as AWS
    refuses it (it was read as a stream name: "live-events" passed for the stream's ARN)."""
    match = STREAM_ARN.fullmatch(arn) if isinstance(arn, str) and len(arn) <= MAX_STREAM_ARN else None
    if match is None:
        raise KinesisError(
            "ValidationException",
            _validation_message(
                [f"Value {_shown(arn)} at 'streamARN' failed to satisfy constraint: "
                 f"Member must satisfy regular expression pattern: {STREAM_ARN_PATTERN} (1 to {MAX_STREAM_ARN} characters)"]
            ),
        )
    return match.group(1)


def _explicit_hash_keys(values: Sequence[object], where: Callable[[int], str]) -> list[int | None]:
    """Each ``ExplicitHashKey`` as a number (``None`` when absent; ``where(index)`` names its place),
    checked before anything is stored, as AWS checks it: one bad key fails the whole call
    (ValidationException for the form, InvalidArgumentException beyond 2^128-1).  It only picks the
    ``ShardId`` answered: every shard is the same log here."""
    errors = [
        f"Value {_shown(value)} at '{where(index)}' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {HASH_KEY_PATTERN}"
        for index, value in enumerate(values)
        if value is not None and not (isinstance(value, str) and HASH_KEY.fullmatch(value))
    ]
    if errors:
        raise KinesisError("ValidationException", _validation_message(errors))
    keys = [int(value) if isinstance(value, str) else None for value in values]
    for index, key in enumerate(keys):
        if key is not None and key > MAX_HASH_KEY:
            raise KinesisError(
                "InvalidArgumentException",
                f"Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. "
                f"Specified value was {key} (at '{where(index)}')",
            )
    return keys


def _validation_message(errors: Sequence[str]) -> str:
    shown = errors[:AWS_MAX_VALIDATION_ERRORS]
    return f"{len(shown)} validation error{'s' if len(shown) > 1 else ''} detected: {'; '.join(shown)}"


def _shown(value: object) -> str:
    """A value as a validation message quotes it: a string as AWS does ('...'), anything else as
    JSON; cut short, so that a client's megabyte is not sent back."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 100 else f"{value[:100]!r}... ({len(value)} characters)"
    return render_value(value)


def _store_failure(error: StoreError) -> KinesisError:
    if isinstance(error, StoreClosed):
        return KinesisError("ServiceUnavailable", "The service is shutting down; retry", 503)
    return KinesisError("InternalFailure", f"Nothing was stored ({error}); retry", 500)


def _rejection_message(verdict: NewEvent | Rejection) -> str:
    assert isinstance(verdict, Rejection)
    where = verdict.field or "record"
    return f"Record rejected and quarantined: {where}: {verdict.value}: {verdict.rule}"


def _entry_bytes(entry: object) -> bytes:
    """A non-object entry as JSON, to quarantine.  orjson writes 254 levels at most and the
    request's parse allowed more: of an entry nested deeper, its preview is all that is kept."""
    try:
        return orjson.dumps(entry)
    except TypeError:
        return render_value(entry).encode()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _claimed_access_key_id(authorization: str) -> str | None:
    match = re.search(r"Credential=([^/,\s]+)/", authorization)
    return match.group(1) if match else None


def _shown_key_id(access_key_id: str | None) -> str:
    if access_key_id is None:
        return "no access key id"
    if len(access_key_id) > MAX_LOGGED_KEY_ID:
        return f"access key id {access_key_id[:MAX_LOGGED_KEY_ID]!r}... ({len(access_key_id)} characters)"
    return f"access key id {access_key_id!r}"


def _int_parameter(payload: dict[str, Any], name: str, *, default: int, low: int, high: int) -> int:
    value = payload.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise KinesisError(
            "ValidationException",
            f"1 validation error detected: Value {value!r} at '{name[0].lower() + name[1:]}' failed to satisfy constraint: "
            f"Member must have value between {low} and {high}",
        )
    return value


def _encode_token(text: str) -> str:
    return binascii.b2a_base64(text.encode(), newline=False).decode()


def _decode_token(token: object) -> str | None:
    if not isinstance(token, str) or not token:
        return None
    try:
        return binascii.a2b_base64(token, strict_mode=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise KinesisError("InvalidArgumentException", f"NextToken {token!r} is not a token this service issued") from None
