"""HTTP ingest, the management API and its authentication, health and metrics on a served instance."""

from __future__ import annotations

import base64
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx
import orjson
import pytest

from tests.helpers.fixtures import served  # noqa: F401
from tests.helpers.postgres import postgres_schema_url
from tests.helpers.records import canvas_record, record_bytes
from tests.helpers.service import ServedInstance


def ingest(service: ServedInstance, body: bytes, content_type: str = "application/json", token: str | None = None) -> httpx.Response:
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {token or service.secrets['ingest_token']}"}
    return httpx.post(service.url + "/api/v1/events", content=body, headers=headers)


def test_one_record_is_stored(served: ServedInstance) -> None:
    response = ingest(served, record_bytes(1, event_name="logged_in"))
    assert response.status_code == 200
    answer = response.json()
    assert (answer["stored"], answer["rejected"]) == (1, 0)
    (result,) = answer["results"]
    assert result["status"] == "stored" and result["index"] == 0
    event = served.admin_get(f"/api/v1/events/{result['sequence_number']}")
    assert (event["event_name"], event["source"], event["partition_key"]) == ("logged_in", "http", canvas_record(1)["attributes"]["user_id"])


def test_an_array_keeps_good_records_and_names_each_bad_one(served: ServedInstance) -> None:
    records = [canvas_record(10), {"metadata": {"event_name": "asset_accessed"}, "body": {}}, canvas_record(11), "not a record"]
    response = ingest(served, orjson.dumps(records))
    assert response.status_code == 200
    answer = response.json()
    assert (answer["stored"], answer["rejected"]) == (2, 2)
    statuses = [(r["index"], r["status"], r.get("field")) for r in answer["results"]]
    assert statuses == [(0, "stored", None), (1, "rejected", "metadata.event_time"), (2, "stored", None), (3, "rejected", "")]
    assert answer["results"][1]["value"] == "missing"
    assert "ISO 8601" in answer["results"][1]["rule"]
    assert answer["results"][3]["value"] == '"not a record"'


def test_json_lines_results_name_the_line(served: ServedInstance) -> None:
    body = record_bytes(20) + b"\n\n" + b'{"attributes": {"event_name": "x"' + b"\n" + record_bytes(21) + b"\n"
    response = ingest(served, body, "application/x-ndjson")
    answer = response.json()
    assert [(r["index"], r["line"], r["status"]) for r in answer["results"]] == [(0, 1, "stored"), (1, 3, "rejected"), (2, 4, "stored")]
    assert "not valid JSON" in answer["results"][1]["rule"]
    # JSON Lines sent as application/json are recognised too.
    assert ingest(served, record_bytes(22) + b"\n" + record_bytes(23)).json()["stored"] == 2


def test_when_every_record_is_rejected_the_status_is_422_and_they_are_quarantined(served: ServedInstance) -> None:
    before = served.admin_get("/api/v1/stats")["records_rejected"]
    response = ingest(served, b'{"attributes": {}, "body": {}}')
    assert response.status_code == 422
    assert response.json()["results"][0]["field"] == "attributes.event_name"
    assert served.admin_get("/api/v1/stats")["records_rejected"] == before + 1
    newest = served.admin_get("/api/v1/quarantine", limit=1000)["records"][-1]
    assert (newest["source"], newest["data"], newest["field"]) == ("http", '{"attributes": {}, "body": {}}', "attributes.event_name")


@pytest.mark.parametrize("token", ["wrong-token", "test-admin-token-0123456789"])
def test_ingest_needs_the_ingest_token(served: ServedInstance, token: str) -> None:
    before = served.admin_get("/api/v1/stats")["events_stored"]
    response = ingest(served, record_bytes(30), token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert served.admin_get("/api/v1/stats")["events_stored"] == before


def test_ingest_refuses_other_content_types_and_empty_bodies(served: ServedInstance) -> None:
    assert ingest(served, b"<event/>", "application/xml").status_code == 415
    assert ingest(served, b"  \n").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/stats", "/api/v1/events", "/api/v1/events/1", "/api/v1/quarantine"])
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", "Bearer test-ingest-token-0123456789", "Bearer test-metrics-token-0123456789", "Basic dGVzdDp0ZXN0"]
)
def test_management_api_needs_the_admin_token(served: ServedInstance, path: str, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(served.url + path, headers=headers)
    assert response.status_code == 401
    assert served.secrets["admin_token"] not in response.text


def test_event_listing_filters_by_name_and_time_and_pages_with_a_cursor(served: ServedInstance) -> None:
    records = [canvas_record(40 + n, event_name="wiki_page_deleted", event_time=f"2021-06-0{n + 1}T08:00:00Z") for n in range(5)]
    ingest(served, orjson.dumps(records))
    first = served.admin_get("/api/v1/events", name="wiki_page_deleted", since="2021-06-02", until="2021-06-05T00:00:00Z", limit=2)
    assert [e["event_time"] for e in first["events"]] == ["2021-06-02T08:00:00.000Z", "2021-06-03T08:00:00.000Z"]
    second = served.admin_get("/api/v1/events", name="wiki_page_deleted", since="2021-06-02", until="2021-06-05T00:00:00Z", limit=2, after=first["next_cursor"])
    assert [e["event_time"] for e in second["events"]] == ["2021-06-04T08:00:00.000Z"]
    assert second["next_cursor"] is None
    newest = served.admin_get("/api/v1/events", name="wiki_page_deleted", newest_first="true", limit=1)
    assert newest["events"][0]["record"]["body"]["marker"] == "44"
    bad = httpx.get(served.url + "/api/v1/events", params={"since": "last week"}, headers=served.admin_headers())
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "query.since"


def test_stats_count_by_event_name(served: ServedInstance) -> None:
    before = served.admin_get("/api/v1/stats")
    ingest(served, orjson.dumps([canvas_record(50, event_name="quiz_submitted"), canvas_record(51, event_name="quiz_submitted")]))
    after = served.admin_get("/api/v1/stats")
    assert after["events_by_name"]["quiz_submitted"] == before["events_by_name"].get("quiz_submitted", 0) + 2
    assert after["events_stored"] == before["events_stored"] + 2
    assert after["streams"] == ["live-events"]
    assert served.secrets["kinesis_secret_access_key"] not in orjson.dumps(after).decode()


METRICS_REFUSED = "a valid 'Authorization: Bearer <metrics token>' header (or the admin token) is required; metrics_public = true serves /metrics without one"


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong", "Bearer test-ingest-token-0123456789", "Bearer test-metrics-token-012345678", "Basic dGVzdDp0ZXN0", "test-metrics-token-0123456789"],
)
def test_metrics_need_the_metrics_or_admin_token(served: ServedInstance, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.get(served.url + "/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="metrics"'
    assert response.json() == {"detail": METRICS_REFUSED}
    assert "liveevents_" not in response.text


@pytest.mark.parametrize("authorization", ["Bearer test-metrics-token-0123456789", "bearer test-metrics-token-0123456789", "Bearer test-admin-token-0123456789"])
def test_metrics_are_served_to_the_metrics_token_and_the_admin_token(served: ServedInstance, authorization: str) -> None:
    response = httpx.get(served.url + "/metrics", headers={"Authorization": authorization})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert "liveevents_last_sequence " in response.text


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/v1/stats"), ("GET", "/api/v1/subscriptions"), ("POST", "/api/v1/subscriptions")])
def test_the_metrics_token_is_read_only_metrics(served: ServedInstance, method: str, path: str) -> None:
    subscription = {"name": "scraped", "delivery_method": "https", "url": "https://hooks.example.edu/events", "event_types": ["logged_in"]}
    response = httpx.request(method, served.url + path, headers=served.metrics_headers(), json=subscription if method == "POST" else None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="admin"'
    assert served.admin_get("/api/v1/subscriptions")["subscriptions"] == []


def test_metrics_public_serves_metrics_without_a_token(tmp_path: Path) -> None:
    with ServedInstance.start(tmp_path / "data", env={"LIVEEVENTS_METRICS_PUBLIC": "true"}) as service:
        response = httpx.get(service.url + "/metrics")
        assert response.status_code == 200 and "liveevents_last_sequence " in response.text
        assert httpx.get(service.url + "/api/v1/stats").status_code == 401  # the management API stays closed


def test_the_metrics_token_from_the_environment_wins_over_the_data_dir(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with ServedInstance.start(data_dir, secrets=None):
        stored = orjson.loads((data_dir / "secrets.json").read_bytes())["metrics_token"]
    with ServedInstance.start(data_dir, secrets=None, env={"LIVEEVENTS_METRICS_TOKEN": "scrape-token-from-env-5521"}) as service:
        assert httpx.get(service.url + "/metrics", headers={"Authorization": "Bearer scrape-token-from-env-5521"}).status_code == 200
        assert httpx.get(service.url + "/metrics", headers={"Authorization": f"Bearer {stored}"}).status_code == 401


def test_health_metrics_and_openapi(served: ServedInstance) -> None:
    assert httpx.get(served.url + "/healthz").json()["status"] == "ok"
    ingest(served, record_bytes(60))
    metrics = served.metrics()
    assert 'liveevents_ingest_records_total{outcome="stored",source="http"}' in metrics
    assert "liveevents_store_append_seconds_bucket" in metrics
    schema = httpx.get(served.url + "/openapi.json").json()
    assert {"/api/v1/stats", "/api/v1/events", "/api/v1/quarantine"} <= set(schema["paths"])


def test_inspection_blanks_access_tokens_unless_raw_is_asked_for(served: ServedInstance) -> None:
    record = canvas_record(70, event_name="asset_accessed")
    record["attributes"]["url"] = "https://canvas.example.edu/api/v1/courses/417?include[]=x&access_token=7~SecretTokenAbc123"
    record["body"]["links"] = ["https://canvas.example.edu/files/9?access_token=7~OtherSecret99;a=1"]
    bad = b'{"attributes": {"url": "https://canvas.example.edu/x?access_token=7~QuarantinedSecret"}, "body": {}}'
    sent = orjson.dumps(record)
    sequence = ingest(served, sent).json()["results"][0]["sequence_number"]
    ingest(served, bad)

    shown = served.admin_get(f"/api/v1/events/{sequence}")
    assert shown["record"]["attributes"]["url"] == "https://canvas.example.edu/api/v1/courses/417?include[]=x&access_token=[FILTERED]"
    assert shown["record"]["body"]["links"] == ["https://canvas.example.edu/files/9?access_token=[FILTERED];a=1"]
    listed = served.admin_get("/api/v1/events", newest_first="true", limit=1)["events"][0]
    assert listed["record"] == shown["record"]
    quarantined = served.admin_get("/api/v1/quarantine", limit=1000)["records"][-1]
    assert quarantined["data"] == '{"attributes": {"url": "https://canvas.example.edu/x?access_token=[FILTERED]"}, "body": {}}'
    assert "QuarantinedSecret" not in orjson.dumps(quarantined).decode()
    assert "QuarantinedSecret" not in base64.b64decode(quarantined["data_base64"]).decode()

    raw = served.admin_get(f"/api/v1/events/{sequence}", raw="true")
    assert orjson.dumps(raw["record"]) == sent
    assert served.admin_get("/api/v1/events", newest_first="true", limit=1, raw="true")["events"][0]["record"] == record
    raw_quarantined = served.admin_get("/api/v1/quarantine", limit=1000, raw="true")["records"][-1]
    assert raw_quarantined["data"].encode() == bad
    # raw=true is still for the admin token only.
    refused = httpx.get(served.url + f"/api/v1/events/{sequence}", params={"raw": "true"}, headers=served.ingest_headers())
    assert refused.status_code == 401 and "SecretTokenAbc123" not in refused.text
    parameters = httpx.get(served.url + "/openapi.json").json()["paths"]["/api/v1/events"]["get"]["parameters"]
    assert "[FILTERED]" in next(p for p in parameters if p["name"] == "raw")["description"]


def stored_bytes(service: ServedInstance, sequence: str) -> bytes:
    with closing(sqlite3.connect(service.data_dir / "liveevents.sqlite3")) as connection:
        (data,) = connection.execute("SELECT data FROM events WHERE seq = ?", (int(sequence),)).fetchone()
    return bytes(data)


def test_an_oversized_record_in_a_batch_is_rejected_by_index_size_and_limit(served: ServedInstance) -> None:
    big = canvas_record(80, body_size=1024 * 1024)
    size = len(orjson.dumps(big))
    response = ingest(served, orjson.dumps([canvas_record(81), big, canvas_record(82)]))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, "stored"), (1, "rejected"), (2, "stored")]
    assert (results[1]["field"], results[1]["value"]) == ("", f"\"{size} bytes\"")
    assert results[1]["rule"] == f"data plus partition key must be at most 1048576 bytes (1 MiB), not {size}"
    lines = ingest(served, record_bytes(83) + b"\n" + orjson.dumps(big), "application/x-ndjson").json()["results"]
    assert [(r["line"], r["status"]) for r in lines] == [(1, "stored"), (2, "rejected")]
    quarantined = served.admin_get("/api/v1/quarantine", limit=1000)["records"][-1]
    assert (quarantined["source"], quarantined["value"]) == ("http", f"\"{size} bytes\"")


def test_each_record_is_stored_as_the_bytes_it_was_sent_as(served: ServedInstance) -> None:
    # Spacing, line breaks, key order, escapes and number forms that a re-serialisation would change.
    spread = b'{ "body" : {"title": "caf\\u00e9 \xe2\x80\x94 r\xc3\xa9sum\xc3\xa9", "score": 1.50, "n": 1e2},\n  "attributes": {"event_name": "asset_accessed", "event_time": "2024-03-05T10:20:30Z", "user_id": "7"} }'
    one_line = spread.replace(b"\n", b" ")
    compact = b'{"attributes":{"event_name":"logged_in","event_time":"2024-03-05T10:20:31.000Z"},"body":{}}'
    for body, content_type, expected in (
        (spread, "application/json", [spread]),
        (b"[\n  " + spread + b" ,\n\t" + compact + b"\r\n]\n", "application/json", [spread, compact]),
        (compact + b"\n" + one_line + b"\n", "application/x-ndjson", [compact, one_line]),
    ):
        answer = ingest(served, body, content_type).json()
        assert answer["rejected"] == 0, answer
        assert [stored_bytes(served, result["sequence_number"]) for result in answer["results"]] == expected


def test_every_management_and_ingest_error_has_one_shape(served: ServedInstance) -> None:
    admin, ingest_auth = served.admin_headers(), served.ingest_headers()
    answers = {
        "no admin token": httpx.get(served.url + "/api/v1/stats"),
        "unknown event": httpx.get(served.url + "/api/v1/events/987654321", headers=admin),
        "unknown path": httpx.get(served.url + "/api/v1/nothing-here", headers=admin),
        "wrong method": httpx.delete(served.url + "/api/v1/stats", headers=admin),
        "no ingest token": httpx.post(served.url + "/api/v1/events", content=record_bytes(90), headers={"Content-Type": "application/json"}),
        "wrong content type": httpx.post(served.url + "/api/v1/events", content=b"<x/>", headers=ingest_auth | {"Content-Type": "text/xml"}),
        "empty body": httpx.post(served.url + "/api/v1/events", content=b"", headers=ingest_auth | {"Content-Type": "application/json"}),
    }
    statuses = {reason: answer.status_code for reason, answer in answers.items()}
    assert statuses == {
        "no admin token": 401, "unknown event": 404, "unknown path": 404,
        "wrong method": 405, "no ingest token": 401, "wrong content type": 415, "empty body": 400,
    }
    for reason, answer in answers.items():
        assert answer.headers["content-type"] == "application/json", reason
        body = answer.json()
        assert list(body) == ["detail"] and isinstance(body["detail"], str) and body["detail"], (reason, body)
    assert answers["unknown event"].json()["detail"] == "no event with sequence number 987654321 (never stored, or purged)"

    invalid = httpx.get(served.url + "/api/v1/events", params={"limit": "0", "newest_first": "maybe"}, headers=admin)
    assert invalid.status_code == 422
    report = invalid.json()
    assert report["detail"] == "invalid request: 2 problems"
    assert [(p["field"], p["value"]) for p in report["problems"]] == [("query.newest_first", "maybe"), ("query.limit", "0")]
    assert "greater than or equal to 1" in report["problems"][1]["rule"]


SINCE_RULE = (
    "expected an ISO 8601 timestamp with a UTC offset, such as 2019-11-01T19:11:05.222Z, "
    "2019-11-01T12:11:05-07:00, 2019-11-01 12:11:05 -0700 or the bare date 2019-11-01"
)


def test_unreadable_timestamps_and_cursors_are_answered_as_the_other_query_parameters(served: ServedInstance) -> None:
    """They were a 400 with only a detail ("query parameter 'since': ..."), unlike limit or
    newest_first (422 with problems); now all of a request's bad parameters come in one report."""
    answer = httpx.get(
        served.url + "/api/v1/events",
        params={"since": "yesterday", "until": "2024-02-30", "after": "12a", "limit": "0"},
        headers=served.admin_headers(),
    )
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "invalid request: 4 problems",
        "problems": [
            {"field": "query.since", "value": "yesterday", "rule": SINCE_RULE},
            {"field": "query.until", "value": "2024-02-30", "rule": "not a real calendar date and time (day is out of range for month)"},
            {"field": "query.after", "value": "12a", "rule": "a cursor: a whole number from 0 to 9223372036854775807 (a page's next_cursor)"},
            {"field": "query.limit", "value": "0", "rule": "Input should be greater than or equal to 1"},
        ],
    }
    quarantine = httpx.get(served.url + "/api/v1/quarantine", params={"before": "-1"}, headers=served.admin_headers())
    assert quarantine.status_code == 422
    assert quarantine.json()["problems"] == [
        {"field": "query.before", "value": "-1", "rule": "a cursor: a whole number from 0 to 9223372036854775807 (a page's next_cursor)"}
    ]


def test_the_kinesis_endpoint_answers_errors_the_aws_way(served: ServedInstance) -> None:
    wrong_method = httpx.get(served.url + "/")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == "application/x-amz-json-1.1"
    # A browser opening the service's address gets this too: the message points a person to the pages for people.
    assert wrong_method.json() == {
        "__type": "UnknownOperationException",
        "message": "GET / is not supported: the Kinesis API takes POST requests (AWS JSON 1.1); "
        "the management API is documented at /api/docs, the health check is /healthz",
    }
    unsigned = httpx.post(served.url + "/", content=b"{}", headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.ListStreams"})
    assert unsigned.json() == {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}


def test_out_of_range_ids_and_cursors_are_refused_not_a_server_error(served: ServedInstance) -> None:
    """2**63 is one past the stores' 64-bit keys (SQLite raised OverflowError: a 500); '²' is a
    digit to str.isdigit() that int() refuses (a ValueError: a 500)."""
    admin = served.admin_headers()
    beyond = httpx.get(served.url + "/api/v1/events/9223372036854775808", headers=admin)
    assert beyond.status_code == 422
    assert [(p["field"], p["value"]) for p in beyond.json()["problems"]] == [("path.sequence", "9223372036854775808")]
    assert httpx.get(served.url + "/api/v1/events/9223372036854775807", headers=admin).status_code == 404
    cursors = [
        ("/api/v1/events", "after", "9223372036854775808"),
        ("/api/v1/events", "before", "9223372036854775808"),
        ("/api/v1/events", "after", "\u00b2"),
        ("/api/v1/quarantine", "after", "9223372036854775808"),
        ("/api/v1/quarantine", "before", "\u00b2"),
    ]
    for path, name, value in cursors:
        answer = httpx.get(served.url + path, params={name: value}, headers=admin)
        assert answer.status_code == 422, (path, name, value)
        assert answer.json() == {
            "detail": "invalid request: 1 problem",
            "problems": [{"field": f"query.{name}", "value": value, "rule": "a cursor: a whole number from 0 to 9223372036854775807 (a page's next_cursor)"}],
        }


def test_nul_characters_in_parameters_are_refused(served: ServedInstance) -> None:
    answer = httpx.get(served.url + "/api/v1/events", params={"stream": "live\x00events"}, headers=served.admin_headers())
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": "invalid request: 1 problem",
        "problems": [{"field": "query.stream", "value": "live\x00events", "rule": "must not contain a NUL character"}],
    }


@pytest.mark.postgres
def test_nul_characters_in_parameters_are_refused_on_postgresql_too(tmp_path: Path) -> None:
    """PostgreSQL text cannot hold NUL: such a value reached a query and failed there (a 500)."""
    with postgres_schema_url() as url, ServedInstance.start(tmp_path / "data", env={"LIVEEVENTS_DATABASE_URL": url}) as service:
        admin = service.admin_headers()
        answers = {
            "query.name": httpx.get(service.url + "/api/v1/events", params={"name": "logged\x00in"}, headers=admin),
            "path.subscription_id": httpx.get(service.url + "/api/v1/subscriptions/a%00b", headers=admin),
        }
        for field, answer in answers.items():
            assert answer.status_code == 422, (field, answer.text)
            assert [(p["field"], p["rule"]) for p in answer.json()["problems"]] == [(field, "must not contain a NUL character")]


def test_the_schema_documents_422_answers_in_the_shape_they_have(served: ServedInstance) -> None:
    schema = httpx.get(served.url + "/openapi.json").json()
    documented = {
        (method.upper(), path): operation["responses"]["422"]["content"]["application/json"]["schema"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if "422" in operation["responses"]
    }
    assert ("GET", "/api/v1/events") in documented and ("POST", "/api/v1/subscriptions") in documented
    assert all(body == {"$ref": "#/components/schemas/ProblemReport"} for body in documented.values()), documented
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert components["ProblemReport"]["required"] == ["detail", "problems"]
    event = schema["paths"]["/api/v1/events/{sequence}"]["get"]
    assert set(event["responses"]) == {"200", "404", "422"}
    assert event["parameters"][0]["schema"] == {"type": "integer", "minimum": 0, "maximum": 9223372036854775807, "title": "Sequence"}
    for path in ("/api/v1/events", "/api/v1/quarantine"):
        responses = schema["paths"][path]["get"]["responses"]
        # Unreadable cursors and timestamps are 422 answers too; no 400 is left to document.
        assert set(responses) == {"200", "422"}, path
        assert responses["422"]["description"] == "Every query parameter that cannot be read: field (query.<name>), value, rule"


def test_an_array_item_nested_too_deep_for_the_item_splitter_is_rejected_alone(served: ServedInstance) -> None:
    # 1000 levels: orjson parses the body (it allows 1024), the standard library's item splitter
    # overflowed Python's recursion limit and the whole request was a 500.
    deep = b"[" * 1000 + b"]" * 1000
    response = ingest(served, b"[" + record_bytes(500) + b", " + deep + b", " + record_bytes(502) + b"]")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [(0, "stored"), (1, "rejected"), (2, "stored")]
    assert (results[1]["field"], results[1]["value"], results[1]["rule"]) == (
        "0.0", "(an array nested too deeply to show)", "objects and arrays may nest at most 64 levels deep"
    )
    (quarantined,) = served.admin_get("/api/v1/quarantine", newest_first="true", limit=1)["records"]
    assert base64.b64decode(quarantined["data_base64"]) == deep


def test_a_user_id_with_a_nul_character_is_stored_with_the_partition_key_escaped_on_postgresql(tmp_path: Path) -> None:
    # The partition key is taken from user_id; PostgreSQL text cannot hold NUL (it was a 500).
    record = canvas_record(510)
    record["attributes"]["user_id"] = "51\x000"
    with postgres_schema_url() as url, ServedInstance.start(tmp_path / "data", env={"LIVEEVENTS_DATABASE_URL": url}) as service:
        response = ingest(service, orjson.dumps(record))
        assert response.status_code == 200
        event = service.admin_get(f"/api/v1/events/{response.json()['results'][0]['sequence_number']}")
        assert (event["partition_key"], event["record"]) == ("51\\u00000", record)


def test_refused_ingest_is_logged_once_per_reason_never_the_token(tmp_path: Path) -> None:
    """A producer refused for its token shows in the service log, once however often it retries,
    with the reason and its address; the token it presented never."""
    with ServedInstance.start(tmp_path / "data") as service:
        for _ in range(3):  # a producer retrying in a loop
            assert ingest(service, record_bytes(1), token="presented-wrong-token-0123").status_code == 401
            assert httpx.post(service.url + "/api/v1/events", content=record_bytes(1), headers={"Authorization": "Basic cHJvZHVjZXI6cGFzcw=="}).status_code == 401
            assert httpx.post(service.url + "/api/v1/events", content=record_bytes(1)).status_code == 401
        assert ingest(service, record_bytes(1)).status_code == 200
        output = service.output()
    lines = [line.split(" ", 2)[2] for line in output.splitlines() if " liveevents.ingest.http: " in line]
    assert lines == [
        "WARNING liveevents.ingest.http: HTTP ingest from 127.0.0.1 refused (401): the bearer token is not the ingest token "
        "(ingest_token in the data dir's secrets.json, or LIVEEVENTS_INGEST_TOKEN)",
        "WARNING liveevents.ingest.http: HTTP ingest from 127.0.0.1 refused (401): the Authorization header is not 'Bearer <ingest token>'",
        "WARNING liveevents.ingest.http: HTTP ingest from 127.0.0.1 refused (401): no Authorization header",
    ]
    for secret in ("presented-wrong-token-0123", "cHJvZHVjZXI6cGFzcw==", service.secrets["ingest_token"]):
        assert secret not in output
