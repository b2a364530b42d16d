"""The on-disk collection: one directory per version, made visible by an atomic pointer swap.

Layout: `<data_dir>/collections/<name>/CURRENT` names the live version folder, which holds
`manifest.json`, `documents.jsonl`, `passages.jsonl`, `vectors.npy` and the backend's index
file. A new version is written completely into a temporary folder, renamed, and only then does
`CURRENT` change (`os.replace`), so a crash or `kill -9` at any moment leaves the previous
version intact and answering."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from index import VectorIndex, describe, load_index, make_index
from qa.config import check_collection
from qa.errors import IndexMismatch, NotFound
from qa.types import Document, Passage

FORMAT_VERSION = 1


@dataclass
class Collection:
    """One loaded version of a collection: documents, passages (row i = vector id i), index."""

    name: str
    manifest: dict
    documents: dict[str, Document]
    passages: list[Passage]
    vectors: np.ndarray
    index: VectorIndex
    by_id: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {p.passage_id: i for i, p in enumerate(self.passages)}

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def document(self, doc_id: str) -> Document:
        try:
            return self.documents[doc_id]
        except KeyError:
            raise NotFound(f"no document with id {doc_id!r} in collection {self.name!r}") from None

    @property
    def files(self) -> dict[str, dict]:
        """Source path -> doc_id and sha256 of every indexed file."""
        return self.manifest["files"]

    def listing(self) -> list[dict]:
        """What `GET /documents` lists: each document with its passage count and length."""
        counts: dict[str, int] = {}
        for p in self.passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        return [
            {"doc_id": d.doc_id, "title": d.title, "path": d.path, "passages": counts.get(d.doc_id, 0), "chars": len(d.text)}
            for d in self.documents.values()
        ]


def collection_dir(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / "collections" / check_collection(name)


def list_collections(data_dir: Path) -> list[str]:
    root = Path(data_dir) / "collections"
    return sorted(p.name for p in root.iterdir() if (p / "CURRENT").is_file()) if root.is_dir() else []


def current_version(data_dir: Path, name: str) -> str | None:
    """The live version's name (one small read), so a server notices another process's write."""
    try:
        return (collection_dir(data_dir, name) / "CURRENT").read_text().strip() or None
    except FileNotFoundError:
        return None


@contextmanager
def writing(data_dir: Path, name: str) -> Iterator[None]:
    """One writer per collection across processes (`qa index` beside `qa serve`): without it two
    writers could both build on the same version and the later swap would drop the other's
    documents. `flock` is released by the kernel when a writer is killed, so no stale lock."""
    folder = collection_dir(data_dir, name)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "LOCK", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load(data_dir: Path, name: str) -> Collection | None:
    """The live version of a collection, or None if it was never built. A reader in another
    process may lose a race with a writer's pruning; it then reads the new pointer once more."""
    try:
        return _load(data_dir, name)
    except FileNotFoundError:
        return _load(data_dir, name)


def _load(data_dir: Path, name: str) -> Collection | None:
    folder = collection_dir(data_dir, name)
    version = current_version(data_dir, name)
    if version is None:
        return None
    version_dir = folder / version
    manifest = json.loads((version_dir / "manifest.json").read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"collection {name!r} was written by another format version; run `qa index` again")
    documents = {d.doc_id: d for d in map(document_from, _read_jsonl(version_dir / "documents.jsonl"))}
    passages = [passage_from(row) for row in _read_jsonl(version_dir / "passages.jsonl")]
    vectors = np.load(version_dir / "vectors.npy", mmap_mode="r")  # paged in on use: the index holds its own copy
    index = load_index(manifest["backend"], version_dir / f"index.{manifest['backend']}")
    return Collection(name, manifest, documents, passages, vectors, index)


def save(
    data_dir: Path, name: str, documents: list[Document], passages: list[Passage], vectors: np.ndarray, meta: dict
) -> Collection:
    """Write a complete new version and switch `CURRENT` to it atomically."""
    folder = collection_dir(data_dir, name)
    folder.mkdir(parents=True, exist_ok=True)
    version = f"v{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f".tmp-{version}"
    tmp.mkdir()
    manifest = _manifest(version, documents, passages, vectors, meta)
    index = make_index(meta["backend"], int(meta["dim"]))
    index.add(np.arange(len(passages), dtype=np.int64), vectors)
    manifest["index"] = describe(index)  # the FAISS type chosen for this size (flat, IVF, ...)
    _write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in documents))
    _write_jsonl(tmp / "passages.jsonl", (passage_row(p) for p in passages))
    with open(tmp / "vectors.npy", "wb") as handle:
        np.save(handle, vectors)
    index.save(tmp / f"index.{meta['backend']}")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _fsync_dir_files(tmp)
    os.rename(tmp, folder / version)
    previous = current_version(data_dir, name)
    _replace_text(folder / "CURRENT", version)
    _prune(folder, keep={version, previous})
    return Collection(name, manifest, {d.doc_id: d for d in documents}, passages, vectors, index)


def _manifest(version: str, documents: list[Document], passages: list[Passage], vectors, meta: dict) -> dict:
    fingerprint = hashlib.sha256("\n".join(sorted(d.sha256 for d in documents)).encode()).hexdigest()
    return {
        "format_version": FORMAT_VERSION,
        "version": version,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "corpus_fingerprint": fingerprint,
        "documents": len(documents),
        "passages": len(passages),
        "files": {d.path: {"doc_id": d.doc_id, "sha256": d.sha256} for d in documents},
        **meta,
    }


def _prune(folder: Path, keep: set[str | None]) -> None:
    """Drop older versions and leftovers of interrupted writes (callers hold `writing`, so no
    other write is in progress). The version just replaced is kept one more round, for readers
    in other processes that read the old pointer a moment ago. A failure here is harmless."""
    for child in folder.iterdir():
        if child.is_dir() and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def _replace_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    with open(tmp, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _fsync_dir_files(folder: Path) -> None:
    for child in folder.iterdir():
        with open(child, "rb") as handle:
            os.fsync(handle.fileno())


def _write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def document_from(row: dict) -> Document:
    pages = tuple((int(a), int(b)) for a, b in row.pop("pages", ()))
    return Document(**row, pages=pages)


class Store(Protocol):
    """Where collections live: `LocalStore` (a data directory) or `qa.milvus_store.MilvusStore`.
    A loaded collection offers `name`, `manifest`, `version`, `documents` (doc_id -> document
    with at least `doc_id`, `title`, `path`, `sha256`), `document(doc_id)` (the full text),
    `files` and `listing()`; the store's `retriever` searches it. `shared` stores are read by
    many API replicas, which then never write on their own (no refresh at start-up)."""

    shared: bool

    def load(self, name: str): ...

    def current_version(self, name: str) -> str | None: ...

    def list_collections(self) -> list[str]: ...

    def writing(self, name: str): ...

    def read_settings(self, name: str) -> dict: ...

    def write_settings(self, name: str, values: dict) -> dict: ...

    def write(self, name: str, current, documents: list[Document], fresh: list[Passage], vectors: np.ndarray, meta: dict): ...

    def retriever(self, collection): ...


class LocalStore:
    """The embedded store: collections as versioned folders under `data_dir` (the functions
    above), with FAISS (or another local backend) as the index. `qa.milvus_store.MilvusStore`
    offers the same methods over a Milvus cluster; the service and the indexer talk to either."""

    shared = False

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    def load(self, name: str) -> Collection | None:
        return load(self.data_dir, name)

    def current_version(self, name: str) -> str | None:
        return current_version(self.data_dir, name)

    def list_collections(self) -> list[str]:
        return list_collections(self.data_dir)

    def writing(self, name: str):
        return writing(self.data_dir, name)

    def read_settings(self, name: str) -> dict:
        return read_settings(self.data_dir, name)

    def write_settings(self, name: str, values: dict) -> dict:
        return write_settings(self.data_dir, name, values)

    def write(
        self, name: str, current: Collection | None, documents: list[Document], fresh: list[Passage], vectors: np.ndarray,
        meta: dict,
    ) -> Collection:
        """A new version holding `documents`: the passages and vectors of those in `current` are
        reused, the others come from `fresh` (their passages, in document order) and `vectors`."""
        rows_of, kept_of = _rows_by_document(fresh), _rows_by_document(current.passages if current else [])
        passages: list[Passage] = []
        rows: list[np.ndarray] = []
        for doc in documents:
            if current is not None and doc.doc_id in current.documents:
                passages.extend(current.passages[i] for i in kept_of.get(doc.doc_id, []))
                rows.extend(current.vectors[i] for i in kept_of.get(doc.doc_id, []))
            else:
                passages.extend(fresh[i] for i in rows_of.get(doc.doc_id, []))
                rows.extend(vectors[i] for i in rows_of.get(doc.doc_id, []))
        matrix = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, int(meta["dim"])), np.float32)
        return save(self.data_dir, name, documents, passages, matrix, meta)

    def retriever(self, collection: Collection):
        from qa.retrieve import Retriever  # retrieve imports this module

        return Retriever(collection)


def _rows_by_document(passages: list[Passage]) -> dict[str, list[int]]:
    """doc_id -> the indexes of its passages, in one pass (a lookup per document would rescan
    every passage of the collection for each document kept)."""
    rows: dict[str, list[int]] = {}
    for i, passage in enumerate(passages):
        rows.setdefault(passage.doc_id, []).append(i)
    return rows


def as_store(where: "Path | str | LocalStore"):
    """A data directory means the embedded store; an open store (say Milvus) is used as it is."""
    return LocalStore(Path(where)) if isinstance(where, (str, Path)) else where


def passage_row(p: Passage) -> dict:
    """Offsets are stored as the points where they stop running consecutively: compact, exact."""
    breaks = [[i, o] for i, o in enumerate(p.offsets) if i == 0 or o != p.offsets[i - 1] + 1]
    row = {k: getattr(p, k) for k in ("passage_id", "doc_id", "section", "kind", "start", "end", "text", "headings")}
    return {**row, "offset_breaks": breaks}


def passage_from(row: dict) -> Passage:
    breaks = row.pop("offset_breaks")
    offsets: list[int] = []
    for (i, origin), nxt in zip(breaks, breaks[1:] + [[len(row["text"]), None]]):
        offsets.extend(range(origin, origin + nxt[0] - i))
    return Passage(**row, offsets=tuple(offsets))


SETTINGS_FILE = "settings.json"


def read_settings(data_dir: Path, name: str) -> dict:
    """A collection's own settings (e.g. the abstention threshold `qa eval --tune` measured for
    it). Kept beside CURRENT, not in a version folder, so they survive re-indexing."""
    try:
        values = json.loads((collection_dir(data_dir, name) / SETTINGS_FILE).read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        raise IndexMismatch(f"{SETTINGS_FILE} of collection {name!r} is not valid JSON; fix or delete it") from None
    return values if isinstance(values, dict) else {}


def write_settings(data_dir: Path, name: str, values: dict) -> dict:
    """Merge `values` into the collection's settings, replacing the file atomically."""
    merged = {**read_settings(data_dir, name), **values}
    folder = collection_dir(data_dir, name)
    folder.mkdir(parents=True, exist_ok=True)
    _replace_text(folder / SETTINGS_FILE, json.dumps(merged, indent=2) + "\n")
    return merged
