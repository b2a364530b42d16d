"""Files -> Documents: which files are indexed, how each is read and identified.

Plain text and Markdown are decoded here (a Markdown file's front matter gives its title);
HTML, PDF, DOCX and reStructuredText are extracted to text first (`qa.ingest.formats`).
`qa.ingest.passages` then cuts a Document into passages."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from qa.errors import CorruptFile, EmptyFile, InvalidInput, UnsupportedFile
from qa.ingest.formats import RICH_SUFFIXES, extract
from qa.ingest.headings import markdown_title
from qa.ingest.markup import FRONT_MATTER
from qa.types import Document

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", *RICH_SUFFIXES)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(['\"]?)(.+?)\1[ \t]*$", re.MULTILINE)


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
        text, pages = _decode_text(data, source), ()
        title = front_matter_title(text)
    if not text.strip():  # every format alike: an empty .txt is refused as an empty .html is
        raise EmptyFile(f"{Path(source).name}: no text found in the file")
    sha = hashlib.sha256(data).hexdigest()
    doc_id = hashlib.sha256(f"{source}\0{sha}".encode()).hexdigest()[:16]
    title = title or markdown_title(text) or fallback_title
    return Document(doc_id=doc_id, title=title, path=source, text=text, sha256=sha, pages=pages)


def front_matter_title(text: str) -> str | None:
    """The `title:` of YAML front matter (Jekyll, Hugo, MkDocs pages); the splitter skips the
    front matter itself (`qa.ingest.markup`)."""
    matter = FRONT_MATTER.match(text)
    found = _FRONT_TITLE.search(matter.group(1)) if matter else None
    return found.group(2).strip() or None if found else None


def _decode_text(data: bytes, source: str) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"{Path(source).name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if "\x00" in text:
        raise CorruptFile(f"{Path(source).name}: binary content in a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")
