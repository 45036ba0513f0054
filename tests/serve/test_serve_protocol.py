"""`kg serve` speaks the SPARQL 1.1 Protocol: real clients, every format parsed, errors that say why.

One server per module on a free loopback port over a copy of the seed store, started with an update
token and one allowed federated endpoint (a fake SPARQL server in this process); a second, tight
server shows the limits (timeout, rows, request size) and the read-only default. Every test that takes
them runs against both ways of serving: one process whose threads share one copy of the store (the
default, `--threads-shared`), and gunicorn in front of worker processes (`--worker-processes`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import socket
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from serving import copy_store, http, query, running_server
from SPARQLWrapper import CSV, JSON, POST, TURTLE, XML, SPARQLWrapper

from kg.namespaces import PREFIXES, Iris
from kg.serve import thread_count
from kg.settings import Settings

TOKEN = "s3cret-token"
IRIS = Iris()
CARROLL = IRIS.entity("Person", "Chad G. Carroll")
PEOPLE = "SELECT ?p ?name WHERE { ?p a kg:Person ; rdfs:label ?name } ORDER BY ?name"
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SD = "http://www.w3.org/ns/sparql-service-description#"


class FakeEndpoint(BaseHTTPRequestHandler):
    """Another SPARQL endpoint, on loopback: answers every query with one row."""

    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.answer()

    def do_POST(self) -> None:
        self.answer()

    def answer(self) -> None:
        FakeEndpoint.calls.append(self.path)
        body = json.dumps(
            {
                "head": {"vars": ["remote"]},
                "results": {"bindings": [{"remote": {"type": "literal", "value": "from afar"}}]},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def remote():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    server.shutdown()
    server.server_close()


MODES = {"workers": ("--worker-processes",), "threads-shared": ("--threads-shared",)}


@pytest.fixture(scope="module", params=list(MODES))
def mode(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def server(built_seeds, tmp_path_factory, remote, mode):
    store = copy_store(built_seeds, tmp_path_factory.mktemp("protocol") / "kg")
    args = ("--update-token", TOKEN, "--service-allow", remote, "--timeout", "20", *MODES[mode])
    with running_server(store, *args) as running:
        yield running


@pytest.fixture(scope="module")
def store_path(server):
    return server.store


@pytest.fixture(scope="module")
def tight(built_seeds, tmp_path_factory, mode):
    store = copy_store(built_seeds, tmp_path_factory.mktemp("tight") / "kg")
    args = ("--timeout", "1.5", "--max-rows", "5", "--max-request-bytes", "4000", "--query-workers", "2")
    args += ("--memory-quads", "0", *MODES[mode])  # answers from disk only
    with running_server(store, *args) as running:
        yield running


def rows(reply) -> list[dict]:
    assert reply.status == 200, reply.text
    return json.loads(reply.body)["results"]["bindings"]


# -- the protocol --------------------------------------------------------------------------------------


def test_server_prints_its_url_and_answers_on_loopback(server):
    assert server.url.startswith("http://127.0.0.1:")
    health = http(server.url + "health")
    assert health.status == 200 and json.loads(health.body)["status"] == "ok"


def test_query_by_get_by_form_post_and_by_direct_post_give_the_same_answer(server):
    by_get = http(server.sparql, params={"query": PEOPLE}, headers={"Accept": "application/sparql-results+json"})
    by_form = query(server, PEOPLE)
    by_body = http(
        server.sparql,
        method="POST",
        data=PEOPLE.encode(),
        headers={
            "Content-Type": "application/sparql-query; charset=utf-8",
            "Accept": "application/sparql-results+json",
        },
    )
    names = [row["name"]["value"] for row in rows(by_get)]
    assert "Chad G. Carroll" in names and names == sorted(names)
    assert rows(by_form) == rows(by_body) == rows(by_get)
    assert by_get.headers["content-type"] == "application/sparql-results+json"


def test_the_default_graph_is_the_union_of_all_graphs_unless_the_request_names_a_dataset(server, store_path):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    union = int(rows(query(server, count))[0]["n"]["value"])
    article = rows(query(server, "SELECT ?g WHERE { GRAPH ?g { ?a a kg:Article } } LIMIT 1"))[0]["g"]["value"]
    one = int(rows(query(server, count, **{"default-graph-uri": article}))[0]["n"]["value"])
    corpus = int(rows(query(server, count, **{"default-graph-uri": IRIS.corpus_graph}))[0]["n"]["value"])
    assert 0 < one < union and 0 < corpus < union
    named = rows(query(server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": article}))
    assert [r["g"]["value"] for r in named] == [article]
    from_clause = rows(query(server, f"SELECT (COUNT(*) AS ?n) FROM <{article}> WHERE {{ ?s ?p ?o }}"))
    assert int(from_clause[0]["n"]["value"]) == one, "FROM in the query defines the dataset"


def test_every_results_format_parses_with_a_real_parser(server):
    text = "SELECT ?p ?name WHERE { ?p a kg:Person ; rdfs:label ?name } ORDER BY ?name"
    expected = [row["name"]["value"] for row in rows(query(server, text))]
    xml = query(server, text, accept="application/sparql-results+xml")
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert [
        b.find("r:literal", ns).text for b in ET.fromstring(xml.body).iterfind(".//r:binding[@name='name']", ns)
    ] == expected
    table = list(csv.DictReader(io.StringIO(query(server, text, accept="text/csv").text)))
    assert [row["name"] for row in table] == expected and table[0]["p"].startswith("https://")
    tsv = query(server, text, accept="text/tab-separated-values")
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    parsed = list(ox.parse_query_results(tsv.body, format=ox.QueryResultsFormat.TSV))
    assert [s["name"].value for s in parsed] == expected
    for media, fmt in (
        ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
        ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    ):
        answer = query(server, "ASK { ?p a kg:Person }", accept=media)
        assert bool(ox.parse_query_results(answer.body, format=fmt)) is True


def test_every_graph_format_parses_with_rdflib_to_the_same_graph(server):
    construct = f"CONSTRUCT {{ <{CARROLL}> ?p ?o }} WHERE {{ <{CARROLL}> ?p ?o }}"
    graphs = {}
    for media, rdflib_format in (
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/n-quads", "nquads"),
        ("application/rdf+xml", "xml"),
        ("application/ld+json", "json-ld"),
        ("application/trig", "trig"),
        ("text/n3", "n3"),
    ):
        answer = query(server, construct, accept=media)
        assert answer.status == 200 and answer.headers["content-type"].startswith(media), (media, answer.text)
        graph = Graph()
        if rdflib_format in ("nquads", "trig"):
            from rdflib import Dataset

            dataset = Dataset()
            dataset.parse(data=answer.body, format=rdflib_format)
            for s, p, o, _ in dataset.quads():
                graph.add((s, p, o))
        else:
            graph.parse(data=answer.body, format=rdflib_format)
        graphs[media] = graph
    turtle = graphs["text/turtle"]
    assert (URIRef(CARROLL), URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("Chad G. Carroll")) in turtle
    assert len(turtle) > 10
    for media, graph in graphs.items():
        assert isomorphic(graph, turtle), media


def test_content_negotiation_follows_q_values_wildcards_and_the_format_parameter(server):
    assert query(server, PEOPLE, accept="text/csv;q=0.5, application/sparql-results+xml").headers["content-type"] == (
        "application/sparql-results+xml"
    )
    assert query(server, PEOPLE, accept="*/*").headers["content-type"] == "application/sparql-results+json"
    assert query(server, PEOPLE, accept="text/*").headers["content-type"].startswith("text/csv")
    by_param = http(server.sparql, params={"query": PEOPLE, "format": "tsv"}, headers={"Accept": "text/html"})
    assert by_param.headers["content-type"].startswith("text/tab-separated-values")
    refused = query(server, PEOPLE, accept="image/png")
    assert refused.status == 406 and "Accept" in refused.text
    graph_as_table = query(server, "CONSTRUCT WHERE { ?s a kg:Person } LIMIT 1", accept="text/csv")
    assert graph_as_table.status == 406
    unknown = http(server.sparql, params={"query": PEOPLE, "format": "yaml"})
    assert unknown.status == 400 and "unknown format" in unknown.text


def test_large_results_are_streamed_in_chunks(server):
    answer = query(server, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert answer.status == 200
    assert answer.headers.get("transfer-encoding") == "chunked" and "content-length" not in answer.headers
    assert len(json.loads(answer.body)["results"]["bindings"]) > 2000


def test_a_client_that_goes_away_mid_answer_leaves_the_server_working(server):
    host, port = server.address
    body = "query=" + "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"
    for _ in range(3):
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(
                f"POST /sparql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
            )
            assert sock.recv(1024).startswith(b"HTTP/1.1 200")
    assert len(rows(query(server, PEOPLE))) >= 5


def test_workers_answer_from_a_copy_in_memory_once_it_is_ready_and_it_answers_the_same(server, tight):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and query(server, PEOPLE).headers["x-newskg-store"] != "memory":
        time.sleep(0.2)
    from_memory = query(server, PEOPLE)
    from_disk = query(tight, "SELECT ?p ?name WHERE { ?p a kg:Person ; rdfs:label ?name } ORDER BY ?name LIMIT 5")
    assert from_memory.headers["x-newskg-store"] == "memory" and from_disk.headers["x-newskg-store"] == "disk"
    assert rows(from_memory)[:5] == rows(from_disk)


# -- keep-alive connections ------------------------------------------------------------------------------


def connect(server) -> HTTPConnection:
    return HTTPConnection(*server.address, timeout=30)


def ask(
    connection: HTTPConnection,
    method: str,
    target: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    connection.request(
        method, target, body=body, headers={"Accept": "application/sparql-results+json", **(headers or {})}
    )
    response = connection.getresponse()
    return response.status, response.read()


def test_one_keep_alive_connection_carries_request_after_request(server):
    connection = connect(server)
    people = "/sparql?query=" + urllib.parse.quote(PEOPLE)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?p a kg:Person }"
    status, body = ask(connection, "GET", people)
    assert status == 200
    socket_used = connection.sock
    expected = json.loads(body)["results"]["bindings"]
    for _ in range(10):
        assert ask(connection, "GET", people) == (200, body)
        status, body_of_count = ask(
            connection, "POST", "/sparql", count.encode(), {"Content-Type": "application/sparql-query"}
        )
        assert status == 200
        assert int(json.loads(body_of_count)["results"]["bindings"][0]["n"]["value"]) == len(expected)
        # a refused request with a body: the next one on the connection is still understood
        status, refusal = ask(connection, "POST", "/sparql", b"<a> <b> <c> .", {"Content-Type": "text/turtle"})
        assert status == 415 and b"cannot read a POST body of text/turtle" in refusal
    assert connection.sock is socket_used  # no request needed a new connection
    connection.close()


def test_busy_connections_beyond_the_request_threads_are_not_kept_waiting(server):
    """More kept-alive connections than request threads: each request is served as it comes, none waits for another
    connection to go idle."""
    connections = [connect(server) for _ in range(thread_count(Settings()) + 4)]
    target = "/sparql?query=" + urllib.parse.quote("ASK { ?s a kg:Person }")
    took = []
    for _ in range(6):
        for connection in connections:  # round-robin: more connections want a thread than there are threads
            started = time.perf_counter()
            assert ask(connection, "GET", target) == (200, b'{"head":{},"boolean":true}')
            took.append(time.perf_counter() - started)
    for connection in connections:
        connection.close()
    took.sort()
    assert took[int(len(took) * 0.9)] < 0.05, f"90th percentile {took[int(len(took) * 0.9)] * 1000:.1f} ms"


def test_head_gives_the_headers_a_get_would_and_no_body(server):
    target = server.sparql + "?query=" + urllib.parse.quote("ASK {}")
    accept = {"Accept": "application/sparql-results+json"}
    get, head = http(target, headers=accept), http(target, method="HEAD", headers=accept)
    assert (head.status, head.body) == (200, b"")
    assert head.headers["content-type"] == get.headers["content-type"] == "application/sparql-results+json"
    assert head.headers["content-length"] == get.headers["content-length"] == str(len(get.body))
    description = http(server.sparql, method="HEAD", headers={"Accept": "text/turtle"})
    assert description.status == 200 and description.headers["content-type"].startswith("text/turtle")


# -- errors ---------------------------------------------------------------------------------------------


def test_bad_requests_get_4xx_with_a_message_never_a_500(server):
    syntax = query(server, "SELECT ?x WHERE { ?x ?y }")
    assert syntax.status == 400 and "syntax error" in syntax.text and "error at" in syntax.text
    update_as_query = query(server, "INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert update_as_query.status == 400 and "SPARQL Update" in update_as_query.text
    update_by_get = http(server.sparql, params={"update": "CLEAR ALL"})
    assert update_by_get.status == 400 and "POST" in update_by_get.text
    wrong_type = http(server.sparql, method="POST", data=b"SELECT * {}", headers={"Content-Type": "text/plain"})
    assert wrong_type.status == 415 and "application/sparql-query" in wrong_type.text
    no_type = http(server.sparql, method="POST", data=b"SELECT * {}", headers={"Content-Type": ""})
    assert no_type.status == 415
    both = http(server.sparql, method="POST", data={"query": PEOPLE, "update": "CLEAR ALL"})
    assert both.status == 400 and "both" in both.text
    nothing = http(server.sparql, method="POST", data={"other": "x"})
    assert nothing.status == 400
    twice = http(server.sparql, params={"query": [PEOPLE, PEOPLE]})
    assert twice.status == 400 and "exactly one" in twice.text
    not_utf8 = http(
        server.sparql, method="POST", data=b"SELECT \xff", headers={"Content-Type": "application/sparql-query"}
    )
    assert not_utf8.status == 400 and "UTF-8" in not_utf8.text
    empty = query(server, "   ")
    assert empty.status == 400
    unknown_function = query(server, "SELECT * WHERE { ?s ?p ?o FILTER(<urn:no-such-function>(?o)) }")
    assert unknown_function.status == 400 and "no-such-function" in unknown_function.text
    put = http(server.sparql, method="PUT", data=b"x")
    assert put.status == 405 and "GET" in put.headers["allow"]
    update_endpoint_get = http(server.url + "update")
    assert update_endpoint_get.status == 405
    not_an_iri = query(server, PEOPLE, **{"default-graph-uri": "not an iri"})
    assert not_an_iri.status == 400 and "default-graph-uri must be an absolute IRI" in not_an_iri.text
    empty_iri = query(server, PEOPLE, **{"named-graph-uri": ""})
    assert empty_iri.status == 400 and "named-graph-uri must be an absolute IRI" in empty_iri.text


def test_cors_headers_let_browser_tools_query_it(server):
    # A page on another origin: the browser sends Origin with every cross-origin request (Fetch standard)
    from_page = http(
        server.sparql,
        method="POST",
        data={"query": PEOPLE},
        headers={"Accept": "application/sparql-results+json", "Origin": "https://tool.example"},
    )
    assert from_page.status == 200
    assert from_page.headers["access-control-allow-origin"] == "*"
    assert "X-SPARQL-MaxRows" in from_page.headers["access-control-expose-headers"]
    refused = http(server.sparql, params={"query": "SELECT ("}, headers={"Origin": "https://tool.example"})
    assert refused.status == 400 and refused.headers["access-control-allow-origin"] == "*"  # errors too
    # A script sends no Origin and is spared the headers; caches are told the answer depends on both
    plain = query(server, PEOPLE)
    assert plain.status == 200 and "access-control-allow-origin" not in plain.headers
    for answer in (from_page, plain):
        assert {v.strip() for v in answer.headers["vary"].split(",")} == {"Accept", "Origin"}
    assert "Origin" in refused.headers["vary"]
    preflight = http(
        server.sparql,
        method="OPTIONS",
        headers={"Origin": "https://tool.example", "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status == 204
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "Authorization" in preflight.headers["access-control-allow-headers"]


def test_a_plain_get_returns_the_service_description_in_turtle_or_json_ld(server):
    turtle = http(server.sparql, headers={"Accept": "text/turtle"})
    graph = Graph().parse(data=turtle.body, format="turtle")
    endpoint = URIRef(server.sparql)
    assert (endpoint, URIRef(SD + "endpoint"), endpoint) in graph
    assert (endpoint, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in graph
    assert (endpoint, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Update")) in graph
    assert (endpoint, URIRef(SD + "feature"), URIRef(SD + "BasicFederatedQuery")) in graph
    comment = str(graph.value(endpoint, URIRef("http://www.w3.org/2000/01/rdf-schema#comment")))
    assert "union of all graphs" in comment
    jsonld = http(server.sparql, headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"] == "application/ld+json"
    assert isomorphic(Graph().parse(data=jsonld.body, format="json-ld"), graph)
    for parameter in ("format", "output"):
        named = http(server.sparql, params={parameter: "jsonld"})
        assert named.headers["content-type"] == "application/ld+json", parameter
    browser = http(server.sparql, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status == 303 and browser.headers["location"] == "/"


# -- real clients ---------------------------------------------------------------------------------------


def test_sparqlwrapper_reads_json_xml_csv_and_turtle(server):
    client = SPARQLWrapper(server.sparql)
    client.setQuery(PEOPLE)
    client.setReturnFormat(JSON)
    names = [b["name"]["value"] for b in client.query().convert()["results"]["bindings"]]
    assert "Chad G. Carroll" in names
    client.setReturnFormat(XML)
    document = client.query().convert()
    assert len(document.getElementsByTagName("result")) == len(names)
    client.setReturnFormat(CSV)
    assert b"Chad G. Carroll" in client.query().convert()
    client.setMethod(POST)
    client.setQuery(f"CONSTRUCT {{ <{CARROLL}> ?p ?o }} WHERE {{ <{CARROLL}> ?p ?o }}")
    client.setReturnFormat(TURTLE)
    graph = Graph().parse(data=client.query().convert(), format="turtle")
    assert (URIRef(CARROLL), URIRef("http://www.w3.org/2000/01/rdf-schema#label"), Literal("Chad G. Carroll")) in graph
    client.setQuery("ASK { ?x a <https://w3id.org/newskg/ontology#Article> }")
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True


def test_rdflib_sparqlstore_queries_it_as_a_graph(server):
    graph = Graph(store=SPARQLStore(server.sparql, returnFormat="json"))
    result = list(
        graph.query(
            "SELECT ?name WHERE { ?p a <https://w3id.org/newskg/ontology#Person> ; "
            "<http://www.w3.org/2000/01/rdf-schema#label> ?name } ORDER BY ?name"
        )
    )
    assert Literal("Chad G. Carroll") in [row[0] for row in result]
    labels = list(graph.objects(URIRef(CARROLL), URIRef("http://www.w3.org/2000/01/rdf-schema#label")))
    assert labels == [Literal("Chad G. Carroll")]
    xml_graph = Graph(store=SPARQLStore(server.sparql, returnFormat="xml"))
    assert len(list(xml_graph.query("SELECT ?s WHERE { ?s a <https://w3id.org/newskg/ontology#Article> }"))) == 5


# -- updates ---------------------------------------------------------------------------------------------


def update(server, text: str, token: str | None = TOKEN, path: str = "sparql", form: bool = True):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if form:
        return http(server.url + path, method="POST", data={"update": text}, headers=headers)
    headers["Content-Type"] = "application/sparql-update"
    return http(server.url + path, method="POST", data=text.encode(), headers=headers)


def test_updates_need_the_bearer_token(server, tight):
    insert = "INSERT DATA { GRAPH <urn:test:nope> { <urn:a> <urn:b> 'c' } }"
    missing = update(server, insert, token=None)
    assert missing.status == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    wrong = update(server, insert, token="guess")
    assert wrong.status == 401 and "invalid_token" in wrong.headers["www-authenticate"]
    read_only = update(tight, insert)
    assert read_only.status == 403 and "read-only" in read_only.text
    ask = json.loads(query(server, "ASK { GRAPH <urn:test:nope> { ?s ?p ?o } }").body)
    assert ask["boolean"] is False


def test_an_update_with_the_token_is_applied_and_read_back_at_once(server):
    done = update(
        server, "INSERT DATA { GRAPH <urn:test:notes> { <urn:test:note> rdfs:label 'checked by an analyst' } }"
    )
    assert done.status == 204, done.text
    seen = rows(query(server, "SELECT ?l WHERE { <urn:test:note> rdfs:label ?l }"))
    assert [r["l"]["value"] for r in seen] == ["checked by an analyst"]
    direct = update(
        server,
        "DELETE DATA { GRAPH <urn:test:notes> { <urn:test:note> rdfs:label 'checked by an analyst' } }",
        path="update",
        form=False,
    )
    assert direct.status == 204, direct.text
    assert rows(query(server, "SELECT ?l WHERE { <urn:test:note> rdfs:label ?l }")) == []


def test_using_graph_uri_and_using_named_graph_uri_set_the_dataset_an_update_matches_against(server):
    insert = (
        "INSERT DATA { GRAPH <urn:test:using:a> { <urn:test:doc:a> a <urn:test:Doc> } "
        "GRAPH <urn:test:using:b> { <urn:test:doc:b> a <urn:test:Doc> } }"
    )
    assert update(server, insert).status == 204
    copy = "INSERT { GRAPH <urn:test:using:out> { ?d a <urn:test:Copied> } } WHERE { ?d a <urn:test:Doc> }"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    only_a = http(
        server.url + "update", method="POST", data={"update": copy, "using-graph-uri": "urn:test:using:a"}, headers=headers
    )
    assert only_a.status == 204, only_a.text
    copied = "SELECT ?d WHERE { GRAPH <urn:test:using:out> { ?d a <urn:test:Copied> } } ORDER BY ?d"
    assert [r["d"]["value"] for r in rows(query(server, copied))] == ["urn:test:doc:a"]
    named = "INSERT { GRAPH <urn:test:using:out> { ?d a <urn:test:Named> } } WHERE { GRAPH ?g { ?d a <urn:test:Doc> } }"
    direct = http(
        server.url + "update?using-named-graph-uri=urn%3Atest%3Ausing%3Ab",
        method="POST",
        data=named.encode(),
        headers={**headers, "Content-Type": "application/sparql-update"},
    )
    assert direct.status == 204, direct.text
    found = "SELECT ?d WHERE { GRAPH <urn:test:using:out> { ?d a <urn:test:Named> } }"
    assert [r["d"]["value"] for r in rows(query(server, found))] == ["urn:test:doc:b"]
    with_clause = "WITH <urn:test:using:a> DELETE { ?d a <urn:test:Doc> } WHERE { ?d a <urn:test:Doc> }"
    conflict = http(
        server.sparql, method="POST", data={"update": with_clause, "using-graph-uri": "urn:test:using:b"}, headers=headers
    )
    assert conflict.status == 400 and "WITH" in conflict.text
    not_an_iri = http(
        server.sparql, method="POST", data={"update": copy, "using-graph-uri": "not an iri"}, headers=headers
    )
    assert not_an_iri.status == 400 and "absolute IRIs" in not_an_iri.text
    assert rows(query(server, "SELECT ?d WHERE { GRAPH <urn:test:using:a> { ?d a <urn:test:Doc> } }"))
    assert update(server, "DROP GRAPH <urn:test:using:a> ; DROP GRAPH <urn:test:using:b> ; DROP GRAPH <urn:test:using:out>").status == 204


def test_with_the_standard_default_graph_a_query_sees_the_store_default_graph_and_the_description_says_so(
    built_seeds, tmp_path
):
    store = copy_store(built_seeds, tmp_path / "kg")
    with running_server(store, "--default-graph", "standard", "--update-token", TOKEN) as standard:
        assert rows(query(standard, PEOPLE)) == []  # the facts are in named graphs
        assert rows(query(standard, PEOPLE.replace("WHERE {", "WHERE { GRAPH ?g {", 1).replace("}", "} }", 1)))
        assert update(standard, "INSERT DATA { <urn:test:s> <urn:test:p> 'in the default graph' }").status == 204
        plain = rows(query(standard, "SELECT ?o WHERE { <urn:test:s> <urn:test:p> ?o }"))
        assert [r["o"]["value"] for r in plain] == ["in the default graph"]
        turtle = http(standard.sparql, headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=turtle.body, format="turtle")
        endpoint = URIRef(standard.sparql)
        assert (endpoint, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) not in graph
        comment = str(graph.value(endpoint, URIRef("http://www.w3.org/2000/01/rdf-schema#comment")))
        assert "store's own default graph" in comment
        page = http(standard.url)
        assert page.status == 200  # the pages keep their union view


def test_an_update_is_atomic_all_or_nothing(server):
    article_graph = rows(query(server, "SELECT ?g WHERE { GRAPH ?g { ?a a kg:Article } } LIMIT 1"))[0]["g"]["value"]
    failing = update(
        server,
        "INSERT DATA { GRAPH <urn:test:half> { <urn:test:x> <urn:test:y> 1 } } ;\n"
        f"CREATE GRAPH <{article_graph}>",  # fails: the graph exists
    )
    assert failing.status == 400 and "nothing was changed" in failing.text
    assert json.loads(query(server, "ASK { GRAPH <urn:test:half> { ?s ?p ?o } }").body)["boolean"] is False
    syntax = update(server, "INSERT DATA { <urn:a> <urn:b> }")
    assert syntax.status == 400 and "syntax error" in syntax.text
    query_as_update = update(server, PEOPLE)
    assert query_as_update.status == 400 and "send it as 'query'" in query_as_update.text


def test_an_update_meets_a_clear_503_while_another_process_writes_the_store(server, store_path):
    writer = ox.Store(str(store_path))  # what `kg build` does: open the store read-write, holding its lock
    try:  # (the server's last update closed the store before it answered, so the lock is free)
        blocked = update(server, "INSERT DATA { <urn:test:blocked> <urn:test:p> 1 }")
    finally:
        del writer
    assert blocked.status == 503 and "another process" in blocked.text and blocked.headers["retry-after"]
    assert update(server, "INSERT DATA { <urn:test:after> <urn:test:p> 1 }").status == 204


def test_sparqlwrapper_sends_an_update_with_the_token(server):
    client = SPARQLWrapper(server.sparql)
    client.setMethod(POST)
    client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
    client.setQuery("INSERT DATA { GRAPH <urn:test:wrapper> { <urn:test:w> <urn:test:p> 'via SPARQLWrapper' } }")
    assert client.query().response.status == 204
    assert (
        rows(query(server, "SELECT ?o WHERE { <urn:test:w> <urn:test:p> ?o }"))[0]["o"]["value"] == "via SPARQLWrapper"
    )


# -- federation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * WHERE { SERVICE <http://169.254.169.254/latest/meta-data/> { ?s ?p ?o } }",
        "PREFIX evil: <http://127.0.0.1:1/> SELECT * WHERE { service SILENT evil:sparql { ?s ?p ?o } }",
        "SELECT * WHERE { BIND(<http://127.0.0.1:1/sparql> AS ?e) SERVICE ?e { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o # a comment\n SERVICE\n<http://127.0.0.1:1/sparql>{ ?a ?b ?c } }",
        "ASK { { SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } } } }",
        # an escaped '#' or quote in a prefixed name is part of the name, not a comment or a string
        r"PREFIX ex: <http://e/> SELECT * WHERE { BIND(ex:a\# AS ?k) SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
        r"PREFIX ex: <http://e/> SELECT * WHERE { BIND(ex:a\'b AS ?k) SERVICE <http://127.0.0.1:1/x> {} FILTER(?k != 'q') }",
    ],
)
def test_service_calls_to_endpoints_not_allowed_are_refused(server, text):
    calls = len(FakeEndpoint.calls)
    refused = query(server, text)
    assert refused.status == 403 and "SERVICE" in refused.text
    assert len(FakeEndpoint.calls) == calls


def test_the_word_service_in_a_string_or_a_name_is_not_a_service_call(server):
    text = 'SELECT ?x WHERE { BIND("SERVICE <http://127.0.0.1:1/>" AS ?x) ?service ?p ?o } LIMIT 1'
    assert query(server, text).status == 200
    assert query(server, "PREFIX service: <urn:s:> SELECT * WHERE { ?s service:x ?o }").status == 200


def test_an_allowed_endpoint_is_called_and_refused_by_default_elsewhere(server, tight, remote):
    text = f"SELECT ?remote WHERE {{ SERVICE <{remote}> {{ ?s ?p ?remote }} }}"
    assert [r["remote"]["value"] for r in rows(query(server, text))] == ["from afar"]
    assert FakeEndpoint.calls, "the allowed endpoint was really called"
    calls = len(FakeEndpoint.calls)
    off = query(tight, text)
    assert off.status == 403 and "federated queries are off" in off.text
    assert len(FakeEndpoint.calls) == calls
    load = update(server, "LOAD <http://127.0.0.1:1/data.ttl>")
    assert load.status == 403 and "LOAD" in load.text
    hidden = rf"PREFIX ex: <http://e/> SELECT * WHERE {{ BIND(ex:a\# AS ?k) SERVICE <{remote}> {{ ?s ?p ?remote }} }}"
    assert query(tight, hidden).status == 403
    hidden_load = update(
        server, r"PREFIX ex: <http://e/> INSERT DATA { ex:b\'c ex:p ex:o } ; LOAD SILENT <http://127.0.0.1:1/x.ttl> ; "
        r"INSERT DATA { ex:x ex:p 'q' }"
    )
    assert hidden_load.status == 403 and "LOAD" in hidden_load.text
    assert len(FakeEndpoint.calls) == calls


# -- limits ----------------------------------------------------------------------------------------------


def test_a_query_past_the_timeout_is_stopped_and_its_worker_replaced(tight):
    before = tight.workers()
    started = time.monotonic()
    slow = query(tight, EXPENSIVE)
    took = time.monotonic() - started
    assert slow.status == 503 and "timeout of 1.5 s" in slow.text and slow.headers["retry-after"]
    assert 1.4 <= took < 5
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        after = tight.workers()
        if len(after) == len(before) and after != before:
            break
        time.sleep(0.2)
    assert len(after) == len(before) and len(before - after) == 1, "the busy worker was killed and replaced"
    assert rows(query(tight, "SELECT ?p WHERE { ?p a kg:Person } LIMIT 2"))


@pytest.mark.parametrize("mode_args", list(MODES.values()), ids=list(MODES))
def test_stopping_the_server_stops_its_workers_even_a_busy_one(built_seeds, tmp_path, mode_args):
    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    def ask_forever(server) -> None:
        with contextlib.suppress(OSError):  # the answer never comes: the server goes away
            query(server, EXPENSIVE)

    with running_server(copy_store(built_seeds, tmp_path / "kg"), "--timeout", "120", *mode_args) as running:
        workers = running.workers()
        assert len(workers) >= (1 if running.threads_shared else 2)
        threading.Thread(target=ask_forever, args=(running,), daemon=True).start()
        time.sleep(1.5)  # one worker is deep in the expensive query
    assert running.process.returncode == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if alive(pid)], "no worker outlives the server"


def test_results_stop_at_the_row_limit_and_say_so(tight):
    many = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    capped = query(tight, many)
    assert len(rows(capped)) == 5 and capped.headers["x-sparql-maxrows"] == "5"
    for media in ("text/csv", "text/tab-separated-values", "application/sparql-results+xml"):
        answer = query(tight, many, accept=media)
        assert answer.headers["x-sparql-maxrows"] == "5"
        if media == "text/csv":
            assert len(list(csv.DictReader(io.StringIO(answer.text)))) == 5
    few = query(tight, "SELECT ?p WHERE { ?p a kg:Event }")
    assert "x-sparql-maxrows" not in few.headers
    graph = query(tight, "CONSTRUCT WHERE { ?s ?p ?o }", accept="application/n-triples")
    assert len(graph.text.strip().splitlines()) == 5 and graph.headers["x-sparql-maxrows"] == "5"


@pytest.mark.parametrize("triples_asked", [4, 5, 6])
def test_a_graph_at_the_row_limit_is_whole_and_one_past_it_is_cut(tight, triples_asked):
    text = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {triples_asked} }}"
    for accept in ("application/n-triples", "text/turtle"):
        graph = query(tight, text, accept=accept)
        assert graph.status == 200
        assert len(Graph().parse(data=graph.body, format="nt" if "triples" in accept else "turtle")) == min(
            triples_asked, 5
        )
        assert ("x-sparql-maxrows" in graph.headers) == (triples_asked > 5), (accept, graph.headers)


FORMATS = {
    "application/sparql-results+json": lambda body: len(json.loads(body)["results"]["bindings"]),
    "application/sparql-results+xml": lambda body: body.count(b"<result>"),
    "text/csv": lambda body: len(list(csv.DictReader(io.StringIO(body.decode())))),
    "text/tab-separated-values": lambda body: len(body.decode().splitlines()) - 1,
}


@pytest.mark.parametrize("rows_asked", [4, 5, 6])
def test_an_answer_at_the_row_limit_is_whole_and_one_past_it_is_cut_whatever_its_values_hold(tight, rows_asked):
    # values that look like the row boundaries of each format: "},{" (JSON), newlines (CSV), "<result>" (XML)
    values = " ".join(f'("row {i} }},{{ <result> \\n line {i}")' for i in range(rows_asked))
    text = f"SELECT ?v ?w WHERE {{ VALUES (?v) {{ {values} }} BIND(?v AS ?w) }}"
    for media, count in FORMATS.items():
        answer = query(tight, text, accept=media)
        assert answer.status == 200, answer.text
        assert count(answer.body) == min(rows_asked, 5), media
        assert ("x-sparql-maxrows" in answer.headers) == (rows_asked > 5), media
    whole = [r["v"]["value"] for r in rows(query(tight, text))]
    assert whole == [f"row {i} }},{{ <result> \n line {i}" for i in range(min(rows_asked, 5))]


def test_requests_over_the_size_limit_are_refused(tight):
    big = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 5000
    assert query(tight, big).status == 413
    long_get = http(tight.sparql, params={"query": big})
    assert long_get.status in (413, 414)
    assert query(tight, "SELECT * WHERE { ?s ?p ?o } LIMIT 1").status == 200


# -- the plain query by GET, answered without the WSGI environ (--threads-shared) ------------------------------


@pytest.mark.parametrize(
    ("text", "accept", "status"),
    [
        (PEOPLE, "application/sparql-results+json", 200),
        (PEOPLE, "text/csv", 200),
        ("ASK { ?p a kg:Person }", "application/sparql-results+xml", 200),
        (f"CONSTRUCT {{ <{CARROLL}> ?p ?o }} WHERE {{ <{CARROLL}> ?p ?o }}", "text/turtle", 200),
        (f"DESCRIBE <{CARROLL}>", "application/n-triples", 200),
        ("SELEC ?x WHERE { ?x ?p ?o }", "application/sparql-results+json", 400),  # a syntax error
        ("   ", "application/sparql-results+json", 400),  # empty
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "application/sparql-results+json", 400),  # an update
        ("SELECT * WHERE { SERVICE <http://elsewhere.example/sparql> { ?s ?p ?o } }", "text/csv", 403),
        (PEOPLE, "image/png", 406),  # no format the client accepts
    ],
)
def test_a_plain_get_gets_the_same_answer_as_the_same_get_with_headers_only_the_whole_protocol_reads(
    server, text, accept, status
):
    # with nothing but Accept (and Host, Accept-Encoding) the serving threads may answer it by the short way;
    # an Authorization header (unused by queries) sends it through the WSGI application: the same answer
    target = "/sparql?query=" + urllib.parse.quote(text)
    answers = []
    for extra in ({}, {"Authorization": "Bearer unused"}):
        connection = connect(server)
        connection.request("GET", target, headers={"Accept": accept, **extra})
        response = connection.getresponse()
        headers = sorted(h for h in response.getheaders() if h[0] != "Date")  # (gunicorn's: the second may turn)
        answers.append((response.status, headers, response.read()))
        connection.close()
    assert answers[0][0] == status and answers[0] == answers[1]


def test_a_plain_get_answer_keeps_the_connection_and_closes_it_when_asked(server):
    connection = connect(server)
    for _ in range(3):
        status, body = ask(connection, "GET", "/sparql?query=" + urllib.parse.quote(PEOPLE))
        assert status == 200 and json.loads(body)["results"]["bindings"]
    connection.close()
    host, port = server.address
    with socket.create_connection((host, port), timeout=10) as sock:
        target = "/sparql?query=" + urllib.parse.quote("ASK { ?s ?p ?o }")
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(1 << 16):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and b"Connection: close" in answer and answer.endswith(b"true}")


def test_construct_in_turtle_is_oxigraphs_own_turtle_with_the_server_prefixes(server):
    # Turtle is evaluated and written by Oxigraph in one call and the prefixes put in afterwards
    # (kg.serve.worker.PrefixedTurtle): byte for byte what Oxigraph writes when handed the same triples in the
    # same order (the order the server's N-Triples give: its store in memory orders them its own way) and the
    # prefixes
    entities = [
        r["e"]["value"]
        for r in rows(query(server, "SELECT DISTINCT ?e WHERE { ?e gaf:denotedBy ?m } ORDER BY ?e LIMIT 12"))
    ]
    texts = [
        f"CONSTRUCT {{ <{e}> ?p ?o . ?m ?mp ?mo }} WHERE {{ {{ <{e}> ?p ?o }} UNION {{ <{e}> gaf:denotedBy ?m . ?m ?mp ?mo }} }}"
        for e in entities
    ]
    # literals that hold what the rewriting must not touch: an IRI under a prefix, commas, line breaks
    texts.append(
        'CONSTRUCT { ?p rdfs:comment "see <https://w3id.org/newskg/ontology#Person> , or \\n <x> ; ." } '
        "WHERE { ?p a kg:Person }"
    )
    texts.append("CONSTRUCT { ?p rdfs:comment ?o } WHERE { ?p a kg:Person FILTER(false) }")  # nothing
    for text in texts:
        for _ in range(100):  # both from the copy in memory, or both from disk: each store has its own order
            answer = query(server, text, accept="text/turtle")
            lines = query(server, text, accept="application/n-triples")
            if answer.headers["x-newskg-store"] == lines.headers["x-newskg-store"]:
                break
            time.sleep(0.2)
        assert answer.status == 200 and lines.status == 200, answer.text
        triples = [quad.triple for quad in ox.parse(lines.body, format=ox.RdfFormat.N_TRIPLES)]
        assert answer.body == ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES), text
    assert b"@prefix kg: <https://w3id.org/newskg/ontology#> ." in query(server, texts[0], accept="text/turtle").body
