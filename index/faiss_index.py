"""FAISS backend: the embedded default, exact inner product with stable int64 ids."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.base import as_ids, as_matrix


class FaissIndex:
    """`IndexIDMap2(IndexFlatIP)`: ids survive removals, unlike positional FAISS indexes."""

    def __init__(self, dim: int, _index: faiss.Index | None = None) -> None:
        self.dim = dim
        self._index = _index if _index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = as_ids(ids), as_matrix(vectors, self.dim)
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        self.remove(ids)  # FAISS would keep both copies of a re-added id
        self._index.add_with_ids(vectors, ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = as_matrix(queries, self.dim)
        if k <= 0 or self._index.ntotal == 0:
            shape = (len(queries), max(k, 0))
            return np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)
        scores, ids = self._index.search(queries, k)
        scores[ids < 0] = -np.inf
        return scores, ids

    def remove(self, ids: np.ndarray) -> int:
        return int(self._index.remove_ids(as_ids(ids)))

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> "FaissIndex":
        index = faiss.read_index(str(path))
        return cls(index.d, index)

    def __len__(self) -> int:
        return int(self._index.ntotal)
