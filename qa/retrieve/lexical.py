"""BM25 over passage texts and section titles: exact names and numbers that a small embedding
model blurs ("4,155", "AMPTP") are matched here."""

from __future__ import annotations

from collections import Counter

import numpy as np

from qa.text import idf_weight, tokenize

class BM25:
    """Okapi BM25 over a fixed list of texts (k1=0.9, b=0.4, as Pyserini's defaults)."""

    def __init__(self, texts: list[str], k1: float = 0.9, b: float = 0.4) -> None:
        self.k1, self.b = k1, b
        self._docs = [Counter(tokenize(t)) for t in texts]
        self._lengths = np.array([sum(d.values()) for d in self._docs], dtype=np.float32)
        self._avg = float(self._lengths.mean()) if len(self._docs) else 0.0
        df = Counter(term for doc in self._docs for term in doc)
        n = len(self._docs)
        self.idf = {t: idf_weight(n, f) for t, f in df.items()}
        self._postings = self._weighted_postings()

    def _weighted_postings(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """term -> (text ids, tf part of BM25 per text), precomputed once: a question then costs
        one numpy gather per term instead of a Python loop over every text holding it."""
        vocab: dict[str, int] = {}
        term_ids, text_ids, tfs = [], [], []
        for i, doc in enumerate(self._docs):
            for term, tf in doc.items():
                term_ids.append(vocab.setdefault(term, len(vocab)))
                text_ids.append(i)
                tfs.append(tf)
        order = np.argsort(np.asarray(term_ids, dtype=np.int64), kind="stable")
        ids = np.asarray(text_ids, dtype=np.int64)[order]
        tf = np.asarray(tfs, dtype=np.float32)[order]
        norm = self.k1 * (1 - self.b + self.b * self._lengths / max(self._avg, 1e-9))
        weights = tf * (self.k1 + 1) / (tf + norm[ids])
        bounds = np.cumsum(np.bincount(np.asarray(term_ids, dtype=np.int64), minlength=len(vocab)))
        starts = np.concatenate([[0], bounds[:-1]])
        return {t: (ids[starts[j] : bounds[j]], weights[starts[j] : bounds[j]]) for t, j in vocab.items()}

    def scores(self, query: str) -> np.ndarray:
        """A score per text (0 where no query term occurs)."""
        out = np.zeros(len(self._docs), dtype=np.float32)
        for term in set(tokenize(query)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            ids, weights = self._postings[term]
            out[ids] += np.float32(idf) * weights  # ids are unique within one term's list
        return out

    def max_idf(self) -> float:
        """The idf of a term seen in no text: the weight of a question word the corpus lacks."""
        return idf_weight(len(self._docs), 0)


def score_texts(query: str, texts: list[str], idf: dict[str, float], avg_length: float, k1: float = 0.9,
                b: float = 0.4) -> np.ndarray:
    """BM25 of a few texts against statistics of a corpus held elsewhere (`idf` of the query's
    terms, the corpus's average length): the scores `BM25.scores` gives those texts, without
    holding the corpus (Milvus mode re-ranks dense candidates with it)."""
    terms = [t for t in set(tokenize(query)) if t in idf]
    out = np.zeros(len(texts), dtype=np.float32)
    for row, text in enumerate(texts):
        counts = Counter(tokenize(text))
        norm = k1 * (1 - b + b * sum(counts.values()) / max(avg_length, 1e-9))
        out[row] = sum(idf[t] * counts[t] * (k1 + 1) / (counts[t] + norm) for t in terms if counts[t])
    return out
