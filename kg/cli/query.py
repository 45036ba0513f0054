"""`kg query` and `kg stats`: SPARQL over the store, and what it holds."""

from __future__ import annotations

from pathlib import Path

import click

from ..formats import Family, names
from ._util import STORE_HELP, open_store, settings_for


@click.command("query")
@click.argument("query_or_file")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["table", *names(Family.RESULTS)]), default="table", show_default=True
)
@click.pass_context
def query_command(ctx: click.Context, query_or_file: str, store: Path | None, fmt: str) -> None:
    """Run SPARQL (inline, a .rq file, or the name of a canned query in queries/)."""
    from ..store.query import QueryError, read_query, render, run
    from ..store.store import StoreError

    settings = settings_for(ctx, store=store)
    try:
        text = render(run(open_store(settings), read_query(query_or_file)), fmt)
        click.echo(text, nl=not text.endswith("\n"))
    except (QueryError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command("stats")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.pass_context
def stats_command(ctx: click.Context, store: Path | None) -> None:
    """Articles, entities per type, mentions and triples in the store."""
    from ..store.query import stats
    from ..store.store import StoreError

    settings = settings_for(ctx, store=store)
    try:
        counts = stats(open_store(settings))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    width = max(len(k) for k in counts)
    for key, value in counts.items():
        click.echo(f"{key.ljust(width)}  {value:>10,}")
