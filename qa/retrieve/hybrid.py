"""Question -> ranked passages in the embedded store: dense (FAISS) and lexical (BM25) scores
mixed linearly, over the whole collection held in this process."""

from __future__ import annotations

import numpy as np

from qa.retrieve.base import DENSE_DEPTH, mix
from qa.retrieve.lexical import BM25
from qa.store.local import LocalCollection, rows_by_document
from qa.types import Hit, TermWeights


class HybridRetriever:
    """Hybrid search over one loaded local collection; built once per collection version."""

    def __init__(self, collection: LocalCollection) -> None:
        self.collection = collection
        self.lexical = BM25([p.searchable for p in collection.passages])
        # The reader's term weights: the same for every question of this collection version.
        self.weights = TermWeights(self.lexical.idf, self.lexical.max_idf())
        self._doc_rows: dict[str, list[int]] | None = None  # doc_id -> passage rows, built by the first filter

    def search_batch(
        self, questions: list[str], vectors: np.ndarray, k: int, within: frozenset[str] | None = None
    ) -> list[list[Hit]]:
        """Top-k passages per question; `vectors` are the questions' embeddings; `within`: only
        these documents' passages."""
        rows = None if within is None else self._rows_of(within)
        n = len(self.collection.passages) if rows is None else len(rows)
        if n == 0:
            return [[] for _ in questions]
        if rows is None:
            dense_scores, dense_ids = self.collection.index.search(vectors, min(max(DENSE_DEPTH, k), n))
        else:
            dense_scores, dense_ids = _exact_search(self.collection.vectors, rows, vectors, min(max(DENSE_DEPTH, k), n))
        return [self._fuse(*args, k, rows) for args in zip(questions, vectors, dense_scores, dense_ids)]

    def _rows_of(self, doc_ids: frozenset[str]) -> np.ndarray:
        if self._doc_rows is None:
            self._doc_rows = rows_by_document(self.collection.passages)
        return np.array(sorted(i for d in doc_ids for i in self._doc_rows.get(d, ())), dtype=np.int64)

    def _fuse(self, question: str, vector: np.ndarray, dense_scores, dense_ids, k: int, rows: np.ndarray | None) -> list[Hit]:
        lexical = self.lexical.scores(question)
        if rows is not None:  # passages outside the filter neither match nor set the BM25 scale
            kept = np.zeros_like(lexical)
            kept[rows] = lexical[rows]
            lexical = kept
        cosine = {int(i): float(s) for i, s in zip(dense_ids, dense_scores) if i >= 0}
        vectors = self.collection.vectors
        for j in np.argsort(-lexical, kind="stable")[:DENSE_DEPTH]:
            if lexical[j] > 0 and int(j) not in cosine:
                cosine[int(j)] = float(vectors[j] @ vector)
        fused = mix(cosine, lexical, float(lexical.max(initial=0.0)))
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        return [
            Hit(self.collection.passages[i], fused[i], r, cosine[i], float(lexical[i]), self.weights)
            for r, i in enumerate(best)
        ]


def _exact_search(vectors: np.ndarray, rows: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inner product against the given rows only, exactly: a filtered search never depends on how
    deep an approximate index would have had to look to find enough matching passages."""
    scores = np.asarray(queries, dtype=np.float32) @ np.asarray(vectors[rows], dtype=np.float32).T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, top, axis=1), rows[top]
