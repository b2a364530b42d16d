"""The served-text conventions every format writes and the passage splitter reads.

Extracted text is a light Markdown: `# Heading` lines, paragraphs separated by blank lines, list
items (`- item`, `1. item`) and table rows (`cell | cell`) one per line, code between ``` fences.
Citations point into this text, so it must read well as it is; the splitter learns from the same
marks where a line break is hard (a list item, a table row, a code line: an answer never runs
across it) and where it is only a wrap (a PDF line, a Markdown paragraph typed at 80 columns)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# YAML front matter at the very top of a Markdown file: metadata, not text to answer from.
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\S")
_TABLE_ROW = re.compile(r" \| |^\|.*\|\s*$")


@dataclass(frozen=True)
class Extracted:
    """Text ready for the splitter, an optional title, and (PDF only) page character ranges."""

    text: str
    title: str | None
    pages: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Block:
    """A run of lines between blank lines (`text[start:end]`); `code`: inside a fence, where
    blank lines do not end it and nothing is a heading."""

    start: int
    end: int
    code: bool = False


def one_line(text: str) -> str:
    """Collapse whitespace runs, as a browser renders them."""
    return re.sub(r"\s+", " ", text).strip()


def heading(level: int, text: str) -> str:
    return f"{'#' * min(max(level, 1), 6)} {text}"


def paragraph(text: str) -> str:
    """Body text that would read as a heading, a fence or a list item is shifted by a space."""
    return " " + text if re.match(r"#{1,6}\s|`{3}|~{3}", text) else text


def code_block(code: str) -> str:
    """Code lines as they are (trailing spaces and blank edges trimmed) between fences that no
    line of the code can close."""
    lines = [line.rstrip() for line in code.replace("\r\n", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        return ""
    fence = "`" * max([3] + [len(m.group(1)) + 1 for m in map(_FENCE.match, lines) if m])
    return "\n".join([fence, *lines, fence])


def blocks_to_text(blocks: list[str]) -> str:
    return "\n\n".join(b for b in blocks if b.strip()) + "\n"


def scan_blocks(text: str) -> list[Block]:
    """The blocks of a served text in order. A fenced code block is one block whatever blank
    lines it holds (the fence lines themselves belong to no block); an unclosed fence runs on
    to the end, as Markdown renders it. Front matter is no block."""
    found: list[Block] = []
    matter = FRONT_MATTER.match(text)
    pos, start, fence = (matter.end() if matter else 0), None, None
    for line in text[pos:].splitlines(keepends=True):
        body = line.rstrip("\r\n")
        marker = _FENCE.match(body)
        if fence is not None and marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence) \
                and not body.strip(" `~"):
            if start is not None:
                found.append(Block(start, pos, True))
            start, fence = None, None
        elif fence is not None:
            start = pos if start is None and body.strip() else start
        elif marker:
            if start is not None:
                found.append(Block(start, pos))
            start, fence = None, marker.group(1)
        elif body.strip():
            start = pos if start is None else start
        elif start is not None:
            found.append(Block(start, pos))
            start = None
        pos += len(line)
    if start is not None:
        found.append(Block(start, pos, fence is not None))
    return [_trimmed(text, b) for b in found]


def _trimmed(text: str, block: Block) -> Block:
    """Without the whitespace that ends its range (leading spaces stay: they are indentation,
    or the shift that keeps a paragraph from reading as a heading)."""
    end = block.end
    while end > block.start and text[end - 1].isspace():
        end -= 1
    return Block(block.start, end, block.code)


def hard_line(line: str) -> bool:
    """A line that starts a line of its own: a list item or a table row."""
    return bool(_LIST_ITEM.match(line) or _TABLE_ROW.search(line))
