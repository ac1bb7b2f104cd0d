"""The subscriptions API of a served instance: create/list/get/patch/delete/activate/deactivate,
every problem reported at once (field, value, rule, valid names), secrets never returned or
logged, deliveries and replay requests, the OpenAPI document, the admin token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from liveevents.caliper.registry import caliper_event_types
from liveevents.canvas.catalog import CANVAS_EVENT_TYPES
from tests.helpers.fixtures import served  # noqa: F401
from tests.helpers.service import ServedInstance

SQS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"
QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/canvas-live-events-api"


def call(service: ServedInstance, method: str, path: str, body: Any = None, **options: Any) -> httpx.Response:
    return httpx.request(method, service.url + path, json=body, headers=service.admin_headers(), timeout=30, **options)


def webhook(**fields: Any) -> dict[str, Any]:
    return {"name": "warehouse", "delivery_method": "https", "url": "https://hooks.uni-example.org/canvas", "event_types": ["logged_in"], **fields}


def test_create_answers_201_with_the_defaults_and_an_id(served: ServedInstance) -> None:
    response = call(served, "POST", "/api/v1/subscriptions", webhook())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created.pop("id") and created.pop("created_at") == created.pop("updated_at")
    assert created == {
        "name": "warehouse",
        "delivery_method": "https",
        "format": "canvas",
        "url": "https://hooks.uni-example.org/canvas",
        "event_types": ["logged_in"],
        "active": True,
        "redact_tokens": True,
        "retry_profile": "durable",
        "jwt_body": "raw",
        "delivered": 0,
        "failed": 0,
    }


def test_secrets_are_never_returned_or_logged(served: ServedInstance) -> None:
    created = call(served, "POST", "/api/v1/subscriptions", {
        "name": "lake", "delivery_method": "sqs", "url": QUEUE, "event_types": ["grade_change"],
        "aws_access_key_id": "AKIAAPITEST000000001", "aws_secret_access_key": SQS_SECRET,
    }).json()
    assert created["has_aws_secret_access_key"] is True and created["aws_access_key_id"] == "AKIAAPITEST000000001"
    changed = call(served, "PATCH", f"/api/v1/subscriptions/{created['id']}", {"name": "lake 2"})
    answers = [changed.text, call(served, "GET", f"/api/v1/subscriptions/{created['id']}").text, call(served, "GET", "/api/v1/subscriptions").text]
    invalid = call(served, "POST", "/api/v1/subscriptions", webhook(aws_secret_access_key=SQS_SECRET))
    assert invalid.status_code == 422
    assert invalid.json()["problems"] == [{"field": "aws_secret_access_key", "value": "[secret]", "rule": "only for delivery_method 'sqs'"}]
    for text in [*answers, invalid.text, served.output()]:
        assert SQS_SECRET not in text


def test_rejected_input_does_not_echo_credentials(served: ServedInstance) -> None:
    """A 422 names the value it refuses, but not credentials embedded in a URL nor the value of a
    misspelled secret field."""
    body = webhook(
        url="http://hooks:hook-pw-2231@hooks.uni-example.org/canvas?token=tok-55821&tenant=7",
        notification_url="ftp://ops:ops-pw-9917@ops.uni-example.org/notices",
        aws_secret_key="misspelt-secret-6612",
        bearer="misspelt-bearer-3390",
        colour="blue",
    )
    invalid = call(served, "POST", "/api/v1/subscriptions", body)
    assert invalid.status_code == 422
    problems = {problem["field"]: problem["value"] for problem in invalid.json()["problems"]}
    assert problems == {
        "url": "http://hooks:****@hooks.uni-example.org/canvas?token=****&tenant=7",
        "notification_url": "ftp://ops:****@ops.uni-example.org/notices",
        "aws_secret_key": "[secret]",
        "bearer": "[secret]",
        "colour": "blue",
    }
    created = call(served, "POST", "/api/v1/subscriptions", webhook()).json()
    patched = call(served, "PATCH", f"/api/v1/subscriptions/{created['id']}", {"url": "http://hooks:hook-pw-2231@hooks.uni-example.org/x"})
    assert patched.status_code == 422
    unparseable = call(served, "POST", "/api/v1/subscriptions", webhook(url="https://hooks:hook-pw-2231@[::1/canvas"))
    assert unparseable.status_code == 422
    assert unparseable.json()["problems"] == [{"field": "url", "value": "****", "rule": "not a valid URL (Invalid IPv6 URL)"}]
    for text in (invalid.text, patched.text, unparseable.text, served.output()):
        for secret in ("hook-pw-2231", "tok-55821", "ops-pw-9917", "misspelt-secret-6612", "misspelt-bearer-3390"):
            assert secret not in text


def test_every_problem_is_reported_with_field_value_rule_and_valid_names(served: ServedInstance) -> None:
    response = call(served, "POST", "/api/v1/subscriptions", {
        "name": "", "delivery_method": "caliper", "url": "http://lrs.example.org/caliper",
        "event_types": ["logged_in", "loged_in"], "bearer_token": "t", "colour": "blue",
    })
    assert response.status_code == 422
    report = response.json()
    assert report["detail"] == f"invalid subscription: {len(report['problems'])} problems"
    problems = {problem["field"]: problem for problem in report["problems"]}
    assert set(problems) == {"name", "url", "event_types", "colour"}
    assert problems["url"]["value"] == "http://lrs.example.org/caliper" and "https://" in problems["url"]["rule"]
    assert problems["event_types"]["value"] == ["logged_in", "loged_in"]
    assert problems["event_types"]["rule"] == "not documented Canvas event types: loged_in"
    assert problems["event_types"]["allowed"] == sorted(CANVAS_EVENT_TYPES)
    assert problems["colour"]["rule"] == "unknown field" and "event_types" in problems["colour"]["allowed"]

    unmapped = call(served, "POST", "/api/v1/subscriptions", webhook(format="caliper", event_types=["logged_in", "course_completed"]))
    [problem] = unmapped.json()["problems"]
    assert unmapped.status_code == 422 and problem["field"] == "event_types"
    assert problem["rule"].startswith("no Caliper form for: course_completed") and problem["allowed"] == sorted(caliper_event_types())


def test_a_body_that_is_not_json_is_a_400(served: ServedInstance) -> None:
    response = httpx.post(served.url + "/api/v1/subscriptions", content=b"{name: x", headers=served.admin_headers() | {"Content-Type": "application/json"})
    assert response.status_code == 400
    [problem] = response.json()["problems"]
    assert problem["field"] == "" and problem["rule"].startswith("a JSON object")


def test_a_body_over_one_mib_is_a_413_and_not_read(served: ServedInstance) -> None:
    """A management body is bounded as the ingest ones are: one that was read whole was held in
    memory and echoed back in the 422 (a 100 MB name took 600 MB)."""
    oversized = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    headers = served.admin_headers() | {"Content-Type": "application/json"}
    created = call(served, "POST", "/api/v1/subscriptions", webhook()).json()
    for method, path in [
        ("POST", "/api/v1/subscriptions"),
        ("PATCH", f"/api/v1/subscriptions/{created['id']}"),
        ("POST", f"/api/v1/subscriptions/{created['id']}/replay"),
    ]:
        answer = httpx.request(method, served.url + path, content=oversized, headers=headers, timeout=30)
        assert (answer.status_code, answer.json()) == (413, {"detail": "the request body is larger than 1048576 bytes"}), (method, path)
    assert call(served, "GET", f"/api/v1/subscriptions/{created['id']}").json()["name"] == "warehouse"


def test_patch_changes_fields_clears_with_null_and_refuses_the_id(served: ServedInstance) -> None:
    created = call(served, "POST", "/api/v1/subscriptions", webhook(notification_url="https://ops.uni-example.org/notices")).json()
    path = f"/api/v1/subscriptions/{created['id']}"
    changed = call(served, "PATCH", path, {"event_types": ["grade_change", "logged_in"], "jwt_body": "quoted", "notification_url": None})
    assert changed.status_code == 200
    assert (changed.json()["event_types"], changed.json()["jwt_body"]) == (["grade_change", "logged_in"], "quoted")
    assert "notification_url" not in changed.json() and changed.json()["updated_at"] >= created["updated_at"]
    refused = call(served, "PATCH", path, {"id": "mine", "event_types": []})
    assert refused.status_code == 422
    assert {problem["field"] for problem in refused.json()["problems"]} == {"id", "event_types"}
    assert call(served, "GET", path).json()["event_types"] == ["grade_change", "logged_in"]
    assert call(served, "PATCH", "/api/v1/subscriptions/nope", {"name": "x"}).status_code == 404


def test_activate_deactivate_and_delete(served: ServedInstance) -> None:
    created = call(served, "POST", "/api/v1/subscriptions", webhook(active=False)).json()
    path = f"/api/v1/subscriptions/{created['id']}"
    assert created["active"] is False
    activated = call(served, "POST", path + "/activate").json()
    assert activated["active"] is True and "deactivated_reason" not in activated
    deactivated = call(served, "POST", path + "/deactivate").json()
    assert deactivated["active"] is False and deactivated["deactivated_reason"] == "deactivated by the operator"
    assert call(served, "DELETE", path).status_code == 204
    assert call(served, "GET", path).status_code == 404
    assert call(served, "DELETE", path).status_code == 404
    assert call(served, "POST", path + "/activate").status_code == 404
    assert created["id"] not in call(served, "GET", "/api/v1/subscriptions").text


def test_deliveries_and_replays_of_a_new_subscription(served: ServedInstance) -> None:
    created = call(served, "POST", "/api/v1/subscriptions", webhook(event_types=["logged_in", "grade_change"])).json()
    path = f"/api/v1/subscriptions/{created['id']}"
    assert call(served, "GET", path + "/deliveries", params={"state": "failed"}).json() == {"deliveries": [], "next_cursor": None}
    assert call(served, "GET", path + "/deliveries", params={"state": "lost"}).status_code == 422
    assert call(served, "GET", path + "/deliveries/7").status_code == 404
    accepted = call(served, "POST", path + "/replay", {"since": "2024-03-05T10:00:00+01:00", "event_types": ["grade_change"]})
    assert accepted.status_code == 202
    replay = accepted.json()
    assert (replay["since"], replay["until"], replay["event_types"], replay["state"]) == ("2024-03-05T09:00:00.000Z", None, ["grade_change"], "running")
    assert call(served, "GET", path + "/replays").json()["replays"][0]["id"] == replay["id"]


def test_delivery_and_replay_ids_beyond_64_bits_are_refused_not_a_server_error(served: ServedInstance) -> None:
    """2**63 is one past the stores' 64-bit keys: SQLite raised OverflowError (a 500)."""
    path = f"/api/v1/subscriptions/{call(served, 'POST', '/api/v1/subscriptions', webhook()).json()['id']}"
    answers = {
        "path.delivery_id": call(served, "GET", path + "/deliveries/9223372036854775808"),
        "path.delivery_id (retry)": call(served, "POST", path + "/deliveries/9223372036854775808/retry"),
        "path.replay_id": call(served, "GET", path + "/replays/9223372036854775808"),
        "query.after": call(served, "GET", path + "/deliveries", params={"after": "9223372036854775808"}),
    }
    for field, answer in answers.items():
        assert answer.status_code == 422, (field, answer.text)
        assert [(p["field"], p["value"]) for p in answer.json()["problems"]] == [(field.split(" ")[0], "9223372036854775808")]
    assert call(served, "GET", path + "/deliveries/9223372036854775807").status_code == 404
    assert call(served, "GET", path + "/replays/9223372036854775807").status_code == 404


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"since": "yesterday"}, {"since"}),
        ({"since": "2024-03-05T10:00:00Z", "until": "2024-03-05T09:00:00Z"}, {"until"}),
        ({"since": "2024-03-05T10:00:00Z", "event_types": ["asset_accessed"]}, {"event_types"}),
        ({"until": "2024-03-05T10:00:00Z", "from": "x"}, {"since", "from"}),
        (["since"], {""}),
    ],
)
def test_replay_requests_are_validated(served: ServedInstance, body: Any, fields: set[str]) -> None:
    created = call(served, "POST", "/api/v1/subscriptions", webhook(event_types=["logged_in"])).json()
    response = call(served, "POST", f"/api/v1/subscriptions/{created['id']}/replay", body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("invalid replay request")
    assert {problem["field"] for problem in response.json()["problems"]} == fields
    if "event_types" in fields:
        assert response.json()["problems"][0]["allowed"] == ["logged_in"]


def test_the_admin_token_guards_every_route(served: ServedInstance) -> None:
    created = call(served, "POST", "/api/v1/subscriptions", webhook()).json()
    routes = [
        ("GET", "/api/v1/subscriptions"),
        ("POST", "/api/v1/subscriptions"),
        ("GET", f"/api/v1/subscriptions/{created['id']}"),
        ("PATCH", f"/api/v1/subscriptions/{created['id']}"),
        ("DELETE", f"/api/v1/subscriptions/{created['id']}"),
        ("POST", f"/api/v1/subscriptions/{created['id']}/deactivate"),
        ("GET", f"/api/v1/subscriptions/{created['id']}/deliveries"),
        ("POST", f"/api/v1/subscriptions/{created['id']}/replay"),
    ]
    for method, path in routes:
        answer = httpx.request(method, served.url + path, json={}, headers={"Authorization": "Bearer wrong"})
        assert answer.status_code == 401, (method, path)
    assert call(served, "GET", f"/api/v1/subscriptions/{created['id']}").json()["active"] is True


def test_openapi_documents_the_bodies(served: ServedInstance) -> None:
    document = httpx.get(served.url + "/openapi.json").json()
    paths = document["paths"]
    assert {"post", "get"} <= paths["/api/v1/subscriptions"].keys()
    assert {"get", "patch", "delete"} <= paths["/api/v1/subscriptions/{subscription_id}"].keys()
    create = paths["/api/v1/subscriptions"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert {"name", "delivery_method", "url", "event_types", "bearer_token"} <= body["properties"].keys() and "id" not in body["properties"]
    assert body["required"] == ["name", "delivery_method", "url", "event_types"]
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/SubscriptionView")
    assert create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ProblemReport")
    schemas = document["components"]["schemas"]
    assert "bearer_token" not in schemas["SubscriptionView"]["properties"] and "has_bearer_token" in schemas["SubscriptionView"]["properties"]
    assert {"last_status", "last_error", "attempts", "next_attempt_at"} <= schemas["DeliveryView"]["properties"].keys()
    assert "/api/v1/subscriptions/{subscription_id}/replay" in paths and "/.well-known/jwks.json" in paths
    assert "subscriptions" in schemas["Stats"]["properties"]
