"""Uploaded files: safe names, parsing before anything is written, originals kept in the data dir.

An upload names its documents `upload:<safe name>`; uploading the same name again replaces that
document (the same bytes again change nothing). The original bytes are kept under
`<data_dir>/uploads/<collection>/`, so nothing a user sent is lost, and no name a client chooses
can place a file anywhere else: names are reduced to one plain path component first."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

from qa.config import check_collection
from qa.errors import InvalidInput, PayloadTooLarge, UnsupportedFile
from qa.ingest.files import SUPPORTED_SUFFIXES, parse_document
from qa.types import Document

UPLOAD_PREFIX = "upload:"
MAX_NAME_CHARS = 120


@dataclass(frozen=True)
class Upload:
    """One received file: the name the client gave and its bytes."""

    filename: str
    data: bytes


def safe_name(filename: str) -> str:
    """The last path component, with anything but letters, digits, space, '.', '-', '_' replaced:
    `../../etc/passwd.txt` -> `passwd.txt`, `C:\\x\\a.md` -> `a.md`, `.env.txt` -> `env.txt`."""
    base = re.split(r"[/\\]", unicodedata.normalize("NFC", filename or ""))[-1]
    cleaned = "".join(ch if ch.isalnum() or ch in " .-_" else "_" for ch in base).strip(" .")
    stem, suffix = os.path.splitext(cleaned)
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    if not stem.strip("_ "):
        raise InvalidInput(f"unusable file name {filename!r}")
    return stem + suffix.lower()


def prepare(files: list[Upload], max_files: int) -> list[tuple[str, Upload, Document]]:
    """Check and parse every file before any is stored: one bad file refuses the whole upload,
    so an upload is all or nothing."""
    if not files:
        raise InvalidInput("no files: send one or more in the multipart field 'files'")
    if len(files) > max_files:
        raise PayloadTooLarge(f"too many files in one upload ({len(files)}); the limit is {max_files}")
    prepared, seen = [], set()
    for upload in files:
        name = safe_name(upload.filename)
        if Path(name).suffix not in SUPPORTED_SUFFIXES:
            raise UnsupportedFile(f"{name}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
        if name in seen:
            raise InvalidInput(f"two files named {name!r} in one upload")
        seen.add(name)
        prepared.append((name, upload, parse_document(upload.data, UPLOAD_PREFIX + name, Path(name).stem)))
    return prepared


def uploads_dir(data_dir: Path, collection: str) -> Path:
    return Path(data_dir) / "uploads" / check_collection(collection)


def keep_original(data_dir: Path, collection: str, name: str, data: bytes) -> Path:
    """Write the bytes beside the index, atomically (temporary file, then rename)."""
    folder = uploads_dir(data_dir, collection)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_name(name)
    if target.resolve().parent != folder.resolve():  # defence in depth: safe_name already did it
        raise InvalidInput(f"unusable file name {name!r}")
    tmp = folder / f".{uuid.uuid4().hex}.part"
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return target


def drop_original(data_dir: Path, collection: str, doc: Document) -> None:
    """Delete the kept bytes of an uploaded document (documents indexed from paths have none)."""
    if doc.path.startswith(UPLOAD_PREFIX):
        (uploads_dir(data_dir, collection) / safe_name(doc.path[len(UPLOAD_PREFIX) :])).unlink(missing_ok=True)


def original(data_dir: Path, collection: str, doc: Document) -> tuple[bytes | None, str]:
    """The bytes `doc` was read from (an upload's kept copy, or the indexed file itself), or None
    and why not: gone, or changed since it was indexed (its pages would no longer match the
    text that citations point into)."""
    if doc.path.startswith(UPLOAD_PREFIX):
        path = uploads_dir(data_dir, collection) / safe_name(doc.path[len(UPLOAD_PREFIX) :])
    elif Path(doc.path).is_absolute():
        path = Path(doc.path)
    else:
        return None, "the document was not read from a file"
    try:
        data = path.read_bytes()
    except OSError:
        return None, f"the original file {path.name} is no longer there"
    if hashlib.sha256(data).hexdigest() != doc.sha256:
        return None, f"the original file {path.name} has changed since it was indexed"
    return data, ""
