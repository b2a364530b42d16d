"""Evaluate the shipped ONNX reader exactly as the product calls it.

Why: the figures in MODEL_CARD.md must describe the model the service runs
(ONNX, possibly int8, through `qa.span_model.SpanModel`), not the PyTorch
weights. Each question is answered with its gold paragraph as the only
context, one `predict` call per question, like the product.

- SQuAD v1.1 dev: EM/F1 with the official normalisation; the answer is the
  top span (the reader never abstains here).
- SQuAD 2.0 dev half: HasAns/NoAns/overall EM/F1; the reader abstains when the
  best span's probability is not above the "no answer" probability of its
  window (threshold 0, not tuned). The best margin tuned on the set itself is
  reported separately and marked so.

    python training/eval_reader.py --model-dir qa/models/reader \
        --v1 ../shared/eval/squad-v1.1-dev.json --v2 ../shared/eval/squad-v2.0-dev-half.json \
        --latency 200 --out training/runs/eval-int8.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import squad_utils as su  # noqa: E402
from qa.read.span_model import DEFAULT_MODEL_DIR, SpanModel  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    p.add_argument("--v1", type=Path, default=None, help="SQuAD v1.1 dev JSON")
    p.add_argument("--v2", type=Path, default=None, help="SQuAD 2.0 dev (half) JSON")
    p.add_argument("--limit", type=int, default=None, help="first N questions of each set (0: none, e.g. with --latency)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--latency", type=int, default=0, help="also time N questions over 5 passages each (needs --v1)")
    p.add_argument("--out", type=Path, default=None, help="write the results JSON here")
    return p.parse_args(argv)


def _answer(model: SpanModel, ex: su.Example) -> tuple[str, float, float]:
    """(text, span probability, null probability of that window) of the top span."""
    cands = model.predict(ex.question, [ex.context], top_n=1)
    if not cands:
        return "", 0.0, 1.0
    c = cands[0]
    return ex.context[c.start : c.end], c.score, c.null_score


def eval_v1(model: SpanModel, path: Path, limit: int | None) -> dict:
    examples = su.load_examples(path)[:limit]
    t0 = time.perf_counter()
    texts = {ex.qid: _answer(model, ex)[0] for ex in examples}
    res = su.squad_v1_scores(examples, texts)
    res["seconds_per_question"] = (time.perf_counter() - t0) / max(len(examples), 1)
    return res


def eval_v2(model: SpanModel, path: Path, limit: int | None) -> dict:
    examples = su.load_examples(path)[:limit]
    raw = {ex.qid: _answer(model, ex) for ex in examples}

    def texts(margin: float) -> dict[str, str]:
        # margin in log space: answer when log p_span > log p_null + margin
        return {q: (t if s > 0 and math.log(s) > math.log(max(n, 1e-12)) + margin else "") for q, (t, s, n) in raw.items()}

    res = su.squad_v2_scores(examples, texts(0.0))
    res["null_margin"] = 0.0
    best = max(((m / 2, su.squad_v2_scores(examples, texts(m / 2))["all_f1"]) for m in range(-12, 13)), key=lambda x: x[1])
    res["best_null_margin_on_this_set"], res["best_all_f1_on_this_set"] = best
    return res


def latency(model: SpanModel, path: Path, n: int, passages: int = 5) -> dict:
    """Wall time of one `predict` over the gold paragraph + 4 others of the same article."""
    import numpy as np

    examples = su.load_examples(path)
    by_title: dict[str, list[str]] = {}
    for ex in examples:
        ctxs = by_title.setdefault(ex.title, [])
        if ex.context not in ctxs:
            ctxs.append(ex.context)
    step = max(1, len(examples) // n)
    picked = examples[::step][:n]
    model.predict(picked[0].question, [picked[0].context])  # warm-up
    times, chars = [], []
    for ex in picked:
        others = [c for c in by_title[ex.title] if c != ex.context][: passages - 1]
        ctxs = [ex.context, *others]
        t0 = time.perf_counter()
        model.predict(ex.question, ctxs)
        times.append(time.perf_counter() - t0)
        chars.append(sum(len(c) for c in ctxs))
    ms = np.array(times) * 1000
    return {
        "questions": len(picked),
        "passages_per_question": passages,
        "mean_chars_per_question": float(np.mean(chars)),
        "median_ms": float(np.median(ms)),
        "p90_ms": float(np.percentile(ms, 90)),
        "mean_ms": float(ms.mean()),
    }


def run(model_dir: Path, v1: Path | None, v2: Path | None, limit: int | None, threads: int | None, n_latency: int = 0) -> dict:
    model = SpanModel(model_dir, threads=threads)
    onnx_path = Path(model_dir) / "model.onnx"
    out: dict = {"model": str(onnx_path), "model_mb": onnx_path.stat().st_size / 1e6, "limit": limit}
    if v1 and n_latency:
        out["latency_5_passages"] = latency(model, v1, n_latency)
        print(f"latency: {json.dumps(out['latency_5_passages'])}", flush=True)
    if v1 and limit != 0:  # --limit 0: latency only
        out["squad_v1.1_dev"] = eval_v1(model, v1, limit)
        print(f"v1.1 dev: {json.dumps(out['squad_v1.1_dev'])}", flush=True)
    if v2 and limit != 0:
        out["squad_v2.0_dev_half"] = eval_v2(model, v2, limit)
        print(f"v2.0 dev half: {json.dumps(out['squad_v2.0_dev_half'])}", flush=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    res = run(args.model_dir, args.v1, args.v2, args.limit, args.threads, args.latency)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
