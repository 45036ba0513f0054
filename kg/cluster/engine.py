"""The driver of `kg build --engine dask`: plan, map the partitions over the cluster, load, run the corpus stage.

It connects to a running Dask cluster (`--scheduler tcp://host:8786`: `dask scheduler` and `dask worker`
on other machines, or dask-jobqueue / dask-kubernetes) or starts a `LocalCluster` of `--workers`
processes, one thread each (spaCy holds the GIL: threads would not parse in parallel). The driver holds
the store; the workers never open it. What the workers make goes to shards under a work folder every
machine reaches (`cluster_work_dir`: a shared path or an fsspec URL), and only counts come back.

A worker lost mid-build (killed, out of memory, its machine gone) costs its running partitions: Dask runs
them again elsewhere, and as every partition writes its shards whole under fixed names (kg.cluster.shards)
the second run replaces nothing but itself. No article is lost or loaded twice.
"""

from __future__ import annotations

import importlib.util
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..article.events import taxonomy_for
from ..namespaces import Iris
from ..pipeline.build import BuildReport, merge_corpus_report
from ..pipeline.corpus import update_corpus
from ..rdf.triples import Provenance
from ..settings import Settings, choose_model
from ..store.store import Store
from ..validate.check import ValidationReport, combined, validate_nquads
from . import shards
from .events import merge_on_cluster
from .graph import chunks_on_cluster
from .inputs import count_newlines, plan
from .link import link_on_cluster
from .load import EarlyLoad, event_records, load, plan_load
from .resolve import resolve_on_cluster
from .tasks import Job, PartResult, build_partition, describe_model


@dataclass
class ClusterReport:
    """A cluster build's report: the one-machine build's, with what the cluster adds."""

    build: BuildReport
    partitions: int = 0
    workers: int = 0
    dashboard: str | None = None
    #: Wall seconds per stage of the driver: plan, extract (the partitions), load, and the corpus steps.
    stages: dict[str, float] = field(default_factory=dict)
    #: Seconds of the driver's work done while the partitions ran (inside "extract"): loading finished ones.
    overlapped: dict[str, float] = field(default_factory=dict)
    #: Peak resident memory of each worker process (by process id) over the partitions it ran.
    peak_rss: dict[int, int] = field(default_factory=dict)
    shard_bytes: int = 0
    #: Bytes the corpus stage's shuffles moved (pickled records), and the distinct names resolution grouped.
    shuffle_bytes: int = 0
    names: int = 0
    #: Seconds the workers spent in partitions (all of them together): the parallel part's total cost.
    task_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.build.ok

    def summary(self) -> str:
        stages = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.stages.items())
        peak = max(self.peak_rss.values(), default=0) / (1 << 20)
        return (
            f"{self.build.summary()}\n"
            f"cluster: {self.partitions} partitions on {self.workers} workers; stages: {stages}; "
            f"largest worker peak {peak:.0f} MiB; shards {self.shard_bytes / (1 << 20):.1f} MiB, "
            f"shuffle {self.shuffle_bytes / (1 << 20):.1f} MiB"
        )


def work_folder(settings: Settings) -> str:
    """Where this build's shards go: a run of its own under `cluster_work_dir`, else beside the store."""
    base = settings.cluster_work_dir or str(Path(settings.store).resolve().parent / f"{Path(settings.store).name}.work")
    return f"{base.rstrip('/')}/run-{uuid.uuid4().hex[:12]}"


@contextmanager
def connect(scheduler: str | None, workers: int, dashboard: bool = True) -> Iterator[Any]:
    """A Dask client: to the scheduler at that address, or to a LocalCluster of `workers` processes
    (one thread each), which is closed on the way out."""
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0" if dashboard else None,
        silence_logs=logging.ERROR,
    )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


class _Timer:
    """Wall time per named stage, as the driver moves from one to the next."""

    def __init__(self, stages: dict[str, float]) -> None:
        self.stages = stages
        self.name: str | None = None
        self.since = time.perf_counter()

    def enter(self, name: str) -> None:
        now = time.perf_counter()
        if self.name is not None:
            self.stages[self.name] = self.stages.get(self.name, 0.0) + now - self.since
        self.name, self.since = name, now

    def stop(self) -> None:
        self.enter("")
        self.stages.pop("", None)
        self.name = None


def dask_build(
    inputs: list[str],
    settings: Settings,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    client: Any = None,
    progress: Callable[[str, int, int], None] | None = None,
    echo: Callable[[str], None] | None = None,
    dashboard: bool = True,
    block: int | None = None,
    keep_shards: bool = False,
) -> ClusterReport:
    """Build (or update) the store in `settings.store` from `inputs` on a Dask cluster.

    `client` uses an open Dask client (tests, notebooks); else `scheduler` or a LocalCluster of `workers`.
    `progress(stage, done, total)` hears of the partitions ("extract"), the shards loaded ("load") and the
    corpus stage's steps (kg.pipeline.corpus); `echo` of the dashboard's address. `block` overrides the bytes per
    partition (kg.cluster.inputs.partition_size)."""
    taxonomy = taxonomy_for(settings.events, settings.event_lexicon)  # a bad lexicon fails here, before the cluster
    model = choose_model(settings.model)
    if client is None:
        with connect(scheduler, workers, dashboard) as opened:
            return dask_build(
                inputs,
                settings,
                scheduler=scheduler,
                client=opened,
                progress=progress,
                echo=echo,
                dashboard=dashboard,
                block=block,
                keep_shards=keep_shards,
            )
    say = progress or (lambda stage, done, total: None)
    tell = echo or (lambda text: None)
    started = time.perf_counter()
    result = ClusterReport(BuildReport(), dashboard=client.dashboard_link if dashboard else None)
    result.workers = len(client.scheduler_info()["workers"])
    if result.dashboard and scheduler is None and importlib.util.find_spec("bokeh") is None:
        tell("Dask dashboard: not served here without bokeh (pip install 'newskg[dask]' brings it)")
        result.dashboard = None
    elif result.dashboard:
        tell(f"Dask dashboard: {result.dashboard}")
    report = result.build
    timer = _Timer(result.stages)
    timer.enter("plan")

    def newlines(pieces: list[tuple[str, int, int]]) -> list[int]:
        urls, starts, ends = zip(*pieces, strict=True)
        return client.gather(client.map(count_newlines, urls, starts, ends, pure=False))

    planned = plan(inputs, max(1, result.workers), newlines, block=block)
    report.errors += [n for n in planned.notices if not _is_warning(n)]
    report.warnings += [n for n in planned.notices if _is_warning(n)]
    result.partitions = len(planned.partitions)
    work = work_folder(settings)
    with Store(settings.store, Iris(settings.base)) as store:
        report.interrupted = store.corpus_pending()
        known = store.known_articles()
        if not planned.partitions:
            timer.stop()
            if report.interrupted or not store.has_corpus_graph():
                prov = Provenance.now("unknown")
                merge_corpus_report(report, update_corpus(store, settings, prov, progress=say))
            report.seconds = time.perf_counter() - started
            return result
        prov = Provenance.now(client.submit(describe_model, model, pure=False).result())
        job = client.scatter(Job(settings, known, prov, work, model), broadcast=True)
        try:
            early = EarlyLoad(store, work, known)
            index: dict[int, list[dict]] = {}

            def finished(part: PartResult) -> None:
                # The driver is idle while the partitions run: each one's graphs go into the store now.
                began = time.perf_counter()
                store.mark_corpus_pending()  # from the first article loaded on, the corpus graph is out of date
                index[part.number] = shards.read_table(work, "articles", part.number)
                early.add(part.number, index[part.number])
                say("load", len(index), len(planned.partitions))
                result.overlapped["load"] = result.overlapped.get("load", 0.0) + time.perf_counter() - began

            results = _run_partitions(client, planned.partitions, job, say, timer, finished)
            for part in results:
                _merge_part(result, part)
            timer.enter("load")
            rows = [row for part in results for row in index[part.number]]
            decided = plan_load(rows, known)
            report.added, report.replaced = decided.added, decided.replaced
            report.unchanged += decided.unchanged
            numbers = [p.number for p in results]
            store.mark_corpus_pending()
            load(store, work, numbers, rows, decided, progress=lambda d, t: say("load", d, t), early=early)
            result.shard_bytes = sum(p.shard_bytes for p in results)
            store.flush()
            entities = records = None
            if not known.digests:  # as the writer does: the records the workers kept, else the store's, read back
                timer.enter("corpus: resolve (cluster)")
                say("resolve", 0, 0)
                entities, resolved = resolve_on_cluster(client, work, decided.counted(), settings.base)
                result.shuffle_bytes = resolved.shuffle_bytes
                result.names = resolved.names
                timer.enter("records")
                records = event_records(work, numbers, decided)
            timer.enter("corpus")
            checks: list[Any] = []

            def check(quads: list[Any]) -> None:
                # The corpus graph's chunks are checked with SHACL on the workers while the driver writes more.
                data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
                checks.append(client.submit(validate_nquads, data, engine=settings.shacl_engine, pure=False))

            corpus = update_corpus(
                store,
                settings,
                prov,
                None,
                records,
                entities=entities,
                linker=lambda found: link_on_cluster(client, found, settings, store.iris),
                merger=lambda found, known: merge_on_cluster(
                    client, found, known, taxonomy, store.iris, settings.events, settings.event_lexicon
                ),
                check=check,
                maker=chunks_on_cluster(client, settings),
                progress=_timed(say, timer),
            )
            if checks:
                timer.enter("corpus: check (cluster)")
                corpus.validation = corpus.validation or ValidationReport()
                for checked in client.gather(checks):
                    corpus.validation.merge(checked)
            merge_corpus_report(report, corpus)
            report.quads = sum(p.quads for p in results) + corpus.quads
            store.flush()
        finally:
            if not keep_shards:
                shards.remove(work)
    timer.stop()
    report.seconds = time.perf_counter() - started
    return result


def _timed(say: Callable[[str, int, int], None], timer: _Timer) -> Callable[[str, int, int], None]:
    """The corpus stage's progress, also timing each of its steps ("corpus: resolve" ...)."""

    def stage(name: str, done: int, total: int) -> None:
        if name != "check" and timer.name != f"corpus: {name}":
            timer.enter(f"corpus: {name}")
        say(name, done, total)

    return stage


def _is_warning(notice: object) -> bool:
    from ..article.read import ReadWarning

    return isinstance(notice, ReadWarning)


def _run_partitions(
    client: Any, partitions: list, job: Any, say: Callable, timer: _Timer, finished: Callable[[PartResult], None]
) -> list[PartResult]:
    """Every partition's task; `finished` hears of each as it finishes (after the progress of partitions done).
    Results in partition order."""
    from distributed import as_completed

    timer.enter("extract")
    keys = [f"kg-partition-{p.number}-{uuid.uuid4().hex[:8]}" for p in partitions]
    futures = client.map(build_partition, partitions, job=job, key=keys)
    done: list[PartResult] = []
    say("extract", 0, len(partitions))
    try:
        for future in as_completed(futures):
            done.append(future.result())
            future.release()
            say("extract", len(done), len(partitions))
            finished(done[-1])
    except BaseException:
        client.cancel(futures)
        raise
    return sorted(done, key=lambda p: p.number)


def _merge_part(result: ClusterReport, part: PartResult) -> None:
    report, got = result.build, part.report
    report.errors += got.errors
    report.warnings += got.warnings
    report.unchanged += got.unchanged
    report.tokens += got.tokens
    report.mentions += got.mentions
    report.validation = combined(report.validation, got.validation)
    result.peak_rss[part.worker] = max(result.peak_rss.get(part.worker, 0), part.peak_rss)
    result.task_seconds += part.seconds
