"""`kg validate`: the whole store against the SHACL shapes."""

from __future__ import annotations

from pathlib import Path

import click

from ..settings import SHACL_ENGINES
from ._util import ENGINE_HELP, STORE_HELP, open_store, settings_for


@click.command("validate")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option("--shacl-engine", type=click.Choice(SHACL_ENGINES), help=ENGINE_HELP)
@click.pass_context
def validate_command(ctx: click.Context, store: Path | None, shacl_engine: str | None) -> None:
    """Check the whole store against the SHACL shapes; exit 1 on violations, or when a build's corpus
    stage never finished (entities and events are missing until 'kg build' finishes it)."""
    from ..store.store import StoreError
    from ..validate.check import validate_store

    settings = settings_for(ctx, store=store, shacl_engine=shacl_engine)
    try:
        with open_store(settings) as opened:
            report = validate_store(opened, engine=settings.shacl_engine)
            pending = opened.corpus_pending()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.text())
    if pending is not None:
        click.echo(
            f"incomplete: the corpus stage of a build begun {pending} did not finish; "
            f"'kg build' finishes it (entities and events are missing or out of date until then)",
            err=True,
        )
    ctx.exit(0 if report.conforms and pending is None else 1)
