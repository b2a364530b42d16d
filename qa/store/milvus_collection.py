"""A loaded collection of Milvus mode: its manifest, the passage index in Milvus, and documents
fetched on demand (layout in `qa.store.milvus`)."""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from index.milvus_index import MilvusIndex
from qa.errors import NotFound
from qa.store.milvus_meta import MetaTable
from qa.store.rows import document_from, metadata_from, passage_from
from qa.types import Document, Passage

PART_CHARS = 16000  # 16,000 characters are at most 64,000 UTF-8 bytes: one VARCHAR
DOCUMENT_CACHE = 256  # documents kept per loaded collection, for citations
PREFETCH_PARTS = 4  # parts asked for at once: documents up to 64,000 characters come in one lookup


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document without its text: enough to list it and to decide what to re-index."""

    doc_id: str
    title: str
    path: str
    sha256: str
    passages: int
    chars: int
    parts: int = 1  # rows the document's JSON takes (`d/<build>/<doc_id>/<n>`)
    metadata: dict = field(default_factory=dict)  # the document's, for question filters


def passage_key(passage_id: str) -> int:
    """The int64 Milvus key of a passage: 63 bits of its 16-hex-digit id (non-negative, because
    indexes answer -1 for "no vector")."""
    return int(passage_id, 16) & (2**63 - 1)


class MilvusCollection:
    """One collection as the API sees it: the manifest, the passage index, and documents fetched
    on demand (a replica never holds the corpus; `documents` and `passages` load everything and
    serve indexing, listings and evaluation, never a question)."""

    def __init__(self, name: str, manifest: dict, index: MilvusIndex, meta: MetaTable,
                 documents: dict[str, DocumentInfo] | None = None) -> None:
        self.name, self.manifest, self.index, self._meta = name, manifest, index, meta
        self._documents = documents  # loaded on first use: a replica answering questions never needs them
        self._cache: OrderedDict[str, Document] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def build(self) -> str:
        return self.manifest["build"]

    @property
    def documents(self) -> dict[str, DocumentInfo]:
        if self._documents is None:
            rows = (json.loads(value) for _, value, _ in self._meta.scan(f"i/{self.build}/"))
            self._documents = {row["doc_id"]: DocumentInfo(**row | {"metadata": metadata_from(row.get("metadata"))})
                               for row in rows}
        return self._documents

    @property
    def files(self) -> dict[str, dict]:
        return {d.path: {"doc_id": d.doc_id, "sha256": d.sha256} for d in self.documents.values()}

    def listing(self) -> list[dict]:
        """Sorted by path: Milvus returns rows in no fixed order, and replicas must agree."""
        ordered = sorted(self.documents.values(), key=lambda d: (d.path, d.doc_id))
        return [{"doc_id": d.doc_id, "title": d.title, "path": d.path, "passages": d.passages, "chars": d.chars}
                for d in ordered]

    def document(self, doc_id: str) -> Document:
        """The full document (its parts joined), kept in a small LRU for the next citations."""
        loaded = self.prefetch([doc_id])  # kept even if other threads' prefetches evict it meanwhile
        with self._lock:
            if doc_id in self._cache:
                self._cache.move_to_end(doc_id)
                return self._cache[doc_id]
        if doc_id in loaded:
            return loaded[doc_id]
        raise NotFound(f"no document with id {doc_id!r} in collection {self.name!r}")

    def prefetch(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """Load the documents not cached yet in one lookup of their first `PREFETCH_PARTS` parts
        (every part row carries the document's part count; longer ones take a second lookup):
        the retriever calls it with its hits' documents, so citing them costs no round trip.
        Returns those it loaded."""
        with self._lock:
            wanted = [d for d in dict.fromkeys(doc_ids) if d not in self._cache and re.fullmatch(r"[0-9a-f]{1,64}", d or "")]
        if not wanted:
            return {}
        found = self._meta.get(f"d/{self.build}/{d}/{n}" for d in wanted for n in range(PREFETCH_PARTS))
        rest = [f"d/{self.build}/{d}/{n}" for d in wanted if f"d/{self.build}/{d}/0" in found
                for n in range(PREFETCH_PARTS, found[f"d/{self.build}/{d}/0"][1])]
        found.update(self._meta.get(rest))
        loaded = {}
        for d in wanted:
            first = found.get(f"d/{self.build}/{d}/0")
            if first is not None:
                loaded[d] = document_from(json.loads("".join(found[f"d/{self.build}/{d}/{n}"][0] for n in range(first[1]))))
        with self._lock:
            self._cache.update(loaded)
            while len(self._cache) > DOCUMENT_CACHE:
                self._cache.popitem(last=False)
        return loaded

    @cached_property
    def passages(self) -> list[Passage]:
        """Every passage (evaluation maps gold answers to passages with it; questions never do)."""
        return [passage_from(json.loads(row["passage"])) for row in self.index.each_row(["passage"])]

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        prefix = f"t/{self.build}/"
        return {k[len(prefix):]: n for k, (_, n) in self._meta.get(prefix + t for t in set(terms)).items()}
