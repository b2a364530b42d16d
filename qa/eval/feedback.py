"""Users' feedback as evaluation: `qa feedback export` writes it as the JSON Lines `qa eval`
reads, `qa eval --feedback NAME` evaluates it directly, and `--tune` on it refits the
collection's abstention threshold from its own users' questions.

One row per question (the same words, case and spacing aside), so repeated verdicts add up:
- the words users selected as a correction, and answers they marked `correct`, are its gold
  answers (several: SQuAD's "best over the gold answers");
- with none of those, `should_abstain` (or `correct` on an abstention) makes `answers` empty:
  the right reply is to abstain;
- answers marked `wrong` (or given where it should have abstained) are kept as
  `wrong_answers`, "not this answer" negatives; with nothing else known, `answers` is null and
  the question is scored only against them (reported apart from EM/F1).
Each row's `feedback` holds its verdict counts per ISO week, for the report's "accuracy over
time" and "most often marked wrong" sections."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

from qa.errors import InvalidInput
from qa.eval.data import EvalQuestion, EvalSet, from_rows, load
from qa.eval.metrics import Prediction, normalize_answer
from qa.feedback.log import Feedback, FeedbackLog

MOST_WRONG = 10


def export_rows(records: list[Feedback]) -> list[dict]:
    """The JSON Lines rows of these records, one per question, in order of first feedback."""
    groups: dict[str, list[Feedback]] = {}
    for record in records:
        groups.setdefault(" ".join(record.question.lower().split()), []).append(record)
    return [_row(key, group) for key, group in groups.items()]


def _row(key: str, group: list[Feedback]) -> dict:
    golds = _unique([r.correction.text for r in group if r.correction]
                    + [r.answer.text for r in group if r.verdict == "correct" and r.answer])
    abstain = any(r.verdict == "should_abstain" or (r.verdict == "correct" and r.answer is None) for r in group)
    right = {normalize_answer(g) for g in golds}
    wrong = _unique([r.answer.text for r in group if r.verdict != "correct" and r.answer
                     and normalize_answer(r.answer.text) not in right])
    weeks: dict[str, Counter] = {}
    for r in group:
        weeks.setdefault(_week(r.at), Counter())[_judged(r)] += 1
    return {"id": "fb-" + hashlib.sha256(key.encode()).hexdigest()[:12], "question": group[-1].question,
            "answers": golds if golds else ([] if abstain else None), "wrong_answers": wrong,
            "feedback": {"records": len(group), "verdicts": dict(Counter(map(_judged, group))),
                         "weeks": {w: dict(c) for w, c in sorted(weeks.items())}}}


def _judged(record: Feedback) -> str:
    """The verdict on what was served: `should_abstain` on an abstention confirms it."""
    return "correct" if record.verdict == "should_abstain" and record.answer is None else record.verdict


def _week(at: str) -> str:
    year, week, _ = datetime.fromisoformat(at).isocalendar()
    return f"{year}-W{week:02d}"


def _unique(texts: list[str]) -> list[str]:
    return list(dict.fromkeys(texts))


def export_text(data_dir: Path, collection: str) -> tuple[str, list[dict]]:
    """The collection's feedback as JSON Lines text, and its rows; none recorded is an error."""
    rows = export_rows(FeedbackLog(data_dir).read(collection))
    if not rows:
        raise InvalidInput(f"no feedback recorded for collection {collection!r}")
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), rows


def load_questions(file: Path | None, feedback: str | None, data_dir: Path) -> EvalSet:
    """`qa eval`'s questions: a file, or a collection's feedback (exactly one of them)."""
    if (file is None) == (feedback is None):
        raise InvalidInput("name a question FILE or --feedback COLLECTION (one of them)")
    if file is not None:
        return load(file)
    _, rows = export_text(data_dir, feedback)
    return from_rows(list(enumerate(rows, 1)), f"feedback:{feedback}")


def feedback_section(questions: tuple[EvalQuestion, ...], preds: list[Prediction]) -> dict:
    """`{"feedback": ...}` for a summary when the questions came from feedback, else {}:
    verdicts per week beside this run's F1 on that week's questions, and the questions users
    most often marked wrong with what this run answers now."""
    by_id = {p.qid: p for p in preds}
    asked = [(q, by_id[q.qid]) for q in questions if q.feedback and q.qid in by_id]
    if not asked:
        return {}
    weeks: dict[str, dict] = {}
    for q, p in asked:
        for week, verdicts in q.feedback.get("weeks", {}).items():
            w = weeks.setdefault(week, {"week": week, "verdicts": 0, "correct": 0, "f1": []})
            w["verdicts"] += sum(verdicts.values())
            w["correct"] += verdicts.get("correct", 0)
            w["f1"] += [p.f1] if p.gold_known else []
    by_week = [{"week": w["week"], "verdicts": w["verdicts"], "marked_correct": round(w["correct"] / w["verdicts"], 4),
                "scored": len(w["f1"]), "f1_now": round(sum(w["f1"]) / len(w["f1"]), 4) if w["f1"] else None}
               for w in sorted(weeks.values(), key=lambda w: w["week"])]
    marked = sorted(((_marked_wrong(q), q, p) for q, p in asked), key=lambda t: -t[0])
    most_wrong = [{"question": q.question, "marked_wrong": n, "wrong_answers": list(q.wrong),
                   "answers": list(q.answers) if q.gold_known else None, "answer_now": p.answer}
                  for n, q, p in marked[:MOST_WRONG] if n]
    return {"feedback": {"by_week": by_week, "most_wrong": most_wrong}}


def _marked_wrong(q: EvalQuestion) -> int:
    verdicts = q.feedback.get("verdicts", {})
    return verdicts.get("wrong", 0) + verdicts.get("should_abstain", 0)
