"""asset_accessed → NavigationEvent/NavigatedTo: the object per asset type (``canvas-to-caliper.md`` §5.4).

Written out by hand rather than as a Shape: this is ~70% of real traffic, and its object mixes
body and metadata fields and picks its id, type and name by ``asset_type``.
"""

from __future__ import annotations

from typing import Any

from liveevents.caliper.shapes import Body, Entity
from liveevents.caliper.values import iri_safe, required_id
from liveevents.caliper.vocabulary import CANVAS_EXTENSIONS, URN_PREFIX
from liveevents.canvas.record import MISSING, RecordError

__all__ = ["ASSET_KINDS", "BODY_FIELDS", "METADATA_FIELDS", "asset_object"]

# asset_type -> (URN kind, Caliper type) for the three assets with a Caliper type of their own;
# every other asset (and, by policy, any undocumented one) is an Entity named by its subtype.
_TYPED_ASSETS: dict[str, tuple[str, str]] = {
    "assignment": ("assignment", "AssignableDigitalResource"),
    "discussion_topic": ("discussion", "Thread"),
    "wiki_page": ("wikiPage", "Page"),
}
METADATA_FIELDS = ("context_account_id", "http_method", "developer_key_id")
# Only context_external_tool (url, domain) and attachment (filename, display_name) bodies carry
# these; emitted in this fixed order so the output never depends on the input's key order.
BODY_FIELDS = ("url", "domain", "filename", "display_name")


class _AssetKinds(dict[str, tuple[str, str | None]]):
    """asset_type -> (its URN prefix, its Caliper type or None for a named Entity), each asset
    type checked once: a dozen types make up all traffic."""

    def __missing__(self, asset_type: str) -> tuple[str, str | None]:
        if not asset_type or not iri_safe(asset_type):
            raise RecordError("body.asset_type", asset_type, _ASSET_TYPE_RULE)
        kind, caliper_type = _TYPED_ASSETS.get(asset_type, (asset_type, None))
        found = (URN_PREFIX + kind + ":", caliper_type)
        if len(self) < 1024:  # bounded: asset types come from the records
            self[asset_type] = found
        return found


ASSET_KINDS = _AssetKinds()
_ASSET_TYPE_RULE = "required: the type of the asset accessed, such as 'wiki_page'"


def asset_object(body: Body, metadata: Body, actor: Entity, app: Entity) -> Entity:
    get = body.get
    asset_type = get("asset_type", MISSING)
    if type(asset_type) is not str:
        raise RecordError("body.asset_type", asset_type, _ASSET_TYPE_RULE)
    prefix, caliper_type = ASSET_KINDS[asset_type]
    asset_id = get("asset_id")
    if type(asset_id) is not str or not asset_id.isalnum():  # digits: no call needed
        asset_id = required_id(body, "asset_id")
    subtype = get("asset_subtype")
    if caliper_type is None:
        # A subtype that is not a string (never seen from Canvas) names nothing: the type does.
        entity: dict[str, Any] = {"id": prefix + asset_id, "type": "Entity", "name": subtype if type(subtype) is str else asset_type}
    else:
        entity = {"id": prefix + asset_id, "type": caliper_type}

    extensions: dict[str, Any] = {}
    name = get("asset_name")
    if name is not None:
        extensions["asset_name"] = name
    extensions["asset_type"] = asset_type
    if subtype is not None:
        extensions["asset_subtype"] = subtype
    extensions["entity_id"] = asset_id
    for key in METADATA_FIELDS:
        value = metadata.get(key)
        if value is not None:
            extensions[key] = value
    for key in BODY_FIELDS:
        value = get(key)
        if value is not None:
            extensions[key] = value
    entity["extensions"] = {CANVAS_EXTENSIONS: extensions}
    return entity
