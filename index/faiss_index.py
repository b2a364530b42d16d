"""FAISS backend, the embedded default: exact below a size, approximate above, chosen by itself.

Below `ANN_THRESHOLD` vectors an exact `IndexIDMap2(IndexFlatIP)` answers in a few milliseconds
and is the reference. Above it exact search grows linearly (1M x 384-d is ~60 ms a query on two
cores), so the first add that crosses it moves everything into an IVF index (`index/faiss_ann.py`),
which keeps RAM at ~1.0x the raw vectors. `describe()` names the type; the store records it in
the collection's manifest.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

from index.base import as_ids, as_matrix
from index.faiss_ann import IvfIndex

ANN_THRESHOLD = 50_000


class FaissIndex:
    """`IndexIDMap2(IndexFlatIP)`: ids survive removals, unlike positional FAISS indexes; becomes
    an `IvfIndex` once it holds `ann_threshold` vectors."""

    removes_in_place = True

    def __init__(self, dim: int, _index: faiss.Index | None = None, ann_threshold: int = ANN_THRESHOLD) -> None:
        self.dim, self.ann_threshold = dim, ann_threshold
        self._index = _index if _index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ann: IvfIndex | None = None

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = as_ids(ids), as_matrix(vectors, self.dim)
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if self._ann is not None:
            return self._ann.add(ids, vectors)
        self.remove(ids)  # FAISS would keep both copies of a re-added id
        if len(self) + len(ids) >= self.ann_threshold:
            return self._to_ann(ids, vectors)
        self._index.add_with_ids(vectors, ids)

    def _to_ann(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Move the exact index's vectors and the new ones into one approximate index."""
        kept_ids = faiss.vector_to_array(self._index.id_map)
        kept = self._index.index.reconstruct_n(0, len(kept_ids)) if len(kept_ids) else vectors[:0]
        self._ann = IvfIndex(self.dim)
        self._ann.add(np.concatenate([kept_ids, ids]), np.vstack([kept, vectors]))
        self._index = None

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._ann is not None:
            return self._ann.search(queries, k)
        queries = as_matrix(queries, self.dim)
        if k <= 0 or self._index.ntotal == 0:
            shape = (len(queries), max(k, 0))
            return np.full(shape, -np.inf, dtype=np.float32), np.full(shape, -1, dtype=np.int64)
        scores, ids = self._index.search(queries, k)
        scores[ids < 0] = -np.inf
        return scores, ids

    def remove(self, ids: np.ndarray) -> int:
        if self._ann is not None:
            return self._ann.remove(ids)
        return int(self._index.remove_ids(as_ids(ids)))

    def save(self, path: Path) -> None:
        if self._ann is not None:
            return self._ann.save(path)
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path) -> "FaissIndex":
        index = faiss.read_index(str(path))
        loaded = cls(index.d)
        if isinstance(index, faiss.IndexIVF):
            loaded._ann, loaded._index = IvfIndex(index.d, index.nprobe, index), None
        else:
            loaded._index = index
        return loaded

    def describe(self) -> dict:
        """What the manifest records: the FAISS type chosen for this size."""
        if self._ann is not None:
            return self._ann.describe()
        return {"type": "flat", "exact": True}

    def __len__(self) -> int:
        return len(self._ann) if self._ann is not None else int(self._index.ntotal)
