"""The store contract: where collections live (`Store`) and what a loaded one offers
(`Collection`). `LocalStore` (versioned folders + FAISS) and `MilvusStore` (a Milvus cluster)
implement it, and one contract suite (tests/test_store_contract.py) runs against both. A new
remote backend is one module here, one retriever in `qa.retrieve`, and a line in each factory."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol, runtime_checkable

import numpy as np

from qa.types import Document, Passage

FORMAT_VERSION = 1


class StoredDocument(Protocol):
    """What a collection knows of a document without its text (`Collection.documents` values)."""

    doc_id: str
    title: str
    path: str
    sha256: str


@runtime_checkable
class Collection(Protocol):
    """One loaded version of a collection; a write makes a new one rather than changing it."""

    name: str
    manifest: dict

    @property
    def version(self) -> str: ...

    @property
    def documents(self) -> Mapping[str, StoredDocument]: ...

    @property
    def files(self) -> dict[str, dict]:
        """Source path -> {"doc_id", "sha256"} of every document (what re-indexing compares)."""
        ...

    @property
    def passages(self) -> list[Passage]:
        """Every passage (indexing and evaluation use them; answering a question never does)."""
        ...

    def document(self, doc_id: str) -> Document:
        """The full document, text included; NotFound when it is not in this version."""
        ...

    def listing(self) -> list[dict]:
        """What `GET /documents` lists: doc_id, title, path, passages, chars per document."""
        ...


@runtime_checkable
class Store(Protocol):
    """Where collections live. `kind` names the implementation (the retriever factory picks the
    search that fits it); `shared` stores are read by many API replicas, which then never write
    on their own (no refresh at start-up)."""

    kind: str
    shared: bool

    def load(self, name: str) -> Collection | None: ...

    def current_version(self, name: str) -> str | None:
        """The live version's name, cheaply: how a server notices another process's write."""
        ...

    def list_collections(self) -> list[str]: ...

    def writing(self, name: str) -> AbstractContextManager[None]:
        """Held by the one writer of a collection while it writes."""
        ...

    def drop(self, name: str) -> bool:
        """Delete a collection for good (documents, passages, vectors, settings); the caller holds
        `writing(name)`. False when it did not exist. Crash-safe: the collection disappears in one
        atomic step first (a folder rename, a manifest delete), so a reader never meets half of it."""
        ...

    @property
    def location(self) -> str:
        """Where this store keeps collections, in words, for messages ("data directory /x")."""
        ...

    def read_settings(self, name: str) -> dict: ...

    def write_settings(self, name: str, values: dict) -> dict: ...

    def write(
        self, name: str, current: Collection | None, documents: list[Document], fresh: list[Passage],
        vectors: np.ndarray, meta: dict,
    ) -> Collection:
        """A new version holding exactly `documents`: those in `current` keep their passages and
        vectors, the others come from `fresh` (in document order) and `vectors`."""
        ...
