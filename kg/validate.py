"""Validation: SHACL shapes over what a build wrote, or over a whole store, with a readable report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import SH
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


@lru_cache(maxsize=1)
def _shapes() -> Graph:
    g = Graph()
    for path in shape_files():
        g.parse(path, format="turtle")
    return g


@lru_cache(maxsize=1)
def _ontology() -> Graph:
    g = Graph()
    for path in ontology_files():
        g.parse(path, format="turtle")
    return g


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


def validate_graph(data: Graph) -> ValidationReport:
    """Run the shapes over one rdflib graph (with the ontology for class hierarchy)."""
    from pyshacl import validate

    conforms, results, _ = validate(
        data, shacl_graph=_shapes(), ont_graph=_ontology(), inference="none", allow_warnings=True
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
        report.merge(validate_graph(data))
    return report
