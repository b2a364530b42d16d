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

from qa.ingest.headings import HEADING, heading_text
from qa.ingest.markup import Block, hard_line, scan_blocks
from qa.text import SENTENCE_END, TERMINAL, TINY_WORDS, is_label
from qa.types import Document, Offsets, Passage

_CAPTION = re.compile(r"\(\s*photo\b|^photo\s*:", re.IGNORECASE)
# A hyphen before whitespace and a lower-case letter: an extraction scar, not a real dash.
_CLEAN_TOKEN = re.compile(r"[A-Za-z]-\s+(?=[a-z])|\s+|.", re.DOTALL)
_WORD_RUN = re.compile(r"\S+\s*")
# The hard bound on a passage's length, whatever its punctuation or spacing: reading time grows
# with passage length, and a one-line megabyte must not become one passage. Ordinary passages
# (max_passage_words of ~6-character words) stay well under it.
MAX_PASSAGE_CHARS = 2000
FRAGMENT_WORDS = 4  # blocks this short are bylines, sub-heads or caption debris


@dataclass
class _Block:
    start: int
    end: int
    raw: str
    code: bool = False

    @property
    def words(self) -> int:
        return len(self.raw.split())

    @property
    def hard(self) -> bool:
        """Code, a list or a table: its lines stand apart, and it is never caption debris."""
        return self.code or hard_line(self.raw.split("\n", 1)[0])

    @property
    def complete(self) -> bool:
        return self.hard or self.raw.rstrip().endswith(TERMINAL)

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
        clean, offsets = render(doc.text, unit.blocks)
        for lo, hi in _chunks(clean, max_words):
            passages.append(_passage(doc.doc_id, unit, clean[lo:hi], offsets[lo:hi]))
    return passages


def _group(text: str) -> list[_Unit]:
    """Walk the blocks once: headings set the section; captions and runs of short fragments
    become caption passages; a paragraph that stops mid-sentence continues in the next one."""
    blocks = [_Block(b.start, b.end, text[b.start : b.end], b.code) for b in scan_blocks(text)]
    runs = _runs(blocks)
    units: list[_Unit] = []
    section, open_unit = ("", ""), None
    headings: dict[int, str] = {}
    i = 0
    while i < len(blocks):
        block = blocks[i]
        heading = None if block.code else HEADING.match(block.raw)
        if heading:
            headings = {k: v for k, v in headings.items() if k < len(heading.group(1))}
            headings[len(heading.group(1))] = heading_text(heading.group(2))
            section = _section(headings)
            open_unit = None
            i += 1
            continue
        run = _debris_run(blocks, i, open_unit, runs)
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


def _runs(blocks: list[_Block]) -> tuple[list[int], list[int]]:
    """For each block: where the run of short or caption blocks starting there ends, and the
    first caption at or after it. One backward pass, so `_debris_run` need not scan forward from
    every block (quadratic in a file of many short paragraphs)."""
    ends, captions = [len(blocks)] * (len(blocks) + 1), [len(blocks)] * (len(blocks) + 1)
    for i in range(len(blocks) - 1, -1, -1):
        b = blocks[i]
        ends[i] = ends[i + 1] if (b.short or b.caption) and not HEADING.match(b.raw) and not b.hard else i
        captions[i] = i if b.caption else captions[i + 1]
    return ends, captions


def _debris_run(blocks: list[_Block], i: int, open_unit: _Unit | None, runs: tuple[list[int], list[int]]) -> int:
    """Length of the caption (or caption debris) starting at block i, or 0 if it is article text.

    A caption and the short fragments around it form one run. A lone short block is a byline or
    sub-head and stays with the text that follows, unless it sits inside a sentence that resumes
    in lower case after it; likewise an unfinished line before a caption belongs to the article
    when the article resumes in lower case after the caption."""
    j = runs[0][i]
    run = j - i
    resumes_lower = j < len(blocks) and blocks[j].raw[:1].islower()
    has_caption = runs[1][i] < j
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
    latest: dict[tuple[str, str], _Unit] = {}  # each section's last text unit in `merged`
    carry: _Unit | None = None
    for unit in units:
        if unit.kind == "text" and carry is not None and carry.section == unit.section:
            unit.blocks = carry.blocks + unit.blocks
            carry = None
        if carry is not None and unit.kind == "text":
            _attach_to_previous(merged, latest, carry)
            carry = None
        if unit.kind == "text" and unit.words < TINY_WORDS:
            carry = unit
            continue
        _append(merged, latest, unit)
    if carry is not None:
        _attach_to_previous(merged, latest, carry)
    return merged


def _attach_to_previous(merged: list[_Unit], latest: dict[tuple[str, str], _Unit], fragment: _Unit) -> None:
    previous = latest.get(fragment.section)
    if previous is not None:
        previous.blocks += fragment.blocks
    else:
        _append(merged, latest, fragment)


def _append(merged: list[_Unit], latest: dict[tuple[str, str], _Unit], unit: _Unit) -> None:
    """Append, remembering the section's last text unit (a lookup, not a scan of `merged`)."""
    merged.append(unit)
    if unit.kind == "text":
        latest[unit.section] = unit


def render(text: str, pieces: list[Block]) -> tuple[str, list[int]]:
    """The cleaned reading of `blocks` of `text`, and the document offset of each of its chars.

    Whitespace runs become one space; `develop-\nment` becomes `development`; `decision- makers`
    becomes `decision-makers`. A line break stays one where it is hard: between code lines,
    list items and table rows, and between blocks, except where a paragraph cut mid-sentence
    (by a page or a caption) resumes, which is glued across the break or hyphen."""
    blocks = [_Block(p.start, p.end, text[p.start : p.end], p.code) for p in pieces]
    joined, origin, hard = [], [], set()
    for i, block in enumerate(blocks):
        if joined:
            previous = blocks[i - 1]
            label = is_label(previous.raw) and not block.raw[:1].islower()
            resumes = not previous.complete and not block.hard and not label
            joined.append("\n" if resumes else "\n\n")
            origin.extend([origin[-1] + 1] * len(joined[-1]))
        base = len(origin)
        joined.append(block.raw)
        origin.extend(range(block.start, block.end))
        hard |= {base + k for k in _hard_breaks(block)}
    flat = "".join(joined)
    out, offsets = [], []
    for m in _CLEAN_TOKEN.finditer(flat):
        token = m.group()
        broken = "\n\n" in token or any(k in hard for k in range(m.start(), m.end()))
        if len(token) > 1 and token[1] == "-":  # letter, hyphen, whitespace
            keep = token[:2] if "\n" not in token or broken else token[:1]
            out.append(keep + ("\n" if broken else ""))
            offsets.extend(origin[m.start() : m.start() + len(keep) + broken])
        elif token.isspace():
            out.append("\n" if broken else " ")
            offsets.append(origin[m.start()])
        else:
            out.append(token)
            offsets.append(origin[m.start()])
    clean = "".join(out)
    lead = len(clean) - len(clean.lstrip())
    stripped = clean.strip()
    return stripped, offsets[lead : lead + len(stripped)]


def _hard_breaks(block: _Block) -> list[int]:
    """Offsets (in `block.raw`) of its line breaks that are hard: every one in code, else those
    before a list item or around a table row."""
    lines = block.raw.split("\n")
    breaks, at = [], 0
    for line, after in zip(lines, lines[1:]):
        at += len(line)
        if block.code or hard_line(after) or (" | " in line and hard_line(line)):
            breaks.append(at)
        at += 1
    return breaks


def _chunks(clean: str, max_words: int) -> list[tuple[int, int]]:
    """Split a long reading at sentence ends into runs of at most `max_words` words and
    `MAX_PASSAGE_CHARS` characters; a sentence over either bound is split at words, and a word
    over the character bound at that many characters."""
    if len(clean) <= MAX_PASSAGE_CHARS and len(clean.split()) <= max_words:
        return [(0, len(clean))]
    cuts = [0] + [m.end() for m in SENTENCE_END.finditer(clean)] + [len(clean)]
    bounds = [0] + [b for a, z in zip(cuts, cuts[1:]) for b in _fine_cuts(clean, a, z, max_words)]
    chunks, lo, words = [], 0, 0
    for a, b in zip(bounds, bounds[1:]):
        n = len(clean[a:b].split())
        if a > lo and (words + n > max_words or b - lo > MAX_PASSAGE_CHARS):
            chunks.append((lo, a))
            lo, words = a, 0
        words += n
    chunks.append((lo, len(clean)))
    return [(lo, hi - (len(clean[lo:hi]) - len(clean[lo:hi].rstrip()))) for lo, hi in chunks]


def _fine_cuts(clean: str, start: int, end: int, max_words: int) -> list[int]:
    """Where `clean[start:end]` (one sentence) may be cut: only at its end when it is within the
    bounds, otherwise after each word, and inside a word every `MAX_PASSAGE_CHARS` characters."""
    if end - start <= MAX_PASSAGE_CHARS and len(clean[start:end].split()) <= max_words:
        return [end]
    cuts = []
    for m in _WORD_RUN.finditer(clean, start, end):
        cuts += range(m.start() + MAX_PASSAGE_CHARS, m.start() + len(m.group().rstrip()), MAX_PASSAGE_CHARS)
        cuts.append(m.end())
    return cuts


def _passage(doc_id: str, unit: _Unit, text: str, offsets: list[int]) -> Passage:
    start, end = min(offsets), offsets[-1] + 1
    passage_id = hashlib.sha256(f"{doc_id}:{start}:{end}".encode()).hexdigest()[:16]
    title, trail = unit.section
    return Passage(passage_id, doc_id, title, unit.kind, start, end, text, Offsets(offsets), trail)
