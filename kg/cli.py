"""The `kg` command: a thin layer over the library; every command is a function you can call."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from . import __version__
from .build import build, count_articles, stage_bar
from .export import EXTENSIONS, FORMATS, export
from .namespaces import Iris
from .query import RESULT_FORMATS, QueryError, read_query, render, run, stats
from .read import FIELD_PRESETS
from .settings import SHACL_ENGINES, Settings, SettingsError, load_settings
from .store import Store, StoreError
from .validate import validate_store

STORE_HELP = "Store folder (default: kg-store, or KG_STORE)."
ENGINE_HELP = "SHACL engine: oxigraph (shapes compiled to SPARQL, the default) or pyshacl (the reference, slower)."


def _settings(ctx: click.Context, **overrides: object) -> Settings:
    settings: Settings = ctx.obj
    return settings.with_overrides(**overrides)


def _open(settings: Settings, read_only: bool = True) -> Store:
    return Store(settings.store, Iris(settings.base), read_only=read_only)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newskg")
@click.option(
    "--config", type=click.Path(dir_okay=False, path_type=Path), help="Settings file (TOML; default kg.toml)."
)
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """newskg: build a knowledge graph from news articles, validate, query and export it."""
    try:
        ctx.obj = load_settings(config)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("build")
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
        from .cluster.cli import build_on_dask  # Dask is an extra: imported only when asked for

        build_on_dask(ctx, _settings(ctx, **options), inputs, quiet, scheduler, workers)
        return
    if scheduler:
        raise click.UsageError("--scheduler needs --engine dask")
    try:
        settings = _settings(ctx, **options)
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
    if quiet:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        if report.validation and not report.validation.conforms:
            click.echo(report.validation.text(), err=True)
    else:
        click.echo(report.summary())
        click.echo(f"store: {settings.store}")
    ctx.exit(0 if report.ok else 1)


@main.command("validate")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option("--shacl-engine", type=click.Choice(SHACL_ENGINES), help=ENGINE_HELP)
@click.pass_context
def validate_command(ctx: click.Context, store: Path | None, shacl_engine: str | None) -> None:
    """Check the whole store against the SHACL shapes; exit 1 on violations, or when a build's corpus
    stage never finished (entities and events are missing until 'kg build' finishes it)."""
    settings = _settings(ctx, store=store, shacl_engine=shacl_engine)
    try:
        with _open(settings) as opened:
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


@main.command("export")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(list(FORMATS)), help="Default: from -o's extension, else turtle."
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File to write (default: stdout)."
)
@click.pass_context
def export_command(ctx: click.Context, store: Path | None, fmt: str | None, output: Path | None) -> None:
    """Write the graph as Turtle, N-Triples, N-Quads, TriG or JSON-LD."""
    settings = _settings(ctx, store=store)
    fmt = fmt or (EXTENSIONS.get(output.suffix.lstrip(".").lower()) if output else None) or "turtle"
    try:
        opened = _open(settings)
        if output is None:
            export(opened, fmt, sys.stdout.buffer)
        else:
            partial = output.with_name(output.name + ".partial")
            with partial.open("wb") as stream:
                export(opened, fmt, stream)
            partial.replace(output)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None


@main.command("query")
@click.argument("query_or_file")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option(
    "--format", "-f", "fmt", type=click.Choice(["table", *RESULT_FORMATS]), default="table", show_default=True
)
@click.pass_context
def query_command(ctx: click.Context, query_or_file: str, store: Path | None, fmt: str) -> None:
    """Run SPARQL (inline, a .rq file, or the name of a canned query in queries/)."""
    settings = _settings(ctx, store=store)
    try:
        text = render(run(_open(settings), read_query(query_or_file)), fmt)
        click.echo(text, nl=not text.endswith("\n"))
    except (QueryError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command("stats")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.pass_context
def stats_command(ctx: click.Context, store: Path | None) -> None:
    """Articles, entities per type, mentions and triples in the store."""
    settings = _settings(ctx, store=store)
    try:
        counts = stats(_open(settings))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    width = max(len(k) for k in counts)
    for key, value in counts.items():
        click.echo(f"{key.ljust(width)}  {value:>10,}")


# -- Wikidata linking ---------------------------------------------------------------------------

INDEX_HELP = "Wikidata index to use (repeat for several; 'starter' is the bundled one). Default: the setting."


def _bar(quiet: bool) -> Callable[..., Any]:
    from functools import partial

    from tqdm import tqdm

    return partial(tqdm, file=sys.stderr, disable=quiet, leave=False)


def _link_settings(ctx: click.Context, index: tuple[str, ...], **overrides: object) -> Settings:
    if index:
        import os

        overrides["wikidata_index"] = os.pathsep.join(index)
    return _settings(ctx, **overrides)


@main.command("link")
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
    from .corpus import update_corpus
    from .rdf import Provenance
    from .wikidata.api import WikidataApiError
    from .wikidata.index import WikidataIndexError
    from .wikidata.sources import open_sources

    try:
        settings = _link_settings(ctx, index, **options).with_overrides(link=True)
        with _open(settings, read_only=False) as store, open_sources(settings, bar=_bar(quiet)) as sources:
            report = update_corpus(store, settings, Provenance.now("unknown"), sources=sources)
    except (SettingsError, StoreError, WikidataIndexError, WikidataApiError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    ok = report.validation is None or report.validation.conforms
    if not quiet:
        click.echo(report.summary())
    elif not ok:
        click.echo(report.validation.text(), err=True)  # type: ignore[union-attr]
    ctx.exit(0 if ok else 1)


@main.command("evaluate")
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
    "--with-nationalities", is_flag=True, help="Score nationality mentions ('Russian' -> Russia) with the rest."
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

    from .evaluate.gold import GoldError, read_gold
    from .evaluate.report import render
    from .evaluate.run import evaluate
    from .extract import load_pipeline
    from .settings import ModelNotFoundError, choose_model

    if store is not None and len(gold) > 1:
        raise click.UsageError("--store holds one benchmark's texts: give one GOLD file with it")
    results = []
    try:
        settings = _link_settings(ctx, index, **options).with_overrides(validate=False)
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


@main.group("wikidata")
def wikidata_group() -> None:
    """Wikidata indexes for linking: build one, look a name up, see what an index holds."""


@wikidata_group.command("index")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Index file.")
@click.option(
    "--classes",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="P31 classes to keep from dumps: lines of 'QID<TAB>Person|Organization|Place|Event' (default: built in).",
)
@click.option("--subclasses", is_flag=True, help="Keep subclasses (P279) of those classes too: reads dumps twice.")
@click.option("--name", help="The index's name in links (default: the file name).")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Processes parsing dump lines (default: the number of CPUs, at most 4; 1 parses in this process).",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted build of OUTPUT from its last checkpoint.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
def wikidata_index_command(
    inputs: tuple[Path, ...],
    output: Path,
    classes: Path | None,
    subclasses: bool,
    name: str | None,
    jobs: int | None,
    resume: bool,
    quiet: bool,
) -> None:
    """Build a Wikidata index from INPUTS: JSON dumps (.json, .json.gz, .json.bz2, or - for standard
    input), newskg items files, or the Wikidata-derived tables of ../shared/wikidata (files or
    folders). Earlier inputs win ties. The build checkpoints as it goes: if it stops, the same
    command with --resume continues where it was."""
    import os

    from .wikidata.classes import ClassFilter, ClassFilterError
    from .wikidata.dump import DumpError
    from .wikidata.index import WikidataIndexError, build_index, partial_path
    from .wikidata.items import ItemsError

    hint = f"; '--resume' continues it from {partial_path(output)}"
    try:
        filter_ = ClassFilter.from_file(classes) if classes else None
        report = build_index(
            list(inputs),
            output,
            classes=filter_,
            subclasses=subclasses,
            name=name,
            bar=_bar(quiet),
            jobs=jobs or min(4, os.cpu_count() or 1),  # more: one reader cannot keep them busy
            resumable=True,
            resume=resume,
        )
    except KeyboardInterrupt:
        raise click.ClickException("interrupted" + (hint if partial_path(output).is_file() else "")) from None
    except (ClassFilterError, DumpError, ItemsError, WikidataIndexError, OSError) as exc:
        resumable = not isinstance(exc, WikidataIndexError) and partial_path(output).is_file()
        raise click.ClickException(str(exc) + (hint if resumable else "")) from None
    if not quiet:
        click.echo(report.summary())


@wikidata_group.command("starter")
@click.argument("tables", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Default: the bundled file.")
@click.option("--date", help="The data's date (default: the tables' newest modification date).")
def wikidata_starter_command(tables: tuple[Path, ...], output: Path | None, date: str | None) -> None:
    """Remake the bundled starter items file from the shared tables (CC0, public-domain and MIT ones only)."""
    from .wikidata.starter import STARTER_ITEMS, write_starter_items
    from .wikidata.tables import TableError

    target = output or STARTER_ITEMS
    try:
        n = write_starter_items(list(tables), target, date=date)
    except (TableError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{target}: {n:,} items ({target.stat().st_size:,} bytes)")


_TYPES = {"person": "Person", "organization": "Organization", "place": "Place", "event": "Event"}


@wikidata_group.command("lookup")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(sorted(_TYPES), case_sensitive=False), help="Our class for NAME.")
@click.option("--context", multiple=True, help="A name seen in the same article (repeat for several).")
@click.option("--index", multiple=True, help=INDEX_HELP)
@click.option("--api/--no-api", "wikidata_api", default=None, help="Also ask the live Wikidata API.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--format", "-f", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def wikidata_lookup_command(
    ctx: click.Context,
    name: str,
    kind: str | None,
    context: tuple[str, ...],
    index: tuple[str, ...],
    limit: int,
    fmt: str,
    **options: object,
) -> None:
    """Ranked Wikidata candidates for NAME, with their scores and the decision linking would make."""
    import json

    from .link import LinkQuery, config_from, link, rank
    from .query import Table
    from .wikidata.api import WikidataApiError
    from .wikidata.index import WikidataIndexError
    from .wikidata.sources import open_sources

    try:
        settings = _link_settings(ctx, index, **options)
        query = LinkQuery("lookup", _TYPES[kind.lower()] if kind else "", name, context=context)
        with open_sources(settings, bar=_bar(True)) as sources:
            config = config_from(settings)
            ranked = rank(query, sources.all, config)[:limit]
            decision = link([query], sources.local, config, fallback=sources.fallback)[0]
    except (SettingsError, WikidataIndexError, WikidataApiError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        rows = [
            {
                "rank": i,
                "qid": s.qid,
                "label": s.item.label,
                "class": s.item.kind,
                "score": s.score,
                "name": s.name,
                "type": s.type,
                "popularity": s.popularity,
                "context": s.context,
                "matched": s.how,
                "description": s.item.description,
                "source": s.source.id,
                "evidence": list(s.evidence),
            }
            for i, s in enumerate(ranked, start=1)
        ]
        out = {
            "name": name,
            "candidates": rows,
            "decision": {"qid": decision.qid, "confidence": decision.confidence, "reason": decision.reason},
        }
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    table = Table(
        ["#", "qid", "label", "class", "score", "name", "type", "pop", "ctx", "match", "description"],
        [
            [
                str(i),
                s.qid,
                s.item.label,
                s.item.kind or "?",
                f"{s.score:.3f}",
                f"{s.name:.2f}",
                f"{s.type:.2f}",
                f"{s.popularity:.2f}",
                f"{s.context:.2f}",
                s.how,
                s.item.description,
            ]
            for i, s in enumerate(ranked, start=1)
        ],
    )
    click.echo(table.render(max_width=48))
    if decision.linked:
        item = decision.item
        click.echo(f"linked: {decision.qid} {item.label if item else ''} (confidence {decision.confidence:.3f})")
    else:
        click.echo(f"not linked: {decision.reason}")


@wikidata_group.command("info")
@click.option("--index", multiple=True, help=INDEX_HELP)
@click.pass_context
def wikidata_info_command(ctx: click.Context, index: tuple[str, ...]) -> None:
    """What the configured indexes hold: source, date, licence, items per class."""
    from .wikidata.api import WikidataApiError
    from .wikidata.index import WikidataIndexError
    from .wikidata.sources import open_sources

    try:
        settings = _link_settings(ctx, index)
        with open_sources(settings, bar=_bar(False)) as sources:
            for source in sources.all:
                info = source.info
                click.echo(f"{info.id}: {info.label}")
                click.echo(f"  date     {info.date}")
                click.echo(f"  licence  {info.licence}")
                if info.path:
                    click.echo(f"  path     {info.path}")
                kinds = getattr(source, "kinds", None)
                if kinds:
                    click.echo("  items    " + ", ".join(f"{n:,} {k}" for k, n in sorted(kinds.items())))
    except (SettingsError, WikidataIndexError, WikidataApiError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command("serve")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option("--host", help="Address to listen on (default 127.0.0.1: this machine only).")
@click.option("--port", type=click.IntRange(min=0, max=65535), help="Port (default 5000; 0 picks a free one).")
@click.option("--base", help="Base IRI of the minted IRIs the pages resolve (as the build used).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds a query may run (default 30).")
@click.option("--max-rows", type=click.IntRange(min=0), help="Most rows per answer (default 100000; 0: no limit).")
@click.option("--max-request-bytes", type=click.IntRange(min=1), help="Largest request accepted (default 10 MB).")
@click.option("--query-workers", type=click.IntRange(min=1), help="Query processes (default: one per core, min. 2).")
@click.option(
    "--memory-quads",
    type=click.IntRange(min=0),
    help="Workers answer from a copy in memory while the store holds at most this many quads (default 2M; 0: never).",
)
@click.option("--update-token", help="Allow SPARQL Update for clients sending 'Authorization: Bearer TOKEN'.")
@click.option(
    "--service-allow", multiple=True, help="An endpoint federated SERVICE and LOAD may call (repeat; default none)."
)
@click.pass_context
def serve_command(ctx: click.Context, service_allow: tuple[str, ...], **options: object) -> None:
    """Publish the store: a SPARQL 1.1 endpoint at /sparql, a query page at /, entity and article pages.

    Read-only unless started with an update token. Stops on Ctrl-C.
    """
    from .serve import serve

    settings = _settings(ctx, service_allow=" ".join(service_allow) or None, **options)

    def ready(url: str) -> None:
        click.echo(f"newskg is serving {settings.store} at {url} (SPARQL endpoint: {url}sparql); Ctrl-C stops it")

    try:
        from .store import pending_corpus_warning

        if warning := pending_corpus_warning(settings.store, Iris(settings.base)):
            click.echo(warning, err=True)
        serve(settings, ready=ready)
    except (StoreError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
