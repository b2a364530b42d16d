"""`qa ask` and `qa serve`: answering questions, one from the command line or many over HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from qa.cli.base import service_for, settings_from
from qa.types import ANSWER_UNITS, AnswerUnit


@click.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON (same shape as POST /ask).")
@click.option("--top-k", "-k", type=click.IntRange(1, 50), default=None, help="Answers to show [env QA_TOP_K].")
@click.option("--collection", "-c", default=None, help="[env QA_COLLECTION; with --url, none: the server's default]")
@click.option("--url", default=None, help="Ask a running server (e.g. http://127.0.0.1:8000) instead of loading the models here; "
              "sends QA_API_KEY, when set, as its bearer key.")
@click.option("--doc-id", "doc_ids", multiple=True, metavar="ID", help="Only from this document (repeatable).")
@click.option("--path", "paths", multiple=True, metavar="PREFIX|GLOB",
              help="Only from documents whose source path starts with PREFIX or matches GLOB (repeatable).")
@click.option("--type", "types", multiple=True, metavar="EXT", help="Only from these file types: md, pdf, ... (repeatable).")
@click.option("--meta", multiple=True, metavar="KEY=VALUE", help="Only from documents whose front matter has KEY=VALUE (repeatable).")
@click.option("--min-score", type=click.FloatRange(0, 1), default=None,
              help="The score an answer needs, instead of the collection's abstention threshold.")
@click.option("--answer-unit", "unit", type=click.Choice(ANSWER_UNITS), default=None,
              help="The shortest words that answer, or their whole sentence(s) [env QA_ANSWER_UNIT; with --url, "
              "none: the server's default].")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env QA_DATA_DIR]")
def ask(question: str, as_json: bool, top_k: int | None, collection: str | None, url: str | None, doc_ids, paths, types,
        meta, min_score: float | None, unit: AnswerUnit | None, data_dir: Path | None) -> None:
    """Answer one question from the indexed documents, with citations.

    \b
    Examples:
      qa ask "Who developed Vidu?" --json
      qa ask "Who developed Vidu?" --url http://127.0.0.1:8000     # a running `qa serve`: no model loading
      qa ask "What does the guide say about keys?" --path '*/guide/*' --type md --meta author=Ann --min-score 0.3
      qa ask "What does heapq.heapify do?" --answer-unit sentence
    """
    settings = settings_from(data_dir=data_dir, collection=collection, top_k=top_k)
    filters = _filters(doc_ids, paths, types, meta)
    if url:
        from qa.remote import Remote

        named = settings.collection if "collection" in settings.model_fields_set else None
        result = Remote(url, settings.api_key).ask(question, settings.top_k, named, filters, min_score, unit)
    else:
        from qa.retrieve.filters import Filters

        service = service_for(settings)
        if settings.collection == "default":
            service.ensure_seeded(settings.seeds_dir)
        result = service.ask(question, settings.top_k, settings.collection, Filters.of(**filters), min_score, unit)
        result = result.to_dict()
    click.echo(json.dumps(result, indent=2, ensure_ascii=False) if as_json else result_text(result))


def _filters(doc_ids: tuple[str, ...], paths: tuple[str, ...], types: tuple[str, ...], meta: tuple[str, ...]) -> dict:
    """The options as `/ask`'s `filters` object (only the fields given)."""
    metadata: dict[str, list[str]] = {}
    for spec in meta:
        key, sep, value = spec.partition("=")
        if not (sep and key and value):
            raise click.BadParameter(f"{spec!r}: expected KEY=VALUE, e.g. author=Ann", param_hint="--meta")
        metadata.setdefault(key, []).append(value)
    given = {"doc_id": list(doc_ids), "path": list(paths), "type": list(types), "metadata": metadata}
    return {k: v for k, v in given.items() if v}


def result_text(result: dict) -> str:
    """`/ask`'s JSON as lines. Scores have four digits and candidates below the threshold say so,
    so an abstention explains itself (0.1451 against 0.15 must not read as 0.15)."""
    threshold = result.get("min_score")
    if result["answer"]:
        lines = [f"Answer: {result['answer']}"]
    else:
        lines = ["No answer found in the documents" + (f" (none reaches the {threshold:.4f} threshold)." if threshold is not None else ".")]
    for i, a in enumerate(result["answers"], 1):
        s = a["source"]
        below = threshold is not None and a["score"] < threshold
        label = f", below the {threshold:.4f} threshold" if below else ("" if result["answer"] else " (weak candidate)")
        page = f", page {s['page']}" if s.get("page") else ""
        lines.append(f"  [{i}] {a['text']!r} score {a['score']:.4f}{label} — {s['title']} / {s['section']} "
                     f"[chars {s['start']}-{s['end']}{page}]")
    return "\n".join(lines)


@click.command()
@click.option("--host", default=None, help="Interface to bind [env QA_HOST, default 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [env QA_PORT, default 8000].")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env QA_DATA_DIR]")
def serve(host: str | None, port: int | None, data_dir: Path | None) -> None:
    """Serve the HTTP API (docs at /docs). On an empty data directory, indexes seeds/ first.

    \b
    Example:
      qa serve --port 8000 && curl -s localhost:8000/ask -H 'content-type: application/json' \\
        -d '{"question": "How long can videos generated by Vidu be?"}'
    """
    from qa import serve as server

    # The app factory reads the same QA_* settings, so flags travel as environment variables.
    for key, value in {"QA_HOST": host, "QA_PORT": port, "QA_DATA_DIR": data_dir}.items():
        if value is not None:
            os.environ[key] = str(value)
    server.run(settings_from())
