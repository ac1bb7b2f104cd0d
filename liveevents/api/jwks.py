"""``GET /.well-known/jwks.json``: the public keys of the webhook JWTs (no authentication).

Previous, current and next key, in that order, as Instructure publishes them; consumers
(``PyJWKClient``, Nimbus, the PHP receivers of ``delivery.md`` §6) fetch it by URL, cache it
and refetch on an unknown ``kid``.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from liveevents.delivery.keys import KeyStore

__all__ = ["jwks_router"]

# Consumers cache anyway (the known ones for up to an hour); a new key is published a whole
# rotation period before it signs, so a short cache here costs nothing.
CACHE_CONTROL = "public, max-age=300"


def jwks_router(keys: KeyStore) -> APIRouter:
    router = APIRouter(tags=["keys"])

    @router.get("/.well-known/jwks.json", summary="The JWKS of the webhook JWTs (previous, current, next)")
    async def jwks() -> JSONResponse:
        document = await asyncio.to_thread(keys.jwks)
        return JSONResponse(document, headers={"Cache-Control": CACHE_CONTROL})

    return router
