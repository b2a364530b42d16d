"""Approximate FAISS backends for large collections, behind the same `VectorIndex` contract.

Why two: IVF-Flat keeps exactly the raw vectors plus 8-byte ids (RAM ~1.0x the vectors) and
removes in place; HNSW answers with better recall per millisecond but costs ~2*M*4 bytes of graph
per vector and FAISS's HNSW cannot remove ids, so `remove` here rebuilds the graph from the kept
vectors (`removes_in_place = False`). The store writes a fresh index per collection version
anyway, so in the product neither path is hot.
"""

from __future__ import annotations

import math
from pathlib import Path

import faiss
import numpy as np

from index.base import as_ids, as_matrix

IVF_MIN_POINTS_PER_LIST = 39  # FAISS warns below this: centroids trained on too few points
IVF_MAX_TRAIN = 200_000  # k-means on a sample: training on 1M points costs minutes, gains nothing


def _empty(queries: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    shape = (queries, max(k, 0))
    return np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)


def ivf_lists(n: int) -> int:
    """~4*sqrt(n) lists (FAISS's guideline), never more than the data can train."""
    return max(1, min(int(4 * math.sqrt(max(n, 1))), n // IVF_MIN_POINTS_PER_LIST))


class IvfIndex:
    """`IndexIVFFlat` (inner product) with its own int64 ids. Trained on the first batch added;
    `nprobe` lists are scanned per query (a quarter of them for tiny indexes, so they are exact)."""

    removes_in_place = True

    def __init__(self, dim: int, nprobe: int = 64, _index: faiss.Index | None = None) -> None:
        self.dim, self.nprobe = dim, nprobe
        self._index = _index

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = as_ids(ids), as_matrix(vectors, self.dim)
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if len(ids) == 0:
            return
        if self._index is None:
            self._index = self._trained(vectors)
        self.remove(ids)  # FAISS would keep both copies of a re-added id
        self._index.add_with_ids(vectors, ids)

    def _trained(self, vectors: np.ndarray) -> faiss.Index:
        nlist = ivf_lists(len(vectors))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dim), self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors
        if len(vectors) > IVF_MAX_TRAIN:
            rows = np.random.default_rng(0).choice(len(vectors), IVF_MAX_TRAIN, replace=False)
            sample = vectors[np.sort(rows)]
        index.train(sample)
        index.nprobe = min(nlist, self.nprobe)
        return index

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = as_matrix(queries, self.dim)
        if k <= 0 or len(self) == 0:
            return _empty(len(queries), k)
        scores, ids = self._index.search(queries, k)
        scores[ids < 0] = -np.inf
        return scores, ids

    def remove(self, ids: np.ndarray) -> int:
        return 0 if self._index is None else int(self._index.remove_ids(as_ids(ids)))

    def save(self, path: Path) -> None:
        faiss.write_index(self._index if self._index is not None else faiss.IndexFlatIP(self.dim), str(path))

    @classmethod
    def load(cls, path: Path) -> "IvfIndex":
        index = faiss.read_index(str(path))
        if not isinstance(index, faiss.IndexIVF):  # saved before anything was added
            return cls(index.d)
        return cls(index.d, index.nprobe, index)

    def describe(self) -> dict:
        if self._index is None:
            return {"type": "ivf-flat", "nlist": 0}
        return {"type": "ivf-flat", "nlist": int(self._index.nlist), "nprobe": int(self._index.nprobe)}

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)


class HnswIndex:
    """`IndexIDMap2(IndexHNSWFlat)` (inner product). FAISS's HNSW has no `remove_ids`, so a
    removal rebuilds the graph from the vectors that stay (honest, and O(n log n))."""

    removes_in_place = False

    def __init__(self, dim: int, m: int = 32, ef_search: int = 128, _index: faiss.Index | None = None) -> None:
        self.dim, self.m, self.ef_search = dim, m, ef_search
        self._index = _index if _index is not None else self._new()

    def _new(self) -> faiss.Index:
        inner = faiss.IndexHNSWFlat(self.dim, self.m, faiss.METRIC_INNER_PRODUCT)
        inner.hnsw.efConstruction = 80
        inner.hnsw.efSearch = self.ef_search
        return faiss.IndexIDMap2(inner)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = as_ids(ids), as_matrix(vectors, self.dim)
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        self.remove(ids)
        self._index.add_with_ids(vectors, ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = as_matrix(queries, self.dim)
        if k <= 0 or len(self) == 0:
            return _empty(len(queries), k)
        params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, k))
        scores, ids = self._index.search(queries, k, params=params)
        scores[ids < 0] = -np.inf
        return scores, ids

    def remove(self, ids: np.ndarray) -> int:
        """Rebuild without `ids` (only when one of them is present)."""
        stored = faiss.vector_to_array(self._index.id_map)
        drop = np.isin(stored, as_ids(ids))
        if not drop.any():
            return 0
        vectors = faiss.downcast_index(self._index.index).reconstruct_n(0, len(stored))
        self._index = self._new()
        if (~drop).any():
            self._index.add_with_ids(vectors[~drop], stored[~drop])
        return int(drop.sum())

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> "HnswIndex":
        index = faiss.read_index(str(path))
        inner = faiss.downcast_index(index.index)
        return cls(index.d, inner.hnsw.nb_neighbors(1), inner.hnsw.efSearch, index)

    def describe(self) -> dict:
        return {"type": "hnsw-flat", "M": self.m, "efSearch": self.ef_search}

    def __len__(self) -> int:
        return int(self._index.ntotal)
