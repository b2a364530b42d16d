"""Files -> Documents: which files are indexed, how each is read and identified.

Plain text and Markdown are decoded here (a Markdown file's front matter gives its title);
HTML, PDF, DOCX and reStructuredText are extracted to text first (`qa.ingest.formats`).
`qa.ingest.passages` then cuts a Document into passages."""

from __future__ import annotations

import datetime
import hashlib
from pathlib import Path

from qa.errors import CorruptFile, EmptyFile, InvalidInput, UnsupportedFile
from qa.ingest.formats import RICH_SUFFIXES, extract
from qa.ingest.headings import markdown_title
from qa.ingest.markup import FRONT_MATTER
from qa.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", *RICH_SUFFIXES)
MARKDOWN_SUFFIXES = (".md", ".markdown")


def collect_files(paths: list[Path]) -> list[Path]:
    """Expand folders into the supported files below them; refuse paths that do not exist."""
    return walk(paths)[0]


def walk(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The supported files under `paths`, and each other file found in a folder with the
    reason it is left out (hidden files and folders are not looked at). A file named itself
    must be supported; a path that does not exist is an error."""
    found: list[Path] = []
    unsupported: list[tuple[Path, str]] = []
    for path in paths:
        if not path.exists():
            raise InvalidInput(f"no such file or folder: {path}")
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if not p.is_file() or any(part.startswith(".") for part in p.relative_to(path).parts):
                    continue
                if p.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append(p)
                else:
                    unsupported.append((p, f"{p.name}: unsupported file type ({p.suffix.lower() or 'no suffix'})"))
        elif path.suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UnsupportedFile(f"{path.name}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
        else:
            found.append(path)
    return found, unsupported


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
    metadata = front_matter(text) if suffix in MARKDOWN_SUFFIXES else {}
    sha = hashlib.sha256(data).hexdigest()
    doc_id = hashlib.sha256(f"{source}\0{sha}".encode()).hexdigest()[:16]
    title = title or metadata.get("title") or markdown_title(text) or fallback_title
    return Document(doc_id=doc_id, title=str(title), path=source, text=text, sha256=sha, pages=pages, metadata=metadata)


def front_matter(text: str) -> dict[str, str | tuple[str, ...]]:
    """The YAML block between `---` lines that opens a Markdown file (Jekyll, Hugo, Obsidian), as
    metadata: scalars and lists of scalars, as strings. Nested maps and a malformed block are left
    out, never an error: the text itself is still indexed as written."""
    found = FRONT_MATTER.match(text)
    if not found:
        return {}
    import yaml  # PyYAML's safe loader: builds plain values only, never objects

    try:
        values = yaml.safe_load(found.group(1) or "")
    except yaml.YAMLError:
        return {}
    if not isinstance(values, dict):
        return {}
    scalars = (str, int, float, bool, datetime.date)
    return {str(k): tuple(map(_as_text, v)) if isinstance(v, list) else _as_text(v) for k, v in values.items()
            if isinstance(v, scalars) or (isinstance(v, list) and all(isinstance(x, scalars) for x in v))}


def _as_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return value.isoformat() if isinstance(value, datetime.date) else str(value)


def _decode_text(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"{Path(source).name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\x00" in text:
        raise CorruptFile(f"{Path(source).name}: binary content in a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")
