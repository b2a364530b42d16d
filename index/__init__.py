"""Vector storage and search; the leaf of the dependency graph (imports neither `qa` nor `api`)."""

from index.base import DimensionMismatch, VectorIndex
from index.faiss_ann import HnswIndex, IvfIndex
from index.faiss_index import FaissIndex
from index.flat import FlatIndex
from index.milvus_index import MilvusIndex

# "faiss" picks exact or IVF by size; the others force one type (benchmarks, explicit choice).
# "milvus" is the distributed one: the vectors live in a Milvus server or cluster.
BACKENDS: dict[str, type] = {
    "faiss": FaissIndex, "flat": FlatIndex, "faiss-ivf": IvfIndex, "faiss-hnsw": HnswIndex, "milvus": MilvusIndex,
}


def make_index(backend: str, dim: int, **options) -> VectorIndex:
    """A new, empty index of the named backend; `options` reach a remote backend (uri, token)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown index backend {backend!r}; choose from {sorted(BACKENDS)}")
    return BACKENDS[backend](dim, **options)


def load_index(backend: str, path, **options) -> VectorIndex:
    """An index saved earlier by the same backend."""
    return BACKENDS[backend].load(path, **options)


def describe(index: VectorIndex) -> dict:
    """The concrete index type and its parameters, for the manifest."""
    return getattr(index, "describe", lambda: {"type": type(index).__name__})()


__all__ = ["BACKENDS", "DimensionMismatch", "FaissIndex", "FlatIndex", "HnswIndex", "IvfIndex", "MilvusIndex", "VectorIndex", "describe", "load_index", "make_index"]
