"""Subscription validation: every problem reported with field, value and rule; no secret leaks."""

from __future__ import annotations

import json

import pytest

from liveevents.delivery.subscription import Subscription, SubscriptionError, parse_subscription
from liveevents.delivery.urls import destination_problem, is_loopback_host, mask_url, sqs_region

WEBHOOK = {
    "name": "Gradebook sync",
    "delivery_method": "https",
    "url": "https://hooks.uni-example.org/canvas",
    "event_types": ["grade_change", "submission_created"],
}
CALIPER = {
    "name": "LRS",
    "delivery_method": "caliper",
    "url": "https://lrs.uni-example.org/sensor",
    "event_types": ["asset_accessed", "logged_in"],
    "bearer_token": "lrs-token-4711",
}
QUEUE = {
    "name": "Warehouse",
    "delivery_method": "sqs",
    "url": "https://sqs.eu-central-1.amazonaws.com/210987654321/canvas-live-events-warehouse",
    "event_types": ["course_created"],
}


def problems_of(data: object, **options: bool) -> dict[str, tuple]:
    with pytest.raises(SubscriptionError) as caught:
        parse_subscription(data, **options)
    return {problem.field: (problem.value, problem.rule, problem.allowed) for problem in caught.value.problems}


def test_https_subscription_defaults() -> None:
    subscription = parse_subscription(WEBHOOK)
    assert subscription.format == "canvas"
    assert subscription.jwt_body == "raw"
    assert subscription.active is True
    assert subscription.redact_tokens is True
    assert subscription.retry_profile == "durable"
    assert subscription.bearer_token is None and subscription.sqs_fifo is None
    assert len(subscription.id) == 36


def test_caliper_method_defaults_to_caliper_format_and_requires_it() -> None:
    assert parse_subscription(CALIPER).format == "caliper"
    found = problems_of({**CALIPER, "format": "canvas"})
    assert list(found) == ["format"]
    assert found["format"][2] == ("caliper",)


def test_every_problem_is_reported_at_once() -> None:
    found = problems_of(
        {
            "id": "chosen-by-me",
            "name": "  ",
            "delivery_method": "caliper",
            "url": "http://lrs.uni-example.org/",
            "event_types": ["grade_chnage"],
            "jwt_body": "quoted",
            "colour": "blue",
        }
    )
    assert set(found) == {"id", "name", "url", "event_types", "jwt_body", "bearer_token", "colour"}
    assert found["id"][1] == "assigned by the service"
    assert found["url"][0] == "http://lrs.uni-example.org/"
    assert "https:// is required" in found["url"][1]
    assert found["event_types"][0] == ["grade_chnage"]
    assert found["event_types"][1] == "not documented Canvas event types: grade_chnage"
    assert len(found["event_types"][2]) == 82 and "grade_change" in found["event_types"][2]
    assert found["jwt_body"][1] == "only for delivery_method 'https'"
    assert found["bearer_token"] == (None, "required for delivery_method 'caliper' (the endpoint's Bearer token)", ())
    assert found["colour"][:2] == ("blue", "unknown field")
    # The fields a client may send: not "id", which the service assigns.
    assert found["colour"][2] == (
        "name", "delivery_method", "format", "url", "event_types", "active", "redact_tokens", "retry_profile",
        "notification_url", "jwt_body", "bearer_token", "aws_access_key_id", "aws_secret_access_key", "aws_region", "sqs_fifo",
    )  # fmt: skip


def test_missing_required_fields() -> None:
    found = problems_of({"delivery_method": "https"})
    assert {field: value_rule[:2] for field, value_rule in found.items()} == {
        "name": (None, "required"),
        "url": (None, "required"),
        "event_types": (None, "required"),
    }


def test_empty_event_types_and_bad_literals() -> None:
    found = problems_of({**WEBHOOK, "event_types": [], "jwt_body": "jwe", "retry_profile": "forever"})
    assert set(found) == {"event_types", "jwt_body", "retry_profile"}
    assert found["jwt_body"][0] == "jwe"
    assert "'raw', 'quoted' or 'unsigned'" in found["jwt_body"][1]


def test_caliper_format_rejects_event_types_without_a_caliper_form() -> None:
    found = problems_of({**WEBHOOK, "format": "caliper", "event_types": ["logged_in", "course_completed", "sis_batch_created"]})
    value, rule, allowed = found["event_types"]
    assert rule.startswith("no Caliper form for: course_completed, sis_batch_created")
    assert "logged_in" in allowed and "course_completed" not in allowed
    # The same types are fine in Canvas format.
    assert parse_subscription({**WEBHOOK, "event_types": ["course_completed"]}).event_types == ["course_completed"]


def test_duplicate_event_types_are_collapsed_in_order() -> None:
    subscription = parse_subscription({**WEBHOOK, "event_types": ["logged_out", "logged_in", "logged_out"]})
    assert subscription.event_types == ["logged_out", "logged_in"]


def test_strict_types_no_coercion() -> None:
    found = problems_of({**WEBHOOK, "active": "yes", "event_types": "grade_change"})
    assert set(found) == {"active", "event_types"}


@pytest.mark.parametrize(
    ("url", "allow_http", "ok"),
    [
        ("https://hooks.uni-example.org/x", False, True),
        ("http://127.0.0.1:8081/x", False, True),
        ("http://127.8.9.10/x", False, True),
        ("http://[::1]:9000/x", False, True),
        ("http://localhost:9000/x", False, True),
        ("http://receiver.localhost/x", False, True),
        ("http://hooks.uni-example.org/x", False, False),
        ("http://10.0.0.7/x", False, False),
        ("http://hooks.uni-example.org/x", True, True),
        ("ftp://hooks.uni-example.org/x", True, False),
        ("hooks.uni-example.org/x", False, False),
        ("https:///x", False, False),
        ("https://hooks.uni-example.org:99999/x", False, False),
        ("https://hooks.uni-example.org/x#frag", False, False),
        ("https://hooks.uni-example.org/h\x00ook", False, False),
        ("https://hooks.uni-example.org/a b", False, False),
        ("https://hooks.uni-example.org/a\nb", False, False),
        ("https://hooks.uni-example.org/a%20b", False, True),
        ("https://169.254.169.254/latest/meta-data/", False, False),
        ("http://169.254.169.254/latest/meta-data/", True, False),
        ("https://[fe80::1]/x", False, False),
        ("https://[::ffff:169.254.169.254]/x", False, False),
        ("https://169.255.0.1/x", False, True),
    ],
)
def test_destination_rules(url: str, allow_http: bool, ok: bool) -> None:
    assert (destination_problem(url, allow_http=allow_http) is None) is ok


def test_a_url_with_a_space_or_a_control_character_is_refused_with_the_rule() -> None:
    value, rule, _ = problems_of({**WEBHOOK, "url": "https://hooks.uni-example.org/canvas events"})["url"]
    assert value == "https://hooks.uni-example.org/canvas events"
    assert rule == "a URL holds no spaces or control characters (percent-encode them, e.g. %20)"


def test_allow_http_is_passed_in() -> None:
    plain = {**WEBHOOK, "url": "http://hooks.uni-example.org/canvas"}
    assert "url" in problems_of(plain)
    assert parse_subscription(plain, allow_http=True).url == "http://hooks.uni-example.org/canvas"


def test_loopback_hosts() -> None:
    assert is_loopback_host("LOCALHOST.")
    assert not is_loopback_host("localhost.uni-example.org")
    assert not is_loopback_host("128.0.0.1")


def test_sqs_fifo_needs_opt_in() -> None:
    fifo = {**QUEUE, "url": QUEUE["url"] + ".fifo"}
    value, rule, _ = problems_of(fifo)["sqs_fifo"]
    assert value is False and "FIFO" in rule
    assert parse_subscription({**fifo, "sqs_fifo": True}).sqs_fifo is True
    assert problems_of({**QUEUE, "sqs_fifo": True})["sqs_fifo"][1] == "sqs_fifo is for a queue URL ending in '.fifo'"
    assert parse_subscription(QUEUE).sqs_fifo is False


def test_sqs_credentials_go_together_and_region_is_checked() -> None:
    found = problems_of({**QUEUE, "aws_access_key_id": "AKIAEXAMPLE", "aws_region": "Frankfurt"})
    assert set(found) == {"aws_secret_access_key", "aws_region"}
    both = parse_subscription({**QUEUE, "aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "s3cr3t", "aws_region": "eu-central-1"})
    assert both.aws_secret_access_key is not None and both.aws_secret_access_key.get_secret_value() == "s3cr3t"


def test_sqs_url_must_end_in_a_queue_name() -> None:
    assert "queue name" in problems_of({**QUEUE, "url": "https://sqs.eu-central-1.amazonaws.com/"})["url"][1]


def test_sqs_region_from_aws_queue_urls() -> None:
    assert sqs_region(QUEUE["url"]) == "eu-central-1"
    assert sqs_region("https://us-west-2.queue.amazonaws.com/1/q") == "us-west-2"
    assert sqs_region("http://127.0.0.1:4566/000000000000/q") is None


def test_secrets_never_in_public_view_repr_or_errors() -> None:
    subscription = parse_subscription({**CALIPER, "url": "https://svc:pw-123@lrs.uni-example.org/s?api_key=k-999&x=1"})
    shown = json.dumps(subscription.public()) + repr(subscription) + str(subscription)
    for secret in ("lrs-token-4711", "pw-123", "k-999"):
        assert secret not in shown
    assert subscription.public()["has_bearer_token"] is True
    assert subscription.public()["url"] == "https://svc:****@lrs.uni-example.org/s?api_key=****&x=1"
    with pytest.raises(SubscriptionError) as caught:
        parse_subscription({**WEBHOOK, "bearer_token": "do-not-echo"})
    assert "do-not-echo" not in str(caught.value) + json.dumps(caught.value.as_dict())
    assert caught.value.as_dict()["problems"][0]["value"] == "[secret]"


def test_sqs_public_view_has_key_id_not_secret() -> None:
    subscription = parse_subscription({**QUEUE, "aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "s3cr3t"})
    assert subscription.public() == {
        "id": subscription.id,
        "name": "Warehouse",
        "delivery_method": "sqs",
        "format": "canvas",
        "url": QUEUE["url"],
        "event_types": ["course_created"],
        "active": True,
        "redact_tokens": True,
        "retry_profile": "durable",
        "aws_access_key_id": "AKIAEXAMPLE",
        "sqs_fifo": False,
        "has_aws_secret_access_key": True,
    }


def test_record_round_trip_keeps_secrets_and_ignores_allow_http() -> None:
    subscription = parse_subscription({**CALIPER, "url": "http://lrs.uni-example.org/"}, allow_http=True)
    record = json.loads(json.dumps(subscription.to_record()))
    assert record["bearer_token"] == "lrs-token-4711"
    assert Subscription.from_record(record) == subscription


def test_patch_applies_and_revalidates() -> None:
    subscription = parse_subscription(WEBHOOK)
    changed = subscription.patched({"active": False, "jwt_body": "quoted"}, allow_http=False)
    assert (changed.id, changed.active, changed.jwt_body, changed.name) == (subscription.id, False, "quoted", "Gradebook sync")
    found = {p.field for p in pytest.raises(SubscriptionError, subscription.patched, {"event_types": ["nope"]}, allow_http=False).value.problems}
    assert found == {"event_types"}


def test_patch_accepts_what_the_client_read() -> None:
    subscription = parse_subscription({**CALIPER, "url": "https://lrs.uni-example.org/s?token=t0p"})
    echoed = {**subscription.public(), "name": "LRS 2"}
    changed = subscription.patched(echoed, allow_http=False)
    assert changed.name == "LRS 2"
    assert changed.url == "https://lrs.uni-example.org/s?token=t0p"  # not the masked form
    assert changed.bearer_token == subscription.bearer_token
    with pytest.raises(SubscriptionError) as caught:
        subscription.patched({"id": "other"}, allow_http=False)
    assert [(p.field, p.rule) for p in caught.value.problems] == [("id", "read-only")]


def test_patch_changing_method_drops_old_method_fields() -> None:
    subscription = parse_subscription(CALIPER)
    webhook = subscription.patched({"delivery_method": "https"}, allow_http=False)
    assert (webhook.bearer_token, webhook.format, webhook.jwt_body) == (None, "canvas", "raw")


def test_non_object_input() -> None:
    assert problems_of(["not", "an", "object"]) == {"": ("list", "a subscription is a JSON object", ())}


def test_mask_url_leaves_plain_urls_alone() -> None:
    assert mask_url("https://hooks.uni-example.org/a?b=1") == "https://hooks.uni-example.org/a?b=1"
    assert mask_url("https://user@hooks.uni-example.org/") == "https://user@hooks.uni-example.org/"


def test_json_schema_for_openapi() -> None:
    schema = Subscription.model_json_schema()
    assert schema["properties"]["delivery_method"]["enum"] == ["https", "sqs", "caliper"]
    assert set(schema["required"]) == {"name", "delivery_method", "url", "event_types"}
