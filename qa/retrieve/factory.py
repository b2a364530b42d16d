"""Which retriever searches a loaded collection: the one made for its store's kind. A remote
backend adds its retriever here, beside its store in `qa.store.factory`."""

from __future__ import annotations

from qa.errors import InvalidInput
from qa.retrieve.base import Retriever
from qa.store.base import Collection


def make_retriever(store_kind: str, collection: Collection) -> Retriever:
    """Imported on use: the Milvus retriever needs pymilvus's types only in Milvus mode."""
    if store_kind == "local":
        from qa.retrieve.hybrid import HybridRetriever

        return HybridRetriever(collection)
    if store_kind == "milvus":
        from qa.retrieve.milvus import MilvusRetriever

        return MilvusRetriever(collection)
    raise InvalidInput(f"no retriever for a {store_kind!r} store")
