"""Load: the workers' article shards into the Oxigraph store, as the one-machine build would have written them.

The one-machine build decides, article by article in input order, what is new, what is unchanged, which
source now holds which text, and which older graphs a changed source supersedes (kg.pipeline.build `Pending`,
kg.pipeline.writer `write_batch`). Here the same decisions are made over the article index the workers wrote
(digest, source, position: a few dozen bytes per article) in the same order, so that the store ends the
same; then the chosen article graphs are bulk-loaded (`Store.bulk_load` from N-Quads, many times faster
than transactions), and the source keys that follow from the decisions are put right. Incremental as
today: articles already in the store were skipped by the workers, changed ones are replaced.

What must stay global here, and why: the decisions depend on every earlier article (a copy of a text in
two files, a file that changed twice), so they are one pass in order. They need a digest and a source key
per article: about 150 bytes each, 150 MB per million articles.

The load does not wait for those decisions, though: while the partitions are being extracted the driver has
nothing to do, so each partition's graphs are bulk-loaded as soon as it finishes (`EarlyLoad`), guessing that
an article new to the store and not loaded yet is loaded from where it is met. The guess is right for every
article but a text met twice or a source changed twice in one build; once every partition is in, `load`
takes the decisions, drops the graphs the guess got wrong and loads what is left, so the store ends the
same as if nothing had been loaded early.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..model import EventRecord
from ..namespaces import KG
from ..store.store import KnownArticles, Store, StoreError
from . import shards

_SOURCE_KEY = ox.NamedNode(str(KG.sourceKey))


@dataclass
class LoadPlan:
    """What the shards become in the store."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    #: digest -> (partition, seq) of the occurrence whose graph is loaded (the last one written).
    graphs: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: digest -> (partition, seq) of the occurrence whose corpus records count (the first one written).
    records: dict[str, tuple[int, int]] = field(default_factory=dict)
    superseded: list[str] = field(default_factory=list)  # digests whose stored graphs go
    superseded_in_run: set[str] = field(default_factory=set)
    rewritten: list[str] = field(default_factory=list)  # digests the store held whose graphs are loaded again
    forget: list[tuple[str, str]] = field(default_factory=list)  # (digest, source key) of stored graphs
    known: KnownArticles = field(default_factory=KnownArticles)

    def counted(self) -> dict[int, list[int]]:
        """Partition -> positions of the articles whose corpus records count (as the writer keeps them:
        each text's first occurrence, unless a later change in the same build superseded it)."""
        out: dict[int, list[int]] = defaultdict(list)
        for digest, (partition, seq) in self.records.items():
            if digest not in self.superseded_in_run:
                out[partition].append(seq)
        return dict(out)


def plan_load(rows: list[dict], known: KnownArticles) -> LoadPlan:
    """The one-machine build's decisions (kg.pipeline.build `Pending`, kg.pipeline.writer `write_batch`)
    over the article index.

    `rows` are the index rows of every partition; `known` is what the store held (left unchanged)."""
    plan = LoadPlan(known=KnownArticles(set(known.digests), dict(known.by_source)))
    now = plan.known
    holders: dict[str, set[str]] = defaultdict(set)  # digest -> source keys holding it, kept with `now`
    for key, digest in now.by_source.items():
        holders[digest].add(key)
    seen: set[str] = set()
    sources: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: (r["partition"], r["seq"])):
        digest, key, where = row["digest"], row["source_key"], (row["partition"], row["seq"])
        stored = digest in known.digests or digest in seen
        if stored and digest in (known.by_source.get(key), sources.get(key)):
            plan.unchanged += 1
            continue
        seen.add(digest)
        sources[key] = digest
        old = now.by_source.get(key)
        if old is not None and old != digest:
            plan.replaced += 1
            if holders[old] - {key}:  # another source still holds the old text: it stays, without this source
                if old not in plan.graphs:
                    plan.forget.append((old, key))
            else:
                plan.superseded.append(old)
                plan.superseded_in_run.add(old)
                plan.graphs.pop(old, None)
                now.digests.discard(old)
            holders[old].discard(key)
        else:
            plan.added += 1
        now.by_source[key] = digest
        holders[digest].add(key)
        now.digests.add(digest)
        plan.graphs[digest] = where
        plan.records.setdefault(digest, where)
    plan.superseded = [d for d in plan.superseded if d in known.digests and d not in plan.graphs]
    plan.rewritten = [d for d in plan.graphs if d in known.digests]
    return plan


@dataclass
class LoadReport:
    quads: int = 0
    graphs: int = 0
    shard_bytes: int = 0


class EarlyLoad:
    """The article graphs of each partition, bulk-loaded as soon as the partition is done.

    Loaded: every article whose text the store did not hold and no partition loaded before (its first
    occurrence as the partitions finish). `load` puts right what the decisions say otherwise."""

    def __init__(self, store: Store, work: str, known: KnownArticles) -> None:
        self.store = store
        self.work = work
        self.known = known
        #: digest -> (partition, seq) of the occurrence whose graph is in the store.
        self.loaded: dict[str, tuple[int, int]] = {}
        self.report = LoadReport()

    def add(self, number: int, rows: list[dict]) -> None:
        """Load one finished partition's graphs (`rows`: its article index)."""
        chosen = []
        for row in rows:
            digest = row["digest"]
            if digest not in self.known.digests and digest not in self.loaded:
                self.loaded[digest] = (row["partition"], row["seq"])
                chosen.append(row)
        _bulk_load(self.store, self.work, number, chosen, len(rows), self.report)


def load(
    store: Store,
    work: str,
    partitions: list[int],
    rows: list[dict],
    plan: LoadPlan,
    progress: Callable[[int, int], None] | None = None,
    early: EarlyLoad | None = None,
) -> LoadReport:
    """Bulk-load the planned article graphs of the shards, then put the stored sources right.

    With `early`, the graphs it loaded while the partitions ran stay where the plan agrees, go where it
    does not, and only the rest is loaded here."""
    iris = store.iris
    say = progress or (lambda done, total: None)
    report = early.report if early is not None else LoadReport()
    loaded = early.loaded if early is not None else {}
    # A graph loaded early from an occurrence the plan does not load (a copy met later, a source changed
    # again later, a text superseded) goes, and the plan's occurrence, if any, is loaded below.
    for digest, where in list(loaded.items()):
        if plan.graphs.get(digest) != where:
            store.ox.remove_graph(ox.NamedNode(iris.article_graph(digest)))
            del loaded[digest]
    wanted: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        where = (row["partition"], row["seq"])
        if plan.graphs.get(row["digest"]) == where and loaded.get(row["digest"]) != where:
            wanted[row["partition"]].append(row)
    by_partition: dict[int, int] = defaultdict(int)
    for row in rows:
        by_partition[row["partition"]] += 1
    # A text the store holds under another source is written again (as the one-machine build rewrites
    # it): its old graph goes first, or the load would add to it.
    for digest in plan.rewritten + plan.superseded:
        store.ox.remove_graph(ox.NamedNode(iris.article_graph(digest)))
    for done, number in enumerate(partitions, start=1):
        _bulk_load(store, work, number, wanted.get(number, []), by_partition[number], report)
        say(done, len(partitions))
    _put_sources_right(store, plan)
    return report


def _bulk_load(store: Store, work: str, number: int, chosen: list[dict], rows: int, report: LoadReport) -> None:
    """Bulk-load the graphs of `chosen` articles of one partition's shard (of `rows` articles): the whole file
    when all of them are chosen, else their byte ranges."""
    if not chosen:
        return
    chosen = sorted(chosen, key=lambda r: r["offset"])
    path = shards.shard(work, "graphs", number)
    if len(chosen) == rows:
        data = shards.read_bytes(path)
    else:  # some of its articles were superseded, rewritten or loaded from elsewhere: only the others
        data = b"".join(shards.read_bytes(path, r["offset"], r["offset"] + r["length"]) for r in chosen)
    report.shard_bytes += len(data)
    try:
        store.ox.bulk_load(input=data, format=ox.RdfFormat.N_QUADS)
    except (OSError, SyntaxError) as exc:
        raise StoreError(f"cannot load the shard {path} into the store at {store.path}: {exc}") from None
    report.graphs += len(chosen)


def _put_sources_right(store: Store, plan: LoadPlan) -> None:
    """Every loaded graph names exactly the sources that hold its text at the end; a stored graph
    loses the sources that changed to other texts."""
    iris = store.iris
    holders: dict[str, set[str]] = defaultdict(set)
    for key, digest in plan.known.by_source.items():
        holders[digest].add(key)
    inserts, deletes = [], []
    for digest in plan.graphs:
        graph = ox.NamedNode(iris.article_graph(digest))
        subject = ox.NamedNode(iris.article(digest))
        there = {q.object.value for q in store.ox.quads_for_pattern(subject, _SOURCE_KEY, None, graph)}
        for key in sorted(holders[digest] - there):
            inserts.append(ox.Quad(subject, _SOURCE_KEY, ox.Literal(key), graph))
        deletes += [(iris.article_graph(digest), iris.article(digest), key) for key in sorted(there - holders[digest])]
    deletes += [(iris.article_graph(d), iris.article(d), key) for d, key in plan.forget if d not in plan.graphs]
    if inserts:
        store.ox.extend(inserts)
    store.forget_sources(deletes)


def event_records(work: str, partitions: list[int], plan: LoadPlan) -> list[EventRecord]:
    """The event records of the articles whose records count, as the writer keeps them."""
    keep = plan.counted()
    events: list[EventRecord] = []
    for number in partitions:
        wanted = set(keep.get(number, ()))
        events += [shards.unpack(r["record"]) for r in shards.read_table(work, "events", number) if r["seq"] in wanted]  # type: ignore[misc]
    return events
