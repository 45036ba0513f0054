"""Corpus: the cross-article stages, run once a build's articles are stored.

Corpus-wide resolution makes one node per real-world thing from every article's mentions;
linking (kg.link) ties the nodes to Wikidata, merging those that are one item; event merging
(kg.merge) makes one node per real-world event from the articles' event mentions. The nodes go
to the corpus graph. Only nodes whose statements changed are written and validated, so adding one
article to a large store costs little, and a reader sees every node whole.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox

from .events import taxonomy_for
from .link import LinkResult, forget_descriptions, link_corpus
from .merge import EventRecord, ReportedEvent, merge_events, read_event_records
from .namespaces import Iris
from .rdf import Provenance, Triple, entity_triples, reported_event_triples, resolution_triples
from .resolve import CorpusMentions, Entity, forget_names
from .settings import Settings
from .store import Store, canonical_fingerprints, to_quads
from .validate import ValidationReport, validate_triples
from .wikidata.sources import Sources

#: Entities turned into triples, compared, checked and written together (one transaction).
CHUNK = 250
#: Chunks made while earlier ones are still being written.
WRITES_AHEAD = 2


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

    def summary(self) -> str:
        lines = [f"entities: {self.entities:,} after corpus-wide resolution ({self.changed:,} nodes written)"]
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
) -> CorpusReport:
    """Resolve (and link) the corpus and bring its graph up to date.

    `mentions` and event `records` are every entity and event mention in the store; a build that
    saw them all passes them in (and they are consumed: emptied once used, so that a large corpus
    needs their memory only once), otherwise they are read back from the store. What is written is
    validated here, or handed to `check` (a build's writer hands it to the build's process, idle
    by then, which checks it alongside).
    """
    iris = store.iris
    store.flush()  # the articles' write buffers go out before the corpus-wide structures come in
    if mentions is None:
        mentions = CorpusMentions()
        mentions.add(store.mention_records())
    entities = mentions.resolve(iris, consume=True)
    linking = link_corpus(entities, settings, iris, sources=sources) if settings.link else None
    if linking is not None:
        entities = linking.entities
    forget_names()  # the memos of resolution and linking: the writing below needs the memory more
    forget_descriptions()
    events: list[ReportedEvent] = []
    if settings.events:
        taxonomy = taxonomy_for(settings.events, settings.event_lexicon)
        records = read_event_records(store) if records is None else records
        events = merge_events(records, entities, taxonomy, iris)
        records.clear()
    report = CorpusReport(
        entities=len(entities),
        validation=ValidationReport() if settings.validate else None,
        linking=linking.summary() if linking is not None else None,
        events=len(events),
    )
    graph = iris.corpus_graph
    old = store.node_fingerprints(graph, node_of)
    seen: set[str] = set()

    # Chunks are written by a thread of their own, in order, while the next ones are made and
    # checked: pyoxigraph lets go of the GIL while it writes. At most WRITES_AHEAD chunks wait.
    writing: deque[Future[None]] = deque()
    failed = threading.Event()

    def write(subjects: list[str], quads: list[ox.Quad]) -> None:
        if failed.is_set():  # a chunk before this one failed: write nothing after it
            return
        try:
            store.replace_subjects(graph, subjects, quads)
        except BaseException:
            failed.set()
            raise

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-corpus-writer") as writer:
        try:
            for change in _changes(_parts(entities, linking, events, iris, prov), graph, old, seen):
                while len(writing) >= WRITES_AHEAD:
                    writing.popleft().result()
                writing.append(writer.submit(write, change.subjects, change.quads))
                if report.validation is not None and check is not None:
                    check(change.quads)
                elif report.validation is not None:
                    checked = validate_triples(change.triples, quads=change.quads, engine=settings.shacl_engine)
                    report.validation.merge(checked)
                report.changed += change.nodes
                report.quads += len(change.quads)
            while writing:
                writing.popleft().result()
        finally:
            for pending in writing:
                pending.cancel()
    stale = sorted(s for n in set(old) - seen for s in old[n][1])
    store.remove_subjects(graph, stale)
    report.removed = len(set(old) - seen)
    return report


@dataclass
class _Change:
    """What one chunk changes in the corpus graph: the stored subjects to clear and the new statements."""

    nodes: int
    subjects: list[str]
    triples: list[Triple]
    quads: list[ox.Quad]


def _changes(
    parts: Iterator[tuple[list[Triple], bool]],
    graph: str,
    old: dict[str, tuple[int, set[str]]],
    seen: set[str],
) -> Iterator[_Change]:
    """The chunks' changes against the `old` fingerprints; every node met is added to `seen`."""
    nothing: tuple[int | None, set[str]] = (None, set())
    for triples, whole in parts:
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
            continue
        if whole:
            changed = list(by_node)
        keep = sorted(i for n in changed for i in by_node[n])
        kept = [quads[i] for i in keep]
        stored_subjects = {s for n in changed for s in old.get(n, nothing)[1]}
        yield _Change(len(changed), sorted(stored_subjects), [triples[i] for i in keep], kept)


def _parts(
    entities: list[Entity], linking: LinkResult | None, events: list[ReportedEvent], iris: Iris, prov: Provenance
) -> Iterator[tuple[list[Triple], bool]]:
    """Triples to compare, and whether they stand or fall together (the runs, their agents, sources)."""
    head = resolution_triples(iris, prov)
    if linking is not None:
        head += linking.head_triples(iris)
    yield head, True
    for start in range(0, len(entities), CHUNK):
        triples: list[Triple] = []
        for e in entities[start : start + CHUNK]:
            triples += entity_triples(e, iris)
            if linking is not None:
                triples += linking.triples(e, iris)
        yield triples, False
    for start in range(0, len(events), CHUNK):
        yield [t for e in events[start : start + CHUNK] for t in reported_event_triples(e, iris)], False

