"""`qa collections list|rm`: the collections of the data directory, and deleting one."""

from __future__ import annotations

from pathlib import Path

import click

from qa.cli.base import service_for, settings_from

DATA_DIR = click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="[env QA_DATA_DIR]")


@click.group()
def collections() -> None:
    """List and delete collections (each is an index with its own documents and settings)."""


@collections.command("list")
@DATA_DIR
def list_(data_dir: Path | None) -> None:
    """List the collections with their documents, passages and version.

    \b
    Example:
      qa collections list
    """
    service = service_for(settings_from(data_dir=data_dir))
    rows = [service.summary(name) for name in service.collections()]
    click.echo(f"{len(rows)} collection{'s' * (len(rows) != 1)} in {service.store.location}")
    width = max((len(r["name"]) for r in rows), default=0)
    for r in rows:
        click.echo(f"  {r['name']:<{width}}  {r['documents']:>6} documents  {r['passages']:>8} passages  {r['version']}")


@collections.command("rm")
@click.argument("names", nargs=-1, required=True)
@DATA_DIR
def rm(names: tuple[str, ...], data_dir: Path | None) -> None:
    """Delete whole collections: their documents, index, settings and uploaded originals.

    A kill mid-way never leaves half a collection readable: it disappears in one atomic step
    first; running the command again finishes the cleaning.

    \b
    Example:
      qa collections rm work scratch
    """
    service = service_for(settings_from(data_dir=data_dir))
    for name in names:
        held = service.drop_collection(name)
        click.echo(f"removed collection {name!r} ({held['documents']} documents, {held['passages']} passages)")
