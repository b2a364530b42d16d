"""`qa index` and `qa rm`: documents into and out of a collection."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qa.cli.base import indexing_service, service_for, settings_from


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--collection", "-c", default=None, help="Collection to index into [env QA_COLLECTION].")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env QA_DATA_DIR]")
@click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
              help="Embed on this Ray cluster, for large corpora (pip install 'verbatim-qa[ray]') [env QA_RAY_ADDRESS].")
@click.option("--ray-workers", type=click.IntRange(min=1), default=None, help="Embedding actors on Ray [env QA_RAY_WORKERS].")
def index(paths: tuple[Path, ...], collection: str | None, data_dir: Path | None, ray_address: str | None,
          ray_workers: int | None) -> None:
    """Index files and folders (default: the seed corpus).

    Incremental: unchanged files are skipped, changed ones re-embedded, files removed from a
    folder are dropped. A crash mid-way leaves the previous index in place.

    \b
    Examples:
      qa index docs/ notes.md --collection work
      QA_INDEX_BACKEND=milvus qa index corpus/ --ray 127.0.0.1:6379 --ray-workers 16
    """
    from qa.indexer import IndexProgress

    settings = settings_from(data_dir=data_dir, collection=collection, ray_address=ray_address, ray_workers=ray_workers)
    service = indexing_service(settings)
    with IndexProgress(shown=sys.stderr.isatty()) as progress:  # a log or a pipe gets the summary alone
        report = service.index(list(paths) or [settings.seeds_dir], settings.collection, progress)
    if report.reembedded:
        click.echo(f"Note: {report.reembedded}.", err=True)
    for why in report.skipped:
        click.echo(f"Skipped {why}", err=True)
    click.echo(f"{settings.collection}: {report.summary()}")


@click.command()
@click.argument("doc_ids", nargs=-1, required=True)
@click.option("--collection", "-c", default=None, help="Collection to remove from [env QA_COLLECTION].")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env QA_DATA_DIR]")
def rm(doc_ids: tuple[str, ...], collection: str | None, data_dir: Path | None) -> None:
    """Remove documents by id (ids are listed by GET /documents); questions stop citing them.

    A file removed this way that still sits in an indexed folder comes back at the next
    `qa index` of that folder: delete the file to drop it for good.

    \b
    Example:
      qa rm 3f2a9c0d1e4b5a67 --collection work
    """
    settings = settings_from(data_dir=data_dir, collection=collection)
    service = service_for(settings)
    for doc_id in doc_ids:
        report = service.remove_document(doc_id, settings.collection)
        gone = "; that was its last document, so the collection is gone" if report.version is None else ""
        click.echo(f"{settings.collection}: removed {doc_id}; {report.documents} documents, {report.passages} passages left{gone}")
