"""Rich formats -> plain text that the passage splitter reads: HTML, PDF, DOCX.

The extracted text *is* the served document text (citations point into it), so headings are
written as Markdown headings (`# Title`) and paragraphs are separated by blank lines: the one
splitter in `qa.ingest.passages` then turns headings into sections for every format alike. PDF pages are
joined by a blank line and their character ranges kept, so a citation can name its page.

Hostile input is refused with a `CorruptFile` naming the file, never a crash: DOCX is a zip, so
its declared uncompressed size is capped before anything is inflated (Python's zipfile stops
reading a member at its declared size, so the declaration cannot lie its way past the cap), and
XML entities are never expanded (python-docx parses with `resolve_entities=False`)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

from qa.errors import CorruptFile

RICH_SUFFIXES = (".html", ".htm", ".pdf", ".docx")
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # a DOCX whose parts inflate past this is refused
MAX_ZIP_MEMBERS = 2000
MAX_PDF_PAGES = 2000


@dataclass(frozen=True)
class Extracted:
    """Text ready for the splitter, an optional title, and (PDF only) page character ranges."""

    text: str
    title: str | None
    pages: tuple[tuple[int, int], ...] = ()


def extract(data: bytes, name: str, suffix: str, max_unzipped: int = MAX_UNZIPPED_BYTES) -> Extracted:
    """Dispatch on the file suffix; `name` is only used in error messages."""
    if suffix in (".html", ".htm"):
        extracted = extract_html(data, name)
    elif suffix == ".pdf":
        extracted = extract_pdf(data, name)
    elif suffix == ".docx":
        extracted = extract_docx(data, name, max_unzipped)
    else:
        raise ValueError(f"not a rich format: {suffix}")
    return extracted


def _blocks_to_text(blocks: list[str]) -> str:
    return "\n\n".join(b for b in blocks if b.strip()) + "\n"


def _one_line(text: str) -> str:
    """Collapse whitespace runs, as a browser renders them."""
    return re.sub(r"\s+", " ", text).strip()


def _heading(level: int, text: str) -> str:
    return f"{'#' * min(max(level, 1), 6)} {text}"


def _paragraph(text: str) -> str:
    """Body text that would read as a Markdown heading is shifted by a space, not misread."""
    return " " + text if re.match(r"#{1,6}\s", text) else text


# --- HTML --------------------------------------------------------------------------------------

# Not <head>: pages that never close it are common, and its text-bearing parts are listed here.
_SKIP = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas", "select"}
_BLOCK_TAGS = {
    "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "li", "ul", "ol",
    "dl", "dt", "dd", "table", "tr", "td", "th", "blockquote", "pre", "figure", "figcaption",
    "form", "fieldset", "address", "br", "hr", "body", "html", "details", "summary",
}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class _VisibleText(HTMLParser):
    """Collects visible text as blocks; h1-h6 become Markdown headings, <title> is kept aside."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.title: str | None = None
        self._buffer: list[str] = []
        self._skip_depth = 0
        self._heading: int | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "title" and not self._skip_depth:  # not an <svg>'s own <title>
            self._in_title = True
        elif tag in _SKIP and tag not in _VOID:
            self._skip_depth += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = int(tag[1])
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP:
            self._skip_depth = max(self._skip_depth - 1, 0)
        elif re.fullmatch(r"h[1-6]", tag) or tag in _BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title = _one_line((self.title or "") + " " + data) or None
        elif not self._skip_depth:
            self._buffer.append(data)

    def _flush(self) -> None:
        text = _one_line("".join(self._buffer))
        self._buffer = []
        if text:
            self.blocks.append(_heading(self._heading, text) if self._heading else _paragraph(text))
        self._heading = None

    def close(self) -> None:
        super().close()
        self._flush()


def extract_html(data: bytes, name: str) -> Extracted:
    parser = _VisibleText()
    parser.feed(_decode_html(data, name))
    parser.close()
    return Extracted(_blocks_to_text(parser.blocks), parser.title)


def _decode_html(data: bytes, name: str) -> str:
    """UTF-8, or the charset the page declares; anything else is refused with its reason."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = re.search(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_-]+)""", data[:4096], re.IGNORECASE)
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"))
            except (LookupError, UnicodeDecodeError):
                pass
        raise CorruptFile(f"{name}: not UTF-8 and no usable charset declared ({exc.reason} at byte {exc.start})") from None


# --- PDF ---------------------------------------------------------------------------------------


def extract_pdf(data: bytes, name: str) -> Extracted:
    """The text layer, page by page. A PDF with pages but no text is a scan: say so."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorruptFile(f"{name}: the PDF is encrypted")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise CorruptFile(f"{name}: more than {MAX_PDF_PAGES} pages")
        texts = [_clean_pdf_page(page.extract_text() or "") for page in reader.pages]
        title = _pdf_title(reader)
    except CorruptFile:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files; all mean the same here
        raise CorruptFile(f"{name}: not a readable PDF ({type(exc).__name__})") from None
    if texts and not any(t.strip() for t in texts):
        raise CorruptFile(f"{name}: the PDF has no text layer (a scanned document?); run OCR on it first")
    return _join_pages(texts, title)


def _clean_pdf_page(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(_paragraph(line) for line in lines).strip()


def _pdf_title(reader) -> str | None:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:
        return None
    return _one_line(str(title)) or None if title else None


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


# --- DOCX --------------------------------------------------------------------------------------


def extract_docx(data: bytes, name: str, max_unzipped: int = MAX_UNZIPPED_BYTES) -> Extracted:
    """Paragraphs in order; paragraphs styled `Heading N` or `Title` become headings."""
    _check_zip(data, name, max_unzipped)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [_docx_block(item) for item in document.iter_inner_content()]
        title = _one_line(document.core_properties.title or "") or None
    except Exception as exc:  # python-docx and lxml raise many types on damaged files
        raise CorruptFile(f"{name}: not a readable DOCX ({type(exc).__name__})") from None
    return Extracted(_blocks_to_text(blocks), title)


def _docx_block(item) -> str:
    """A paragraph, or a table written one row per line with cells joined by ' | '."""
    if hasattr(item, "rows"):
        rows = [" | ".join(_one_line(cell.text) for cell in row.cells) for row in item.rows]
        return "\n".join(_paragraph(r) for r in rows if r.strip(" |"))
    paragraph = item
    text = _one_line(paragraph.text)
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    level = re.fullmatch(r"Heading (\d)", style)
    if text and (level or style == "Title"):
        return _heading(int(level.group(1)) if level else 1, text)
    return _paragraph(text)


def _check_zip(data: bytes, name: str, max_unzipped: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise CorruptFile(f"{name}: not a readable DOCX (not a zip archive)") from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise CorruptFile(f"{name}: too many parts in the archive ({len(members)})")
    total = sum(m.file_size for m in members)
    if total > max_unzipped:
        raise CorruptFile(f"{name}: unpacks to {total} bytes, over the {max_unzipped}-byte limit")
