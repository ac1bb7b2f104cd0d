"""Bearer-token checks (constant time) for the management API and HTTP ingest."""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request

from liveevents.api.runtime import get_runtime

__all__ = ["bearer_matches", "require_admin"]


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
