"""Requests signed by botocore's own SigV4 signer, for exercising the verifier with real signatures."""

from __future__ import annotations

from datetime import datetime, timezone
from unittest import mock

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.helpers.service import KNOWN_SECRETS, REGION

__all__ = ["signed_kinesis_request"]


def signed_kinesis_request(
    url: str,
    target: str,
    body: bytes,
    *,
    access_key_id: str = KNOWN_SECRETS["kinesis_access_key_id"],
    secret_access_key: str = KNOWN_SECRETS["kinesis_secret_access_key"],
    region: str = REGION,
    service: str = "kinesis",
    at: datetime | None = None,
    content_sha256: bool = False,
    extra_headers: dict[str, str] | None = None,
    sign_target: bool = True,
) -> tuple[dict[str, str], bytes]:
    """Headers (with ``Authorization``) and body of a Kinesis call signed at ``at`` (default now).

    ``content_sha256=True`` adds and signs ``X-Amz-Content-Sha256`` as the Ruby SDK (Canvas) does.
    ``sign_target=False`` adds ``X-Amz-Target`` after signing (a signature that does not cover it).
    """
    headers = {"Content-Type": "application/x-amz-json-1.1", **(extra_headers or {})}
    if sign_target:
        headers["X-Amz-Target"] = f"Kinesis_20131202.{target}"
    request = AWSRequest(method="POST", url=url, data=body, headers=headers)
    if content_sha256:
        request.headers["X-Amz-Content-Sha256"] = botocore.auth.SigV4Auth(Credentials("x", "y"), service, region).payload(request)
    moment = at or datetime.now(timezone.utc)
    with mock.patch.object(botocore.auth, "get_current_datetime", lambda: moment.replace(tzinfo=None)):
        SigV4Auth(Credentials(access_key_id, secret_access_key), service, region).add_auth(request)
    if not sign_target:
        request.headers["X-Amz-Target"] = f"Kinesis_20131202.{target}"
    prepared = request.prepare()
    return dict(prepared.headers.items()), body
