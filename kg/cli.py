"""The `kg` command: a thin layer over the library; every command is a function you can call."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .build import build, count_articles
from .export import EXTENSIONS, FORMATS, export
from .namespaces import Iris
from .query import RESULT_FORMATS, QueryError, read_query, render, run, stats
from .settings import Settings, SettingsError, load_settings
from .store import Store, StoreError
from .validate import validate_store

STORE_HELP = "Store folder (default: kg-store, or KG_STORE)."


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
@click.option("--max-bytes", type=click.IntRange(min=1), help="Largest article accepted, in bytes.")
@click.option("--validate/--no-validate", default=None, help="Check what was written with SHACL (default: on).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; print only errors.")
@click.pass_context
def build_command(ctx: click.Context, inputs: tuple[str, ...], quiet: bool, **options: object) -> None:
    """Read INPUTS (files, folders, .jsonl, '-' for stdin) into the store.

    Unchanged articles are skipped, changed ones replaced; entities are resolved across the
    whole corpus and what was written is validated. Exits 1 if any input failed or the graph
    does not conform.
    """
    try:
        settings = _settings(ctx, **options)
        bar = None
        if not quiet:
            from tqdm import tqdm

            bar = tqdm(total=count_articles(inputs), unit="article", desc="build", file=sys.stderr)
        try:
            report = build(inputs, settings, progress=bar.update if bar else None)
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
@click.pass_context
def validate_command(ctx: click.Context, store: Path | None) -> None:
    """Check the whole store against the SHACL shapes; exit 1 on violations."""
    settings = _settings(ctx, store=store)
    try:
        report = validate_store(_open(settings))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.text())
    ctx.exit(0 if report.conforms else 1)


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
        Iris(settings.base)
        serve(settings, ready=ready)
    except (StoreError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
