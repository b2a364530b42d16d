"""Which store a service or a command opens. Apart from the stores, so no store imports another."""

from __future__ import annotations

from pathlib import Path

from qa.config import Settings
from qa.store.base import Store
from qa.store.local import LocalStore


def open_store(settings: Settings) -> Store:
    """The embedded store under the data directory, or the shared one in Milvus
    (`QA_INDEX_BACKEND=milvus`), which every API replica reads alike."""
    if settings.index_backend == "milvus":
        from qa.store.milvus import MilvusStore

        return MilvusStore(settings.milvus_uri, settings.milvus_token, settings.data_dir)
    return LocalStore(settings.data_dir)


def as_store(where: Path | str | Store) -> Store:
    """A data directory means the embedded store; an open store (say Milvus) is used as it is."""
    return LocalStore(Path(where)) if isinstance(where, (str, Path)) else where
