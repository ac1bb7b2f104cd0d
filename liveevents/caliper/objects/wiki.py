"""Wiki pages (``canvas-to-caliper.md`` §5.1)."""

from __future__ import annotations

from liveevents.caliper.shapes import Shape, copy, entity_id, extensions, text

__all__ = ["WIKI_PAGE"]

# The page body is an extension: Caliper's Page has no body property. old_title/old_body are dropped.
WIKI_PAGE = Shape(
    "wikiPage", "wiki_page_id", "Page",
    text("name", "title"),
    extensions(copy("body"), entity_id("wiki_page_id")),
)  # fmt: skip
