"""Rich formats -> plain text that the passage splitter reads: HTML, PDF, DOCX, reStructuredText.

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
from qa.errors import CorruptFile
from qa.ingest.html import extract_html
from qa.ingest.markup import Extracted, blocks_to_text, heading, one_line, paragraph
from qa.ingest.pdf import extract_pdf
from qa.ingest.rst import extract_rst

RICH_SUFFIXES = (".html", ".htm", ".pdf", ".docx", ".rst")
MAX_UNZIPPED_BYTES = 64 * 1024 * 1024  # a DOCX whose parts inflate past this is refused
MAX_ZIP_MEMBERS = 2000


def extract(data: bytes, name: str, suffix: str, max_unzipped: int = MAX_UNZIPPED_BYTES) -> Extracted:
    """Dispatch on the file suffix; `name` is only used in error messages."""
    if suffix in (".html", ".htm"):
        extracted = extract_html(data, name)
    elif suffix == ".pdf":
        extracted = extract_pdf(data, name)
    elif suffix == ".docx":
        extracted = extract_docx(data, name, max_unzipped)
    elif suffix == ".rst":
        extracted = extract_rst(data, name)
    else:
        raise ValueError(f"not a rich format: {suffix}")
    return extracted


# --- DOCX --------------------------------------------------------------------------------------


def extract_docx(data: bytes, name: str, max_unzipped: int = MAX_UNZIPPED_BYTES) -> Extracted:
    """Paragraphs in order; paragraphs styled `Heading N` or `Title` become headings."""
    _check_zip(data, name, max_unzipped)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [_docx_block(item) for item in document.iter_inner_content()]
        title = one_line(document.core_properties.title or "") or None
    except Exception as exc:  # python-docx and lxml raise many types on damaged files
        raise CorruptFile(f"{name}: not a readable DOCX ({type(exc).__name__})") from None
    return Extracted(blocks_to_text(blocks), title)


def _docx_block(item) -> str:
    """A paragraph, or a table written one row per line with cells joined by ' | '."""
    if hasattr(item, "rows"):
        rows = [" | ".join(one_line(cell.text) for cell in row.cells) for row in item.rows]
        return "\n".join(paragraph(r) for r in rows if r.strip(" |"))
    text = one_line(item.text)
    style = (item.style.name if item.style is not None else "") or ""
    level = re.fullmatch(r"Heading (\d)", style)
    if text and (level or style == "Title"):
        return heading(int(level.group(1)) if level else 1, text)
    return paragraph(text)


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
