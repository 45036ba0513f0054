"""`kg build --engine dask`: the command's side (progress bar, messages, exit status) over `dask_build`."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..article.read import InputError
from ..pipeline.build import stage_bar
from ..settings import Settings, SettingsError
from ..store.store import StoreError
from ._util import report_build

#: What the bar says of the cluster's own stages; the corpus stage's steps are kg.pipeline.build's.
STAGES = {
    "extract": ("cluster: reading, parsing, checking", "partition"),
    "load": ("cluster: bulk-loading shards", "shard"),
}


def cluster_bar(bar: Any) -> Any:
    """A `progress(stage, done, total)` for `dask_build` over one tqdm bar."""
    corpus = stage_bar(bar)
    current = [""]

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in STAGES:
            corpus(stage, done, total)
            current[0] = stage
            return
        if current[0] != stage:
            current[0] = stage
            desc, unit = STAGES[stage]
            bar.set_description(desc, refresh=False)
            bar.unit = unit
            bar.reset(total=total or None)
        bar.update(done - bar.n)

    return progress


def build_on_dask(
    ctx: click.Context, settings: Settings, inputs: tuple[str, ...], quiet: bool, scheduler: str | None, workers: int
) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise click.ClickException(
            "--engine dask needs Dask: pip install 'newskg[dask]' (dask[distributed], pyarrow, fsspec)"
        ) from None
    from ..cluster.engine import dask_build

    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=None, unit="partition", desc="cluster: starting", file=sys.stderr)
    try:
        try:
            report = dask_build(
                list(inputs),
                settings,
                scheduler=scheduler,
                workers=workers,
                progress=cluster_bar(bar) if bar is not None else None,
                echo=(lambda text: click.echo(text, err=True)) if not quiet else None,
            )
        finally:
            if bar is not None:
                bar.close()
    except (SettingsError, StoreError, InputError, ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    report_build(ctx, report, settings.store, quiet)
