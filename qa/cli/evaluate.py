"""`qa eval`: a question file (or a collection's feedback) through the service, with metrics,
gates and a report."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from qa.cli.base import service_for, settings_from
from qa.config import Settings
from qa.types import ANSWER_UNITS, AnswerUnit


@click.command("eval")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option("--feedback", "feedback_of", metavar="NAME", default=None,
              help="Evaluate collection NAME's feedback (what `qa feedback export` writes) instead of a FILE.")
@click.option("--report", "report_dir", type=click.Path(path_type=Path), default=None,
              help="Write metrics.json, predictions.jsonl, report.md and PNG plots into this folder.")
@click.option("--corpus-from-file", is_flag=True,
              help="Index the file's own contexts (SQuAD articles, BEIR documents) into a throw-away "
              "collection named by their fingerprint; a second run reuses it without embedding.")
@click.option("--url", default=None, help="Ask a running server (e.g. http://127.0.0.1:8000) over HTTP instead of in-process; "
              "sends QA_API_KEY, when set, as its bearer key.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate a random sample of N questions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --limit sample.")
@click.option("--sweep", is_flag=True, help="Print answer rate, F1 and EM across abstention thresholds.")
@click.option("--tune", is_flag=True, help="Store the best threshold (and the --answer-unit, if given) in the settings "
              "of --collection; qa serve and qa ask use them.")
@click.option("--min-f1", type=float, default=None, help="Exit 1 if F1 is below this (0.7 or 70).")
@click.option("--min-em", type=float, default=None, help="Exit 1 if exact match is below this (0.6 or 60).")
@click.option("--min-recall-at", "min_recall", multiple=True, metavar="K=X", help="Exit 1 if recall@K < X, e.g. 5=0.9 (repeatable).")
@click.option("--min-mrr", type=float, default=None, help="Exit 1 if MRR@10 is below this.")
@click.option("--min-ndcg", type=float, default=None, help="Exit 1 if nDCG@10 is below this.")
@click.option("--collection", "-c", default=None, help="Collection to ask (and to --tune) [env QA_COLLECTION].")
@click.option("--top-k", "-k", type=click.IntRange(1, 50), default=None, help="Answers kept per question [env QA_TOP_K].")
@click.option("--batch-size", type=click.IntRange(1, 1024), default=32, show_default=True, help="Questions per embedding batch.")
@click.option("--answer-unit", "unit", type=click.Choice(ANSWER_UNITS), default=None,
              help="Ask for spans or whole sentences [env QA_ANSWER_UNIT; with --url, none: the server's default].")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env QA_DATA_DIR]")
def eval_(file: Path | None, feedback_of: str | None, report_dir: Path | None, corpus_from_file: bool, url: str | None,
          limit: int | None, seed: int, sweep: bool, tune: bool, min_f1, min_em, min_recall, min_mrr, min_ndcg,
          collection: str | None, top_k: int | None, batch_size: int, unit: AnswerUnit | None,
          data_dir: Path | None) -> None:
    """Evaluate a question file: EM/F1, retrieval recall@k/MRR/nDCG, abstention, citation
    exactness, latency. Reads JSON Lines ({"id", "question", "answers"}), SQuAD v1.1/v2.0 JSON,
    a BEIR folder (retrieval only, against its own corpus), or conversations (JSON Lines of
    {"context", "turns"}: each turn asked as /chat asks it, after the turns before it with their
    gold answers). Exits 1 when a --min-* gate fails.

    \b
    Examples:
      qa eval questions.jsonl --report reports/seed
      qa eval squad-v1.1-dev.json --corpus-from-file --limit 300 --min-f1 0.5 --min-recall-at 5=0.8
      qa eval squad-v2.0-dev-half.json --corpus-from-file --sweep --tune
      qa eval scifact/ --report reports/scifact       # BEIR: qrels/test.tsv, or name another qrels file
      qa eval doqa-cooking-dev-conversations.jsonl --corpus-from-file
      qa eval questions.jsonl --url http://127.0.0.1:8000
      qa eval --feedback docs --tune --report reports/feedback   # users' verdicts on collection docs
    """
    from qa.eval.feedback import load_questions

    settings = settings_from(data_dir=data_dir, collection=feedback_of or collection, top_k=top_k, answer_unit=unit)
    gates = _gates(min_f1, min_em, min_recall, min_mrr, min_ndcg)
    evalset = load_questions(file, feedback_of, settings.data_dir).sample(limit, seed)
    started = time.time()
    preds, seconds, meta = _evaluate(settings, evalset, url, corpus_from_file, tune, batch_size, unit)
    _finish_eval(settings, evalset, preds, seconds, {**meta, "wall_s": round(time.time() - started, 1)},
                 report_dir, sweep, tune, gates)


def _evaluate(settings: Settings, evalset, url: str | None, from_file: bool, tune: bool, batch_size: int,
              unit: AnswerUnit | None):
    """Run every question, in-process or against --url; returns predictions, answering seconds, meta.
    `unit`: what --url asks the server for (none: its default); in-process, settings carry it."""
    from tqdm import tqdm

    from qa.eval import run as eval_run
    from qa.errors import InvalidInput

    meta = {"file": evalset.path, "format": evalset.kind, "questions": len(evalset.questions), "argv": " ".join(sys.argv[1:])}
    if url:
        if from_file or evalset.retrieval_only or tune:
            raise InvalidInput("--url evaluates a server's own collection: it cannot take --corpus-from-file, "
                               "--tune or a BEIR folder (index the corpus on the server and name it with --collection)")
        batch = eval_run.over_http(url, settings.collection, settings.top_k, settings.api_key, unit=unit)
        meta |= {"collection": settings.collection, "url": url, "answer_unit": unit or "the server's default"}
    else:
        service = service_for(settings)
        batch, meta["collection"], corpus = eval_run.prepare(
            service, evalset, settings.collection, from_file, settings.top_k, settings.seeds_dir)
        meta |= {"reader": service.reader.name, "model": service.encoder.name, "retrieve_k": settings.retrieve_k,
                 "answer_unit": service.answer_unit(meta["collection"]),
                 "abstain_threshold": service.abstain_threshold(meta["collection"]), "batch_size": batch_size,
                 "latency": "service time per question after one warm-up; embedding shared across each batch"}
        if corpus is not None:
            meta["corpus"] = f"{corpus.report.documents} documents, {corpus.report.passages} passages, embedded {corpus.report.embedded}"
    with tqdm(total=len(evalset.questions), unit="q", desc="qa eval", file=sys.stderr) as bar:
        preds, seconds = eval_run.run(batch, evalset.questions, batch_size, bar, evalset.retrieval_only)
    return preds, seconds, meta


def _finish_eval(settings: Settings, evalset, preds, seconds: float, meta: dict, report_dir, sweep: bool, tune: bool, gates) -> None:
    """Print the summary, write the report, tune (an answer unit set by flag or QA_ANSWER_UNIT is
    stored with the threshold), and exit 1 naming each figure below its gate."""
    from qa.eval import report as eval_report
    from qa.eval import run as eval_run
    from qa.eval.feedback import feedback_section
    from qa.eval.metrics import failed_gates, summarize
    from qa.store.factory import open_store

    summary = summarize(preds, seconds, evalset.retrieval_only) | feedback_section(evalset.questions, preds)
    click.echo(f"{evalset.path} ({evalset.kind}) on collection {meta['collection']!r}:")
    click.echo(eval_report.summary_table(summary))
    if sweep and summary.get("threshold"):
        click.echo(eval_report.sweep_table(summary))
    if report_dir is not None:
        eval_report.write_report(report_dir, summary, preds, meta)
        click.echo(f"Report written to {report_dir}/report.md")
    if tune:
        unit = settings.answer_unit if "answer_unit" in settings.model_fields_set else None
        value = eval_run.tune(open_store(settings), settings.collection, summary, evalset.path, unit)
        stored = f" and answer_unit {unit!r}" if unit else ""
        click.echo(f"Tuned: abstain_threshold {value:.4f}{stored} stored for collection {settings.collection!r}")
    failures = failed_gates(summary, gates)
    for failure in failures:
        click.echo(f"Gate failed: {failure}", err=True)
    if failures:
        sys.exit(1)


def _gates(min_f1, min_em, min_recall, min_mrr, min_ndcg) -> dict[str, float]:
    """Minimums by figure name; F1 and EM may be given in percent (70) or as fractions (0.7)."""
    gates = {name: value / 100 if name in ("f1", "exact_match") and value > 1 else value
             for name, value in (("f1", min_f1), ("exact_match", min_em), ("mrr@10", min_mrr), ("ndcg@10", min_ndcg))
             if value is not None}
    for spec in min_recall:
        k, sep, value = spec.partition("=")
        try:
            gates[f"recall@{int(k)}"] = float(value)
        except ValueError:
            raise click.BadParameter(f"{spec!r}: expected K=X, e.g. 5=0.9", param_hint="--min-recall-at") from None
        if not sep or int(k) not in (1, 5, 10, 20):
            raise click.BadParameter(f"{spec!r}: K is one of 1, 5, 10, 20", param_hint="--min-recall-at")
    return gates
