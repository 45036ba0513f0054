"""Corpus: the cross-article stages, run once a build's articles are stored.

Corpus-wide resolution makes one node per real-world thing from every article's mentions;
linking (kg.corpus.link) ties the nodes to Wikidata, merging those that are one item; event merging
(kg.corpus.merge) makes one node per real-world event from the articles' event mentions. The nodes go
to the corpus graph. Only nodes whose statements changed are written and validated, so adding one
article to a large store costs little, and a reader sees every node whole.

The stage is one recoverable unit: the store is marked pending before anything is written (a
build marks it before its first article, since from then on the corpus graph is out of date) and
the mark is cleared in the same transaction as the stage's last chunk. A stage cut short by
Ctrl-C, kill -9 or the OOM killer leaves the mark, and the next build sees it and runs the stage
again; the stage is idempotent (it writes only what differs), so running it again is safe.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain

import pyoxigraph as ox

from ..article.events import taxonomy_for
from ..corpus.link import LinkResult, forget_descriptions, link_corpus
from ..corpus.merge import merge_events
from ..corpus.resolve import CorpusMentions
from ..model import Entity, EventRecord, ReportedEvent
from ..names import forget_names
from ..namespaces import Iris
from ..rdf.links import decision_triples, run_triples
from ..rdf.triples import Provenance, Triple, entity_triples, reported_event_triples, resolution_triples
from ..settings import Settings
from ..store.records import mention_records, read_event_records
from ..store.store import Store, canonical_fingerprints, to_quads
from ..validate.check import ValidationReport, validate_triples
from ..wikidata.sources import Sources

#: Entities turned into triples, compared, checked and written together (one transaction);
#: the `corpus_chunk` setting overrides it.
CHUNK = 250
#: Chunks made while earlier ones are still being written.
WRITES_AHEAD = 2
#: Chunks made elsewhere as N-Quads (a first corpus graph, kg.cluster.graph) are bulk-loaded this many bytes at
#: a time: one bulk load of many chunks costs a third of writing them in transactions, and fewer, larger loads
#: cost less than many small ones.
BULK_BYTES = 16 << 20


@dataclass
class CorpusReport:
    """What updating the corpus graph did."""

    entities: int = 0
    changed: int = 0
    removed: int = 0
    quads: int = 0
    validation: ValidationReport | None = None
    linking: str | None = None
    events: int | None = None
    #: When an earlier corpus stage that never finished began (this one finished it), else None.
    interrupted: str | None = None

    def summary(self) -> str:
        lines = []
        if self.interrupted:
            lines.append(f"finished the corpus stage begun {self.interrupted}, which had not finished")
        lines.append(f"entities: {self.entities:,} after corpus-wide resolution ({self.changed:,} nodes written)")
        if self.linking:
            lines.append(self.linking)
        if self.events is not None:
            lines.append(f"events: {self.events:,} reported events merged across articles")
        if self.validation is not None:
            lines.append(self.validation.text())
        return "\n".join(lines)


def node_of(subject: str) -> str:
    """The corpus node a subject belongs to: an entity's link and geometry nodes ("#wikidata") are its own."""
    return subject.split("#", 1)[0]


def update_corpus(
    store: Store,
    settings: Settings,
    prov: Provenance,
    mentions: CorpusMentions | None = None,
    records: list[EventRecord] | None = None,
    *,
    sources: Sources | None = None,
    check: Callable[[list[ox.Quad]], None] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    entities: list[Entity] | None = None,
    linker: Callable[[list[Entity]], LinkResult] | None = None,
    merger: Callable[[list[EventRecord], list[Entity]], list[ReportedEvent]] | None = None,
    maker: ChunkMaker | None = None,
) -> CorpusReport:
    """Resolve (and link) the corpus and bring its graph up to date.

    `mentions` and event `records` are every entity and event mention in the store; a build that
    saw them all passes them in (and they are consumed: emptied once used, so that a large corpus
    needs their memory only once), otherwise they are read back from the store. What is written is
    validated here, or handed to `check` (a build's writer hands it to the build's process, idle
    by then, which checks it alongside). `progress(stage, done, total)` hears of each stage
    ("resolve"; "link" N entities; "merge" N event mentions; "write" N chunks) and of each chunk
    as it goes to be written; a total of 0 is a stage of unknown size. `entities` resolved elsewhere (a
    cluster build resolves on its workers, kg.cluster.resolve) stand for `mentions`: resolution is skipped;
    `linker` links them instead of `link_corpus` (a cluster build links on its workers, kg.cluster.link),
    `merger` merges the event records with them instead of `merge_events` (kg.cluster.events). `maker` makes
    the chunks of a corpus graph written from scratch (none of it stored yet, so every chunk is written whole
    and nothing needs comparing), each as N-Quads with its SHACL report, instead of this process (a cluster
    build makes them on its workers, kg.cluster.graph); they are bulk-loaded, BULK_BYTES at a time, and the
    last one is written in the transaction that ends the stage, as always. A bulk load is not one
    transaction: a reader may see part of a first corpus graph before the stage ends, as it may see part of
    the articles of a first build (the pending mark says the corpus graph is not finished).
    """
    iris = store.iris
    say = progress or (lambda stage, done, total: None)
    interrupted = store.corpus_pending()
    store.mark_corpus_pending()
    store.flush()  # the articles' write buffers go out before the corpus-wide structures come in
    if entities is None:
        if mentions is None:
            mentions = CorpusMentions()
            mentions.add(mention_records(store))
        say("resolve", 0, 0)  # how many names resolution reads is its own business: no size to show
        entities = mentions.resolve(iris, consume=True)
    if settings.link:
        say("link", 0, len(entities))
    if not settings.link:
        linking = None
    elif linker is not None:
        linking = linker(entities)
    else:
        linking = link_corpus(entities, settings, iris, sources=sources)
    if linking is not None:
        entities = linking.entities
    forget_names()  # the memos of resolution and linking: the writing below needs the memory more
    forget_descriptions()
    events: list[ReportedEvent] = []
    if settings.events:
        taxonomy = taxonomy_for(settings.events, settings.event_lexicon)
        records = read_event_records(store) if records is None else records
        say("merge", 0, len(records))
        merge = merger or (lambda found, known: merge_events(found, known, taxonomy, iris))
        events = merge(records, entities)
        records.clear()
    report = CorpusReport(
        entities=len(entities),
        validation=ValidationReport() if settings.validate else None,
        linking=linking.summary() if linking is not None else None,
        events=len(events),
        interrupted=interrupted,
    )
    graph = iris.corpus_graph
    old = store.node_fingerprints(graph, node_of)
    seen: set[str] = set()
    chunk = settings.corpus_chunk
    parts = 1 + -(-len(entities) // chunk) + -(-len(events) // chunk)
    say("write", 0, parts)

    # Chunks are written by a thread of their own, in order, while the next ones are made and
    # checked: pyoxigraph lets go of the GIL while it writes. At most WRITES_AHEAD chunks wait.
    # The last changed chunk is held back: it is written with the end of the stage, below.
    writing: deque[Future[None]] = deque()
    failed = threading.Event()
    bulk: list[bytes] = []  # N-Quads of chunks made elsewhere, not loaded yet

    def load_bulk() -> None:
        if bulk:
            store.bulk_load(b"".join(bulk))
            bulk.clear()

    def write(change: Change) -> None:
        if failed.is_set():  # a chunk before this one failed: write nothing after it
            return
        try:
            if change.nquads is not None and not change.subjects:
                bulk.append(change.nquads)
                if sum(map(len, bulk)) >= BULK_BYTES:
                    load_bulk()
            else:
                load_bulk()  # the chunks before this one first, in order
                store.replace_subjects(graph, change.subjects, change.quads)
        except BaseException:
            failed.set()
            raise

    last: Change | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-corpus-writer") as writer:
        try:
            if maker is not None and not old:
                head = _parts([], linking, [], iris, prov, chunk)  # the run's own statements: made here, small
                numbered = enumerate(maker(entities, linking, events, chunk), start=2)
                changes: Iterator[tuple[int, Change | None]] = chain(_changes(head, graph, old, seen), numbered)
            else:
                changes = _changes(_parts(entities, linking, events, iris, prov, chunk), graph, old, seen)
            for done, change in changes:
                say("write", done, parts)
                if change is None:
                    continue
                if last is not None:
                    while len(writing) >= WRITES_AHEAD:
                        writing.popleft().result()
                    writing.append(writer.submit(write, last))
                last = change
                if report.validation is not None and change.validation is not None:
                    report.validation.merge(change.validation)
                elif report.validation is not None and check is not None:
                    check(change.quads)
                elif report.validation is not None:
                    checked = validate_triples(change.triples, quads=change.quads, engine=settings.shacl_engine)
                    report.validation.merge(checked)
                report.changed += change.nodes
                report.quads += change.count
            while writing:
                writing.popleft().result()
            load_bulk()
        finally:
            for pending in writing:
                pending.cancel()
    stale = sorted(s for n in set(old) - seen for s in old[n][1])
    store.remove_subjects(graph, stale)  # nodes no chunk holds: apart from the last chunk's, so either order
    report.removed = len(set(old) - seen)
    if last is None:
        store.replace_subjects(graph, [], [], corpus_done=True)
    else:
        store.replace_subjects(graph, last.subjects, last.statements(), corpus_done=True)
    return report


@dataclass
class Change:
    """What one chunk changes in the corpus graph: the stored subjects to clear and the new statements
    (and, for a chunk checked where it was made, its SHACL report)."""

    nodes: int
    subjects: list[str]
    triples: list[Triple]
    quads: list[ox.Quad]
    validation: ValidationReport | None = None
    #: A chunk made elsewhere: its statements as N-Quads (instead of `quads`), `made` of them.
    nquads: bytes | None = None
    made: int = 0

    @property
    def count(self) -> int:
        """How many statements the chunk writes."""
        return self.made if self.nquads is not None else len(self.quads)

    def statements(self) -> list[ox.Quad]:
        return self.quads if self.nquads is None else list(ox.parse(self.nquads, format=ox.RdfFormat.N_QUADS))


#: Makes the chunks of a corpus graph from scratch: (entities, linking, events, chunk size) -> each chunk's change
#: (as N-Quads, checked), entities first, then events, `chunk` of them a chunk (as `_parts` cuts them).
ChunkMaker = Callable[[list[Entity], LinkResult | None, list[ReportedEvent], int], Iterator[Change]]


def _changes(
    parts: Iterator[tuple[list[Triple], bool]],
    graph: str,
    old: dict[str, tuple[int, set[str]]],
    seen: set[str],
) -> Iterator[tuple[int, Change | None]]:
    """Each chunk's number (from 1) and its change against the `old` fingerprints, None when it
    changes nothing; every node met is added to `seen`."""
    nothing: tuple[int | None, set[str]] = (None, set())
    for number, (triples, whole) in enumerate(parts, start=1):
        quads = to_quads(triples, graph)
        by_node: dict[str, list[int]] = defaultdict(list)
        for i, q in enumerate(quads):
            by_node[node_of(q.subject.value)].append(i)
        seen.update(by_node)
        if old:
            stored = canonical_fingerprints(quads, node_of)
            changed = [n for n in by_node if old.get(n, nothing)[0] != stored[n]]
        else:
            changed = list(by_node)
        if not changed:
            yield number, None
            continue
        if whole:
            changed = list(by_node)
        keep = sorted(i for n in changed for i in by_node[n])
        kept = [quads[i] for i in keep]
        stored_subjects = {s for n in changed for s in old.get(n, nothing)[1]}
        yield number, Change(len(changed), sorted(stored_subjects), [triples[i] for i in keep], kept)


def _parts(
    entities: list[Entity],
    linking: LinkResult | None,
    events: list[ReportedEvent],
    iris: Iris,
    prov: Provenance,
    chunk: int = CHUNK,
) -> Iterator[tuple[list[Triple], bool]]:
    """Triples to compare, and whether they stand or fall together (the runs, their agents, sources)."""
    head = resolution_triples(iris, prov)
    if linking is not None:
        head += run_triples(linking, iris)
    yield head, True
    for start in range(0, len(entities), chunk):
        triples: list[Triple] = []
        for e in entities[start : start + chunk]:
            triples += entity_triples(e, iris)
            if linking is not None:
                triples += decision_triples(linking, e, iris)
        yield triples, False
    for start in range(0, len(events), chunk):
        yield [t for e in events[start : start + chunk] for t in reported_event_triples(e, iris)], False
