"""Evaluation metrics, computed the way the benchmarks' own scripts compute them, so figures can
be set beside published ones: SQuAD's official normalisation for exact match and token F1 (best
over the gold answers; an empty gold list means "abstain"), recall@k / MRR@10 / nDCG@10 as BEIR
(trec_eval) defines them, plus what only an answering system with citations has: abstention
precision and recall, citation exactness, latency, and the threshold sweep that shows what each
abstention threshold would trade."""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

KS = (1, 5, 10, 20)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = frozenset(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's official normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str | None, golds: tuple[str, ...] | list[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer. With no gold answers
    the right reply is no answer (SQuAD 2.0 scores abstention as the empty string)."""
    golds = list(golds) or [""]
    return float(max(normalize_answer(prediction or "") == normalize_answer(g) for g in golds))


def f1_score(prediction: str | None, golds: tuple[str, ...] | list[str]) -> float:
    """Token F1 against the best gold answer, as SQuAD's script computes it."""
    return max(_f1(prediction or "", g) for g in (list(golds) or [""]))


def _f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def recall_at_k(ranked: list[str], relevant: set[str] | dict[str, int], k: int) -> float:
    """Share of the relevant ids found in the top k (BEIR's recall@k)."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def reciprocal_rank(ranked: list[str], relevant: set[str] | dict[str, int], k: int = 10) -> float:
    """1/rank of the first relevant id within the top k, else 0 (MRR@k when averaged)."""
    for rank, item in enumerate(ranked[:k], 1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains, as trec_eval (and so BEIR) computes it."""
    dcg = sum(grades.get(item, 0) / math.log2(rank + 2) for rank, item in enumerate(ranked[:k]))
    ideal = sum(g / math.log2(rank + 2) for rank, g in enumerate(sorted(grades.values(), reverse=True)[:k]))
    return dcg / ideal if ideal > 0 else 0.0


@dataclass(frozen=True)
class Prediction:
    """What the system did for one question, however it was run (in-process or over HTTP).

    `top_text`/`top_score` are the best candidate whether or not it cleared the threshold (the
    sweep needs them); `answer` is what was served. `ranked` are retrieved ids (passages, or
    documents for BEIR) best first; `relevant` the gold ids with grades, empty when unknown;
    `query` what was asked instead of a conversation's turn (its rewrite), None otherwise."""

    qid: str
    question: str
    golds: tuple[str, ...]
    answer: str | None = None
    top_text: str | None = None
    top_score: float = -1.0
    citation: dict | None = None
    citation_exact: bool | None = None
    ranked: tuple[str, ...] = ()
    relevant: dict[str, int] = field(default_factory=dict)
    latency_ms: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    wrong: tuple[str, ...] = ()  # answers users marked wrong
    gold_known: bool = True  # False: only `wrong` is known, so EM/F1 cannot score it
    query: str | None = None  # the question as asked, when a conversation rewrote it

    @property
    def has_answer(self) -> bool:
        return bool(self.golds)

    @property
    def em(self) -> float:
        return exact_match(self.answer, self.golds)

    @property
    def f1(self) -> float:
        return f1_score(self.answer, self.golds)

    @property
    def cited_gold(self) -> bool | None:
        """Whether the served answer's passage is a gold one (None when unknown or abstained)."""
        if self.answer is None or not self.citation or not self.relevant:
            return None
        return self.citation.get("passage_id") in self.relevant


def answer_metrics(preds: list[Prediction]) -> dict:
    """EM/F1 overall and split HasAns/NoAns, answer rate, abstention precision and recall."""
    em = np.array([p.em for p in preds])
    f1 = np.array([p.f1 for p in preds])
    has = np.array([p.has_answer for p in preds], dtype=bool)
    abstained = np.array([p.answer is None for p in preds], dtype=bool)
    out = {"questions": len(preds), "exact_match": _mean(em), "f1": _mean(f1), "answer_rate": _mean(~abstained)}
    if (~has).any():
        out |= {"has_ans": {"count": int(has.sum()), "exact_match": _mean(em[has]), "f1": _mean(f1[has])},
                "no_ans": {"count": int((~has).sum()), "accuracy": _mean(em[~has])}}
        out["abstention"] = {"precision": _mean((~has)[abstained]), "recall": _mean(abstained[~has])}
    return out


def citation_metrics(preds: list[Prediction]) -> dict:
    """Citation exactness over answered questions; gold-passage rate where the gold is known."""
    exact = [p.citation_exact for p in preds if p.answer is not None and p.citation_exact is not None]
    gold = [p.cited_gold for p in preds if p.cited_gold is not None]
    return {"checked": len(exact), "exact": _mean(exact), "gold_passage": _mean(gold), "gold_known": len(gold)}


def retrieval_metrics(preds: list[Prediction], ks: tuple[int, ...] = KS) -> dict | None:
    """recall@k, MRR@10 and nDCG@10 over the questions whose relevant ids are known."""
    judged = [p for p in preds if p.relevant and p.ranked]
    if not judged:
        return None
    out: dict = {"questions": len(judged)}
    for k in ks:
        out[f"recall@{k}"] = _mean([recall_at_k(list(p.ranked), p.relevant, k) for p in judged])
    out["mrr@10"] = _mean([reciprocal_rank(list(p.ranked), p.relevant, 10) for p in judged])
    out["ndcg@10"] = _mean([ndcg_at_k(list(p.ranked), p.relevant, 10) for p in judged])
    return out


def latency_metrics(preds: list[Prediction], wall_seconds: float) -> dict:
    """Percentiles of per-question latency, mean per stage, and throughput over the run."""
    ms = np.array([p.latency_ms for p in preds], dtype=float)
    stages = sorted({k for p in preds for k in p.timings})
    return {
        "p50_ms": _pct(ms, 50), "p95_ms": _pct(ms, 95), "p99_ms": _pct(ms, 99), "mean_ms": _mean(ms),
        "questions_per_s": round(len(preds) / wall_seconds, 2) if wall_seconds > 0 else None,
        "stages_mean_ms": {s: _mean([p.timings.get(s, 0.0) for p in preds]) for s in stages},
    }


def _mean(values) -> float | None:
    values = np.asarray(values, dtype=float)
    return round(float(values.mean()), 4) if values.size else None


def _pct(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if values.size else None


def _outcomes(preds: list[Prediction]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per question: top score (-1 with no candidate), F1 and EM if the top candidate is served,
    and F1 (= EM) if the system abstains instead (1 on unanswerable questions, else 0)."""
    scores = np.array([p.top_score if p.top_text is not None else -1.0 for p in preds], dtype=float)
    answered_f1 = np.array([f1_score(p.top_text, p.golds) if p.top_text is not None else 0.0 for p in preds])
    answered_em = np.array([exact_match(p.top_text, p.golds) if p.top_text is not None else 0.0 for p in preds])
    abstain = np.array([0.0 if p.has_answer else 1.0 for p in preds])
    has_candidate = scores >= 0
    answered_f1 = np.where(has_candidate, answered_f1, abstain)
    answered_em = np.where(has_candidate, answered_em, abstain)
    return scores, answered_f1, answered_em, abstain, has_candidate


def at_threshold(preds: list[Prediction], thresholds) -> list[dict]:
    """What serving with each threshold would give: answer rate, overall EM/F1, and F1 over the
    answered questions alone (the accuracy-coverage curve)."""
    scores, ans_f1, ans_em, abstain, _ = _outcomes(preds)
    points = []
    for t in thresholds:
        served = scores >= t
        point = {"threshold": round(float(t), 4), "answer_rate": _mean(served),
                 "f1": _mean(np.where(served, ans_f1, abstain)), "exact_match": _mean(np.where(served, ans_em, abstain)),
                 "f1_answered": _mean(ans_f1[served]) if served.any() else None}
        points.append(point)
    return points


def threshold_sweep(preds: list[Prediction], steps: int = 100) -> dict:
    """The curve on a fixed grid, and the threshold with the best overall F1 found exactly over
    every observed score. When a range of thresholds ties, the middle of it: an edge would flip
    answers with the slightest change in scores."""
    if not preds:
        return {"curve": [], "best": None}
    scores, ans_f1, _, abstain, _ = _outcomes(preds)
    candidates = np.unique(np.concatenate([scores[scores >= 0], [0.0, 1.0 + 1e-9]]))
    overall = _overall_sorted(scores, ans_f1, abstain, candidates)
    best_t = _plateau_middle(candidates, overall)
    best = at_threshold(preds, [best_t])[0]
    best["threshold"] = round(min(best_t, 1.0), 4)
    return {"curve": at_threshold(preds, np.linspace(0.0, 1.0, steps + 1)), "best": best}


def _plateau_middle(candidates: np.ndarray, overall: np.ndarray) -> float:
    """Midpoint of the first run of consecutive candidate thresholds that reach the best F1;
    any threshold in it answers the same questions as one of the run's own candidates."""
    best = np.flatnonzero(overall >= overall.max() - 1e-12)
    end = best[0]
    while end + 1 < len(overall) and overall[end + 1] >= overall.max() - 1e-12:
        end += 1
    return float((candidates[best[0]] + candidates[end]) / 2)


def _overall_sorted(scores, ans_f1, abstain, candidates) -> np.ndarray:
    """Overall F1 at each candidate threshold in O(n log n): answered = the scores >= t."""
    order = np.argsort(-scores, kind="stable")
    gain = np.concatenate([[0.0], np.cumsum((ans_f1 - abstain)[order])])
    answered = np.searchsorted(-scores[order], -candidates, side="right")
    return (abstain.sum() + gain[answered]) / len(scores)


def reliability(preds: list[Prediction], bins: int = 10) -> dict:
    """Score against how often the top candidate is exactly right, in equal-width score bins,
    and the expected calibration error: a calibrated 0.7 is right 70% of the time."""
    scores, _, ans_em, _, has_candidate = _outcomes(preds)
    scores, correct = scores[has_candidate], ans_em[has_candidate]
    index = np.minimum(np.floor(scores * bins + 1e-9).astype(int), bins - 1)  # 0.6 falls in [0.6, 0.7)
    rows, ece = [], 0.0
    for b in range(bins):
        inside = index == b
        if inside.any():
            confidence, accuracy = float(scores[inside].mean()), float(correct[inside].mean())
            ece += inside.sum() / len(scores) * abs(accuracy - confidence)
            rows.append({"low": round(b / bins, 2), "high": round((b + 1) / bins, 2), "count": int(inside.sum()),
                         "mean_score": round(confidence, 4), "exact": round(accuracy, 4)})
    return {"bins": rows, "ece": round(float(ece), 4) if rows else None}


def negative_metrics(preds: list[Prediction]) -> dict | None:
    """The "not this answer" negatives, apart from EM/F1: of the questions with answers users
    marked wrong, how often this run serves one of them again, and how often it abstains."""
    marked = [p for p in preds if p.wrong]
    if not marked:
        return None
    return {"questions": len(marked), "unknown_gold": sum(not p.gold_known for p in marked),
            "repeated": _mean([p.answer is not None and exact_match(p.answer, p.wrong) == 1.0 for p in marked]),
            "abstained": _mean([p.answer is None for p in marked])}


def summarize(preds: list[Prediction], wall_seconds: float, retrieval_only: bool = False) -> dict:
    """Every figure of a run, in one JSON-ready dict (fractions in [0, 1]). Questions whose right
    answer is unknown count only among the negatives, never as abstentions."""
    out: dict = {"questions": len(preds)}
    if not retrieval_only:
        scored = [p for p in preds if p.gold_known]
        out["answers"] = answer_metrics(scored)
        out["citations"] = citation_metrics(scored)
        out["threshold"] = threshold_sweep(scored)
        out["reliability"] = reliability(scored)
        out["negatives"] = negative_metrics(preds)
    out["retrieval"] = retrieval_metrics(preds)
    out["latency"] = latency_metrics(preds, wall_seconds)
    return out


_SECTIONS = {"f1": ("answers", "f1"), "exact_match": ("answers", "exact_match"), "citation_exact": ("citations", "exact")}


def figure(summary: dict, name: str) -> float | None:
    """A figure of a summary by its gate name: f1, exact_match, citation_exact, recall@K,
    mrr@10, ndcg@10."""
    section, key = _SECTIONS.get(name, ("retrieval", name))
    return (summary.get(section) or {}).get(key)


def failed_gates(summary: dict, minimums: dict[str, float]) -> list[str]:
    """One message per figure below its minimum, or not measured at all (a gate on a figure the
    file cannot give must fail, not pass silently)."""
    failures = []
    for name, minimum in minimums.items():
        value = figure(summary, name)
        if value is None:
            failures.append(f"{name} was not measured (minimum {minimum:g})")
        elif value < minimum:
            failures.append(f"{name} {value:.4f} is below the minimum {minimum:g}")
    return failures
