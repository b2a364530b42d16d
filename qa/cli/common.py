"""What every `qa` command shares: settings from flags over the environment, the service, and
the group that turns domain errors into `Error: ...` with a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from qa.config import Settings, load_settings
from qa.errors import NotFound, NotReady, QAError

WHERE = "qa.where"  # click context meta: where this command looked for collections, in words


class Group(click.Group):
    """Turns domain errors into `Error: ...` and exit status 1 instead of a traceback. Something
    not found is said with where it was looked for (the data directory), since the same command
    run with another QA_DATA_DIR would find it."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QAError as exc:
            where = ctx.meta.get(WHERE)
            hint = f" ({where})" if where and isinstance(exc, (NotFound, NotReady)) else ""
            click.echo(f"Error: {exc.message}{hint}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted; the previous index is untouched.", err=True)
            sys.exit(130)


def make_settings(**overrides) -> Settings:
    """Flags override QA_* environment variables, which override defaults."""
    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    _note_unused_data_dir(settings)
    return settings


def _note_unused_data_dir(settings: Settings) -> None:
    """The data directory used to be `.qa-data` in the current directory; one left here is not
    used any more (see `qa.config.default_data_dir`), so say so rather than leave it behind in silence."""
    here = Path(".qa-data")
    if "data_dir" not in settings.model_fields_set and here.is_dir() and here.resolve() != settings.data_dir.resolve():
        click.echo(f"Note: the data directory is {settings.data_dir}; ./.qa-data is not used "
                   "(--data-dir .qa-data or QA_DATA_DIR=.qa-data uses it).", err=True)


def make_service(settings: Settings, encoder=None):
    """The service; errors of this command then name the store it reads (`Group.invoke`)."""
    from qa.service import QAService

    service = QAService(settings, encoder=encoder)
    click.get_current_context().meta[WHERE] = service.store.location
    return service


def indexing_service(settings: Settings):
    """The service, embedding on Ray when an address is set."""
    if not settings.ray_address:
        return make_service(settings)
    from qa.embed.ray_encoder import RayEncoder

    cache = settings.model_cache or settings.data_dir / "cache"
    encoder = RayEncoder(settings.encoder, settings.embed_model, cache.resolve(), settings.ray_address,
                         settings.ray_workers, settings.encode_batch_size)
    return make_service(settings, encoder)
