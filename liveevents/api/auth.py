"""Bearer-token checks (constant time) for the management API, HTTP ingest and metrics."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from liveevents.api.runtime import get_runtime

__all__ = ["bearer_matches", "require_admin", "require_metrics_reader"]


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header value is ``Bearer <token>`` (compared in constant time)."""
    if not authorization:
        return False
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(presented.strip().encode(), token.encode())


def require_admin(request: Request) -> None:
    """FastAPI dependency guarding the management API with the admin token (401 otherwise)."""
    if not bearer_matches(request.headers.get("authorization"), get_runtime(request).secrets.admin_token):
        raise HTTPException(
            status_code=401,
            detail="a valid 'Authorization: Bearer <admin token>' header is required",
            headers={"WWW-Authenticate": 'Bearer realm="admin"'},
        )


def require_metrics_reader(request: Request) -> None:
    """FastAPI dependency guarding ``/metrics`` (its labels name subscriptions) with the metrics
    token or the admin token (401 otherwise), unless ``metrics_public`` opens it."""
    runtime = get_runtime(request)
    if runtime.settings.metrics_public:
        return
    authorization = request.headers.get("authorization")
    # Both compared every time, so the answer's timing does not tell which one came close.
    matches = [bearer_matches(authorization, token) for token in (runtime.secrets.metrics_token, runtime.secrets.admin_token)]
    if not any(matches):
        raise HTTPException(
            status_code=401,
            detail="a valid 'Authorization: Bearer <metrics token>' header (or the admin token) is required; metrics_public = true serves /metrics without one",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
