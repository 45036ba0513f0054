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
import re
from collections import Counter
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
    suffix = case.result.suffix.lstrip(".") if case.result else ""
    if case.kind == "csv":
        accept = "text/csv"
    elif suffix in RESULT_FORMATS:
        accept = RESULT_FORMATS[suffix][1]
    else:  # graphs and rs: result sets: N-Triples for graphs, JSON for tables
        accept = "application/n-triples, application/sparql-results+json;q=0.9"
    reply = http(server.sparql, method="POST", data=params, headers={"Accept": accept}, timeout=60)
    if case.kind.startswith("syntax"):
        rejected = reply.status == 400 and "syntax error" in reply.text
        return rejected == (case.kind == "syntax-")
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
