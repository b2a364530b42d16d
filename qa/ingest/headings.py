"""Heading lines of a document text (Markdown `#` marks outside code fences, as every format's
extraction writes them): the title, each heading with its offsets, and the trail of headings
above an offset. The splitter makes sections from the same rule, so what a page shows as
headings made the sections."""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.ingest.markup import scan_blocks

# Anchored, so it is never tried at every position of a long whitespace run (unanchored, it took
# time quadratic in a line of spaces).
HEADING = re.compile(r"^(#{1,6})\s+(\S(?:.*\S)?)\s*$")


def heading_text(raw: str) -> str:
    return raw.replace("**", "").replace("__", "").strip(" #*_")


@dataclass(frozen=True)
class Heading:
    """A heading line of a document text: `text[start:end]` is the line, its words start at
    `title_start` (after the `#` marks). The same rule as the splitter's, so a page that shows a
    document (GET /documents/{id}/view) styles exactly the headings that made its sections."""

    start: int
    end: int
    title_start: int
    level: int
    title: str


def headings(text: str) -> list[Heading]:
    found = []
    for block in scan_blocks(text):
        m = None if block.code else HEADING.match(text[block.start : block.end])
        if m:
            at = block.start
            found.append(Heading(at, at + m.end(2), at + m.start(2), len(m.group(1)), heading_text(m.group(2))))
    return found


def heading_trail(text: str, offset: int) -> list[str]:
    """The headings that `offset` stands under, outermost first ("Title", "Section", ...)."""
    trail: dict[int, str] = {}
    for h in headings(text):
        if h.start > offset:
            break
        trail = {level: title for level, title in trail.items() if level < h.level}
        trail[h.level] = h.title
    return [trail[level] for level in sorted(trail)]


def markdown_title(text: str) -> str | None:
    """The first level-1 heading's words, else the first heading's."""
    found = headings(text)
    top = next((h for h in found if h.level == 1), found[0] if found else None)
    return top.title if top else None
