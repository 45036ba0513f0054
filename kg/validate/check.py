"""Validation: SHACL shapes over what a build wrote, or over a whole store, with a readable report.

Two engines give the same verdicts: "oxigraph" (the default) runs the shapes compiled to SPARQL
(kg.validate.shacl) in an in-memory Oxigraph store; "pyshacl" runs pyshacl, the reference implementation,
3 to 4 times slower. Shapes the compiler cannot translate fall back to pyshacl.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from typing import Any

import pyoxigraph as ox
import rdflib.plugin
import rdflib.query
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import RDF, RDFS, SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.evaluate import evalQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from ..namespaces import PREFIXES
from ..resources import ontology_files, shape_files
from ..settings import SHACL_ENGINES
from ..store.store import Store, to_ox, to_rdflib
from .shacl import Check, UnsupportedShapeError, compile_shapes, describe_path, run_checks

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Violation:
    focus: str
    path: str
    message: str
    severity: str
    value: str | None = None

    def __str__(self) -> str:
        value = f" (value: {self.value})" if self.value else ""
        return f"{self.severity}: {self.focus}\n  path: {self.path}\n  {self.message}{value}"


@dataclass
class ValidationReport:
    conforms: bool = True
    violations: list[Violation] = field(default_factory=list)
    triples: int = 0

    def merge(self, other: ValidationReport) -> None:
        self.conforms = self.conforms and other.conforms
        self.violations.extend(other.violations)
        self.triples += other.triples

    def text(self, limit: int = 50) -> str:
        if self.conforms:
            return f"SHACL: conforms ({self.triples:,} triples checked)"
        lines = [f"SHACL: {len(self.violations)} violation(s) in {self.triples:,} triples"]
        lines += [str(v) for v in self.violations[:limit]]
        if len(self.violations) > limit:
            lines.append(f"... and {len(self.violations) - limit} more")
        return "\n".join(lines)


def combined(report: ValidationReport | None, other: ValidationReport | None) -> ValidationReport | None:
    """`report` with `other`'s violations and counts added (either may be None: nothing checked yet)."""
    if other is None:
        return report
    report = report or ValidationReport()
    report.merge(other)
    return report


@lru_cache(maxsize=256)
def _compiled(text: str, base: str | None, namespaces: frozenset) -> Query:
    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


def _converting_once(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert`, remembering each term's result: the same IRIs recur in every other statement."""
    done: dict[Any, Any] = {}

    def term(t: Any) -> Any:
        got = done.get(t)
        if got is None:
            got = done[t] = convert(t)
        return got

    return term


class MirroredGraph(Graph):
    """An rdflib graph with a pyoxigraph copy of its triples, for SHACL-SPARQL constraints.

    pyshacl evaluates a SPARQL-based constraint once per focus node; rdflib's engine takes tens
    of milliseconds per article for our anchor check, Oxigraph well under one. Core constraints
    still read the rdflib graph (pyshacl's own Oxigraph mode is far slower for them).
    """

    def __init__(self, data: Graph, quads: Sequence[ox.Quad] | None = None) -> None:
        super().__init__(store=data.store, identifier=data.identifier)
        self._mirror: ox.Store | None = None
        self._quads = quads

    @property
    def mirror(self) -> ox.Store:
        """The Oxigraph copy, made when the first SPARQL constraint needs it (from `quads` if given)."""
        if self._mirror is None and self._quads is not None:
            self._mirror = ox.Store()
            self._mirror.extend(ox.Quad(q.subject, q.predicate, q.object) for q in self._quads)
        if self._mirror is None:
            self._mirror = ox.Store()
            term = _converting_once(to_ox)
            self._mirror.extend(ox.Quad(term(s), term(p), term(o)) for s, p, o in self)  # type: ignore[arg-type]
        return self._mirror

    def query(self, query_object: Any, processor: Any = "sparql", *args: Any, **kwargs: Any) -> Any:
        """rdflib's `Graph.query`, through our cached processor unless the caller names another."""
        return super().query(query_object, PROCESSOR if processor == "sparql" else processor, *args, **kwargs)


def _in_oxigraph(mirror: ox.Store, text: str, bindings: dict, namespaces: dict) -> dict:
    """The query's answer from Oxigraph, in the shape rdflib's SPARQLResult is built from."""
    substitutions = {ox.Variable(str(k)): to_ox(v) for k, v in bindings.items()}
    prefixes = {str(k): str(v) for k, v in namespaces.items()}
    answer = mirror.query(text, prefixes=prefixes or None, substitutions=substitutions or None)
    if isinstance(answer, ox.QueryBoolean):
        return {"type_": "ASK", "askAnswer": bool(answer)}
    if not isinstance(answer, ox.QuerySolutions):
        raise ValueError("a SHACL-SPARQL constraint must be a SELECT or ASK query")
    names = [v.value for v in answer.variables]
    rows = [{Variable(n): to_rdflib(row[n]) for n in names if row[n] is not None} for row in answer]
    return {"type_": "SELECT", "vars_": [Variable(n) for n in names], "bindings": rows}


class CachedSPARQLProcessor(SPARQLProcessor):
    """rdflib's SPARQL processor, parsing each distinct query once, and using Oxigraph when it can.

    pyshacl runs a SPARQL-based constraint once per focus node and rdflib parses the query text
    every time (tens of milliseconds each); the parsed, translated query is the same each time.
    On a MirroredGraph the query runs in Oxigraph instead.
    """

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803 - rdflib API
        query = strOrQuery
        mirror = getattr(self.graph, "mirror", None)
        if mirror is not None and isinstance(query, str) and base is None:
            return _in_oxigraph(mirror, query, initBindings or {}, initNs or {})
        if isinstance(query, str):
            query = _compiled(query, base, frozenset((initNs or {}).items()))
        return evalQuery(self.graph, query, initBindings, base)


#: Registered under our own name, and used only by the graphs we hand pyshacl (MirroredGraph.query):
#: replacing rdflib's "sparql" processor would change every rdflib query in the importing process.
PROCESSOR = "newskg-cached-sparql"
rdflib.plugin.register(PROCESSOR, rdflib.query.Processor, __name__, "CachedSPARQLProcessor")

#: Predicates that give a shape its focus nodes.
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


def flatten_property_shapes(shapes: Graph) -> Graph:
    """Property shapes of targeted node shapes, given those targets themselves.

    The same constraints, checked the same way: a property shape nested with sh:property is
    checked for each focus node of its node shape. pyshacl, though, evaluates a nested property
    shape one focus node at a time (rebuilding its constraints each time), and a targeted one once
    for all of them, several times faster. Node shapes used elsewhere (sh:node, sh:or...) keep theirs.
    """
    flat = Graph()
    for t in shapes:
        flat.add(t)
    for prefix, ns in shapes.namespaces():
        flat.bind(prefix, ns, override=True)
    referenced = set(shapes.objects(None, SH.node)) | {
        item for lst in shapes.objects(None, None) if isinstance(lst, BNode) for item in _members(shapes, lst)
    }
    for node, prop in list(shapes.subject_objects(SH.property)):
        targets = [(p, o) for p in _TARGETS for o in shapes.objects(node, p)]
        if not targets or node in referenced or (node, SH.deactivated, Literal(True)) in shapes:
            continue
        if set(shapes.subjects(SH.property, prop)) != {node}:
            continue
        for p, o in targets:
            flat.add((prop, p, o))
        flat.add((prop, RDF.type, SH.PropertyShape))
        flat.remove((node, SH.property, prop))
    return flat


def _members(graph: Graph, head: BNode) -> list[Node]:
    """Items of an RDF list starting at `head` (empty when `head` is not a list)."""
    if (head, RDF.first, None) not in graph:
        return []
    return list(graph.items(head))


def _turtle(paths: list) -> Graph:
    g = Graph()
    for path in paths:
        g.parse(path, format="turtle")
    return g


@lru_cache(maxsize=1)
def _shapes() -> Graph:
    return flatten_property_shapes(_turtle(shape_files()))


@lru_cache(maxsize=1)
def _ontology() -> Graph:
    return _turtle(ontology_files())


@lru_cache(maxsize=1)
def _names() -> Graph:
    """An empty graph whose namespace manager knows our prefixes, to print paths as kg:sha256."""
    g = Graph(bind_namespaces="none")
    for prefix, ns in {**PREFIXES, "sh": str(SH)}.items():
        g.bind(prefix, ns)
    return g


def _short(node: Node | None, graph: Graph | None = None) -> str:
    """A term for a report: prefixed when we know the prefix; a path node (in `graph`) as a path."""
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        return node.n3(_names().namespace_manager)
    if graph is not None:
        return describe_path(graph, node, _short)
    return str(node)


@lru_cache(maxsize=2)
def _compiled_checks(subclasses: bool) -> list[Check] | None:
    """Our shapes as Oxigraph queries, or None when they use a feature the compiler lacks."""
    try:
        return compile_shapes(_turtle(shape_files()), subclasses=subclasses, name=_short)
    except UnsupportedShapeError as exc:
        log.warning("SHACL shapes need pyshacl (%s): validation will be slower", exc)
        return None


def _distinct_triples(data: ox.Store) -> int:
    query = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    return int(next(iter(data.query(query, use_default_graph_as_union=True)))["n"].value)  # type: ignore[arg-type]


def _check_engine(engine: str) -> None:
    if engine not in SHACL_ENGINES:
        raise ValueError(f"unknown SHACL engine {engine!r}; choose one of {', '.join(SHACL_ENGINES)}")


def validate_quads(
    quads: Iterable[ox.Quad], *, with_ontology: bool = False, engine: str = "oxigraph"
) -> ValidationReport:
    """Validate statements given as pyoxigraph quads (graph names are ignored, as SHACL sees one graph)."""
    _check_engine(engine)
    data = ox.Store()
    data.extend(quads)  # graph names kept: the checks read the union of the graphs
    return _validate_store_data(data, with_ontology, engine)


def _validate_store_data(data: ox.Store, with_ontology: bool, engine: str) -> ValidationReport:
    """Validate the statements of an in-memory store (all its graphs, as one)."""
    subclasses = with_ontology or data.query(f"ASK {{ ?a <{RDFS.subClassOf}> ?b }}", use_default_graph_as_union=True)
    checks = _compiled_checks(bool(subclasses)) if engine == "oxigraph" else None
    if checks is None:
        g = Graph()
        _add_quads(g, data, _converting_once(to_rdflib))
        return validate_graph(g, with_ontology=with_ontology, engine="pyshacl")
    triples = len(data) if len(list(islice(data.named_graphs(), 2))) < 2 else _distinct_triples(data)
    if with_ontology:
        data.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in _ontology())  # type: ignore[arg-type]
    report = ValidationReport(triples=triples)
    for r in run_checks(data, checks):
        report.conforms = report.conforms and r.severity != "Violation"
        report.violations.append(
            Violation(
                focus=r.focus.value,
                path=r.path or "-",
                message=r.message,
                severity=r.severity,
                value=r.value.value if r.value is not None else None,
            )
        )
    report.violations.sort(key=lambda v: (v.focus, v.path, v.message))
    return report


def validate_graph(
    data: Graph, *, with_ontology: bool = False, quads: Sequence[ox.Quad] | None = None, engine: str = "oxigraph"
) -> ValidationReport:
    """Run the shapes over one rdflib graph (`quads`: the same statements in pyoxigraph's terms, if at hand).

    The shapes name our classes exactly as the data asserts them, so a build's checks leave the
    ontology out; `kg validate` mixes it in (as pyshacl's ont_graph would, without its copy).
    """
    _check_engine(engine)
    if engine == "oxigraph" and _compiled_checks(with_ontology) is not None:
        if quads is None:
            term = _converting_once(to_ox)
            quads = [ox.Quad(term(s), term(p), term(o)) for s, p, o in data]  # type: ignore[arg-type]
        return validate_quads(quads, with_ontology=with_ontology)
    from pyshacl import validate

    checked = data
    if with_ontology:
        checked = Graph()
        checked += data
        checked += _ontology()
    conforms, results, _ = validate(
        MirroredGraph(checked, None if with_ontology else quads),
        shacl_graph=_shapes(),
        inference="none",
        allow_warnings=True,
        inplace=True,
    )
    report = ValidationReport(conforms=bool(conforms), triples=len(data))
    details = set(results.objects(None, SH.detail))  # a nested shape's results, behind the one they explain
    for r in set(results.subjects(predicate=SH.resultSeverity)) - details:
        report.violations.append(
            Violation(
                focus=str(results.value(r, SH.focusNode)),
                path=_short(results.value(r, SH.resultPath), results),
                message=str(results.value(r, SH.resultMessage) or "constraint not met"),
                severity=str(results.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
                value=str(v) if (v := results.value(r, SH.value)) is not None else None,
            )
        )
    report.violations.sort(key=lambda v: (v.focus, v.path, v.message))
    return report


def validate_triples(
    triples: Iterable[tuple[Node, Node, Node]], quads: Sequence[ox.Quad] | None = None, engine: str = "oxigraph"
) -> ValidationReport:
    """Validate triples; `quads`, when given, are the same statements already in pyoxigraph's terms."""
    if engine == "oxigraph" and quads is not None and _compiled_checks(False) is not None:
        return validate_quads(quads)
    g = Graph()
    for t in triples:
        g.add(t)
    return validate_graph(g, quads=quads, engine=engine)


def validate_nquads(data: bytes, engine: str = "oxigraph") -> ValidationReport:
    """Validate statements given as N-Quads (graph names are ignored): how a build's writer hands them over."""
    _check_engine(engine)
    store = ox.Store()
    store.load(data, format=ox.RdfFormat.N_QUADS)  # parsed straight into the store, no Quad objects on the way
    return _validate_store_data(store, False, engine)


def _add_quads(g: Graph, quads: Iterable[ox.Quad], term: Callable[[Any], Any]) -> None:
    """Add pyoxigraph quads to an rdflib graph as triples (graph names dropped), converting terms with `term`."""
    for q in quads:
        g.add((term(q.subject), term(q.predicate), term(q.object)))


def validate_store(store: Store, batch: int = 200, engine: str = "oxigraph") -> ValidationReport:
    """Validate every graph in the store, a batch of named graphs at a time (memory stays flat)."""
    report = ValidationReport()
    graphs = sorted(g.value for g in store.ox.named_graphs())
    for start in range(0, len(graphs), batch):
        names = [ox.NamedNode(name) for name in graphs[start : start + batch]]
        quads = [q for name in names for q in store.ox.quads_for_pattern(None, None, None, name)]
        report.merge(validate_quads(quads, with_ontology=True, engine=engine))
    return report
