"""The W3C SPARQL 1.1 query tests, run through `kg serve` over HTTP and in raw pyoxigraph.

Every query-evaluation, result-format and query-syntax test of ../shared/w3c-sparql11 (W3C test
suite licence) is run twice: by pyoxigraph in this process, and by the endpoint over HTTP, asking for
the format the expected results are in (so every serialisation is checked too). The rule: where raw
pyoxigraph passes a test, the endpoint passes it as well. A table of passed/failed per group is
printed. Not run: federation (`service`: the endpoint refuses SERVICE by default, and the tests need
remote endpoints) and `entailment` (regimes Oxigraph does not implement); update tests are not
query tests.

Each test's dataset is given to both as the protocol does: its default graph under its own IRI
(default-graph-uri), its named graphs under their file IRIs (named-graph-uri), unless the query
names its own with FROM / FROM NAMED.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import SHARED
from serving import http, running_server

SUITE = SHARED / "w3c-sparql11"
OFFICIAL = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
GROUPS = (
    "aggregates",
    "bind",
    "bindings",
    "cast",
    "construct",
    "csv-tsv-res",
    "exists",
    "functions",
    "grouping",
    "json-res",
    "negation",
    "project-expression",
    "property-path",
    "subquery",
    "syntax-query",
)
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
EMPTY = "urn:w3c:empty"
RESULT_FORMATS = {
    "srx": (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
    "srj": (ox.QueryResultsFormat.JSON, "application/sparql-results+json"),
    "tsv": (ox.QueryResultsFormat.TSV, "text/tab-separated-values"),
    "csv": (ox.QueryResultsFormat.CSV, "text/csv"),
}

pytestmark = pytest.mark.skipif(not SUITE.is_dir(), reason=f"the W3C SPARQL 1.1 tests are not at {SUITE}")


def official(path: Path) -> str:
    """The IRI the W3C gives a file of the suite (its tests and results are written against it)."""
    return OFFICIAL + path.relative_to(SUITE).as_posix()


def local(iri: str) -> Path:
    return SUITE / iri[len(OFFICIAL) :]


@dataclass
class Case:
    group: str
    name: str
    kind: str  # "eval", "csv", "syntax+", "syntax-"
    query: Path
    data: list[Path] = field(default_factory=list)
    graphs: list[Path] = field(default_factory=list)
    result: Path | None = None

    @property
    def default_graph(self) -> str:
        if not self.data:
            return EMPTY
        key = "|".join(sorted(official(p) for p in self.data))
        return "urn:w3c:default:" + hashlib.sha1(key.encode()).hexdigest()[:16]

    def text(self) -> str:
        """The query, with the base IRI of its file (its relative IRIs resolve as the suite intends)."""
        return f"BASE <{official(self.query)}>\n" + self.query.read_text(encoding="utf-8")


def read_manifest(group: str) -> list[Case]:
    manifest = SUITE / group / "manifest.ttl"
    store = ox.Store()
    store.load(path=str(manifest), format=ox.RdfFormat.TURTLE, base_iri=official(manifest))
    kinds = {
        MF + "QueryEvaluationTest": "eval",
        MF + "CSVResultFormatTest": "csv",
        MF + "PositiveSyntaxTest11": "syntax+",
        MF + "NegativeSyntaxTest11": "syntax-",
    }
    cases = []
    rows = store.query(
        f"""SELECT ?test ?type ?name ?action ?result WHERE {{
              ?m <{MF}entries>/<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>*/<http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?test .
              ?test a ?type ; <{MF}name> ?name ; <{MF}action> ?action .
              OPTIONAL {{ ?test <{MF}result> ?result }} }}"""
    )
    for row in rows:
        kind = kinds.get(row["type"].value)
        if kind is None:
            continue
        action = row["action"]
        if isinstance(action, ox.NamedNode):  # syntax tests: the action is the query file
            query, data, graphs = local(action.value), [], []
        else:

            def values(prop: str, node: ox.BlankNode = action) -> list[Path]:
                return [local(q.object.value) for q in store.quads_for_pattern(node, ox.NamedNode(QT + prop), None)]

            query, data, graphs = values("query")[0], values("data"), values("graphData")
        result = local(row["result"].value) if row["result"] is not None else None
        cases.append(Case(group, row["name"].value, kind, query, data, graphs, result))
    return cases


def all_cases() -> list[Case]:
    return [case for group in GROUPS for case in read_manifest(group)]


def load(cases: list[Case], path: Path) -> None:
    """One store with every test's data: default graphs under their own IRIs, named graphs under their files'."""
    store = ox.Store(str(path))
    loaded: set[tuple[str, str]] = set()
    for case in cases:
        pairs = [(p, case.default_graph) for p in case.data] + [(p, official(p)) for p in case.graphs]
        for file, graph in pairs:
            if (official(file), graph) in loaded:
                continue
            loaded.add((official(file), graph))
            store.load(
                path=str(file),
                format=ox.RdfFormat.from_extension(file.suffix.lstrip(".")),
                base_iri=official(file),
                to_graph=ox.NamedNode(graph),
            )
    store.flush()
    del store


# -- what the results are ---------------------------------------------------------------------------


XSD = "http://www.w3.org/2001/XMLSchema#"
DECIMALS = {
    XSD + t
    for t in (
        "integer",
        "decimal",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "negativeInteger",
        "nonPositiveInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
}
FLOATS = {XSD + "double", XSD + "float"}


def value(lexical: str, datatype: str) -> object:
    """Numbers and booleans compare by value, as the suite intends ("3.0E4" is 30000 as a double)."""
    try:
        if datatype in DECIMALS:
            return Decimal(lexical.strip())
        if datatype in FLOATS:
            return float(lexical.strip().replace("INF", "inf"))
        if datatype == XSD + "boolean":
            return lexical.strip() in ("true", "1")
    except (ValueError, ArithmeticError):
        pass
    return lexical


def key(term: object) -> tuple:
    """A comparable form of a pyoxigraph term; blank nodes keep their label for mapping."""
    if isinstance(term, ox.NamedNode):
        return ("u", term.value)
    if isinstance(term, ox.BlankNode):
        return ("b", term.value)
    if isinstance(term, ox.Literal):
        datatype = None if term.language else term.datatype.value
        return ("l", value(term.value, datatype or ""), term.language, datatype)
    if isinstance(term, ox.Triple):
        return ("t", key(term.subject), key(term.predicate), key(term.object))
    return ("?", str(term))


@dataclass
class Outcome:
    """Solutions (list of dicts of keys), a boolean, a graph (canonical N-Triples lines) or CSV text."""

    solutions: list[dict[str, tuple]] | None = None
    boolean: bool | None = None
    graph: frozenset[str] | None = None
    csv: list[list[str]] | None = None


def from_results(results: object) -> Outcome:
    if isinstance(results, ox.QueryBoolean):
        return Outcome(boolean=bool(results))
    if isinstance(results, ox.QueryTriples | list):
        return Outcome(graph=canonical(list(results)))
    variables = [v.value for v in results.variables]  # type: ignore[attr-defined]
    return Outcome(
        solutions=[{v: key(s[v]) for v in variables if s[v] is not None} for s in results]  # type: ignore[attr-defined]
    )


def canonical(triples: list) -> frozenset[str]:
    dataset = ox.Dataset([ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples])
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return frozenset(str(q) for q in dataset)


def csv_rows(text: str) -> list[list[str]]:
    """CSV rows with blank node labels renamed in order of appearance (labels are not data)."""
    names: dict[str, str] = {}
    out = []
    for row in csv.reader(io.StringIO(text.replace("\r\n", "\n"))):
        out.append([names.setdefault(cell, f"_:b{len(names)}") if cell.startswith("_:") else cell for cell in row])
    return out


def expected(case: Case) -> Outcome:
    assert case.result is not None
    suffix = case.result.suffix.lstrip(".")
    data = case.result.read_bytes()
    if case.kind == "csv":
        return Outcome(csv=csv_rows(data.decode("utf-8")))
    if suffix in RESULT_FORMATS:
        return from_results(ox.parse_query_results(data, format=RESULT_FORMATS[suffix][0]))
    quads = list(ox.parse(data, format=ox.RdfFormat.from_extension(suffix), base_iri=official(case.result)))
    if any(
        q.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" and q.object.value == RS + "ResultSet"
        for q in quads
    ):
        return result_set(quads)
    return Outcome(graph=canonical([q.triple for q in quads]))


def result_set(quads: list) -> Outcome:
    """The DAWG result-set vocabulary (rs:) as solutions, ordered by rs:index when given."""
    store = ox.Store()
    store.extend([ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads])
    boolean = list(store.query(f"SELECT ?b WHERE {{ ?rs <{RS}boolean> ?b }}"))
    if boolean:
        return Outcome(boolean=boolean[0]["b"].value == "true")
    rows: dict[object, dict[str, tuple]] = {}
    index: dict[object, int] = {}
    for row in store.query(
        f"""SELECT ?solution ?var ?value ?i WHERE {{ ?rs <{RS}solution> ?solution .
              OPTIONAL {{ ?solution <{RS}binding> [ <{RS}variable> ?var ; <{RS}value> ?value ] }}
              OPTIONAL {{ ?solution <{RS}index> ?i }} }}"""
    ):
        solution = rows.setdefault(row["solution"], {})
        if row["var"] is not None:
            solution[row["var"].value] = key(row["value"])
        if row["i"] is not None:
            index[row["solution"]] = int(row["i"].value)
    ordered = sorted(rows, key=lambda s: index.get(s, 0))
    return Outcome(solutions=[rows[s] for s in ordered])


def same_solutions(a: list[dict], b: list[dict], ordered: bool) -> bool:
    """Equal as multisets (or sequences), blank nodes equal up to a consistent renaming."""
    if len(a) != len(b):
        return False

    def shape(row: dict) -> tuple:
        return tuple(sorted((k, ("b",) if v[0] == "b" else v) for k, v in row.items()))

    if ordered:
        if [shape(r) for r in a] != [shape(r) for r in b]:
            return False
    elif Counter(shape(r) for r in a) != Counter(shape(r) for r in b):
        return False
    if not any(v[0] == "b" for row in a for v in row.values()):
        return True

    def extend(mapping: dict, row_a: dict, row_b: dict) -> dict | None:
        new = dict(mapping)
        for k, v in row_a.items():
            w = row_b[k]
            if v[0] == "b":
                if new.get(("a", v), w) != w or new.get(("b", w), v) != v:
                    return None
                new[("a", v)] = w
                new[("b", w)] = v
        return new

    if ordered:
        mapping: dict | None = {}
        for row_a, row_b in zip(a, b, strict=True):
            mapping = extend(mapping, row_a, row_b) if mapping is not None else None
        return mapping is not None

    def search(i: int, used: set[int], mapping: dict) -> bool:
        if i == len(a):
            return True
        for j, row_b in enumerate(b):
            if j not in used and shape(row_b) == shape(a[i]):
                extended = extend(mapping, a[i], row_b)
                if extended is not None and search(i + 1, used | {j}, extended):
                    return True
        return False

    return search(0, set(), {})


def same_table(want: list[list[str]], got: list[list[str]]) -> bool:
    """CSV tables equal up to the order of columns (SELECT * leaves it open) and of rows."""
    if not want or not got or sorted(want[0]) != sorted(got[0]):
        return False
    order = [got[0].index(column) for column in want[0]]
    return Counter(tuple(row) for row in want[1:]) == Counter(tuple(row[i] for i in order) for row in got[1:])


def matches(case: Case, want: Outcome, got: Outcome) -> bool:
    if want.csv is not None:
        return got.csv is not None and same_table(want.csv, got.csv)
    if want.boolean is not None:
        return got.boolean == want.boolean
    if want.graph is not None:
        return got.graph == want.graph
    if got.solutions is None or want.solutions is None:
        return False
    ordered = re.search(r"(?i)order\s+by", case.query.read_text(encoding="utf-8")) is not None
    return same_solutions(want.solutions, got.solutions, ordered)


# -- running a case both ways ------------------------------------------------------------------------


def uses_from(text: str) -> bool:
    return re.search(r"(?i)\bfrom\b\s*(named\s*)?<", text) is not None


def run_raw(store: ox.Store, case: Case) -> bool:
    text = case.text()
    kwargs = (
        {}
        if uses_from(text)
        else {
            "default_graph": [ox.NamedNode(case.default_graph)],
            "named_graphs": [ox.NamedNode(official(g)) for g in case.graphs],
        }
    )
    if case.kind.startswith("syntax"):
        try:
            results = store.query(text, **kwargs)
            if not isinstance(results, ox.QueryBoolean):
                list(results)
        except SyntaxError:
            return case.kind == "syntax-"
        except (OSError, RuntimeError):
            pass  # parsed, then failed to evaluate: not a syntax error
        return case.kind == "syntax+"
    try:
        results = store.query(text, **kwargs)
        if case.kind == "csv":
            got = Outcome(csv=csv_rows(results.serialize(format=ox.QueryResultsFormat.CSV).decode("utf-8")))
        else:
            got = from_results(results)
        return matches(case, expected(case), got)
    except (SyntaxError, OSError, RuntimeError, ValueError):
        return False


def run_http(server, case: Case) -> bool:
    text = case.text()
    params: dict[str, str | list[str]] = {"query": text}
    if not uses_from(text):
        params["default-graph-uri"] = case.default_graph
        params["named-graph-uri"] = [official(g) for g in case.graphs]
    reply = http(server.sparql, method="POST", data=params, headers={"Accept": accept_for(case)}, timeout=60)
    if case.kind.startswith("syntax"):
        rejected = reply.status == 400 and "syntax error" in reply.text
        return rejected == (case.kind == "syntax-")
    return answers(case, reply)


def accept_for(case: Case) -> str:
    """The Accept header a query test is sent with: its result file's format; for graphs and rs result
    sets, N-Triples for graphs and JSON for tables."""
    suffix = case.result.suffix.lstrip(".") if case.result else ""
    if case.kind == "csv":
        return "text/csv"
    if suffix in RESULT_FORMATS:
        return RESULT_FORMATS[suffix][1]
    return "application/n-triples, application/sparql-results+json;q=0.9"


def answers(case: Case, reply) -> bool:
    """Whether an HTTP reply is a 200 whose body is the test's expected result."""
    if reply.status != 200:
        return False
    try:
        content_type = reply.headers["content-type"].split(";")[0]
        if case.kind == "csv":
            got = Outcome(csv=csv_rows(reply.text))
        elif content_type == "application/n-triples":
            got = Outcome(graph=canonical([q.triple for q in ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES)]))
        else:
            fmt = ox.QueryResultsFormat.from_media_type(content_type)
            got = from_results(ox.parse_query_results(reply.body, format=fmt))
        return matches(case, expected(case), got)
    except (SyntaxError, ValueError, OSError):
        return False


@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    cases = all_cases()
    path = tmp_path_factory.mktemp("w3c") / "store"
    load(cases, path)
    return cases, path


def test_where_raw_pyoxigraph_passes_a_w3c_test_the_endpoint_passes_it_too(suite, capsys, tmp_path):
    cases, path = suite
    raw_store = ox.Store.read_only(str(path))
    raw = {id(case): run_raw(raw_store, case) for case in cases}
    del raw_store
    with running_server(path, "--timeout", "20") as server:
        endpoint = {id(case): run_http(server, case) for case in cases}

    table = []
    for group in GROUPS:
        members = [c for c in cases if c.group == group]
        table.append(
            (
                group,
                len(members),
                sum(raw[id(c)] for c in members),
                sum(endpoint[id(c)] for c in members),
            )
        )
    lines = [
        "W3C SPARQL 1.1 query tests: raw pyoxigraph and through the endpoint (HTTP)",
        f"{'group':<20}{'tests':>6}{'raw pass':>10}{'raw fail':>10}{'http pass':>11}{'http fail':>11}",
    ]
    for group, n, raw_ok, http_ok in table:
        lines.append(f"{group:<20}{n:>6}{raw_ok:>10}{n - raw_ok:>10}{http_ok:>11}{n - http_ok:>11}")
    total = len(cases)
    raw_total, http_total = sum(raw.values()), sum(endpoint.values())
    lines.append(
        f"{'total':<20}{total:>6}{raw_total:>10}{total - raw_total:>10}{http_total:>11}{total - http_total:>11}"
    )
    both_fail = [f"{c.group}/{c.name}" for c in cases if not raw[id(c)] and not endpoint[id(c)]]
    lines.append("failed by both: " + ("; ".join(both_fail) or "none"))
    report = "\n".join(lines)
    (tmp_path / "w3c-report.txt").write_text(report + "\n", encoding="utf-8")
    with capsys.disabled():
        print("\n" + report)

    regressions = [f"{c.group}/{c.name}" for c in cases if raw[id(c)] and not endpoint[id(c)]]
    assert not regressions, f"the endpoint fails tests raw pyoxigraph passes: {regressions}"
    assert total > 300 and raw_total > 0.9 * total, report
    assert json.dumps(table)  # the table is plain data, ready for a report


# -- the whole suite over HTTP, against raw Oxigraph's own server ----------------------------------
#
# With `kg serve --default-graph standard` the default graph is the store's own, as in the standard, so
# the suite can be run the way it is written: each test's data in the default graph (and its named
# graphs), its query or update sent over the SPARQL 1.1 Protocol with no dataset parameters, the
# dataset read back after an update. The same run goes to `oxigraph serve` (raw Oxigraph: the same
# engine behind its own HTTP server, from the `oxigraph` package); the rule is that kg serve passes
# every test it passes. Covered: query evaluation, result formats and query syntax (as above), update
# evaluation and update syntax, and the Protocol's own tests (protocol/manifest.ttl: requests, status
# classes, result kinds, using-graph-uri / using-named-graph-uri). Not run: federation, entailment,
# the Graph Store Protocol (kg serve does not offer it) and the service description tests (they only
# ask for a description, which the protocol tests of tests/test_serve_protocol.py check).

UT = "http://www.w3.org/2009/sparql/tests/test-update#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
UPDATE_GROUPS = (
    "add",
    "basic-update",
    "clear",
    "copy",
    "delete",
    "delete-data",
    "delete-insert",
    "delete-where",
    "drop",
    "move",
    "syntax-update-1",
    "syntax-update-2",
    "update-silent",
)
TOKEN = "w3c-conformance"
DUMP = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"


@dataclass
class Endpoint:
    """Where a server takes queries and updates, and what an update request must carry."""

    name: str
    query: str
    update: str
    headers: dict[str, str] = field(default_factory=dict)

    def ask(self, text: str, accept: str) -> object:
        return http(self.query, method="POST", data={"query": text}, headers={**self.headers, "Accept": accept})

    def change(self, text: str) -> object:
        return http(self.update, method="POST", data={"update": text}, headers=self.headers)


@dataclass
class Dataset:
    """A test's dataset: files for the default graph, and (graph IRI, file) for named graphs."""

    default: tuple[Path, ...] = ()
    named: tuple[tuple[str, Path], ...] = ()


@dataclass
class HttpCase:
    """One test of the suite, run over HTTP against an endpoint: `run(endpoint)` is True if it passed."""

    group: str
    name: str
    dataset: Dataset
    check: object  # Callable[[Endpoint], bool]


#: How each server says it could not parse a text (kg serve, then Oxigraph's "error at LINE:COLUMN"); a
#: text that parses and then fails (an unknown function, a missing graph) is no syntax error.
SYNTAX_ERROR = re.compile(r"syntax error|^error at \d+:\d+")
#: What the suite's updates LOAD: kg serve calls no remote address unless allowed, raw Oxigraph calls any.
#: Allowed for the conformance run, so both servers do the same with them (nothing answers here: the
#: loads fail, and LOAD SILENT succeeds without loading).
SUITE_LOADS = (
    "http://example.org/faraway",
    OFFICIAL + "syntax-update-1/remote",
    "somescheme://www.example.com/THIS-GRAPH-DOES-NOT-EXIST/",
)


def rejected_as_syntax(reply: object) -> bool:
    return reply.status == 400 and SYNTAX_ERROR.search(reply.body.decode("utf-8", "replace")) is not None


def quads_of(dataset: Dataset) -> list[ox.Quad]:
    """The dataset's quads; each file loaded gets its own blank nodes, as loading it into a store does."""
    quads = []
    loads = [(ox.DefaultGraph(), p) for p in dataset.default] + [(ox.NamedNode(g), p) for g, p in dataset.named]
    for index, (graph, path) in enumerate(loads):
        fmt = ox.RdfFormat.from_extension(path.suffix.lstrip("."))

        def fresh(term: object, index: int = index) -> object:
            return ox.BlankNode(f"l{index}x{term.value}") if isinstance(term, ox.BlankNode) else term

        for quad in ox.parse(path.read_bytes(), format=fmt, base_iri=official(path)):
            quads.append(ox.Quad(fresh(quad.subject), quad.predicate, fresh(quad.object), graph))
    return quads


def reset_update(dataset: Dataset) -> str:
    """An update that leaves the store holding exactly `dataset`."""
    by_graph: dict[object, list[str]] = {}
    for quad in quads_of(dataset):
        triple = f"{quad.subject} {quad.predicate} {quad.object} ."
        by_graph.setdefault(quad.graph_name, []).append(triple)
    blocks = [
        "\n".join(lines) if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph} {{\n" + "\n".join(lines) + "\n}"
        for graph, lines in by_graph.items()
    ]
    return "DROP ALL" + (" ;\nINSERT DATA {\n" + "\n".join(blocks) + "\n}" if blocks else "")


def canonical_quads(quads: list[ox.Quad]) -> frozenset[str]:
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return frozenset(str(q) for q in dataset)


def dataset_of(endpoint: Endpoint) -> frozenset[str] | None:
    """Every quad the endpoint's store holds (default graph and named graphs), canonical."""
    reply = endpoint.ask(DUMP, "application/sparql-results+json")
    if reply.status != 200:
        return None
    quads = []
    for row in ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.JSON):
        graph = row["g"] if row["g"] is not None else ox.DefaultGraph()
        quads.append(ox.Quad(row["s"], row["p"], row["o"], graph))
    return canonical_quads(quads)


def query_case_http(case: Case) -> HttpCase:
    """A query test with its data in the default graph, sent with no dataset parameters."""
    dataset = Dataset(tuple(case.data), tuple((official(g), g) for g in case.graphs))

    def check(endpoint: Endpoint) -> bool:
        reply = endpoint.ask(case.text(), accept_for(case))
        if case.kind.startswith("syntax"):
            return rejected_as_syntax(reply) == (case.kind == "syntax-")
        return answers(case, reply)

    return HttpCase(case.group, case.name, dataset, check)


def _values(store: ox.Store, node: object, prop: str) -> list[object]:
    return [q.object for q in store.quads_for_pattern(node, ox.NamedNode(prop), None)]


def _graph_data(store: ox.Store, node: object) -> tuple[tuple[str, Path], ...]:
    named = []
    for item in _values(store, node, UT + "graphData"):
        graph = _values(store, item, UT + "graph")[0]
        label = _values(store, item, RDFS_LABEL)[0]
        named.append((label.value, local(graph.value)))
    return tuple(named)


def _entries(store: ox.Store) -> list[object]:
    rows = store.query(
        f"SELECT ?test WHERE {{ ?m <{MF}entries>/<{RDF}rest>*/<{RDF}first> ?test }}",
    )
    return [row["test"] for row in rows]


def _manifest(group: str) -> ox.Store:
    manifest = SUITE / group / "manifest.ttl"
    store = ox.Store()
    store.load(path=str(manifest), format=ox.RdfFormat.TURTLE, base_iri=official(manifest))
    return store


def update_cases(group: str) -> list[HttpCase]:
    """The update evaluation and update syntax tests of a group."""
    store = _manifest(group)
    cases = []
    for test in _entries(store):
        kind = _values(store, test, RDF + "type")[0].value.removeprefix(MF)
        name = _values(store, test, MF + "name")[0].value
        action = _values(store, test, MF + "action")[0]
        if kind in ("PositiveUpdateSyntaxTest11", "NegativeUpdateSyntaxTest11"):
            request = local(action.value)
            positive = kind.startswith("Positive")

            def syntax(endpoint: Endpoint, request: Path = request, positive: bool = positive) -> bool:
                text = f"BASE <{official(request)}>\n" + request.read_text(encoding="utf-8")
                reply = endpoint.change(text)
                return rejected_as_syntax(reply) != positive

            cases.append(HttpCase(group, name, Dataset(), syntax))
            continue
        if kind != "UpdateEvaluationTest":
            continue
        request = local(_values(store, action, UT + "request")[0].value)
        before = Dataset(
            tuple(local(p.value) for p in _values(store, action, UT + "data")), _graph_data(store, action)
        )
        result = _values(store, test, MF + "result")[0]
        after = Dataset(tuple(local(p.value) for p in _values(store, result, UT + "data")), _graph_data(store, result))
        success = all(r.value == UT + "success" for r in _values(store, result, UT + "result"))

        def evaluate(
            endpoint: Endpoint, request: Path = request, after: Dataset = after, success: bool = success
        ) -> bool:
            text = f"BASE <{official(request)}>\n" + request.read_text(encoding="utf-8")
            reply = endpoint.change(text)
            if (200 <= reply.status < 300) != success:
                return False
            return dataset_of(endpoint) == canonical_quads(quads_of(after))

        cases.append(HttpCase(group, name, before, evaluate))
    return cases


def protocol_cases() -> list[HttpCase]:
    """The SPARQL 1.1 Protocol tests: each a sequence of requests with the status class and result
    kind expected of each response."""
    store = _manifest("protocol")
    cases = []
    for test in _entries(store):
        name = _values(store, test, MF + "name")[0].value
        action = _values(store, test, MF + "action")[0]
        requests_list = _values(store, action, HT + "requests")[0]
        requests = []
        while requests_list != ox.NamedNode(RDF + "nil"):
            requests.append(_values(store, requests_list, RDF + "first")[0])
            requests_list = _values(store, requests_list, RDF + "rest")[0]
        steps = []
        for request in requests:
            path = _values(store, request, HT + "absolutePath")[0].value
            method = _values(store, request, HT + "methodName")[0].value
            headers = {}
            for header_list in _values(store, request, HT + "headers"):
                while header_list != ox.NamedNode(RDF + "nil"):
                    header = _values(store, header_list, RDF + "first")[0]
                    headers[_values(store, header, HT + "fieldName")[0].value] = _values(
                        store, header, HT + "fieldValue"
                    )[0].value
                    header_list = _values(store, header_list, RDF + "rest")[0]
            body = None
            for content in _values(store, request, HT + "body"):
                encoding = (_values(store, content, CNT + "characterEncoding") or [ox.Literal("UTF-8")])[0].value
                body = _values(store, content, CNT + "chars")[0].value.encode(encoding)
            response = _values(store, request, HT + "resp")[0]
            statuses = {int(s.value.removeprefix(HTS)[0]) for s in _values(store, response, MF + "expectedStatus")}
            boolean = _values(store, response, MF + "expectedBoolean")
            kind = _values(store, response, MF + "expectedFormat")
            steps.append(
                (path, method, headers, body, statuses, boolean[0].value == "true" if boolean else None,
                 kind[0].value if kind else None)
            )

        def check(endpoint: Endpoint, steps: list = steps) -> bool:
            for path, method, headers, body, statuses, boolean, kind in steps:
                if not protocol_step(endpoint, path, method, headers, body, statuses, boolean, kind):
                    return False
            return True

        cases.append(HttpCase("protocol", name, Dataset(named=_graph_data(store, test)), check))
    return cases


def protocol_step(
    endpoint: Endpoint,
    path: str,
    method: str,
    headers: dict[str, str],
    body: bytes | None,
    statuses: set[int],
    boolean: bool | None,
    kind: str | None,
) -> bool:
    """One request of a protocol test: sent to the query or update address (the manifest's /sparql/ is a
    placeholder), its status class and result kind checked."""
    query_string = path.split("?", 1)[1] if "?" in path else ""
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    is_update = "sparql-update" in content_type or "update=" in query_string or (body or b"").startswith(b"update=")
    url = (endpoint.update if is_update else endpoint.query) + ("?" + query_string if query_string else "")
    reply = http(url, method=method, data=body, headers={**endpoint.headers, **headers})
    if reply.status // 100 not in statuses:
        return False
    media = reply.headers.get("content-type", "").split(";")[0].strip()
    if kind == "boolean" or boolean is not None:
        try:
            result = ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.from_media_type(media))
        except (SyntaxError, ValueError):
            return False
        if not isinstance(result, ox.QueryBoolean) or (boolean is not None and bool(result) != boolean):
            return False
    elif kind == "tabular":
        try:
            result = ox.parse_query_results(reply.body, format=ox.QueryResultsFormat.from_media_type(media))
        except (SyntaxError, ValueError):
            return False
        if isinstance(result, ox.QueryBoolean):
            return False
        list(result)
    elif kind == "RDF":
        try:
            list(ox.parse(reply.body, format=ox.RdfFormat.from_media_type(media)))
        except (SyntaxError, ValueError):
            return False
    return True


def all_http_cases() -> list[HttpCase]:
    cases = [query_case_http(case) for case in all_cases()]
    for group in UPDATE_GROUPS:
        cases.extend(update_cases(group))
    cases.extend(protocol_cases())
    return cases


def run_all(endpoint: Endpoint, cases: list[HttpCase]) -> dict[int, bool]:
    """Each case after putting its dataset in the store (skipped when the store already holds it)."""
    outcome: dict[int, bool] = {}
    loaded: Dataset | None = None
    changes = False
    for index, case in enumerate(cases):
        if case.dataset != loaded or changes:
            reply = endpoint.change(reset_update(case.dataset))
            assert reply.status < 300, f"{endpoint.name} could not load the data of {case.name}: {reply.text}"
            loaded = case.dataset
        changes = case.group in UPDATE_GROUPS or case.group == "protocol"
        outcome[index] = bool(case.check(endpoint))
    return outcome


@contextmanager
def oxigraph_server() -> Iterator[Endpoint]:
    """`oxigraph serve` (in memory) on a free loopback port, stopped on exit."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [OXIGRAPH, "serve", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if http(base + "/query?query=ASK%7B%7D", timeout=5).status == 200:
                    break
            except OSError:  # not listening yet
                pass
            assert time.monotonic() < deadline, "oxigraph serve did not start"
            time.sleep(0.1)
        yield Endpoint("oxigraph serve", base + "/query", base + "/update")
    finally:
        process.terminate()
        process.wait(timeout=10)


OXIGRAPH = shutil.which("oxigraph", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))


@pytest.mark.skipif(OXIGRAPH is None, reason="the `oxigraph` server (pip install oxigraph) is not installed")
def test_with_the_standard_default_graph_the_endpoint_passes_every_w3c_test_oxigraph_server_passes(
    tmp_path, capsys
):
    cases = all_http_cases()
    with oxigraph_server() as reference:
        raw = run_all(reference, cases)
    ox.Store(str(tmp_path / "store")).flush()
    allow = [arg for iri in SUITE_LOADS for arg in ("--service-allow", iri)]
    options = ("--default-graph", "standard", "--update-token", TOKEN, "--timeout", "20", *allow)
    with running_server(tmp_path / "store", *options) as server:
        kg = Endpoint(
            "kg serve", server.sparql, server.url + "update", {"Authorization": f"Bearer {TOKEN}"}
        )
        endpoint = run_all(kg, cases)

    groups = list(dict.fromkeys(case.group for case in cases))
    lines = [
        "W3C SPARQL 1.1 tests, data in the default graph: oxigraph serve and kg serve --default-graph standard",
        f"{'group':<20}{'tests':>6}{'oxigraph':>10}{'kg serve':>10}",
    ]
    for group in groups:
        members = [i for i, c in enumerate(cases) if c.group == group]
        lines.append(
            f"{group:<20}{len(members):>6}{sum(raw[i] for i in members):>10}{sum(endpoint[i] for i in members):>10}"
        )
    lines.append(f"{'total':<20}{len(cases):>6}{sum(raw.values()):>10}{sum(endpoint.values()):>10}")
    only_kg = [f"{c.group}/{c.name}" for i, c in enumerate(cases) if endpoint[i] and not raw[i]]
    lines.append("passed by kg serve only: " + ("; ".join(only_kg) or "none"))
    report = "\n".join(lines)
    (tmp_path / "w3c-http-report.txt").write_text(report + "\n", encoding="utf-8")
    with capsys.disabled():
        print("\n" + report)

    regressions = [f"{c.group}/{c.name}" for i, c in enumerate(cases) if raw[i] and not endpoint[i]]
    assert not regressions, f"kg serve fails tests oxigraph serve passes: {regressions}\n{report}"
    assert sum(raw.values()) > 0.9 * len(cases), report
