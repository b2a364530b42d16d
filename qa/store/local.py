"""The on-disk collection: one directory per version, made visible by an atomic pointer swap.

Layout: `<data_dir>/collections/<name>/CURRENT` names the live version folder, which holds
`manifest.json`, `documents.jsonl`, `passages.jsonl`, `vectors.npy` and the backend's index
file. A new version is written completely into a temporary folder, renamed, and only then does
`CURRENT` change (`os.replace`), so a crash or `kill -9` at any moment leaves the previous
version intact and answering."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index import VectorIndex, describe, load_index, make_index
from qa.errors import IndexMismatch, NotFound
from qa.store.base import FORMAT_VERSION
from qa.store.local_files import (
    collection_dir, current_version, drop, fsync_files, list_collections, prune, read_jsonl, read_settings,
    replace_text, write_jsonl, write_settings, writing,
)
from qa.store.rows import document_from, passage_from, passage_row
from qa.types import Document, Passage


@dataclass
class LocalCollection:
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


def load(data_dir: Path, name: str) -> LocalCollection | None:
    """The live version of a collection, or None if it was never built. A reader in another
    process may lose a race with a writer's pruning; it then reads the new pointer once more."""
    try:
        return _load(data_dir, name)
    except FileNotFoundError:
        return _load(data_dir, name)


def _load(data_dir: Path, name: str) -> LocalCollection | None:
    folder = collection_dir(data_dir, name)
    version = current_version(data_dir, name)
    if version is None:
        return None
    version_dir = folder / version
    manifest = json.loads((version_dir / "manifest.json").read_text())
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"collection {name!r} was written by another format version; run `qa index` again")
    documents = {d.doc_id: d for d in map(document_from, read_jsonl(version_dir / "documents.jsonl"))}
    passages = [passage_from(row) for row in read_jsonl(version_dir / "passages.jsonl")]
    vectors = np.load(version_dir / "vectors.npy", mmap_mode="r")  # paged in on use: the index holds its own copy
    index = load_index(manifest["backend"], version_dir / f"index.{manifest['backend']}")
    return LocalCollection(name, manifest, documents, passages, vectors, index)


def save(
    data_dir: Path, name: str, documents: list[Document], passages: list[Passage], blocks: Iterable[np.ndarray], meta: dict
) -> LocalCollection:
    """Write a complete new version and switch `CURRENT` to it atomically. The vectors arrive in
    `blocks` (rows in passage order) and go to disk as they come; the version then reads them back
    mapped, as `load` does, so no full copy of them is ever held besides the index's own."""
    folder = collection_dir(data_dir, name)
    folder.mkdir(parents=True, exist_ok=True)
    version = f"v{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f".tmp-{version}"
    tmp.mkdir()
    write_jsonl(tmp / "documents.jsonl", (asdict(d) for d in documents))
    write_jsonl(tmp / "passages.jsonl", (passage_row(p) for p in passages))
    write_rows(tmp / "vectors.npy", blocks, len(passages), int(meta["dim"]))
    vectors = np.load(tmp / "vectors.npy", mmap_mode="r")
    manifest = _manifest(version, documents, passages, meta)
    index = make_index(meta["backend"], int(meta["dim"]))
    index.add(np.arange(len(passages), dtype=np.int64), vectors)
    manifest["index"] = describe(index)  # the FAISS type chosen for this size (flat, IVF, ...)
    index.save(tmp / f"index.{meta['backend']}")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    fsync_files(tmp)
    os.rename(tmp, folder / version)  # the mapping follows the file: same inode
    previous = current_version(data_dir, name)
    replace_text(folder / "CURRENT", version)
    prune(folder, keep={version, previous})
    return LocalCollection(name, manifest, {d.doc_id: d for d in documents}, passages, vectors, index)


def write_rows(path: Path, blocks: Iterable[np.ndarray], rows: int, dim: int) -> None:
    """A .npy file of `rows` float32 vectors written block by block (what `np.save` writes, without
    the whole matrix in memory first). Refuses a row count other than announced in its header."""
    written = 0
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f4", "fortran_order": False, "shape": (rows, dim)})
        for block in blocks:
            block = np.ascontiguousarray(block, dtype="<f4").reshape(-1, dim)
            handle.write(block.tobytes())
            written += len(block)
    if written != rows:
        raise ValueError(f"{path}: {written} vector rows written, {rows} announced")


def _manifest(version: str, documents: list[Document], passages: list[Passage], meta: dict) -> dict:
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


class LocalStore:
    """The embedded store: collections as versioned folders under `data_dir` (the functions
    above), with FAISS (or another local backend) as the index. `qa.store.milvus.MilvusStore`
    implements the same `Store` protocol over a Milvus cluster."""

    kind = "local"
    shared = False

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)

    def load(self, name: str) -> LocalCollection | None:
        return load(self.data_dir, name)

    def current_version(self, name: str) -> str | None:
        return current_version(self.data_dir, name)

    def list_collections(self) -> list[str]:
        return list_collections(self.data_dir)

    def writing(self, name: str):
        return writing(self.data_dir, name)

    def drop(self, name: str) -> bool:
        return drop(self.data_dir, name)

    @property
    def location(self) -> str:
        return f"data directory {self.data_dir.resolve()}"

    def read_settings(self, name: str) -> dict:
        return read_settings(self.data_dir, name)

    def write_settings(self, name: str, values: dict) -> dict:
        return write_settings(self.data_dir, name, values)

    def write(
        self, name: str, current: LocalCollection | None, documents: list[Document], fresh: list[Passage], vectors: np.ndarray,
        meta: dict,
    ) -> LocalCollection:
        """A new version holding `documents`: the passages and vectors of those in `current` are
        reused, the others come from `fresh` (their passages, in document order) and `vectors`.
        Vectors go to disk a document at a time, never gathered into one more matrix."""
        rows_of, kept_of = rows_by_document(fresh), rows_by_document(current.passages if current else [])
        passages: list[Passage] = []
        sources: list[tuple[np.ndarray, list[int]]] = []
        for doc in documents:
            if current is not None and doc.doc_id in current.documents:
                rows, matrix, pool = kept_of.get(doc.doc_id, []), current.vectors, current.passages
            else:
                rows, matrix, pool = rows_of.get(doc.doc_id, []), vectors, fresh
            passages.extend(pool[i] for i in rows)
            sources.append((matrix, rows))
        blocks = (matrix[rows] for matrix, rows in sources if rows)
        return save(self.data_dir, name, documents, passages, blocks, meta)


def rows_by_document(passages: list[Passage]) -> dict[str, list[int]]:
    """doc_id -> the indexes of its passages, in one pass (a lookup per document would rescan
    every passage of the collection for each document kept, or searched by a filter)."""
    rows: dict[str, list[int]] = {}
    for i, passage in enumerate(passages):
        rows.setdefault(passage.doc_id, []).append(i)
    return rows
