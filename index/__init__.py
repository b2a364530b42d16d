"""Vector storage and search; the leaf of the dependency graph (imports neither `qa` nor `api`)."""

from index.base import DimensionMismatch, VectorIndex
from index.faiss_index import FaissIndex
from index.flat import FlatIndex

BACKENDS: dict[str, type] = {"faiss": FaissIndex, "flat": FlatIndex}


def make_index(backend: str, dim: int) -> VectorIndex:
    """A new, empty index of the named backend."""
    try:
        return BACKENDS[backend](dim)
    except KeyError:
        raise ValueError(f"unknown index backend {backend!r}; choose from {sorted(BACKENDS)}") from None


def load_index(backend: str, path) -> VectorIndex:
    """An index saved earlier by the same backend."""
    return BACKENDS[backend].load(path)


__all__ = ["BACKENDS", "DimensionMismatch", "FaissIndex", "FlatIndex", "VectorIndex", "load_index", "make_index"]
