"""Brute-force numpy backend: the exact reference the other backends are tested against."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.base import as_ids, as_matrix


class FlatIndex:
    """Exact inner-product search in plain numpy; small, obviously correct, no native code."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._ids = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, dim), dtype=np.float32)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = as_ids(ids), as_matrix(vectors, self.dim)
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        self.remove(ids)  # re-adding an id replaces it, as with FAISS's IDMap2 + remove
        self._ids = np.concatenate([self._ids, ids])
        self._vectors = np.vstack([self._vectors, vectors])

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = as_matrix(queries, self.dim)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if len(self._ids) == 0 or k <= 0:
            return scores, ids
        sims = queries @ self._vectors.T
        top = min(k, len(self._ids))
        order = np.argsort(-sims, axis=1, kind="stable")[:, :top]
        scores[:, :top] = np.take_along_axis(sims, order, axis=1)
        ids[:, :top] = self._ids[order]
        return scores, ids

    def remove(self, ids: np.ndarray) -> int:
        keep = ~np.isin(self._ids, as_ids(ids))
        removed = int((~keep).sum())
        self._ids, self._vectors = self._ids[keep], self._vectors[keep]
        return removed

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:  # a handle, so numpy does not append '.npz'
            np.savez(handle, ids=self._ids, vectors=self._vectors)

    @classmethod
    def load(cls, path: Path) -> "FlatIndex":
        with np.load(path) as data:
            index = cls(int(data["vectors"].shape[1]))
            index._ids, index._vectors = data["ids"], data["vectors"]
        return index

    def __len__(self) -> int:
        return len(self._ids)
