"""Validation: SHACL shapes over what a build wrote, or over a whole store, with a readable report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox
import rdflib.plugin
import rdflib.query
from rdflib import Graph, URIRef
from rdflib.namespace import SH
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.evaluate import evalQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from .namespaces import PREFIXES
from .resources import ontology_files, shape_files
from .store import Store, to_rdflib


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


@lru_cache(maxsize=256)
def _compiled(text: str, base: str | None, namespaces: frozenset) -> Query:
    return translateQuery(parseQuery(text), base, dict(namespaces) or None)


class CachedSPARQLProcessor(SPARQLProcessor):
    """rdflib's SPARQL processor, parsing each distinct query once.

    pyshacl runs a SPARQL-based constraint once per focus node and rdflib parses the query text
    every time (tens of milliseconds each); the parsed, translated query is the same each time.
    """

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803 - rdflib API
        query = strOrQuery
        if isinstance(query, str):
            query = _compiled(query, base, frozenset((initNs or {}).items()))
        return evalQuery(self.graph, query, initBindings, base)


rdflib.plugin.register("sparql", rdflib.query.Processor, __name__, "CachedSPARQLProcessor")


def _turtle(paths: list) -> Graph:
    g = Graph()
    for path in paths:
        g.parse(path, format="turtle")
    return g


@lru_cache(maxsize=1)
def _shapes() -> Graph:
    return _turtle(shape_files())


@lru_cache(maxsize=1)
def _ontology() -> Graph:
    return _turtle(ontology_files())


@lru_cache(maxsize=1)
def _names() -> Graph:
    """An empty graph whose namespace manager knows our prefixes, to print paths as kg:sha256."""
    g = Graph(bind_namespaces="none")
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g


def _short(node: Node | None) -> str:
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        return node.n3(_names().namespace_manager)
    return str(node)


def validate_graph(data: Graph, *, with_ontology: bool = False) -> ValidationReport:
    """Run the shapes over one rdflib graph.

    The shapes name our classes exactly as the data asserts them, so a build's checks leave the
    ontology out (pyshacl copies the data graph to mix it in); `kg validate` puts it in.
    """
    from pyshacl import validate

    conforms, results, _ = validate(
        data,
        shacl_graph=_shapes(),
        ont_graph=_ontology() if with_ontology else None,
        inference="none",
        allow_warnings=True,
    )
    report = ValidationReport(conforms=bool(conforms), triples=len(data))
    for r in set(results.subjects(predicate=SH.resultSeverity)):
        report.violations.append(
            Violation(
                focus=str(results.value(r, SH.focusNode)),
                path=_short(results.value(r, SH.resultPath)),
                message=str(results.value(r, SH.resultMessage) or "constraint not met"),
                severity=str(results.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
                value=str(v) if (v := results.value(r, SH.value)) is not None else None,
            )
        )
    report.violations.sort(key=lambda v: (v.focus, v.path, v.message))
    return report


def validate_triples(triples: Iterable[tuple[Node, Node, Node]]) -> ValidationReport:
    g = Graph()
    for t in triples:
        g.add(t)
    return validate_graph(g)


def validate_store(store: Store, batch: int = 200) -> ValidationReport:
    """Validate every graph in the store, a batch of named graphs at a time (memory stays flat)."""
    report = ValidationReport()
    graphs = sorted(g.value for g in store.ox.named_graphs())
    for start in range(0, len(graphs), batch):
        data = Graph()
        for name in graphs[start : start + batch]:
            for q in store.ox.quads_for_pattern(None, None, None, ox.NamedNode(name)):
                data.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
        report.merge(validate_graph(data, with_ontology=True))
    return report
