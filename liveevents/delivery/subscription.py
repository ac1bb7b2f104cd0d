"""A subscription: which event types go where, in which format, by which delivery method.

Instructure's data streams have a name, one delivery method, a format and the selected event
types (``delivery.md`` §4.1); ours add what a self-hosted sender needs: the JWT body style for
consumers written against Instructure's quoted-JWT quirk (§4.2), the SQS FIFO opt-in (§4.3),
the T19 token redaction switch, the retry profile (§7) and an optional notification URL.

:func:`parse_subscription` validates input from an operator and reports *every* problem at
once, each naming the field, the value and the rule (with the valid names where there is a
list).  Secrets (``bearer_token``, ``aws_secret_access_key``) are ``SecretStr``: they never
appear in ``repr``, in error reports or in :meth:`Subscription.public`; only
:meth:`Subscription.to_record` (for the store) reveals them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from liveevents.canvas.catalog import CANVAS_EVENT_TYPES
from liveevents.delivery.urls import destination_problem, is_valid_queue_name, looks_secret, mask_url, sqs_queue_name

__all__ = [
    "DeliveryMethod",
    "FieldProblem",
    "JwtBody",
    "MessageFormat",
    "RetryProfile",
    "Subscription",
    "SubscriptionError",
    "field_problems",
    "parse_subscription",
]

DeliveryMethod = Literal["https", "sqs", "caliper"]
MessageFormat = Literal["canvas", "caliper"]
#: ``raw``: the compact JWT as the body (``application/jwt``); ``quoted``: the JWT as a JSON
#: string (``application/json``), as Instructure is observed to send it; ``unsigned``: the
#: message JSON itself (Instructure's "Sign Payload" switched off).
JwtBody = Literal["raw", "quoted", "unsigned"]
RetryProfile = Literal["durable", "instructure"]

# Fields that belong to one delivery method only (``None`` for the others).
_METHOD_FIELDS: dict[str, DeliveryMethod] = {
    "jwt_body": "https",
    "bearer_token": "caliper",
    "aws_access_key_id": "sqs",
    "aws_secret_access_key": "sqs",
    "aws_region": "sqs",
    "sqs_fifo": "sqs",
}
SECRET_FIELDS = frozenset({"bearer_token", "aws_secret_access_key"})
_SECRET_SHOWN_AS = "[secret]"
_AWS_REGION = r"^[a-z]{2}(-[a-z]+)+-\d+$"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One broken rule: ``field`` (dotted path), the offending ``value`` (``None`` when missing;
    secrets shown as ``[secret]``), the ``rule`` and, where the rule is a list, the ``allowed`` values."""

    field: str
    value: Any
    rule: str
    allowed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        problem = {"field": self.field, "value": self.value, "rule": self.rule}
        if self.allowed:
            problem["allowed"] = list(self.allowed)
        return problem

    def __str__(self) -> str:
        text = f"{self.field or 'subscription'}: {self.value!r}: {self.rule}"
        return f"{text} (valid: {', '.join(self.allowed)})" if self.allowed else text


class SubscriptionError(ValueError):
    """Invalid subscription input; ``problems`` lists every broken rule."""

    subject = "subscription"

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"invalid {self.subject}: " + "; ".join(map(str, self.problems)))

    def as_dict(self) -> dict[str, Any]:
        return {"error": f"invalid {self.subject}", "problems": [problem.as_dict() for problem in self.problems]}


def _broken(rule: str, allowed: Iterable[str] = ()) -> PydanticCustomError:
    return PydanticCustomError("subscription_rule", "{rule}", {"rule": rule, "allowed": tuple(allowed)})


class Subscription(BaseModel):
    """A validated subscription.  Build one with :func:`parse_subscription` (operator input) or
    :meth:`from_record` (the store); change one with :meth:`patched`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, str_strip_whitespace=True)

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), description="Assigned by the service.")
    name: str = Field(min_length=1, max_length=200)
    delivery_method: DeliveryMethod
    format: MessageFormat = Field("canvas", description="Default: 'caliper' for delivery_method 'caliper', else 'canvas'.")
    url: str = Field(description="Webhook URL, SQS queue URL or IMS Caliper endpoint.")
    event_types: list[str] = Field(min_length=1, description="Canvas event names (event_name).")
    active: bool = True
    redact_tokens: bool = Field(True, description="Blank access_token query values in URLs (T19).")
    retry_profile: RetryProfile = "durable"
    notification_url: str | None = Field(
        None,
        description="POSTed a JSON notice when the service deactivates the subscription because its deliveries keep "
        "failing, and (durable profile) once after 3 days without a successful delivery; none when an operator deactivates it.",
    )
    jwt_body: JwtBody | None = Field(None, validate_default=True, description="https only; default 'raw'.")
    bearer_token: SecretStr | None = Field(None, validate_default=True, description="caliper only, required.")
    aws_access_key_id: str | None = Field(None, min_length=1)
    aws_secret_access_key: SecretStr | None = Field(None, validate_default=True)
    aws_region: str | None = Field(None, pattern=_AWS_REGION)
    sqs_fifo: bool | None = Field(None, validate_default=True, description="sqs only: opt in to a .fifo queue.")

    @model_validator(mode="before")
    @classmethod
    def _defaults_by_method(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        method = data.get("delivery_method")
        defaults: dict[str, Any] = {"format": "caliper" if method == "caliper" else "canvas"}
        if method == "https":
            defaults["jwt_body"] = "raw"
        elif method == "sqs":
            defaults["sqs_fifo"] = False
        return {**defaults, **{key: value for key, value in data.items() if value is not None or key not in defaults}}

    @field_validator("format")
    @classmethod
    def _format_fits_method(cls, value: MessageFormat, info: ValidationInfo) -> MessageFormat:
        if info.data.get("delivery_method") == "caliper" and value != "caliper":
            raise _broken("an IMS Caliper endpoint takes Caliper envelopes: format must be 'caliper'", ("caliper",))
        return value

    @field_validator("url")
    @classmethod
    def _deliverable_url(cls, value: str, info: ValidationInfo) -> str:
        problem = destination_problem(value, allow_http=_allow_http(info), stored=_stored(info))
        if problem is None and info.data.get("delivery_method") == "sqs" and not is_valid_queue_name(sqs_queue_name(value)):
            problem = "an SQS queue URL ends with the queue name (1-80 letters, digits, '-', '_', optionally '.fifo')"
        if problem is not None:
            raise _broken(problem)
        return value

    @field_validator("notification_url")
    @classmethod
    def _deliverable_notification_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        problem = None if value is None else destination_problem(value, allow_http=_allow_http(info), stored=_stored(info))
        if problem is not None:
            raise _broken(problem)
        return value

    @field_validator("event_types")
    @classmethod
    def _known_event_types(cls, value: list[str], info: ValidationInfo) -> list[str]:
        unknown = [name for name in value if name not in CANVAS_EVENT_TYPES]
        if unknown:
            raise _broken(f"not documented Canvas event types: {', '.join(unknown)}", sorted(CANVAS_EVENT_TYPES))
        if info.data.get("format") == "caliper":
            # Imported here: the Caliper mapping tables are needed only for Caliper subscriptions.
            from liveevents.caliper.registry import caliper_event_types

            mapped = caliper_event_types()
            unmapped = [name for name in value if name not in mapped]
            if unmapped:
                raise _broken(
                    f"no Caliper form for: {', '.join(unmapped)} (use format 'canvas' for these)", sorted(mapped)
                )
        return list(dict.fromkeys(value))

    @field_validator(*_METHOD_FIELDS)
    @classmethod
    def _belongs_to_method(cls, value: Any, info: ValidationInfo) -> Any:
        method = info.data.get("delivery_method")
        owner = _METHOD_FIELDS[info.field_name or ""]
        if method is None:  # already reported
            return value
        if value is not None and method != owner:
            raise _broken(f"only for delivery_method '{owner}'")
        if method == owner:
            _check_method_field(info.field_name or "", value, info.data)
        return value

    # -- views ------------------------------------------------------------------------------

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # Operators embed credentials in webhook URLs; a logged repr must not carry them.
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name in ("url", "notification_url") and value else value

    def public(self) -> dict[str, Any]:
        """The JSON the API and CLI show: no secrets (``has_bearer_token`` etc. instead) and
        URLs with embedded credentials masked."""
        view = self.model_dump(mode="json", exclude=set(SECRET_FIELDS), exclude_none=True)
        view["url"] = mask_url(self.url)
        if self.notification_url is not None:
            view["notification_url"] = mask_url(self.notification_url)
        if self.delivery_method == "caliper":
            view["has_bearer_token"] = self.bearer_token is not None
        elif self.delivery_method == "sqs":
            view["has_aws_secret_access_key"] = self.aws_secret_access_key is not None
        return view

    def to_record(self) -> dict[str, Any]:
        """Everything, secrets revealed, as JSON-compatible values: what the store keeps."""
        record = self.model_dump(mode="python", exclude_none=True)
        for name in SECRET_FIELDS & record.keys():
            record[name] = record[name].get_secret_value()
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Subscription:
        """Rebuild a stored subscription.  It was validated when it was stored, so the
        plain-HTTP rule (a setting that may have changed since) is not applied again, nor the
        link-local rule: a URL stored before its host was recognised as link-local (a legacy
        spelling such as ``https://0xa9fea9fe/``) must still load, to be seen, fixed or deleted;
        the senders refuse it at every send."""
        return cls.model_validate(dict(record), context={"allow_http": True, "stored": True})

    def patched(self, changes: Mapping[str, Any], *, allow_http: bool) -> Subscription:
        """This subscription with ``changes`` applied (``None`` clears an optional field), re-validated.

        Read-only keys of :meth:`public` (``id``, ``has_*``) and a masked URL are accepted when
        they are sent back unchanged, so a client may PATCH what it read.  Changing the
        delivery method drops the fields of the old method that ``changes`` does not restate.
        """
        view = self.public()
        record = self.to_record()
        problems = []
        changes = dict(changes)
        for key in ("id", "has_bearer_token", "has_aws_secret_access_key"):
            if key in changes and changes.pop(key) != view.get(key):
                problems.append(FieldProblem(key, None if key == "id" else view.get(key), "read-only"))
        for key in ("url", "notification_url"):
            if key in changes and key in view and changes[key] == view[key]:
                changes[key] = record[key]
        method = changes.get("delivery_method", self.delivery_method)
        if method != self.delivery_method:
            for key in _METHOD_FIELDS.keys() - changes.keys():
                record.pop(key, None)
            if "format" not in changes:
                record.pop("format")
        record.update(changes)
        return _validate(record, allow_http=allow_http, problems=problems)


def parse_subscription(data: object, *, allow_http: bool = False) -> Subscription:
    """Validate operator input (a decoded JSON object) into a new :class:`Subscription`.

    ``allow_http``: the service's ``LIVEEVENTS_ALLOW_HTTP`` setting (plain ``http://`` to
    non-loopback hosts).  Raises :class:`SubscriptionError` listing every problem.
    """
    if not isinstance(data, Mapping):
        raise SubscriptionError([FieldProblem("", _json_type(data), "a subscription is a JSON object")])
    problems = [FieldProblem("id", data["id"], "assigned by the service")] if "id" in data else []
    return _validate({key: value for key, value in data.items() if key != "id"}, allow_http=allow_http, problems=problems)


def _validate(data: dict[str, Any], *, allow_http: bool, problems: list[FieldProblem]) -> Subscription:
    try:
        subscription = Subscription.model_validate(data, context={"allow_http": allow_http})
    except ValidationError as error:
        raise SubscriptionError([*problems, *field_problems(error, Subscription)]) from None
    if problems:
        raise SubscriptionError(problems)
    return subscription


def field_problems(error: ValidationError, model: type[BaseModel]) -> list[FieldProblem]:
    """The problems of a pydantic validation ``error`` of ``model`` (secret values hidden)."""
    return [_problem(detail, tuple(model.model_fields)) for detail in error.errors(include_url=False)]


def _problem(error: Any, fields: tuple[str, ...]) -> FieldProblem:
    field = ".".join(str(part) for part in error["loc"])
    value = None if error["type"] == "missing" else _shown(field.split(".")[0], error["input"], known=field.split(".")[0] in fields)
    ctx = error.get("ctx") or {}
    match error["type"]:
        case "missing":
            rule = "required"
        case "extra_forbidden":
            # id is assigned by the service (refused on create, read-only on update): not one to send.
            return FieldProblem(field, value, "unknown field", tuple(name for name in fields if name != "id"))
        case _:
            rule = error["msg"]
    return FieldProblem(field, value, rule, tuple(ctx.get("allowed", ())))


def _shown(name: str, value: Any, *, known: bool) -> Any:
    """``value`` of field ``name`` as an error report may echo it: secrets (and the values of
    unknown fields named like one, a misspelt secret) hidden, URL credentials masked."""
    if value is None:
        return None
    if name in SECRET_FIELDS or (not known and looks_secret(name)):
        return _SECRET_SHOWN_AS
    if name in ("url", "notification_url") and isinstance(value, str):
        return mask_url(value)
    return value


def _allow_http(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("allow_http"))


def _stored(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("stored"))


def _check_method_field(name: str, value: Any, data: Mapping[str, Any]) -> None:
    """Rules of a field that belongs to the subscription's own delivery method."""
    if name == "bearer_token" and (value is None or not value.get_secret_value()):
        raise _broken("required for delivery_method 'caliper' (the endpoint's Bearer token)")
    if name == "aws_secret_access_key" and (value is None) != (data.get("aws_access_key_id") is None):
        raise _broken("aws_access_key_id and aws_secret_access_key are given together or not at all")
    if name == "sqs_fifo":
        url = data.get("url")
        is_fifo_queue = isinstance(url, str) and sqs_queue_name(url).endswith(".fifo")
        if is_fifo_queue and not value:
            raise _broken(
                "the URL names a FIFO queue (.fifo), which Instructure does not support; "
                "set sqs_fifo to true to deliver to it anyway (MessageGroupId = partition key)"
            )
        if value and not is_fifo_queue and url is not None:
            raise _broken("sqs_fifo is for a queue URL ending in '.fifo'")


def _json_type(value: object) -> str:
    return "null" if value is None else type(value).__name__
