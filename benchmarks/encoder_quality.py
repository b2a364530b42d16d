"""Does a faster encoder keep retrieval quality? Dense-only retrieval with each encoder on
squad-retrieval (4,497 passages, its 10,570 questions: recall@5, recall@10, MRR@10) and SciFact
(5,183 abstracts, the 300 test claims: nDCG@10), plus each one's cosine to the first encoder's
vectors and its corpus encoding speed. The first encoder is the reference: the others' deltas are
checked against the bounds a new default encoder must keep (issue 19: 0.005 on each figure).

    .venv/bin/python benchmarks/encoder_quality.py --encoders onnx onnx-int8
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
from common import EVAL, OUT, read_jsonl, report

from qa.embed.factory import make_encoder
from qa.eval.data import load_beir
from qa.eval.metrics import ndcg_at_k, recall_at_k, reciprocal_rank

BOUND = 0.005  # the most a new default encoder may lose on any figure below
FIGURES = {"squad-retrieval": ("recall@5", "recall@10", "mrr@10"), "scifact": ("ndcg@10",)}
GATED = ("recall@5", "mrr@10", "ndcg@10")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=None, help="a seeded sample of each set's questions (default: all)")
    p.add_argument("--encoders", nargs="+", default=["onnx", "onnx-int8"])
    p.add_argument("--sets", nargs="+", default=list(FIGURES), choices=list(FIGURES))
    return p.parse_args()


def load(name: str, queries: int | None) -> tuple[list[str], list[str], list[str], list[dict[str, int]]]:
    """Corpus ids and texts (title, then text, as BEIR's dense models read them), questions, grades."""
    corpus = read_jsonl(EVAL / name / "corpus.jsonl")
    questions = list(load_beir(EVAL / name).questions)
    if queries is not None:
        questions = random.Random(0).sample(questions, min(queries, len(questions)))
    texts = [f"{c.get('title', '')}\n{c['text']}".strip() for c in corpus]
    return [str(c["_id"]) for c in corpus], texts, [q.question for q in questions], [dict(q.relevant) for q in questions]


def scores(ids: list[str], corpus: np.ndarray, questions: np.ndarray, grades: list[dict[str, int]]) -> dict[str, float]:
    top = np.argsort(-(questions @ corpus.T), axis=1)[:, :10]
    ranked = [[ids[j] for j in row] for row in top]
    mean = lambda values: round(float(np.mean(values)), 4)  # noqa: E731
    return {
        "recall@5": mean([recall_at_k(r, g, 5) for r, g in zip(ranked, grades)]),
        "recall@10": mean([recall_at_k(r, g, 10) for r, g in zip(ranked, grades)]),
        "mrr@10": mean([reciprocal_rank(r, g, 10) for r, g in zip(ranked, grades)]),
        "ndcg@10": mean([ndcg_at_k(r, g, 10) for r, g in zip(ranked, grades)]),
    }


def main() -> None:
    args = parse_args()
    results: dict[str, dict] = {kind: {} for kind in args.encoders}
    rows = []
    for name in args.sets:
        ids, texts, questions, grades = load(name, args.queries)
        reference = None
        for kind in args.encoders:
            encoder = make_encoder(kind, "all-MiniLM-L6-v2", OUT / "data-onnx" / "cache")
            encoder.encode(texts[:8])
            started = time.perf_counter()
            corpus = encoder.encode(texts)
            per_s = len(texts) / (time.perf_counter() - started)
            got = scores(ids, corpus, encoder.encode(questions), grades)
            reference = (corpus, got) if reference is None else reference
            cosine = (corpus * reference[0]).sum(axis=1)
            delta = {k: round(got[k] - reference[1][k], 4) for k in FIGURES[name]}
            results[kind][name] = {"model_name": encoder.name, **{k: got[k] for k in FIGURES[name]}, "delta": delta,
                                   "passages_per_s": round(per_s, 1), "cosine_mean": round(float(cosine.mean()), 4),
                                   "cosine_min": round(float(cosine.min()), 4)}
            within = all(delta[k] >= -BOUND for k in FIGURES[name] if k in GATED)
            rows.append((name, kind, " ".join(f"{k} {got[k]:.4f} ({delta[k]:+.4f})" for k in FIGURES[name]),
                         f"{cosine.mean():.4f}/{cosine.min():.4f}", round(per_s, 1), "yes" if within else "NO"))
    report("encoder-quality", {"queries": args.queries or "all", "reference": args.encoders[0], "bound": BOUND,
                               "results": results},
           rows, ("set", "encoder", "figures (delta to the first encoder)", "cos mean/min", "passages/s", f"within {BOUND}"))


if __name__ == "__main__":
    main()
