"""Question -> ranked passages: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from qa.lexical import BM25
from qa.store import Collection
from qa.types import Hit

RRF_K = 60  # the constant of Cormack et al.; dampens the head of each ranking
DENSE_DEPTH = 50


class Retriever:
    """Hybrid search over one loaded collection; built once per collection version."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection
        self.lexical = BM25([p.searchable for p in collection.passages])

    def idf(self, question: str) -> tuple[dict[str, float], float]:
        """The reader's term weights: the collection's idf, and the weight of an unseen word."""
        return self.lexical.idf, self.lexical.max_idf()

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
        lexical_order = np.argsort(-lexical, kind="stable")[:DENSE_DEPTH]
        fused = rrf(cosine, (int(j) for j in lexical_order if lexical[j] > 0))
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        passages, vectors = self.collection.passages, self.collection.vectors
        return [
            Hit(
                passage=passages[i],
                score=fused[i],
                rank=r,
                dense=cosine[i] if i in cosine else float(vectors[i] @ vector),
                lexical=float(lexical[i]),
            )
            for r, i in enumerate(best)
        ]


def rrf(*rankings: Iterable[int]) -> dict[int, float]:
    """Reciprocal-rank fusion: each ranking adds 1 / (RRF_K + rank) to the items it ranks."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, i in enumerate(ranking):
            fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
    return fused
