"""logged_in / logged_out: the object is Canvas itself, the edApp (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from typing import Any

from liveevents.caliper.shapes import Body, Entity
from liveevents.caliper.values import canvas_extensions

__all__ = ["session_application"]


def session_application(body: Body, metadata: Body, actor: Entity, app: Entity) -> Entity:
    application: dict[str, Any] = {"id": app["id"], "type": "SoftwareApplication"}
    redirect_url = body.get("redirect_url")
    if redirect_url is not None:
        application["extensions"] = canvas_extensions({"redirect_url": redirect_url})
    return application
