"""`kg build`: read articles into the store (the whole flow; kg.pipeline.build does the work)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..settings import FIELD_PRESETS, SHACL_ENGINES
from ._util import ENGINE_HELP, STORE_HELP, report_build, settings_for


@click.command("build")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option("--base", help="Base IRI for minted IRIs (ends in '/').")
@click.option("--model", help="spaCy pipeline to use (package name or path).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Processes for spaCy.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Texts per spaCy batch.")
@click.option(
    "--batch-chars",
    type=click.IntRange(min=1),
    help="Characters per spaCy batch, at most (bounds peak memory; one process only).",
)
@click.option("--max-bytes", type=click.IntRange(min=1), help="Largest article accepted, in bytes.")
@click.option(
    "--max-chars",
    type=click.IntRange(min=1),
    help="Longest article accepted, in characters (default 200000; parsing needs ~3 KB each).",
)
@click.option(
    "--fields", type=click.Choice(list(FIELD_PRESETS)), help="JSON Lines keys of a known feed (newsapi: content...)."
)
@click.option("--text-key", help="JSON Lines key of the article's text (default: text).")
@click.option("--date-key", help="JSON Lines key of its publication date (default: date).")
@click.option("--title-key", help="JSON Lines key of its headline (default: title).")
@click.option("--validate/--no-validate", default=None, help="Check what was written with SHACL (default: on).")
@click.option("--shacl-engine", type=click.Choice(SHACL_ENGINES), help=ENGINE_HELP)
@click.option("--link/--no-link", default=None, help="Link entities to Wikidata (default: on; see 'kg link').")
@click.option("--events/--no-events", default=None, help="Read events, their roles and dates (default: on).")
@click.option(
    "--event-lexicon",
    type=click.Path(dir_okay=False),
    help="A Turtle file of extra event types and trigger words (see ontology/events.ttl).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; print only errors.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this machine (--jobs); dask: a Dask cluster (pip install newskg[dask]; see the README).",
)
@click.option("--scheduler", help="With --engine dask: a running Dask scheduler's address (tcp://host:8786).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="With --engine dask and no --scheduler: processes of the LocalCluster started here.",
)
@click.pass_context
def build_command(
    ctx: click.Context,
    inputs: tuple[str, ...],
    quiet: bool,
    engine: str,
    scheduler: str | None,
    workers: int,
    **options: object,
) -> None:
    """Read INPUTS (files, folders, .jsonl, '-' for stdin) into the store.

    Unchanged articles are skipped, changed ones replaced; entities are resolved across the
    whole corpus and what was written is validated. Exits 1 if any input failed or the graph
    does not conform.
    """
    if engine == "dask":
        from .cluster import build_on_dask  # Dask is an extra: imported only when asked for

        build_on_dask(ctx, settings_for(ctx, **options), inputs, quiet, scheduler, workers)
        return
    if scheduler:
        raise click.UsageError("--scheduler needs --engine dask")
    from ..pipeline.build import build, count_articles, stage_bar
    from ..settings import SettingsError
    from ..store.store import StoreError

    try:
        settings = settings_for(ctx, **options)
        bar = None
        if not quiet:
            from tqdm import tqdm

            bar = tqdm(total=count_articles(inputs), unit="article", desc="build", file=sys.stderr)
        try:
            report = build(
                inputs, settings, progress=bar.update if bar else None, stage=stage_bar(bar) if bar else None
            )
        finally:
            if bar is not None:
                bar.close()
    except (SettingsError, StoreError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    report_build(ctx, report, settings.store, quiet)
