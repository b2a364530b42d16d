"""BM25: the precomputed postings give the textbook scores."""

import math

import numpy as np

from qa.lexical import BM25, tokenize

TEXTS = [
    "Vidu can generate videos up to 32 seconds long.",
    "The AMPTP negotiated with the union; 4,155 members voted.",
    "Videos, videos and more videos: Vidu was shown in Beijing.",
    "",
]


def reference(texts: list[str], query: str, k1: float = 0.9, b: float = 0.4) -> np.ndarray:
    docs = [tokenize(t) for t in texts]
    avg = sum(map(len, docs)) / len(docs)
    out = np.zeros(len(docs))
    for term in set(tokenize(query)):
        df = sum(term in d for d in docs)
        if df == 0:
            continue
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d.count(term)
            out[i] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg)) if tf else 0.0
    return out


def test_scores_match_the_formula():
    bm25 = BM25(TEXTS)
    for query in ("How long are Vidu videos?", "4,155 AMPTP members", "nothing matches here"):
        assert np.allclose(bm25.scores(query), reference(TEXTS, query), atol=1e-5)


def test_empty_corpus():
    assert BM25([]).scores("anything").shape == (0,)
