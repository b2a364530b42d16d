"""Side by side with Haystack 2.x: same corpus, same questions, same model files, one run.

Corpus: the 2,067 SQuAD v1.1 dev paragraphs; questions: a seeded sample of its questions.
Haystack (in its own venv, created here on first run: benchmarks/out/haystack-venv with
`haystack-ai<3` and torch==2.13.0) runs its in-memory store, SentenceTransformers embedders over
the MiniLM folder Verbatim uses and ExtractiveReader over Verbatim's reader weights (rebuilt from
the fp32 ONNX export by reader_to_hf.py, logits checked). Verbatim runs in-process (QAService.ask,
caches off) with its shipped reader (int8 ONNX). Both: one question at a time, after warm-up,
retrieve 8 passages; EM/F1 of the top span with SQuAD's normalisation (qa.eval.metrics).

    .venv/bin/python benchmarks/haystack_peer.py --questions 200
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import OUT, ROOT, SQUAD_DEV, report, squad_paragraphs, stats
from latency import make_service

from qa.embed.base import PACKAGED_MODELS
from qa.eval import data as eval_data
from qa.eval.metrics import exact_match, f1_score
from qa.eval.run import build_corpus

VENV = OUT / "haystack-venv"
PINS = ["haystack-ai<3", "torch==2.13.0", "sentence-transformers==6.2.0", "transformers==5.24.0",
        "tokenizers==0.23.3", "numpy==2.4.6", "huggingface-hub==2.4.0", "accelerate", "sentencepiece"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--encoder", default="onnx", choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--reader", default="auto")
    p.add_argument("--retrieve-k", type=int, nargs="+", default=[8, 4],
                   help="passages Verbatim reads (the first is the like-for-like run; Haystack always reads 8)")
    return p.parse_args()


def ensure_venv() -> Path:
    """The peer's own venv (its torch and transformers never touch ours); re-synced when PINS change."""
    python, marker = VENV / "bin" / "python", VENV / "verbatim-pins.json"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if not marker.is_file() or json.loads(marker.read_text()) != PINS:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PINS], check=True)
        marker.write_text(json.dumps(PINS))
    return python


def ensure_reader() -> Path:
    from reader_to_hf import TARGET, convert

    return TARGET if (TARGET / "model.safetensors").is_file() else convert()


def run_haystack(python: Path, spec: dict) -> dict:
    spec_path, out_path = OUT / "peer-spec.json", OUT / "peer-haystack.json"
    spec_path.write_text(json.dumps(spec))
    subprocess.run([str(python), str(ROOT / "benchmarks" / "haystack_child.py"), str(spec_path), str(out_path)], check=True)
    return json.loads(out_path.read_text())


def run_verbatim(args, questions: list, k: int) -> dict:
    service = make_service(argparse.Namespace(**{**vars(args), "retrieve_k": k}), OUT / f"data-{args.encoder}")
    collection = build_corpus(service, eval_data.load(SQUAD_DEV)).collection
    for q in questions[:3]:
        service.ask(q.question, collection=collection)
    predictions = []
    for q in questions:
        t0 = time.perf_counter()
        result = service.ask(q.question, collection=collection)
        ms = (time.perf_counter() - t0) * 1000
        top = result.answers[0].text if result.answers else None
        predictions.append({"id": q.qid, "text": top, "abstained": result.answer is None, "ms": ms})
    return {"encoder": service.encoder.name, "reader": service.reader.name, "predictions": predictions}


def score(predictions: list[dict], gold: dict[str, tuple]) -> dict:
    em = [exact_match(p["text"], gold[p["id"]]) for p in predictions]
    f1 = [f1_score(p["text"], gold[p["id"]]) for p in predictions]
    return {"em": round(100 * sum(em) / len(em), 2), "f1": round(100 * sum(f1) / len(f1), 2),
            "latency_ms": stats([p["ms"] for p in predictions])}


def main() -> None:
    args = parse_args()
    python, reader = ensure_venv(), ensure_reader()
    questions = list(eval_data.load(SQUAD_DEV).sample(args.questions, seed=0).questions)
    gold = {q.qid: q.answers for q in questions}
    spec = {"paragraphs": squad_paragraphs(), "embedder": str(PACKAGED_MODELS["all-MiniLM-L6-v2"][0]()),
            "reader": str(reader), "retrieve_k": 8, "top_k": 3, "threads": 2,
            "questions": [{"id": q.qid, "question": q.question} for q in questions]}
    ours = {k: run_verbatim(args, questions, k) for k in args.retrieve_k}
    theirs = run_haystack(python, spec)
    h = score(theirs["predictions"], gold)
    body = {"questions": len(questions), "verbatim": {}, "haystack": {
        **{k: theirs[k] for k in ("haystack_version", "torch", "index_s", "passages")}, "retrieve_k": 8, **h}}
    rows = [("haystack", 8, h["latency_ms"]["p50"], h["latency_ms"]["p95"], h["em"], h["f1"], 1.0)]
    for k, run in ours.items():
        v = score(run["predictions"], gold)
        speedup = round(h["latency_ms"]["p50"] / v["latency_ms"]["p50"], 2)
        body["verbatim"][f"k{k}"] = {"encoder": run["encoder"], "reader": run["reader"], "retrieve_k": k, **v,
                                     "speedup_p50": speedup, "f1_delta": round(v["f1"] - h["f1"], 2)}
        rows.append(("verbatim", k, v["latency_ms"]["p50"], v["latency_ms"]["p95"], v["em"], v["f1"], speedup))
    report("peer-haystack", body, rows, ("system", "passages read", "p50 ms", "p95 ms", "EM", "F1", "speed-up"))


if __name__ == "__main__":
    main()
