"""Retrieval in Milvus mode: dense search in Milvus, then BM25 as a re-ranker of its candidates.

Milvus 2.3 has no sparse or full-text search, and a replica that held a BM25 index of a hundred
million passages would not be stateless. So lexical matching changes role: the top
`DENSE_DEPTH` dense candidates come back with their text, are scored with BM25 against the
collection's own statistics (document frequencies and average length, kept in Milvus by the
store), and the two scores are mixed as in embedded mode (BM25 scaled by the best among the
candidates, where embedded mode scales by the best in the collection). It can reorder what dense search
found; it cannot find what dense search missed (benchmarks/RESULTS.md, "Milvus", measures the
difference). Each hit carries the question's idf weights from the same statistics, as the
embedded BM25 gives them.
"""

from __future__ import annotations

import json

import numpy as np

from qa.retrieve.base import DENSE_DEPTH, mix
from qa.retrieve.filters import DOC_ID
from qa.retrieve.lexical import score_texts
from qa.store.milvus_collection import MilvusCollection
from qa.store.rows import passage_from
from qa.text import idf_weight, stem, tokenize
from qa.types import Hit, TermWeights

CITED_HITS = 8  # hits whose documents are fetched with the search: the reader reads 6 by default and
# cites from them; deeper hits (evaluation asks for 60) fetch theirs only if cited


class MilvusRetriever:
    """Search over one loaded `MilvusCollection`; built once per collection version."""

    def __init__(self, collection: MilvusCollection) -> None:
        self.collection = collection
        self.documents = max(int(collection.manifest["passages"]), 1)
        self.avg_length = collection.manifest["tokens"] / self.documents

    def search_batch(
        self, questions: list[str], vectors: np.ndarray, k: int, within: frozenset[str] | None = None
    ) -> list[list[Hit]]:
        """Top-k passages per question: one Milvus search for the batch, one df lookup. `within`
        becomes a filter of that search, so Milvus fills the k hits from those documents."""
        ids = None if within is None else sorted(d for d in within if DOC_ID.fullmatch(d))  # hex only: safe to quote
        if self.collection.manifest["passages"] == 0 or ids == []:
            return [[] for _ in questions]
        weights = self._term_weights(questions)
        where = "" if ids is None else f"doc_id in {json.dumps(ids)}"
        scores, _, rows = self.collection.index.search_rows(vectors, max(DENSE_DEPTH, k), ["passage"], where)
        hits = [self._fuse(q, weights[q], s[: len(r)], r, k) for q, s, r in zip(questions, scores, rows)]
        self.collection.prefetch(h.passage.doc_id for found in hits for h in found[:CITED_HITS])
        return hits

    def _fuse(self, question: str, weights: TermWeights, dense: np.ndarray, rows: list[dict], k: int) -> list[Hit]:
        passages = [passage_from(json.loads(r["passage"])) for r in rows]
        lexical = score_texts(question, [p.searchable for p in passages], weights.idf, self.avg_length)
        fused = mix(dict(enumerate(dense.tolist())), lexical, float(lexical.max(initial=0.0)))
        best = sorted(fused, key=lambda i: -fused[i])[:k]
        return [Hit(passages[i], fused[i], r, float(dense[i]), float(lexical[i]), weights) for r, i in enumerate(best)]

    def _term_weights(self, questions: list[str]) -> dict[str, TermWeights]:
        """idf of each question's words and their stems, from one df lookup for the batch."""
        wanted = {q: {w for t in tokenize(q) for w in (t, stem(t))} for q in questions}
        df = self.collection.document_frequencies(set().union(*wanted.values()))
        unknown = idf_weight(self.documents, 0)
        return {q: TermWeights({t: idf_weight(self.documents, df[t]) for t in terms if t in df}, unknown)
                for q, terms in wanted.items()}
