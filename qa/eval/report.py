"""What an evaluation leaves behind: a summary table for the terminal, and with `--report DIR`
`metrics.json`, `predictions.jsonl` (one line per question, enough to audit any figure),
`report.md` and PNG plots. matplotlib is imported only when plots are drawn."""

from __future__ import annotations

import json
from pathlib import Path

from qa.eval.metrics import KS, Prediction

PLOTS = {
    "accuracy_coverage.png": "Accuracy-coverage: F1 against the share of questions answered, over thresholds",
    "reliability.png": "Reliability: top-candidate score against how often it is exactly right",
    "recall_at_k.png": "Retrieval recall@k of the gold passage",
    "latency.png": "Latency per question",
}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summary_rows(summary: dict) -> list[tuple[str, str]]:
    """(figure, value) pairs in reading order; EM/F1 and rates in percent as SQuAD reports them."""
    rows: list[tuple[str, str]] = [("questions", str(summary["questions"]))]
    answers = summary.get("answers")
    if answers:
        rows += [("exact match (%)", _pct(answers["exact_match"])), ("F1 (%)", _pct(answers["f1"])),
                 ("answered (%)", _pct(answers["answer_rate"]))]
        if "has_ans" in answers:
            rows += [("HasAns EM / F1 (%)", f"{_pct(answers['has_ans']['exact_match'])} / {_pct(answers['has_ans']['f1'])}"),
                     ("NoAns accuracy (%)", _pct(answers["no_ans"]["accuracy"])),
                     ("abstention precision / recall (%)",
                      f"{_pct(answers['abstention']['precision'])} / {_pct(answers['abstention']['recall'])}")]
        cites = summary["citations"]
        rows += [("citations exact (%)", f"{_pct(cites['exact'])} of {cites['checked']}")]
        if cites["gold_known"]:
            rows += [("cited passage is gold (%)", _pct(cites["gold_passage"]))]
        negatives = summary.get("negatives")
        if negatives:
            rows += [("marked wrong by users: served again / abstained (%)",
                      f"{_pct(negatives['repeated'])} / {_pct(negatives['abstained'])} of {negatives['questions']}")]
        best = summary["threshold"]["best"]
        if best:
            rows += [("best threshold (F1 / answered %)", f"{best['threshold']:.3f} ({_pct(best['f1'])} / {_pct(best['answer_rate'])})")]
    retrieval = summary.get("retrieval")
    if retrieval:
        rows += [(f"recall@{k}", _num(retrieval[f"recall@{k}"])) for k in KS]
        rows += [("MRR@10", _num(retrieval["mrr@10"])), ("nDCG@10", _num(retrieval["ndcg@10"]))]
    lat = summary["latency"]
    rows += [("latency p50 / p95 / p99 (ms)", f"{_num(lat['p50_ms'], 1)} / {_num(lat['p95_ms'], 1)} / {_num(lat['p99_ms'], 1)}"),
             ("questions/s", _num(lat["questions_per_s"], 1))]
    return rows


def summary_table(summary: dict) -> str:
    rows = summary_rows(summary)
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name.ljust(width)}  {value}" for name, value in rows)


def sweep_table(summary: dict, step: int = 10) -> str:
    """Every `step`-th point of the threshold curve, as a plain table."""
    lines = ["  threshold  answered%   F1%   EM%  F1%(answered)"]
    for point in summary["threshold"]["curve"][::step]:
        lines.append(f"  {point['threshold']:9.2f}  {_pct(point['answer_rate']):>9}  {_pct(point['f1']):>5}"
                     f"  {_pct(point['exact_match']):>4}  {_pct(point['f1_answered']):>13}")
    return "\n".join(lines)


def prediction_row(p: Prediction) -> dict:
    citation = dict(p.citation or {}) or None
    if citation is not None:
        citation["exact"] = p.citation_exact
    asked = {"query": p.query} if p.query is not None else {}  # a conversation turn's rewrite
    return {"id": p.qid, "question": p.question, **asked, "gold": list(p.golds), "prediction": p.answer,
            "top_candidate": p.top_text, "score": p.top_score if p.top_text is not None else None,
            "em": p.em if p.gold_known else None, "f1": round(p.f1, 4) if p.gold_known else None, "wrong": list(p.wrong), "citation": citation, "cited_gold": p.cited_gold,
            "retrieved": list(p.ranked), "relevant": sorted(p.relevant), "latency_ms": round(p.latency_ms, 2),
            "timings": {k: round(v, 2) for k, v in p.timings.items()}}


def write_report(folder: Path, summary: dict, preds: list[Prediction], meta: dict) -> list[Path]:
    """Write every report file into `folder` (created); returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps({"meta": meta, **summary}, indent=2) + "\n")
    with open(folder / "predictions.jsonl", "w", encoding="utf-8") as handle:
        for p in preds:
            handle.write(json.dumps(prediction_row(p), ensure_ascii=False) + "\n")
    plots = draw_plots(folder, summary, preds)
    (folder / "report.md").write_text(report_markdown(summary, meta, plots))
    return [folder / "metrics.json", folder / "predictions.jsonl", folder / "report.md", *plots]


def report_markdown(summary: dict, meta: dict, plots: list[Path]) -> str:
    lines = [f"# Evaluation of `{meta.get('file')}`", ""]
    lines += [f"- {k}: `{v}`" for k, v in meta.items()]
    lines += ["", "| figure | value |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in summary_rows(summary)]
    if summary.get("threshold"):
        lines += ["", "## Abstention threshold", "", "```", sweep_table(summary), "```"]
    if summary.get("feedback"):
        lines += feedback_markdown(summary["feedback"])
    lines += ["", "Fractions are in [0, 1] in `metrics.json`; EM/F1 are shown in percent as SQuAD reports them.", ""]
    for plot in plots:
        lines += [f"## {PLOTS[plot.name]}", "", f"![{plot.stem}]({plot.name})", ""]
    return "\n".join(lines)


def feedback_markdown(feedback: dict) -> list[str]:
    """Users' feedback over time, and the questions they most often marked wrong."""
    lines = ["", "## Feedback by week", "",
             "| week | verdicts | marked correct by users (%) | questions scored now | F1 now (%) |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {w['week']} | {w['verdicts']} | {_pct(w['marked_correct'])} | {w['scored']} | {_pct(w['f1_now'])} |"
              for w in feedback["by_week"]]
    lines += ["", "## Questions most often marked wrong", "",
              "| question | marked wrong | answers marked wrong | right answer (users) | answer now |", "| --- | --- | --- | --- | --- |"]
    for q in feedback["most_wrong"]:
        cells = [q["question"], str(q["marked_wrong"]), "; ".join(q["wrong_answers"]) or "-",
                 ("; ".join(q["answers"]) or "(abstain)") if q["answers"] is not None else "unknown", q["answer_now"] or "(abstains)"]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return lines


def _cell(text: str) -> str:
    """Users' words in a Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")[:200]


def draw_plots(folder: Path, summary: dict, preds: list[Prediction]) -> list[Path]:
    """The PNGs that apply to this run (no recall plot without gold passages, and so on)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = []
    for name, draw in (("accuracy_coverage.png", _coverage), ("reliability.png", _reliability),
                       ("recall_at_k.png", _recall), ("latency.png", _latency)):
        fig, ax = plt.subplots(figsize=(5.5, 4), dpi=110)
        if draw(ax, summary, preds):
            ax.set_title(PLOTS[name].split(":")[0])
            ax.grid(alpha=0.3)
            fig.tight_layout()
            fig.savefig(folder / name)
            drawn.append(folder / name)
        plt.close(fig)
    return drawn


def _coverage(ax, summary: dict, preds) -> bool:
    curve = (summary.get("threshold") or {}).get("curve") or []
    if not curve:
        return False
    points = [p for p in curve if p["f1_answered"] is not None]
    ax.plot([p["answer_rate"] for p in points], [p["f1_answered"] for p in points], marker=".", label="F1 of answered")
    ax.plot([p["answer_rate"] for p in curve], [p["f1"] for p in curve], marker=".", label="F1 overall (abstain = right on NoAns)")
    best = summary["threshold"]["best"]
    ax.scatter([best["answer_rate"]], [best["f1"]], color="red", zorder=3, label=f"best threshold {best['threshold']:.2f}")
    ax.set_xlabel("coverage (share answered)")
    ax.set_ylabel("F1")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7)
    return True


def _reliability(ax, summary: dict, preds) -> bool:
    bins = (summary.get("reliability") or {}).get("bins") or []
    if not bins:
        return False
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="calibrated")
    ax.bar([(b["low"] + b["high"]) / 2 for b in bins], [b["exact"] for b in bins], width=0.09, alpha=0.7, label="exact match")
    ax.plot([b["mean_score"] for b in bins], [b["exact"] for b in bins], marker="o", color="black")
    ax.set_xlabel(f"score (ECE {summary['reliability']['ece']:.3f})")
    ax.set_ylabel("share exactly right")
    ax.legend(fontsize=7)
    return True


def _recall(ax, summary: dict, preds) -> bool:
    retrieval = summary.get("retrieval")
    if not retrieval:
        return False
    ax.plot(KS, [retrieval[f"recall@{k}"] for k in KS], marker="o")
    ax.set_xticks(KS)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.02)
    return True


def _latency(ax, summary: dict, preds) -> bool:
    if not preds:
        return False
    ax.hist([p.latency_ms for p in preds], bins=50)
    lat = summary["latency"]
    for q in ("p50_ms", "p95_ms", "p99_ms"):
        ax.axvline(lat[q], linestyle="--", color="red", alpha=0.6)
    ax.set_xlabel("ms per question (dashed: p50, p95, p99)")
    ax.set_ylabel("questions")
    return True
