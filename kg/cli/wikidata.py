"""`kg wikidata ...`: Wikidata indexes for linking: build one, look a name up, see what one holds."""

from __future__ import annotations

from pathlib import Path

import click

from ..model import Kind
from ._util import INDEX_HELP, link_settings, progress_bar


@click.group("wikidata")
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

    from ..wikidata.classes import ClassFilter, ClassFilterError
    from ..wikidata.dump import DumpError
    from ..wikidata.index import WikidataIndexError, build_index, partial_path
    from ..wikidata.items import ItemsError

    hint = f"; '--resume' continues it from {partial_path(output)}"
    try:
        filter_ = ClassFilter.from_file(classes) if classes else None
        report = build_index(
            list(inputs),
            output,
            classes=filter_,
            subclasses=subclasses,
            name=name,
            bar=progress_bar(quiet),
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
    """Remake the bundled starter items file from the shared tables (CC0, public-domain and MIT ones only),
    and beside it the files of its places' coordinates and of every country's first-level divisions from the
    dr5hn tables (ODbL, shipped apart)."""
    from ..wikidata.starter import (
        STARTER_ITEMS,
        write_starter_coordinates,
        write_starter_items,
        write_starter_regions,
    )
    from ..wikidata.tables import TableError

    target = output or STARTER_ITEMS
    points = target.with_name("starter-coordinates.jsonl.gz")
    divisions = target.with_name("starter-regions.jsonl.gz")
    try:
        n = write_starter_items(list(tables), target, date=date)
        located = write_starter_coordinates(list(tables), points, starter=target, date=date)
        regions = write_starter_regions(list(tables), divisions, starter=target, date=date)
    except (TableError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{target}: {n:,} items ({target.stat().st_size:,} bytes)")
    odbl = "ODbL 1.0: ship dr5hn's licence beside it"
    click.echo(f"{points}: {located:,} places located ({points.stat().st_size:,} bytes; {odbl})")
    click.echo(f"{divisions}: {regions:,} first-level divisions ({divisions.stat().st_size:,} bytes; {odbl})")


_TYPES = {"person": Kind.PERSON, "organization": Kind.ORGANIZATION, "place": Kind.PLACE, "event": Kind.EVENT}


@wikidata_group.command("lookup")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(sorted(_TYPES), case_sensitive=False), help="Our class for NAME.")
@click.option("--context", multiple=True, help="A name seen in the same article (repeat for several).")
@click.option("--title", "titles", multiple=True, help="An office's title written before NAME ('President').")
@click.option("--region", "regions", multiple=True, help="A state or country written after NAME and a comma.")
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
    titles: tuple[str, ...],
    regions: tuple[str, ...],
    index: tuple[str, ...],
    limit: int,
    fmt: str,
    **options: object,
) -> None:
    """Ranked Wikidata candidates for NAME, with their scores and the decision linking would make."""
    import json

    from ..corpus.link import LinkQuery, config_from, link, rank
    from ..settings import SettingsError
    from ..store.query import Table
    from ..wikidata.api import WikidataApiError
    from ..wikidata.index import WikidataIndexError
    from ..wikidata.sources import open_sources

    try:
        settings = link_settings(ctx, index, **options)
        query = LinkQuery(
            "lookup", _TYPES[kind.lower()] if kind else "", name, context=context, titles=titles, regions=regions
        )
        with open_sources(settings, bar=progress_bar(True)) as sources:
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
    from ..settings import SettingsError
    from ..wikidata.api import WikidataApiError
    from ..wikidata.index import WikidataIndexError
    from ..wikidata.sources import open_sources

    try:
        settings = link_settings(ctx, index)
        with open_sources(settings, bar=progress_bar(False)) as sources:
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
