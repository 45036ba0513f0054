"""What every `kg` command shares: the command group, the settings it loads, common options' help.

Only click and the standard library are imported here and in each command's module: a command
imports its stage inside its function, so `kg --help`, `kg --version` or `kg query` never pay for
spaCy, pyshacl or the store's code they do not use (spaCy's own `cli/` works the same way).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from .._version import __version__

if TYPE_CHECKING:
    from ..settings import Settings
    from ..store.store import Store

STORE_HELP = "Store folder (default: kg-store, or KG_STORE)."
ENGINE_HELP = "SHACL engine: oxigraph (shapes compiled to SPARQL, the default) or pyshacl (the reference, slower)."
INDEX_HELP = "Wikidata index to use (repeat for several; 'starter' is the bundled one). Default: the setting."


#: Each command and the module:function defining it, imported only when that command runs or its help
#: is shown (click's "lazily loading subcommands" pattern), so `kg --version` loads no command at all.
COMMANDS = {
    "build": "build:build_command",
    "validate": "validate:validate_command",
    "export": "export:export_command",
    "query": "query:query_command",
    "stats": "query:stats_command",
    "link": "link:link_command",
    "evaluate": "evaluate:evaluate_command",
    "wikidata": "wikidata:wikidata_group",
    "serve": "serve:serve_command",
}


class LazyGroup(click.Group):
    """A command group whose commands are imported from their modules when first needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)  # as click lists a group's commands

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = COMMANDS.get(cmd_name)
        if where is None:
            return None
        from importlib import import_module

        module, _, name = where.partition(":")
        command = getattr(import_module(f"{__package__}.{module}"), name)
        assert isinstance(command, click.Command), where
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newskg")
@click.option(
    # a plain string here: pathlib is not needed to print the version or the help
    "--config",
    type=click.Path(dir_okay=False),
    help="Settings file (TOML; default kg.toml).",
)
@click.pass_context
def main(ctx: click.Context, config: str | None) -> None:
    """newskg: build a knowledge graph from news articles, validate, query and export it."""
    from pathlib import Path

    from ..settings import SettingsError, load_settings

    try:
        ctx.obj = load_settings(Path(config) if config else None)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def settings_for(ctx: click.Context, **overrides: object) -> Settings:
    """The loaded settings with the command's options over them."""
    settings: Settings = ctx.obj
    return settings.with_overrides(**overrides)


def link_settings(ctx: click.Context, index: tuple[str, ...], **overrides: object) -> Settings:
    """Settings for commands that link: repeated --index options become one path list."""
    if index:
        import os

        overrides["wikidata_index"] = os.pathsep.join(index)
    return settings_for(ctx, **overrides)


def open_store(settings: Settings, read_only: bool = True) -> Store:
    from ..namespaces import Iris
    from ..store.store import Store

    return Store(settings.store, Iris(settings.base), read_only=read_only)


def progress_bar(quiet: bool) -> Callable[..., Any]:
    """A tqdm bar factory on standard error (silent when quiet)."""
    from functools import partial

    from tqdm import tqdm

    return partial(tqdm, file=sys.stderr, disable=quiet, leave=False)


def report_build(ctx: click.Context, report: Any, store: object, quiet: bool) -> None:
    """End a build command: its summary (or, quiet, only its errors and violations); exit 1 unless it went well.

    `report` is a build's report (kg.pipeline.build.BuildReport, or a cluster build's report, whose `build`
    holds one): both have `ok` and `summary()`."""
    build = getattr(report, "build", report)
    if quiet:
        for error in build.errors:
            click.echo(f"error: {error}", err=True)
        if build.validation and not build.validation.conforms:
            click.echo(build.validation.text(), err=True)
    else:
        click.echo(report.summary())
        click.echo(f"store: {store}")
    ctx.exit(0 if report.ok else 1)
