"""BM25: the precomputed postings give the textbook scores."""

import math

import numpy as np

from qa.retrieve.lexical import BM25
from qa.text import tokenize

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


def test_score_texts_matches_the_index_on_a_subset():
    """Milvus mode scores dense candidates with the corpus's statistics: the index's numbers."""
    from qa.retrieve.lexical import score_texts

    bm25 = BM25(TEXTS)
    query = "4,155 AMPTP members of the union"
    subset = [TEXTS[2], TEXTS[0]]
    got = score_texts(query, subset, bm25.idf, float(bm25._lengths.mean()))
    assert np.allclose(got, bm25.scores(query)[[2, 0]], atol=1e-5)
