"""asset_accessed → NavigationEvent/NavigatedTo: the object per asset type (``canvas-to-caliper.md`` §5.4).

Written out by hand rather than as a Shape: this is ~70% of real traffic, and its object mixes
body and metadata fields and picks its id, type and name by ``asset_type``.
"""

from __future__ import annotations

from typing import Any

from liveevents.caliper.shapes import Body, Entity
from liveevents.caliper.values import iri_safe, required_id
from liveevents.caliper.vocabulary import CANVAS_EXTENSIONS, URN_PREFIX
from liveevents.canvas.record import RecordError

__all__ = ["asset_object"]

# asset_type -> (URN kind, Caliper type) for the three assets with a Caliper type of their own;
# every other asset (and, by policy, any undocumented one) is an Entity named by its subtype.
_TYPED_ASSETS: dict[str, tuple[str, str]] = {
    "assignment": ("assignment", "AssignableDigitalResource"),
    "discussion_topic": ("discussion", "Thread"),
    "wiki_page": ("wikiPage", "Page"),
}
_REQUEST_FIELDS = ("context_account_id", "http_method", "developer_key_id")
# Only context_external_tool (url, domain) and attachment (filename, display_name) bodies carry
# these; emitted in this fixed order so the output never depends on the input's key order.
_BODY_EXTRAS = ("url", "domain", "filename", "display_name")


def asset_object(body: Body, metadata: Body, actor: Entity, app: Entity) -> Entity:
    asset_type = body.get("asset_type")
    if type(asset_type) is not str or not asset_type or not iri_safe(asset_type):
        raise RecordError("body.asset_type", asset_type, "required: the type of the asset accessed, such as 'wiki_page'")
    asset_id = required_id(body, "asset_id")
    subtype = body.get("asset_subtype")
    typed = _TYPED_ASSETS.get(asset_type)
    if typed is None:
        entity: dict[str, Any] = {
            "id": URN_PREFIX + asset_type + ":" + asset_id,
            "type": "Entity",
            # A subtype that is not a string (never seen from Canvas) names nothing: the type does.
            "name": subtype if type(subtype) is str else asset_type,
        }
    else:
        entity = {"id": URN_PREFIX + typed[0] + ":" + asset_id, "type": typed[1]}

    extensions: dict[str, Any] = {}
    name = body.get("asset_name")
    if name is not None:
        extensions["asset_name"] = name
    extensions["asset_type"] = asset_type
    if subtype is not None:
        extensions["asset_subtype"] = subtype
    extensions["entity_id"] = asset_id
    get = metadata.get
    for key in _REQUEST_FIELDS:
        value = get(key)
        if value is not None:
            extensions[key] = value
    get = body.get
    for key in _BODY_EXTRAS:
        value = get(key)
        if value is not None:
            extensions[key] = value
    entity["extensions"] = {CANVAS_EXTENSIONS: extensions}
    return entity
