"""Documents -> Passages.

The document text is kept exactly as read (bar newline normalisation), because citations point
into it. Repairs for PDF-extraction scars (words hyphenated across breaks, captions dropped into an
article, paragraphs cut in two) happen only in each passage's cleaned *reading*, which carries a
per-character map back to document offsets.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from qa.text import SENTENCE_END, TERMINAL, TINY_WORDS, is_label
from qa.types import Document, Offsets, Passage

_BLOCK = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")
_HEADING = re.compile(r"^(#{1,6})\s+(.*\S)\s*$")
_CAPTION = re.compile(r"\(\s*photo\b|^photo\s*:", re.IGNORECASE)
# A hyphen before whitespace and a lower-case letter: an extraction scar, not a real dash.
_CLEAN_TOKEN = re.compile(r"[A-Za-z]-\s+(?=[a-z])|\s+|.", re.DOTALL)
FRAGMENT_WORDS = 4  # blocks this short are bylines, sub-heads or caption debris


def markdown_title(text: str) -> str | None:
    """The first level-1 Markdown heading, else the first heading of any level."""
    headings = [_HEADING.match(b.group()) for b in _BLOCK.finditer(text)]
    headings = [h for h in headings if h]
    for h in headings:
        if len(h.group(1)) == 1:
            return _heading_text(h.group(2))
    return _heading_text(headings[0].group(2)) if headings else None


def _heading_text(raw: str) -> str:
    return raw.replace("**", "").replace("__", "").strip(" #*_")


@dataclass
class _Block:
    start: int
    end: int
    raw: str

    @property
    def words(self) -> int:
        return len(self.raw.split())

    @property
    def complete(self) -> bool:
        return self.raw.rstrip().endswith(TERMINAL)

    @property
    def short(self) -> bool:
        return self.words <= FRAGMENT_WORDS and not self.complete

    @property
    def caption(self) -> bool:
        return bool(_CAPTION.search(self.raw))


@dataclass
class _Unit:
    kind: str
    section: tuple[str, str]  # (section title, heading trail)
    blocks: list[_Block]

    @property
    def complete(self) -> bool:
        return self.blocks[-1].complete

    @property
    def words(self) -> int:
        return sum(b.words for b in self.blocks)


def split_passages(doc: Document, max_words: int = 180) -> list[Passage]:
    """Paragraph-sized passages with their section and an exact map back to document offsets."""
    units = _merge_tiny(_group(doc.text))
    passages: list[Passage] = []
    for unit in units:
        clean, offsets = render(doc.text, [(b.start, b.end) for b in unit.blocks])
        for lo, hi in _chunks(clean, max_words):
            passages.append(_passage(doc.doc_id, unit, clean[lo:hi], offsets[lo:hi]))
    return passages


def _group(text: str) -> list[_Unit]:
    """Walk the blocks once: headings set the section; captions and runs of short fragments
    become caption passages; a paragraph that stops mid-sentence continues in the next one."""
    blocks = [_Block(m.start(), m.end(), m.group()) for m in _BLOCK.finditer(text)]
    units: list[_Unit] = []
    section, open_unit = ("", ""), None
    headings: dict[int, str] = {}
    i = 0
    while i < len(blocks):
        block = blocks[i]
        heading = _HEADING.match(block.raw)
        if heading:
            headings = {k: v for k, v in headings.items() if k < len(heading.group(1))}
            headings[len(heading.group(1))] = _heading_text(heading.group(2))
            section = _section(headings)
            open_unit = None
            i += 1
            continue
        run = _debris_run(blocks, i, open_unit)
        if run:
            units.append(_Unit("caption", section, blocks[i : i + run]))
            i += run
            continue
        if open_unit is not None and not open_unit.complete:
            open_unit.blocks.append(block)
        else:
            open_unit = _Unit("text", section, [block])
            units.append(open_unit)
        i += 1
    return units


def _section(headings: dict[int, str]) -> tuple[str, str]:
    """The innermost article-level heading (levels 1-3; column labels at 4+ only if nothing
    else), and that heading followed by the labels beneath it, for search."""
    article = [k for k in sorted(headings) if k <= 3]
    level = article[-1] if article else (max(headings) if headings else 0)
    if not level:
        return "", ""
    return headings[level], " / ".join(headings[k] for k in sorted(headings) if k >= level)


def _debris_run(blocks: list[_Block], i: int, open_unit: _Unit | None) -> int:
    """Length of the caption (or caption debris) starting at block i, or 0 if it is article text.

    A caption and the short fragments around it form one run. A lone short block is a byline or
    sub-head and stays with the text that follows, unless it sits inside a sentence that resumes
    in lower case after it; likewise an unfinished line before a caption belongs to the article
    when the article resumes in lower case after the caption."""
    j = i
    while j < len(blocks) and (blocks[j].short or blocks[j].caption) and not _HEADING.match(blocks[j].raw):
        j += 1
    run = j - i
    resumes_lower = j < len(blocks) and blocks[j].raw[:1].islower()
    has_caption = any(b.caption for b in blocks[i:j])
    if has_caption and run > 1 and not blocks[i].caption and resumes_lower:
        return 0  # blocks[i] opens the sentence that resumes after the caption
    if has_caption or run >= 2:
        return run
    interrupted = open_unit is not None and not open_unit.complete
    return run if run == 1 and interrupted and resumes_lower else 0


def _merge_tiny(units: list[_Unit]) -> list[_Unit]:
    """Fold stray few-word text units (a byline, a sub-head) into the next text unit of the same
    section, or the previous one when none follows, so no passage is a bare fragment."""
    merged: list[_Unit] = []
    carry: _Unit | None = None
    for unit in units:
        if unit.kind == "text" and carry is not None and carry.section == unit.section:
            unit.blocks = carry.blocks + unit.blocks
            carry = None
        if carry is not None and unit.kind == "text":
            _attach_to_previous(merged, carry)
            carry = None
        if unit.kind == "text" and unit.words < TINY_WORDS:
            carry = unit
            continue
        merged.append(unit)
    if carry is not None:
        _attach_to_previous(merged, carry)
    return merged


def _attach_to_previous(merged: list[_Unit], fragment: _Unit) -> None:
    previous = [u for u in merged if u.kind == "text" and u.section == fragment.section]
    if previous:
        previous[-1].blocks += fragment.blocks
    else:
        merged.append(fragment)


def render(text: str, pieces: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """The cleaned reading of `pieces` of `text`, and the document offset of each of its chars.

    Whitespace runs become one space; `develop-\nment` becomes `development`; `decision- makers`
    becomes `decision-makers`. Pieces are joined by a space (or glued across a hyphen break),
    except after a byline or sub-head, which keeps a line break so it reads as its own sentence."""
    joined, origin = [], []
    for start, end in pieces:
        if joined:
            joiner = "\n\n" if is_label(joined[-1]) and not text[start].islower() else "\n"
            joined.append(joiner)
            origin.extend([origin[-1] + 1] * len(joiner))
        joined.append(text[start:end])
        origin.extend(range(start, end))
    flat = "".join(joined)
    out, offsets = [], []
    for m in _CLEAN_TOKEN.finditer(flat):
        token = m.group()
        if len(token) > 1 and token[1] == "-":  # letter, hyphen, whitespace
            keep = token[:2] if "\n" not in token else token[:1]
            out.append(keep)
            offsets.extend(origin[m.start() : m.start() + len(keep)])
        else:
            out.append(("\n" if "\n\n" in token else " ") if token.isspace() else token)
            offsets.append(origin[m.start()])
    clean = "".join(out)
    lead = len(clean) - len(clean.lstrip())
    stripped = clean.strip()
    return stripped, offsets[lead : lead + len(stripped)]


def _chunks(clean: str, max_words: int) -> list[tuple[int, int]]:
    """Split a long reading at sentence ends into runs of at most `max_words` words."""
    if len(clean.split()) <= max_words:
        return [(0, len(clean))]
    bounds = [0] + [m.end() for m in SENTENCE_END.finditer(clean)] + [len(clean)]
    chunks, lo, words = [], 0, 0
    for a, b in zip(bounds, bounds[1:]):
        n = len(clean[a:b].split())
        if words and words + n > max_words:
            chunks.append((lo, a))
            lo, words = a, 0
        words += n
    chunks.append((lo, len(clean)))
    return [(lo, hi - (len(clean[lo:hi]) - len(clean[lo:hi].rstrip()))) for lo, hi in chunks]


def _passage(doc_id: str, unit: _Unit, text: str, offsets: list[int]) -> Passage:
    start, end = min(offsets), offsets[-1] + 1
    passage_id = hashlib.sha256(f"{doc_id}:{start}:{end}".encode()).hexdigest()[:16]
    title, trail = unit.section
    return Passage(passage_id, doc_id, title, unit.kind, start, end, text, Offsets(offsets), trail)
