"""Question -> ranked passages in the embedded store: dense (FAISS) and lexical (BM25) scores
mixed linearly, over the whole collection held in this process."""

from __future__ import annotations

import numpy as np

from qa.retrieve.base import DENSE_DEPTH, mix
from qa.retrieve.lexical import BM25
from qa.store.local import LocalCollection
from qa.types import Hit, TermWeights


class HybridRetriever:
    """Hybrid search over one loaded local collection; built once per collection version."""

    def __init__(self, collection: LocalCollection) -> None:
        self.collection = collection
        self.lexical = BM25([p.searchable for p in collection.passages])
        # The reader's term weights: the same for every question of this collection version.
        self.weights = TermWeights(self.lexical.idf, self.lexical.max_idf())

    def search_batch(self, questions: list[str], vectors: np.ndarray, k: int) -> list[list[Hit]]:
        """Top-k passages per question; `vectors` are the questions' embeddings."""
        n = len(self.collection.passages)
        if n == 0:
            return [[] for _ in questions]
        dense_scores, dense_ids = self.collection.index.search(vectors, min(max(DENSE_DEPTH, k), n))
        return [self._fuse(*args, k) for args in zip(questions, vectors, dense_scores, dense_ids)]

    def _fuse(self, question: str, vector: np.ndarray, dense_scores, dense_ids, k: int) -> list[Hit]:
        lexical = self.lexical.scores(question)
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
