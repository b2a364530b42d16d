"""Vector storage and search; the leaf of the dependency graph (imports neither `qa` nor `api`)."""

from index.base import DimensionMismatch, VectorIndex
from index.faiss_ann import HnswIndex, IvfIndex
from index.faiss_index import FaissIndex
from index.flat import FlatIndex

# "faiss" picks exact or IVF by size; the others force one type (benchmarks, explicit choice).
BACKENDS: dict[str, type] = {"faiss": FaissIndex, "flat": FlatIndex, "faiss-ivf": IvfIndex, "faiss-hnsw": HnswIndex}


def make_index(backend: str, dim: int) -> VectorIndex:
    """A new, empty index of the named backend."""
    try:
        return BACKENDS[backend](dim)
    except KeyError:
        raise ValueError(f"unknown index backend {backend!r}; choose from {sorted(BACKENDS)}") from None


def load_index(backend: str, path) -> VectorIndex:
    """An index saved earlier by the same backend."""
    return BACKENDS[backend].load(path)


def describe(index: VectorIndex) -> dict:
    """The concrete index type and its parameters, for the manifest."""
    return getattr(index, "describe", lambda: {"type": type(index).__name__})()


__all__ = ["BACKENDS", "DimensionMismatch", "FaissIndex", "FlatIndex", "HnswIndex", "IvfIndex", "VectorIndex", "describe", "load_index", "make_index"]
