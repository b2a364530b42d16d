"""Files -> Documents: which files are indexed, how each is read and identified.

Plain text and Markdown are decoded here; HTML, PDF and DOCX are extracted to text first
(`qa.ingest.formats`). `qa.ingest.passages` then cuts a Document into passages."""

from __future__ import annotations

import hashlib
from pathlib import Path

from qa.errors import CorruptFile, EmptyFile, InvalidInput, UnsupportedFile
from qa.ingest.formats import RICH_SUFFIXES, extract
from qa.ingest.headings import markdown_title
from qa.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", *RICH_SUFFIXES)


def collect_files(paths: list[Path]) -> list[Path]:
    """Expand folders into the supported files below them; refuse paths that do not exist."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise InvalidInput(f"no such file or folder: {path}")
        if path.is_dir():
            found += [p for p in sorted(path.rglob("*")) if _is_indexable(p, path)]
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UnsupportedFile(f"{path.name}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
        else:
            found.append(path)
    return found


def _is_indexable(path: Path, root: Path) -> bool:
    hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
    return path.is_file() and not hidden and path.suffix.lower() in SUPPORTED_SUFFIXES


def read_document(path: Path, source: str | None = None) -> Document:
    """Read one file; `source` is the name recorded for it (defaults to the resolved path)."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnsupportedFile(f"{path.name}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
    return parse_document(path.read_bytes(), source or str(path.resolve()), path.stem)


def parse_document(data: bytes, source: str, fallback_title: str) -> Document:
    """Decode and identify a document; its id depends on its content and where it came from.

    HTML, PDF and DOCX (by the suffix of `source`) are extracted to text first (`qa.ingest.formats`);
    their served text is that extraction, and the id still hashes the file's own bytes."""
    suffix = Path(source).suffix.lower()
    if suffix in RICH_SUFFIXES:
        extracted = extract(data, Path(source).name, suffix)
        text, title, pages = extracted.text, extracted.title, extracted.pages
    else:
        text, title, pages = _decode_text(data, source), None, ()
    if not text.strip():  # every format alike: an empty .txt is refused as an empty .html is
        raise EmptyFile(f"{Path(source).name}: no text found in the file")
    sha = hashlib.sha256(data).hexdigest()
    doc_id = hashlib.sha256(f"{source}\0{sha}".encode()).hexdigest()[:16]
    title = title or markdown_title(text) or fallback_title
    return Document(doc_id=doc_id, title=title, path=source, text=text, sha256=sha, pages=pages)


def _decode_text(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"{Path(source).name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\x00" in text:
        raise CorruptFile(f"{Path(source).name}: binary content in a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")
