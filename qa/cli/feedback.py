"""`qa feedback ...`: users' verdicts on answers (POST /feedback), as evaluation data. A group of
its own, which `qa.cli` adds to the `qa` command."""

from __future__ import annotations

from pathlib import Path

import click

from qa.config import load_settings


@click.group()
def feedback() -> None:
    """Users' feedback on answers (thumbs up/down and corrections from the widget or POST /feedback)."""


@feedback.command("export")
@click.option("--collection", "-c", default=None, help="Whose feedback [env QA_COLLECTION].")
@click.option("--output", "-o", type=click.Path(path_type=Path), default=None, help="File to write (default: standard output).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env QA_DATA_DIR]")
def export(collection: str | None, output: Path | None, data_dir: Path | None) -> None:
    """Write a collection's feedback as the JSON Lines `qa eval` reads: corrections become gold
    answers, `should_abstain` an empty `answers` list, answers marked wrong without a correction
    `wrong_answers` ("not this answer", reported apart).

    \b
    Examples:
      qa feedback export -c docs -o feedback.jsonl && qa eval feedback.jsonl -c docs
      qa eval --feedback docs --tune        # the same, directly, and refit the threshold
    """
    from qa.eval.feedback import export_text

    given = {"collection": collection, "data_dir": data_dir}
    settings = load_settings(**{k: v for k, v in given.items() if v is not None})
    text, rows = export_text(settings.data_dir, settings.collection)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    gold = sum(bool(r["answers"]) for r in rows)
    abstain = sum(r["answers"] == [] for r in rows)
    click.echo(f"{settings.collection}: {len(rows)} questions from {sum(r['feedback']['records'] for r in rows)} verdicts "
               f"({gold} with gold answers, {abstain} to abstain on, {len(rows) - gold - abstain} with wrong answers only)"
               + (f", written to {output}" if output else ""), err=True)
