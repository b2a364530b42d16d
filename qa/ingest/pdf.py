"""PDF -> served text with sections and pages, from the layout of each character.

pypdfium2 (PDFium, Apache-2.0/BSD) is used because it gives every character's box, font size and
weight, and puts the spaces between words where pypdf and pdfminer (pdfplumber) run the words of
a LaTeX (xdvipdfmx) manual together; it reads a page in milliseconds where pdfplumber takes a
tenth of a second (benchmarks/RESULTS.md). From the layout:
- running headers, footers and page numbers (the same line at a page's top or bottom edge on
  several pages, digits aside) are left out;
- headings are lines in a larger font than the body, or bold numbered lines ("8.1 The locale"),
  written as `#` headings at the depth of their numbering (else by font size);
- a two-column page is read column by column, a line across both columns ending the columns
  above it;
- pages are joined by a blank line and their character ranges kept, so a citation names its page.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from qa.errors import CorruptFile
from qa.ingest.markup import Extracted, heading, one_line, paragraph

MAX_PDF_PAGES = 2000
EDGE = 0.09  # the top and bottom share of a page where running headers and footers sit
_NUMBERED = re.compile(r"^(?:(?:chapter|section|appendix)\s+)?(\d{1,2}(?:\.\d{1,2}){0,4}|[A-Z](?:\.\d{1,2}){1,3})\.?\s+\S", re.I)
_PAGE_NUMBER = re.compile(r"^(?:page\s*)?[\divxlc]{1,6}(?:\s*(?:/|of)\s*\d+)?$", re.IGNORECASE)
_JUNK_TITLE = re.compile(r"\.(?:dvi|tex|docx?|pdf|indd|ps)$|^untitled|^microsoft word", re.IGNORECASE)


@dataclass
class _Line:
    text: str
    x0: float
    x1: float
    top: float  # distance from the page top
    bottom: float
    size: float
    bold: bool


def extract_pdf(data: bytes, name: str) -> Extracted:
    """The text layer, laid out page by page. A PDF with pages but no text is a scan: say so."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = "the PDF is encrypted" if "password" in str(exc).lower() else f"not a readable PDF ({exc})"
        raise CorruptFile(f"{name}: {reason}") from None
    try:
        if len(document) > MAX_PDF_PAGES:
            raise CorruptFile(f"{name}: more than {MAX_PDF_PAGES} pages")
        pages = [_page_lines(document[i]) for i in range(len(document))]
        title = _metadata_title(document)
    finally:
        document.close()
    if pages and not any(pages):
        raise CorruptFile(f"{name}: the PDF has no text layer (a scanned document?); run OCR on it first")
    return _write(pages, title)


def _page_lines(page) -> list[_Line]:
    """The page's lines in reading order, from PDFium's characters (it marks line ends)."""
    import pypdfium2.raw as raw

    textpage = page.get_textpage()
    height = page.get_height()
    lines, chars = [], []
    for i in range(textpage.count_chars()):
        ch = chr(raw.FPDFText_GetUnicode(textpage, i))
        if ch in "\r\n":
            lines.append(chars)
            chars = []
            continue
        box = textpage.get_charbox(i) if not ch.isspace() else None
        size = raw.FPDFText_GetFontSize(textpage, i) if box else 0.0
        chars.append((ch, box, size, raw.FPDFText_GetFontWeight(textpage, i) >= 600 if box else False))
    lines.append(chars)
    found = [line for line in (_line(c, height) for c in lines) if line is not None]
    return _reading_order(found, page.get_width())


def _line(chars: list, height: float) -> _Line | None:
    boxes = [(box, size, bold) for _, box, size, bold in chars if box]
    joined = "".join(ch for ch, *_ in chars).encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    text = one_line(joined.replace("\ufffe", "-").replace("\x00", ""))  # U+FFFE: a hyphen PDFium saw at a line end
    if not boxes or not text:
        return None
    sizes = Counter(round(size, 1) for _, size, _ in boxes)
    return _Line(
        text, min(b[0] for b, *_ in boxes), max(b[2] for b, *_ in boxes),
        height - max(b[3] for b, *_ in boxes), height - min(b[1] for b, *_ in boxes),
        sizes.most_common(1)[0][0], sum(bold for *_, bold in boxes) * 2 > len(boxes),
    )


def _reading_order(lines: list[_Line], width: float) -> list[_Line]:
    """Two columns are read left then right; a line across the middle (a title, a wide figure
    caption) closes the columns above it. One-column pages keep PDFium's order."""
    middle = width / 2
    left = [ln for ln in lines if ln.x1 < middle + 0.02 * width]
    right = [ln for ln in lines if ln.x0 > middle - 0.02 * width]
    if len(left) < 5 or len(right) < 5:
        return lines
    ordered, column = [], []
    for line in sorted(lines, key=lambda ln: ln.top):
        if line in left or line in right:
            column.append(line)
            continue
        ordered += _columns(column, middle) + [line]
        column = []
    return ordered + _columns(column, middle)


def _columns(lines: list[_Line], middle: float) -> list[_Line]:
    return [ln for ln in lines if ln.x1 < middle + 1] + [ln for ln in lines if ln.x1 >= middle + 1]


def _write(pages: list[list[_Line]], title: str | None) -> Extracted:
    """Served text: furniture out, headings as `#` lines, paragraphs between blank lines."""
    furniture = _running_lines(pages)
    body = [ln for page in pages for ln in page if not _furniture(ln, page, furniture)]
    size = _body_size(body)
    levels = _size_levels(body, size)
    texts = []
    for page in pages:
        kept = [ln for ln in page if not _furniture(ln, page, furniture)]
        texts.append(_page_text(kept, size, levels))
    return _join_pages(texts, title)


def _page_text(lines: list[_Line], size: float, levels: dict[float, int]) -> str:
    blocks: list[list[str]] = []
    previous: _Line | None = None
    pitch = _pitch(lines)  # the space between lines of a paragraph
    for line in lines:
        level = _heading_level(line, size, levels)
        if level:
            if blocks and previous is not None and previous.size == line.size and blocks[-1][0].startswith("#"):
                blocks[-1][0] += " " + line.text  # a heading set on two lines
            else:
                blocks.append([heading(level, line.text)])
        elif previous is None or blocks[-1][0].startswith("#") or _new_paragraph(previous, line, lines, pitch):
            blocks.append([paragraph(line.text)])
        else:
            blocks[-1].append(paragraph(line.text))
        previous = line
    return "\n\n".join("\n".join(b) for b in blocks)


def _new_paragraph(previous: _Line, line: _Line, lines: list[_Line], pitch: float) -> bool:
    """A paragraph starts after a gap wider than the page's line pitch, at a column jump, at a
    list item, and after a sentence that stops short of the column's edge or before an
    indented first line."""
    gap = line.top - previous.bottom
    if gap > pitch + 0.35 * line.size or line.top < previous.top or re.match(r"[•◦▪–-]\s", line.text):
        return True
    if not previous.text.endswith((".", ":", "!", "?")):
        return False
    right = max(ln.x1 for ln in lines if abs(ln.x0 - previous.x0) < 3 * previous.size)
    return previous.x1 < right - 3 * previous.size or line.x0 > previous.x0 + 0.8 * line.size


def _pitch(lines: list[_Line]) -> float:
    """The usual space between one line's bottom and the next one's top on this page (PDFium
    reports a line hyphenated into the next as one, two rows high, so tops alone mislead)."""
    gaps = sorted(b.top - a.bottom for a, b in zip(lines, lines[1:]) if b.top > a.top)
    return gaps[len(gaps) // 2] if gaps else 2.0


def _heading_level(line: _Line, size: float, levels: dict[float, int]) -> int:
    words = len(line.text.split())
    if words > 14 or line.text.endswith((".", ",", ";")) or sum(c.isalpha() for c in line.text) < 2:
        return 0
    numbered = _NUMBERED.match(line.text)
    if numbered and re.search(r"\s\d+$", line.text) and line.size <= size * 1.05:
        return 0  # a table-of-contents line: "5.2 Line Widths 7"
    if line.size >= size * 1.15:
        return numbered.group(1).count(".") + 1 if numbered else levels.get(line.size, 3)
    if numbered and line.bold:
        return numbered.group(1).count(".") + 1
    return 0


def _body_size(lines: list[_Line]) -> float:
    """The font size most characters are set in."""
    weights = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 10.0


def _size_levels(lines: list[_Line], size: float) -> dict[float, int]:
    """Heading levels 1-3 for the font sizes above the body's, largest first."""
    larger = sorted({ln.size for ln in lines if ln.size >= size * 1.15}, reverse=True)
    return {s: min(i + 1, 3) for i, s in enumerate(larger)}


def _running_lines(pages: list[list[_Line]]) -> set[str]:
    """Lines at a page edge that recur (digits aside) on several pages: running heads, feet."""
    counts = Counter()
    for page in pages:
        counts.update({shape for ln in _edge_lines(page) for shape in _shapes(ln.text)})
    need = max(2, round(0.3 * len(pages)))
    return {shape for shape, n in counts.items() if n >= need}


def _edge_lines(page: list[_Line]) -> list[_Line]:
    if not page:
        return []
    top, bottom = min(ln.top for ln in page), max(ln.bottom for ln in page)
    span = max(bottom - top, 1.0)
    return [ln for ln in page if ln.bottom <= top + EDGE * span or ln.top >= bottom - EDGE * span]


def _furniture(line: _Line, page: list[_Line], running: set[str]) -> bool:
    if line not in _edge_lines(page):
        return False
    return any(shape in running for shape in _shapes(line.text)) or bool(_PAGE_NUMBER.match(line.text.strip()))


def _shapes(text: str) -> set[str]:
    """The line with digits aside ("Debian Reference #/#"), and, when it holds a number, with
    words aside too: a running head that names the current section ("3 TERMINOLOGY 4")."""
    digits = re.sub(r"\d+", "#", text.lower().replace(" ", ""))
    return {digits, re.sub(r"[^\W\d_]+", "w", digits)} if "#" in digits else {digits}


def _metadata_title(document) -> str | None:
    """The title the PDF declares, unless it is a file name or a placeholder."""
    try:
        title = one_line(str(document.get_metadata_dict().get("Title") or ""))
    except Exception:  # damaged metadata is no reason to refuse the text
        return None
    return title if title and not _JUNK_TITLE.search(title) else None


def _join_pages(texts: list[str], title: str | None) -> Extracted:
    parts: list[str] = []
    pages: list[tuple[int, int]] = []
    cursor = 0
    for text in texts:
        if parts:
            parts.append("\n\n")
            cursor += 2
        parts.append(text)
        pages.append((cursor, cursor + len(text)))
        cursor += len(text)
    # The page range absorbs the separator after it, so every offset belongs to some page.
    pages = [(s, pages[i + 1][0]) if i + 1 < len(pages) else (s, e + 1) for i, (s, e) in enumerate(pages)]
    return Extracted("".join(parts) + "\n", title, tuple(pages))
