"""Fit the reader's score calibration (qa/models/reader/calibration.json) on SQuAD 2.0 questions.

Why: a threshold on the span model's raw probabilities abstains on the wrong questions (see
qa/read/calibrate.py). Here the service answers every question of a SQuAD 2.0 file in open mode, over
the file's own paragraphs, exactly as `qa eval --corpus-from-file` would; every candidate span
of every question becomes one example, with its `Evidence` and, as the target, its F1 against the
gold answers (0 for an unanswerable question). A logistic regression fit to that target (each
example weighted F1 as a positive and 1 - F1 as a negative) predicts the expected F1 of a span.

Held-out figures: the articles are split in two folds by title; each fold is scored by weights
fit on the other, so the reported curve never saw its own questions. The shipped weights are fit
on all of them.

Several files fit one calibration over their domains together (issue 16: SQuAD 2.0 plus the new
training sets, whose unanswerable questions are not SQuAD's adversarial ones); the held-out curve
is then also reported per file (`per_domain`, and `curve-<file>.json`), since one domain's
threshold is what does not transfer. `--limit N` samples N questions of each file.

    .venv/bin/python training/fit_calibrator.py ../shared/eval/squad-v2.0-dev-half.json \\
        --out qa/models/reader/calibration.json --report training/runs/calibration
    .venv/bin/python training/fit_calibrator.py ../shared/eval/squad-v2.0-dev-half.json \\
        ../shared/train/more/doqa-cooking-train.json ../shared/train/more/subjqa-train.json \\
        --limit 1500 --out /tmp/calibration-mix.json --report training/runs/calibration-mix
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zlib
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.config import Settings  # noqa: E402
from qa.eval import data as eval_data  # noqa: E402
from qa.eval import run as eval_run  # noqa: E402
from qa.eval.metrics import f1_score  # noqa: E402
from qa.read.calibrate import FEATURES, Calibrator  # noqa: E402
from qa.read.neural import NeuralReader  # noqa: E402
from qa.retrieve.factory import make_retriever  # noqa: E402
from qa.service import QAService  # noqa: E402

HAS_ANS_FLOOR = 70.0  # the operating point: best NoAns accuracy with HasAns F1 >= 70


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", type=Path, nargs="+", help="SQuAD 2.0 JSON files (with is_impossible questions), one domain each")
    p.add_argument("--limit", type=int, default=None, help="a seeded sample of N questions of each file")
    p.add_argument("--out", type=Path, default=ROOT / "qa/models/reader/calibration.json")
    p.add_argument("--report", type=Path, default=ROOT / "training/runs/calibration", help="examples cache and fit report")
    p.add_argument("--retrieve-k", type=int, default=Settings().retrieve_k, help="passages read per question")
    p.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    return p.parse_args(argv)


def collect(path: Path, report: Path, k: int, limit: int | None = None) -> list[dict]:
    """One row per question: its article, gold answers and candidate spans with features (cached
until the file, the code that retrieves, reads and computes features, the span model or the
embedding model changes)."""
    source = path.read_bytes()
    code = b"".join((ROOT / "qa" / f).read_bytes() for f in ("retrieve/hybrid.py", "read/neural.py", "read/calibrate.py", "read/evidence.py"))
    models = (ROOT / "qa/models/reader/model.onnx").read_bytes() + Settings().embed_model.encode()
    sample = f"-n{limit}" if limit else ""
    cache = report / f"examples-{hashlib.sha1(source + code + models).hexdigest()[:12]}-k{k}{sample}.jsonl"
    if cache.is_file():
        return [json.loads(line) for line in cache.read_text().splitlines()]
    settings = Settings(data_dir=report / "data", reader="neural")
    service = QAService(settings)
    evalset = eval_data.load(path).sample(limit, 0)
    corpus = eval_run.build_corpus(service, evalset)
    retriever = make_retriever(service.store.kind, service.store.load(corpus.collection))
    reader: NeuralReader = service.reader
    titles = {qa["id"]: a["title"] for a in json.loads(source)["data"] for p in a["paragraphs"] for qa in p["qas"]}
    rows = []
    for batch in eval_run.batches(evalset.questions, 64):
        texts = [q.question for q in batch]
        for q, hits in zip(batch, retriever.search_batch(texts, service.encoder.encode(texts), k)):
            spans = reader.evidence(q.question, hits)
            rows.append({"domain": path.stem, "title": titles[q.qid], "answers": list(q.answers), "spans": [
                {"text": hit.passage.text[s:e], "features": ev.vector()} for hit, s, e, ev in spans]})
        print(f"\r{len(rows)}/{len(evalset.questions)} questions read", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    report.mkdir(parents=True, exist_ok=True)
    cache.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def design(rows: list[dict]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, F1 targets and the question index of every candidate span."""
    x, y, q = [], [], []
    for i, row in enumerate(rows):
        for span in row["spans"]:
            x.append(span["features"])
            y.append(f1_score(span["text"], row["answers"]) if row["answers"] else 0.0)
            q.append(i)
    return np.array(x, dtype=np.float64), np.array(y), np.array(q)


def fit(x: np.ndarray, y: np.ndarray, c: float) -> LogisticRegression:
    """Expected-F1 regression: each span once as a positive weighted F1, once as a negative."""
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(np.vstack([x, x]), np.r_[np.ones(len(y)), np.zeros(len(y))], sample_weight=np.r_[y, 1.0 - y])
    return model


def top_spans(rows: list[dict], scores: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per question: the score of its top-scored span (-1 without any), that span's F1 if given as
    the answer, and whether the question is answerable."""
    top: list[tuple[float, float]] = []
    for i, row in enumerate(rows):
        idx = np.flatnonzero(q == i)
        if not len(idx):
            top.append((-1.0, 0.0))
            continue
        j = idx[np.argmax(scores[idx])]
        top.append((float(scores[j]), f1_score(row["spans"][j - idx[0]]["text"], row["answers"]) if row["answers"] else 0.0))
    score, f1 = np.array(top).reshape(-1, 2).T
    return score, f1, np.array([bool(r["answers"]) for r in rows])


def curve(rows: list[dict], scores: np.ndarray, q: np.ndarray) -> list[dict]:
    """HasAns F1 and NoAns accuracy of the top-scored span per question, per threshold."""
    score, f1, has = top_spans(rows, scores, q)
    points = []
    for threshold in np.round(np.linspace(0.0, 1.0, 201), 3):
        answered = score >= threshold
        has_f1 = float(np.where(answered, f1, 0.0)[has].mean() * 100)
        no_acc = float((~answered)[~has].mean() * 100)
        overall = float(np.where(has, np.where(answered, f1, 0.0), ~answered).mean() * 100)
        points.append({"threshold": float(threshold), "has_f1": round(has_f1, 2), "noans_acc": round(no_acc, 2), "f1": round(overall, 2)})
    return points


def _at(points: list[dict], threshold: float) -> dict:
    """The curve's point nearest a threshold (the grid steps 0.005)."""
    return min(points, key=lambda p: abs(p["threshold"] - threshold))


def summary(points: list[dict]) -> dict:
    at_floor = [p for p in points if p["has_f1"] >= HAS_ANS_FLOOR]
    return {"best_f1": max(points, key=lambda p: p["f1"]),
            f"best_noans_at_has_f1_{int(HAS_ANS_FLOOR)}": max(at_floor, key=lambda p: p["noans_acc"]) if at_floor else None}


def per_domain(rows: list[dict], scores: np.ndarray, q: np.ndarray) -> dict[str, list[dict]]:
    """The held-out curve of each file's questions alone (rows keep their spans in order)."""
    out = {}
    for domain in sorted({r.get("domain", "") for r in rows}):
        keep = [i for i, r in enumerate(rows) if r.get("domain", "") == domain]
        new_index = {old: new for new, old in enumerate(keep)}
        mask = np.isin(q, keep)
        out[domain] = curve([rows[i] for i in keep], scores[mask], np.array([new_index[i] for i in q[mask]], dtype=int))
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rows = [row for path in args.files for row in collect(path, args.report, args.retrieve_k, args.limit)]
    x, y, q = design(rows)
    titles = sorted({r["title"] for r in rows})
    fold = np.array([zlib.crc32(rows[i]["title"].encode()) % 2 for i in q])
    if len(set(fold.tolist())) < 2:
        sys.exit(f"{', '.join(map(str, args.files))}: the {len(titles)} article(s) all fall in one fold; held-out figures need more articles")
    held_out = np.zeros(len(y))
    for k in (0, 1):
        held_out[fold == k] = fit(x[fold != k], y[fold != k], args.c).predict_proba(x[fold == k])[:, 1]
    model = fit(x, y, args.c)
    points = curve(rows, held_out, q)
    domains = per_domain(rows, held_out, q)
    info = {"file": ", ".join(p.name for p in args.files), "questions": len(rows), "spans": len(y), "articles": len(titles),
            "retrieve_k": args.retrieve_k, "C": args.c, "limit_per_file": args.limit, "target": "expected F1 of the span",
            "held_out_2fold_by_article": summary(points)}
    if len(domains) > 1:
        info["per_domain"] = {d: {**summary(c), "at_default": _at(c, Settings().abstain_threshold)} for d, c in domains.items()}
    Calibrator(tuple(float(w) for w in model.coef_[0]), float(model.intercept_[0]), info).save(args.out)
    args.report.mkdir(parents=True, exist_ok=True)
    (args.report / "curve.json").write_text(json.dumps(points, indent=1))
    for domain, points_d in domains.items():
        (args.report / f"curve-{domain}.json").write_text(json.dumps(points_d, indent=1))
    print(json.dumps({"weights": dict(zip(FEATURES, np.round(model.coef_[0], 4).tolist())), **info}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
