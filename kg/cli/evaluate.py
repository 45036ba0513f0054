"""`kg evaluate`: score the graph built from a benchmark's texts against its gold."""

from __future__ import annotations

from pathlib import Path

import click

from ._util import INDEX_HELP, link_settings


@click.command("evaluate")
@click.argument("gold", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--store",
    type=click.Path(file_okay=False, path_type=Path),
    help="Score this store (built from the gold texts) instead of building them in a temporary one.",
)
@click.option("--model", help="spaCy pipeline to build with (package name or folder).")
@click.option("--index", multiple=True, help=INDEX_HELP)
@click.option("--threshold", "link_threshold", type=click.FloatRange(0, 1), help="Least confidence to link.")
@click.option("--partial-gold", is_flag=True, help="The gold marks only some mentions (RSS-500): no precision.")
@click.option(
    "--with-nationalities",
    is_flag=True,
    help="Score nationality and modifier mentions ('Russian', 'U.S. officials') with the rest.",
)
@click.option("--errors", "show_errors", type=click.IntRange(min=0), default=0, help="Also list this many errors.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write every figure here.")
@click.pass_context
def evaluate_command(
    ctx: click.Context,
    gold: tuple[Path, ...],
    store: Path | None,
    index: tuple[str, ...],
    partial_gold: bool,
    with_nationalities: bool,
    show_errors: int,
    json_path: Path | None,
    **options: object,
) -> None:
    """Score NER spans, kinds and Wikidata links against GOLD benchmarks (ELEVANT .jsonl or NIF .ttl).

    Each benchmark's texts are built with 'kg build' into a temporary store (or --store is read),
    and the mentions and links found there are compared with the gold. Scoring rules: README.
    """
    import json

    from ..article.extract import load_pipeline
    from ..evaluate.gold import GoldError, read_gold
    from ..evaluate.report import render
    from ..evaluate.run import evaluate
    from ..settings import ModelNotFoundError, SettingsError, choose_model
    from ..store.store import StoreError

    if store is not None and len(gold) > 1:
        raise click.UsageError("--store holds one benchmark's texts: give one GOLD file with it")
    results = []
    try:
        settings = link_settings(ctx, index, **options).with_overrides(validate=False)
        benchmarks = [read_gold(path) for path in gold]
        nlp = None if store is not None else load_pipeline(choose_model(settings.model))
        for benchmark in benchmarks:
            result = evaluate(
                benchmark,
                settings,
                store_path=store,
                exhaustive=not partial_gold,
                with_nationalities=with_nationalities,
                nlp=nlp,
                progress=lambda message: click.echo(message, err=True),
            )
            click.echo(render(result.scores, errors=show_errors))
            results.append({**result.scores.as_dict(), "model": result.model, "indexes": result.indexes})
    except (GoldError, SettingsError, ModelNotFoundError, StoreError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if json_path is not None:
        json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
