"""`kg export`: the store as Turtle, N-Triples, N-Quads, TriG or JSON-LD."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..formats import EXPORT_NAMES, Family, by_extension
from ._util import STORE_HELP, open_store, settings_for


@click.command("export")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(EXPORT_NAMES), help="Default: from -o's extension, else turtle."
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
@click.pass_context
def export_command(ctx: click.Context, store: Path | None, fmt: str | None, output: Path | None) -> None:
    """Write the graph as Turtle, N-Triples, N-Quads, TriG or JSON-LD."""
    from ..store.export import export
    from ..store.store import StoreError

    settings = settings_for(ctx, store=store)
    if fmt is None:
        found = by_extension(output.name, Family.RDF, EXPORT_NAMES) if output else None
        fmt = found.name if found else "turtle"
    try:
        opened = open_store(settings)
        if output is None:
            export(opened, fmt, sys.stdout.buffer)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("wb") as stream:
                export(opened, fmt, stream)
            partial.replace(output)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
