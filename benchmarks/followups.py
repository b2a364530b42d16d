"""Follow-up questions with and without the context step (qa/conversation.py).

Each line of the conversation file is two user turns over the seed page; the gold answers are
for the second turn. The first turn is asked for real and its answer becomes the assistant
message, as in the widget. The second turn is then answered twice:
- without context: `QAService.ask(second turn)`, as if it were asked alone;
- with context:    `QAService.chat(conversation)`, which resolves "it", "What about Japan?", ...

A turn is correct when its answer holds a gold answer (SQuAD normalisation) and is at most five
words longer; exact match and token F1 are reported too, and so is the rank of the first retrieved
passage holding a gold answer, which measures the context step apart from the reader. Conversations of kind "switch" change the
topic in the second turn: they check that the context step leaves standalone questions alone,
and are reported apart from the follow-ups. Prints a table and writes JSON.

    .venv/bin/python benchmarks/followups.py [--file tests/data/followups.jsonl] [--out benchmarks/out/followups.json]
"""

from __future__ import annotations

import argparse
import json
import re
import string
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Settings  # noqa: E402
from qa.conversation import Turn  # noqa: E402
from qa.service import QAService  # noqa: E402


def normalize(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def f1(prediction: str, gold: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(gold).split()
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def contains(text: str, gold: str) -> bool:
    """`gold`'s normalised words occur, in order and together, in `text`'s."""
    return f" {normalize(gold)} " in f" {normalize(text)} "


def score(prediction: str | None, golds: list[str]) -> dict:
    """Correct: the answer holds a gold answer and is at most five words longer than it."""
    if prediction is None:
        return {"em": 0.0, "f1": 0.0, "correct": False}
    best_f1 = max(f1(prediction, g) for g in golds)
    em = float(any(normalize(prediction) == normalize(g) for g in golds))
    size = len(normalize(prediction).split())
    correct = any(contains(prediction, g) and size <= len(normalize(g).split()) + 5 for g in golds)
    return {"em": em, "f1": round(best_f1, 3), "correct": correct}


def gold_rank(result, golds: list[str]) -> int | None:
    """Rank (1-based) of the first retrieved passage that holds a gold answer: the context step's
    effect on retrieval, whatever the reader then makes of it."""
    for rank, hit in enumerate(result.retrieved, 1):
        if any(contains(hit.passage.text, g) for g in golds):
            return rank
    return None


def run_one(service: QAService, conv: dict) -> dict:
    first, second = conv["turns"]
    first_answer = service.ask(first).answer
    turns = [Turn("user", first)] + ([Turn("assistant", first_answer)] if first_answer else []) + [Turn("user", second)]
    alone = service.ask(second)
    rewritten, with_context = service.chat(turns)
    return {
        "id": conv["id"],
        "kind": conv["kind"],
        "turns": conv["turns"],
        "first_answer": first_answer,
        "gold": conv["answers"],
        "query": rewritten.query,
        "rule": rewritten.rule,
        "without_context": {"answer": alone.answer, "gold_rank": gold_rank(alone, conv["answers"]), **score(alone.answer, conv["answers"])},
        "with_context": {
            "answer": with_context.answer, "gold_rank": gold_rank(with_context, conv["answers"]), **score(with_context.answer, conv["answers"])
        },
    }


def summary(rows: list[dict]) -> dict:
    out = {"conversations": len(rows)}
    for key in ("without_context", "with_context"):
        n = max(len(rows), 1)
        out[key] = {
            "correct": round(sum(r[key]["correct"] for r in rows) / n, 3),
            "exact_match": round(sum(r[key]["em"] for r in rows) / n, 3),
            "f1": round(sum(r[key]["f1"] for r in rows) / n, 3),
            "gold_passage_at_1": round(sum(r[key]["gold_rank"] == 1 for r in rows) / n, 3),
            "gold_passage_retrieved": round(sum(r[key]["gold_rank"] is not None for r in rows) / n, 3),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=ROOT / "tests" / "data" / "followups.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "followups.json")
    args = parser.parse_args()
    conversations = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")  # QA_* variables still apply (reader, model)
        service = QAService(settings)
        service.ensure_seeded(settings.seeds_dir)
        rows = [run_one(service, c) for c in conversations]
    followups = [r for r in rows if r["kind"] != "switch"]
    switches = [r for r in rows if r["kind"] == "switch"]
    report = {"reader": service.reader.name, "followups": summary(followups), "topic_switches": summary(switches), "rows": rows}
    for r in rows:
        mark = lambda k: "ok " if r[k]["correct"] else "-- "  # noqa: E731
        print(f"{r['id']} {mark('without_context')}{mark('with_context')}{r['rule']:8} {r['query']!r} -> {r['with_context']['answer']!r}")
    for name in ("followups", "topic_switches"):
        s = report[name]
        print(
            f"{name}: {s['conversations']} conversations; second turn correct without context "
            f"{s['without_context']['correct']:.0%}, with context {s['with_context']['correct']:.0%} "
            f"(exact match {s['without_context']['exact_match']:.0%} -> {s['with_context']['exact_match']:.0%}; "
            f"gold passage ranked first {s['without_context']['gold_passage_at_1']:.0%} -> {s['with_context']['gold_passage_at_1']:.0%})"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
