"""Does the ONNX encoder keep retrieval quality? Dense-only recall@5/@10 on squad-retrieval
(4,497 passages, a seeded sample of its 10,570 questions) for torch, ONNX fp32 and ONNX int8,
plus each one's cosine to the torch vectors and its corpus encoding speed.

    .venv/bin/python benchmarks/encoder_quality.py --queries 2000
"""

from __future__ import annotations

import argparse
import random
import time

import numpy as np
from common import EVAL, OUT, read_jsonl, report

from qa.embed.factory import make_encoder

RETRIEVAL = EVAL / "squad-retrieval"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--encoders", nargs="+", default=["torch", "onnx", "onnx-int8"])
    return p.parse_args()


def load(queries: int) -> tuple[list[str], list[str], list[str], list[str]]:
    corpus = read_jsonl(RETRIEVAL / "corpus.jsonl")
    qrels = dict(line.split("\t")[:2] for line in (RETRIEVAL / "qrels" / "test.tsv").read_text().splitlines()[1:])
    rows = [r for r in read_jsonl(RETRIEVAL / "queries.jsonl") if r["_id"] in qrels]
    rows = random.Random(0).sample(rows, min(queries, len(rows)))
    texts = [f"{c.get('title', '')}\n{c['text']}".strip() for c in corpus]
    return [c["_id"] for c in corpus], texts, [r["text"] for r in rows], [qrels[r["_id"]] for r in rows]


def main() -> None:
    args = parse_args()
    ids, texts, questions, gold = load(args.queries)
    results, rows, reference = {}, [], None
    for kind in args.encoders:
        encoder = make_encoder(kind, "all-MiniLM-L6-v2", OUT / "data-onnx" / "cache")
        encoder.encode(texts[:8])
        started = time.perf_counter()
        corpus = encoder.encode(texts)
        per_s = len(texts) / (time.perf_counter() - started)
        top = np.argsort(-(encoder.encode(questions) @ corpus.T), axis=1)[:, :10]
        hits = np.array([[ids[j] == g for j in row] for row, g in zip(top, gold)])
        reference = corpus if reference is None else reference
        cosine = (corpus * reference).sum(axis=1)
        results[kind] = {"model_name": encoder.name, "recall_at_5": round(float(hits[:, :5].any(1).mean()), 4),
                         "recall_at_10": round(float(hits.any(1).mean()), 4), "passages_per_s": round(per_s, 1),
                         "cosine_to_first_min": round(float(cosine.min()), 4), "cosine_to_first_mean": round(float(cosine.mean()), 4)}
        r = results[kind]
        rows.append((kind, r["model_name"], r["recall_at_5"], r["recall_at_10"], r["cosine_to_first_mean"], r["cosine_to_first_min"], r["passages_per_s"]))
    report("encoder-quality", {"queries": len(questions), "passages": len(texts), "reference": args.encoders[0], "results": results},
           rows, ("encoder", "model name", "recall@5", "recall@10", "cos mean", "cos min", "passages/s"))


if __name__ == "__main__":
    main()
