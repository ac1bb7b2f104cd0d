"""Discussions: entries (MessageEvent) and topics (ThreadEvent) (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from liveevents.caliper.shapes import Shape, copy, entity_id, extensions, reference, text

__all__ = ["DISCUSSION_ENTRY", "DISCUSSION_TOPIC"]

# No replyTo: the documented Message has no parent even when parent_discussion_entry_id is set.
DISCUSSION_ENTRY = Shape(
    "discussionEntry", "discussion_entry_id", "Message",
    extensions(entity_id("discussion_entry_id")),
    reference("isPartOf", "discussion", "discussion_topic_id", "Thread"),
    text("body", "text"),
)  # fmt: skip

DISCUSSION_TOPIC = Shape(
    "discussion", "discussion_topic_id", "Thread",
    text("name", "title"),
    extensions(copy("is_announcement"), entity_id("discussion_topic_id")),
)  # fmt: skip
