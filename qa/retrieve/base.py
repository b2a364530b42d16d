"""The retrieval contract and the one rule both retrievers score by: 0.7 x cosine + 0.3 x
BM25 / the question's best BM25."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from qa.types import Hit

DENSE_DEPTH = 50
DENSE_WEIGHT = 0.7  # of the cosine; BM25, divided by the question's best BM25 score, gets the rest


@runtime_checkable
class Retriever(Protocol):
    """Ranked passages for questions over one loaded collection version. Every hit carries the
    collection's term weights for its question, which is all a reader needs besides the passage."""

    def search_batch(
        self, questions: list[str], vectors: np.ndarray, k: int, within: frozenset[str] | None = None
    ) -> list[list[Hit]]:
        """Top-k hits per question, best first; `vectors` are the questions' embeddings. With
        `within` (document ids, see `qa.retrieve.filters`), only those documents' passages are
        searched, so the k hits all come from them."""
        ...


def mix(cosine: dict[int, float], lexical, best_lexical: float) -> dict[int, float]:
    """Each candidate's score: DENSE_WEIGHT x cosine + the rest x BM25 / the question's best BM25.

    Why not reciprocal-rank fusion: ranks throw away how far ahead the leader is, and RRF put
    the right passage first less often than BM25 alone (squad-retrieval recall@1 0.720 vs 0.750).
    The mix, tuned on half the squad-retrieval questions and SciFact's train queries and measured
    on the rest (benchmarks/fusion_sweep.py), lifts MRR@10 0.809 -> 0.866 and SciFact nDCG@10
    0.699 -> 0.729; any dense weight from 0.65 to 0.75 does as well. Each score depends only on
    its own passage, so a deeper candidate pool never reorders the ones already in it."""
    scale = (1.0 - DENSE_WEIGHT) / best_lexical if best_lexical > 0 else 0.0
    return {i: DENSE_WEIGHT * c + scale * float(lexical[i]) for i, c in cosine.items()}
