"""Store: the knowledge graph on disk, in Oxigraph, one named graph per article plus the corpus graph.

Writes go straight to pyoxigraph in bulk (one transaction per batch of articles); readers that
want rdflib get an rdflib Dataset over the same store through oxrdflib.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.term import Node

from ..namespaces import KG, Iris, sparql_prefixes

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: Quads written between flushes of the store's in-memory write buffers (memory stays flat).
FLUSH_EVERY = 20_000
_MASK = (1 << 64) - 1
#: Says the corpus stage began and has not finished: its object is when it began. It sits in a
#: graph of its own, next to nothing else, and is deleted by the stage's last transaction, so a
#: finished store (and its export) holds no trace of it.
CORPUS_PENDING = "https://w3id.org/newskg/ontology#corpusStagePending"
_XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"


def _malloc_trim() -> Callable[[], None]:
    """glibc's malloc_trim, where there is one: RocksDB's flushed write buffers go back to the system."""
    if sys.platform.startswith("linux"):
        try:
            trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
            trim.argtypes = [ctypes.c_size_t]
            return lambda: trim(0)
        except (OSError, AttributeError):  # musl and others: no such call, nothing held back
            pass
    return lambda: None


_release_freed_memory = _malloc_trim()


class StoreError(RuntimeError):
    """The store cannot be opened or written."""


def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as a pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise TypeError(f"cannot store {term!r}")


def to_rdflib(term: object) -> Node:
    """A pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return Literal(term.value)  # RDF 1.1: a simple literal is an xsd:string
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise TypeError(f"cannot convert {term!r}")


def to_quads(triples: Iterable[tuple[Node, Node, Node]], graph: str) -> list[ox.Quad]:
    """Triples as quads of one graph; each distinct IRI is converted once (subjects and predicates repeat)."""
    g = ox.NamedNode(graph)
    iris: dict[str, ox.NamedNode] = {}

    def iri(t: Node) -> object:
        if type(t) is URIRef:
            got = iris.get(t)
            if got is None:
                got = iris[t] = ox.NamedNode(t)
            return got
        return to_ox(t)

    return [ox.Quad(iri(s), iri(p), iri(o), g) for s, p, o in triples]  # type: ignore[arg-type]


def canonical_fingerprints(quads: Iterable[ox.Quad], node_of: Callable[[str], str]) -> dict[str, int]:
    """Per node, a fingerprint of its statements as Oxigraph will store them.

    Oxigraph keeps literals in canonical form ("0.710"^^xsd:decimal is "0.71"), so new quads go
    through an in-memory store first, to compare equal with what `Store.node_fingerprints` reads.
    """
    memory = ox.Store()
    memory.extend(quads)
    found: dict[str, int] = {}
    for q in memory:
        node = node_of(q.subject.value)
        found[node] = (found.get(node, 0) + hash(q.triple)) & _MASK
    return found


def _insert_data(quads: list[ox.Quad]) -> str:
    """A SPARQL INSERT DATA for quads, graph by graph, in N-Triples syntax."""
    by_graph: dict[str, list[ox.Triple]] = {}
    for q in quads:
        by_graph.setdefault(q.graph_name.value, []).append(q.triple)
    blocks = " ".join(
        f"GRAPH <{g}> {{\n" + ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8") + "}"
        for g, triples in by_graph.items()
    )
    return f"INSERT DATA {{ {blocks} }}"


def _pending_pattern(iris: Iris) -> tuple[ox.NamedNode, ox.NamedNode, None, ox.NamedNode]:
    """The corpus stage's pending mark: (corpus graph, CORPUS_PENDING, when, state graph)."""
    return (
        ox.NamedNode(iris.corpus_graph),
        ox.NamedNode(CORPUS_PENDING),
        None,
        ox.NamedNode(f"{iris.base}graph/state"),
    )


def pending_corpus_warning(path: Path | str, iris: Iris) -> str | None:
    """A one-line warning when the store at `path` holds a corpus stage that never finished, else None.

    For readers such as `kg serve`: entities and events may be missing until a build finishes it.
    Opens the store read-only, so it may run while a build writes.
    """
    try:
        with Store(path, iris, read_only=True) as store:
            began = store.corpus_pending()
    except (StoreError, OSError):
        return None  # no store, or not readable: the caller's own open says why
    if began is None:
        return None
    return (
        f"warning: the corpus stage of a build begun {began} did not finish; entities and events may be "
        f"missing or out of date until 'kg build' is run again on {path} (it finishes the stage)"
    )


@dataclass
class KnownArticles:
    """What the store already holds: article hashes and which source each came from."""

    digests: set[str] = field(default_factory=set)
    by_source: dict[str, str] = field(default_factory=dict)


class Store:
    """A newskg store at a path: open it, write article batches, replace the corpus graph, query."""

    def __init__(self, path: Path | str, iris: Iris, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.iris = iris
        self.read_only = read_only
        self._unflushed = 0
        self._open()

    def _open(self) -> None:
        read_only = self.read_only
        try:
            if read_only:
                if not self.path.exists():
                    raise StoreError(f"no store at {self.path} (build one with 'kg build')")
                self.ox = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self.ox = ox.Store(str(self.path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {self.path}: {exc}") from None

    # -- reading ----------------------------------------------------------------------------

    def dataset(self) -> Dataset:
        """An rdflib Dataset over this store (oxrdflib), for rdflib users and notebooks."""
        from oxrdflib import OxigraphStore

        return Dataset(store=OxigraphStore(store=self.ox), default_union=True)

    def query(self, sparql: str, **kwargs: object) -> object:
        """Run SPARQL in Oxigraph over the union of all graphs, with our prefixes declared."""
        return self.ox.query(sparql_prefixes() + sparql, use_default_graph_as_union=True, **kwargs)  # type: ignore[arg-type]

    def known_articles(self) -> KnownArticles:
        known = KnownArticles()
        for row in self.query("SELECT ?hash ?key WHERE { ?a a kg:Article ; kg:sha256 ?hash ; kg:sourceKey ?key }"):
            known.digests.add(row["hash"].value)
            known.by_source[row["key"].value] = row["hash"].value
        return known

    def has_corpus_graph(self) -> bool:
        return self.ox.contains_named_graph(ox.NamedNode(self.iris.corpus_graph))

    def corpus_pending(self) -> str | None:
        """When a corpus stage that never finished began (ISO 8601), or None when none is pending.

        From the first article written to the end of the corpus stage, the corpus graph does not
        match the articles; a build, Ctrl-C'd or killed in that time, leaves this mark behind.
        """
        for quad in self.ox.quads_for_pattern(*_pending_pattern(self.iris)):
            return quad.object.value
        return None

    def mark_corpus_pending(self) -> None:
        """Record, in one transaction, that the corpus graph is about to go out of date (kept if already so)."""
        if self.corpus_pending() is None:
            subject, predicate, _, graph = _pending_pattern(self.iris)
            when = ox.Literal(datetime.now(UTC).isoformat(timespec="seconds"), datatype=ox.NamedNode(_XSD_DATETIME))
            self._extend([ox.Quad(subject, predicate, when, graph)])

    def __len__(self) -> int:
        return len(self.ox)

    # -- writing ----------------------------------------------------------------------------

    def write_articles(self, graphs: list[tuple[str, list[ox.Quad]]], superseded: Iterable[str] = ()) -> int:
        """Write article graphs (their quads) in one transaction, replacing any graph of the same name.

        Superseded graphs (older versions of a changed source) are dropped afterwards.
        Returns the number of quads written.
        """
        quads: list[ox.Quad] = []
        replace = []
        for graph, graph_quads in graphs:
            if self.ox.contains_named_graph(ox.NamedNode(graph)):
                replace.append(graph)
            quads.extend(graph_quads)
        try:
            if replace:
                self._replace_graphs(replace, quads)
            else:
                self.ox.extend(quads)
            for graph in superseded:
                self.ox.remove_graph(ox.NamedNode(graph))
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.path}: {exc}") from None
        self._written(len(quads))
        return len(quads)

    def forget_sources(self, sources: Iterable[tuple[str, str, str]]) -> None:
        """Take source keys off articles: (article graph, article IRI, source key) each, in one transaction.

        A file whose text changed no longer holds the old text; a copy elsewhere may, and keeps it.
        """
        deletes = " ".join(
            f"GRAPH <{graph}> {{ <{article}> <{KG.sourceKey}> {ox.Literal(key)} }}" for graph, article, key in sources
        )
        if deletes:
            try:
                self.ox.update(f"DELETE DATA {{ {deletes} }}")
            except OSError as exc:
                raise StoreError(f"cannot write to the store at {self.path}: {exc}") from None

    def node_fingerprints(self, graph: str, node_of: Callable[[str], str]) -> dict[str, tuple[int, set[str]]]:
        """For each node of a graph (subjects grouped by `node_of`): a fingerprint of its statements, its subjects."""
        found: dict[str, tuple[int, set[str]]] = {}
        for q in self.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
            subject = q.subject.value
            node = node_of(subject)
            total, subjects = found.get(node, (0, set()))
            subjects.add(subject)
            found[node] = ((total + hash(q.triple)) & _MASK, subjects)
        return found

    def replace_subjects(
        self, graph: str, subjects: list[str], quads: list[ox.Quad], *, corpus_done: bool = False
    ) -> None:
        """Delete what the subjects say in a graph and add `quads`, in one transaction.

        `subjects` are those that may have statements there now (the caller knows: looking each one
        up holds the GIL for a RocksDB seek, seconds for a corpus graph written from scratch).
        With `corpus_done`, the same transaction clears the corpus stage's pending mark: the stage's
        last chunk and the word that it is over land together or not at all.
        """
        if not subjects and not corpus_done:
            self._extend(quads)
            return
        parts = []
        if subjects:
            values = " ".join(f"<{s}>" for s in subjects)
            parts.append(
                f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} "
                f"WHERE {{ VALUES ?s {{ {values} }} GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            )
        if quads:
            parts.append(_insert_data(quads))
        if corpus_done:
            # The state graph holds the mark alone: dropped whole, it leaves no empty graph behind.
            parts.append(f"DROP SILENT GRAPH {_pending_pattern(self.iris)[3]}")
        try:
            self.ox.update(" ;\n".join(parts))
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.path}: {exc}") from None
        self._written(len(quads))

    def remove_subjects(self, graph: str, subjects: list[str], chunk: int = 500) -> None:
        """Delete what the subjects say in a graph, a chunk of subjects per transaction."""
        for start in range(0, len(subjects), chunk):
            self.replace_subjects(graph, subjects[start : start + chunk], [])

    def bulk_load(self, nquads: bytes) -> None:
        """Load N-Quads in bulk: several times faster than writing them in transactions, but not one itself
        (a reader may see part of them, and a load cut short leaves part of them behind)."""
        try:
            self.ox.bulk_load(input=nquads, format=ox.RdfFormat.N_QUADS)
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"cannot load into the store at {self.path}: {exc}") from None

    def _extend(self, quads: list[ox.Quad]) -> None:
        try:
            self.ox.extend(quads)
        except OSError as exc:
            raise StoreError(f"cannot write to the store at {self.path}: {exc}") from None
        self._written(len(quads))

    def _replace_graphs(self, graphs: list[str], quads: list[ox.Quad]) -> None:
        """DROP and INSERT DATA in one SPARQL update: readers see the old or the new, never half."""
        drops = "".join(f"DROP SILENT GRAPH <{g}> ;\n" for g in graphs)
        self.ox.update(drops + _insert_data(quads))

    def _written(self, quads: int) -> None:
        """Flush RocksDB's write buffers now and then: unflushed, they grow with every quad written."""
        self._unflushed += quads
        if self._unflushed >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write the buffers out; the memory they (and whatever else was freed) held goes back to the system.

        glibc keeps freed memory for reuse, so without the trim a long build's footprint would be
        its largest moment's, sitting idle.
        """
        self.ox.flush()
        self._unflushed = 0
        _release_freed_memory()

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Let go of the store for a while (another process may open it), then open it again."""
        self.close()
        try:
            yield
        finally:
            self._open()

    def close(self) -> None:
        """Release the store (and its lock) so another process can open it."""
        if getattr(self, "ox", None) is not None:
            if not self.read_only:
                self.ox.flush()
            self.ox = None  # type: ignore[assignment]

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
