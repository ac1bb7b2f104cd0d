"""Groups, group categories and group memberships (``canvas-to-caliper.md`` §5.1, §8 T6)."""

from __future__ import annotations

from liveevents.caliper.shapes import Field, Shape, entity_id, extensions, nested, reference, text

__all__ = ["GROUP", "GROUP_CATEGORY", "GROUP_MEMBERSHIP", "GROUP_MEMBERSHIP_STRICT"]

_CATEGORY: Field = reference("isPartOf", "groupCategory", "group_category_id", "Entity", text("name", "group_category_name"))
_MEMBER: Field = reference("member", "user", "user_id", "Person")

GROUP_CATEGORY = Shape(
    "groupCategory", "group_category_id", "Entity",
    text("name", "group_category_name"),
    extensions(entity_id("group_category_id")),
)  # fmt: skip


def _group(entity_id_source: str) -> Shape:
    return Shape(
        "group", "group_id", "Group",
        text("name", "group_name"),
        extensions(entity_id(entity_id_source)),
        _CATEGORY,
    )  # fmt: skip


GROUP = _group("group_id")

# Canvas-compatible (the documented example): the membership has no extensions and its own id
# sits in its organization's (the group's) extensions as entity_id.
GROUP_MEMBERSHIP = Shape("groupMembership", "group_membership_id", "Membership", _MEMBER, nested("organization", _group("group_membership_id")))

# Strict profile: each entity_id on its own entity, as the event's Caliper schema says.
GROUP_MEMBERSHIP_STRICT = Shape(
    "groupMembership", "group_membership_id", "Membership",
    extensions(entity_id("group_membership_id")),
    _MEMBER,
    nested("organization", GROUP),
)  # fmt: skip
