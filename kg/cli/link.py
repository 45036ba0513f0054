"""`kg link`: link the store's entities to Wikidata again (the corpus stage, rerun)."""

from __future__ import annotations

from pathlib import Path

import click

from ._util import INDEX_HELP, STORE_HELP, link_settings, open_store, progress_bar


@click.command("link")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option("--index", multiple=True, help=INDEX_HELP)
@click.option("--api/--no-api", "wikidata_api", default=None, help="Also ask the live Wikidata API (default: off).")
@click.option("--threshold", "link_threshold", type=click.FloatRange(0, 1), help="Least confidence to link (0.6).")
@click.option("--validate/--no-validate", default=None, help="Check the rewritten corpus graph with SHACL.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.pass_context
def link_command(ctx: click.Context, index: tuple[str, ...], quiet: bool, **options: object) -> None:
    """Link the store's entities to Wikidata again (after the index or the threshold changed).

    Entities are resolved again from the stored mentions, linked, merged when they share an item,
    and the corpus graph is rewritten; article graphs are left as they are.
    """
    from ..pipeline.corpus import update_corpus
    from ..rdf.triples import Provenance
    from ..settings import SettingsError
    from ..store.store import StoreError
    from ..wikidata.api import WikidataApiError
    from ..wikidata.index import WikidataIndexError
    from ..wikidata.sources import open_sources

    try:
        settings = link_settings(ctx, index, **options).with_overrides(link=True)
        with open_store(settings, read_only=False) as store, open_sources(settings, bar=progress_bar(quiet)) as sources:
            report = update_corpus(store, settings, Provenance.now("unknown"), sources=sources)
    except (SettingsError, StoreError, WikidataIndexError, WikidataApiError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    ok = report.validation is None or report.validation.conforms
    if not quiet:
        click.echo(report.summary())
    elif not ok:
        click.echo(report.validation.text(), err=True)  # type: ignore[union-attr]
    ctx.exit(0 if ok else 1)
