"""Retrieval in Milvus mode: dense search in Milvus, then BM25 as a re-ranker of its candidates.

Milvus 2.3 has no sparse or full-text search, and a replica that held a BM25 index of a hundred
million passages would not be stateless. So lexical matching changes role: the top
`DENSE_DEPTH` dense candidates come back with their text, are scored with BM25 against the
collection's own statistics (document frequencies and average length, kept in Milvus by the
store), and the two scores are mixed as in embedded mode (BM25 scaled by the best among the
candidates, where embedded mode scales by the best in the collection). It can reorder what dense search
found; it cannot find what dense search missed (benchmarks/RESULTS.md, "Milvus", measures the
difference). The reader gets the same idf weights it gets from the embedded BM25.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

import numpy as np

from qa.lexical import idf_weight, score_texts, tokenize
from qa.milvus_store import MilvusCollection
from qa.read import stem
from qa.retrieve import DENSE_DEPTH, mix
from qa.store import passage_from
from qa.types import Hit

WEIGHTS_KEPT = 4096  # questions whose term weights stay cached (the reader asks right after search)
CITED_HITS = 8  # hits whose documents are fetched with the search: the reader reads 6 by default and
# cites from them; deeper hits (evaluation asks for 60) fetch theirs only if cited


class MilvusRetriever:
    """Search over one loaded `MilvusCollection`; built once per collection version."""

    def __init__(self, collection: MilvusCollection) -> None:
        self.collection = collection
        self.documents = max(int(collection.manifest["passages"]), 1)
        self.avg_length = collection.manifest["tokens"] / self.documents
        self._weights: OrderedDict[str, dict[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def search_batch(self, questions: list[str], vectors: np.ndarray, k: int) -> list[list[Hit]]:
        """Top-k passages per question: one Milvus search for the batch, one df lookup."""
        if self.collection.manifest["passages"] == 0:
            return [[] for _ in questions]
        weights = self._term_weights(questions)
        scores, _, rows = self.collection.index.search_rows(vectors, max(DENSE_DEPTH, k), ["passage"])
        hits = [self._fuse(q, weights[q], s[: len(r)], r, k) for q, s, r in zip(questions, scores, rows)]
        self.collection.prefetch(h.passage.doc_id for found in hits for h in found[:CITED_HITS])
        return hits

    def _fuse(self, question: str, weights: dict[str, float], dense: np.ndarray, rows: list[dict], k: int) -> list[Hit]:
        passages = [passage_from(json.loads(r["passage"])) for r in rows]
        lexical = score_texts(question, [p.searchable for p in passages], weights, self.avg_length)
        fused = mix(dict(enumerate(dense.tolist())), lexical, float(lexical.max(initial=0.0)))
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        return [Hit(passages[i], fused[i], r, float(dense[i]), float(lexical[i])) for r, i in enumerate(best)]

    def idf(self, question: str) -> tuple[dict[str, float], float]:
        """The reader's term weights for this question (its words and their stems)."""
        return self._term_weights([question])[question], idf_weight(self.documents, 0)

    def _term_weights(self, questions: list[str]) -> dict[str, dict[str, float]]:
        """idf of each question's words, from one df lookup for the batch (cached: the reader
        asks for the same question's weights right after the search)."""
        with self._lock:
            found = {q: self._weights[q] for q in questions if q in self._weights}
        wanted = {q: {w for t in tokenize(q) for w in (t, stem(t))} for q in questions if q not in found}
        if wanted:
            df = self.collection.document_frequencies(set().union(*wanted.values()))
            for question, terms in wanted.items():
                found[question] = {t: idf_weight(self.documents, df[t]) for t in terms if t in df}
            with self._lock:
                self._weights.update((q, found[q]) for q in wanted)
                while len(self._weights) > WEIGHTS_KEPT:
                    self._weights.popitem(last=False)
        return found
