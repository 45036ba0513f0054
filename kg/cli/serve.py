"""`kg serve`: the store as a SPARQL endpoint with a page for every entity and article."""

from __future__ import annotations

from pathlib import Path

import click

from ._util import STORE_HELP, settings_for


@click.command("serve")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path), help=STORE_HELP)
@click.option("--host", help="Address to listen on (default 127.0.0.1: this machine only).")
@click.option("--port", type=click.IntRange(min=0, max=65535), help="Port (default 5000; 0 picks a free one).")
@click.option("--base", help="Base IRI of the minted IRIs the pages resolve (as the build used).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds a query may run (default 30).")
@click.option("--max-rows", type=click.IntRange(min=0), help="Most rows per answer (default 100000; 0: no limit).")
@click.option("--max-request-bytes", type=click.IntRange(min=1), help="Largest request accepted (default 10 MB).")
@click.option(
    "--query-workers",
    type=click.IntRange(min=1),
    help="Queries evaluated at once: query threads (default: two per core, min. 4), or with --worker-processes "
    "query processes (default: one per core, min. 2).",
)
@click.option(
    "--memory-quads",
    type=click.IntRange(min=0),
    help="Answer from a copy in memory while the store holds at most this many quads (0: never; default: what a "
    "quarter of the machine's memory holds, about 520 bytes a quad).",
)
@click.option("--update-token", help="Allow SPARQL Update for clients sending 'Authorization: Bearer TOKEN'.")
@click.option(
    "--default-graph",
    type=click.Choice(["union", "standard"]),
    help="A query's default graph: the union of all graphs (default) or the store's own, as the standard has it.",
)
@click.option(
    "--threads-shared/--worker-processes",
    default=None,
    help="One serving process whose query threads share one copy of the store, replaced when a query runs past "
    "the timeout (the default), or gunicorn in front of query worker processes with a copy each.",
)
@click.option(
    "--service-allow", multiple=True, help="An endpoint federated SERVICE and LOAD may call (repeat; default none)."
)
@click.pass_context
def serve_command(ctx: click.Context, service_allow: tuple[str, ...], **options: object) -> None:
    """Publish the store: a SPARQL 1.1 endpoint at /sparql, a query page at /, entity and article pages.

    Read-only unless started with an update token. Stops on Ctrl-C.
    """
    from ..namespaces import Iris
    from ..serve import serve
    from ..store.store import StoreError, pending_corpus_warning

    settings = settings_for(ctx, service_allow=" ".join(service_allow) or None, **options)

    def ready(url: str) -> None:
        click.echo(f"newskg is serving {settings.store} at {url} (SPARQL endpoint: {url}sparql); Ctrl-C stops it")

    try:
        if warning := pending_corpus_warning(settings.store, Iris(settings.base)):
            click.echo(warning, err=True)
        serve(settings, ready=ready)
    except (StoreError, OSError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
