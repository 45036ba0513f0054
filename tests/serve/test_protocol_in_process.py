"""The SPARQL 1.1 Protocol and the pages through Flask's test client, over workers running in this process.

The same requests as a client sends, answered by the same code (kg.serve.sparql, kg.serve.pages, the
worker's evaluation), without a server or worker processes: each test takes milliseconds. The real
server, its processes, timeouts and connections are tested in test_serve_protocol.py and beside it.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
import urllib.parse

import pytest
from inprocess import InProcessPool
from rdflib import Graph

from kg.namespaces import PREFIXES
from kg.serve import close_app, create_app
from kg.serve.sparql import ProtocolError, _form
from kg.serve.worker import top_limit
from kg.settings import Settings

TOKEN = "in-process-token"
COUNT_ARTICLES = "SELECT (COUNT(*) AS ?n) WHERE { ?a a <https://w3id.org/newskg/ontology#Article> }"


@pytest.fixture(scope="module")
def client(built_seeds, tmp_path_factory):
    store = tmp_path_factory.mktemp("in-process") / "kg"
    shutil.copytree(built_seeds, store)
    settings = Settings(store=store, update_token=TOKEN)
    app = create_app(settings, pool=InProcessPool(store, base=settings.base))
    yield app.test_client()
    close_app(app)


def _rows(response) -> list[dict]:
    return response.get_json()["results"]["bindings"]


def test_a_get_query_is_answered_in_json_by_default(client):
    response = client.get("/sparql", query_string={"query": COUNT_ARTICLES})
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert _rows(response)[0]["n"]["value"] == "5"


def test_a_form_post_and_a_direct_post_give_the_same_answer(client):
    form = client.post("/sparql", data={"query": COUNT_ARTICLES})
    direct = client.post("/sparql", data=COUNT_ARTICLES, content_type="application/sparql-query")
    assert form.status_code == direct.status_code == 200
    assert _rows(form) == _rows(direct)


def test_the_accept_header_chooses_csv_and_the_format_parameter_tsv(client):
    as_csv = client.get("/sparql", query_string={"query": COUNT_ARTICLES}, headers={"Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv"
    assert list(csv.reader(io.StringIO(as_csv.get_data(as_text=True)))) == [["n"], ["5"]]
    as_tsv = client.get("/sparql", query_string={"query": COUNT_ARTICLES, "format": "tsv"})
    assert as_tsv.mimetype == "text/tab-separated-values"
    assert as_tsv.get_data(as_text=True).splitlines()[0] == "?n"


def test_a_construct_is_answered_in_the_rdf_format_asked_for(client):
    query = "CONSTRUCT { ?a a ?t } WHERE { ?a a ?t } LIMIT 10"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    assert len(Graph().parse(data=response.get_data(as_text=True), format="turtle")) == 10


def test_a_syntax_error_is_a_400_that_says_what_is_wrong(client):
    response = client.get("/sparql", query_string={"query": "SELECT ?x WHERE { ?x"})
    assert response.status_code == 400
    assert "syntax" in response.get_data(as_text=True).lower()


def test_a_client_that_accepts_no_format_of_the_answer_gets_406(client):
    response = client.get("/sparql", query_string={"query": COUNT_ARTICLES}, headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_an_update_needs_the_token_and_then_later_queries_see_it(client):
    update = 'INSERT DATA { GRAPH <urn:test> { <urn:a> <urn:p> "in process" } }'
    assert client.post("/update", data={"update": update}).status_code in (401, 403)
    done = client.post("/update", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert done.status_code in (200, 204), done.get_data(as_text=True)
    seen = client.get("/sparql", query_string={"query": 'ASK { <urn:a> <urn:p> "in process" }'})
    assert seen.get_json()["boolean"] is True


def test_the_endpoint_describes_itself_when_asked_without_a_query(client):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    description = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    assert any("sparql-service-description" in str(p) for _, p, _ in description)


def test_an_entity_page_and_its_turtle_come_from_the_same_workers(client):
    rows = _rows(
        client.get(
            "/sparql",
            query_string={"query": "SELECT ?e WHERE { ?e a <https://w3id.org/newskg/ontology#Person> } LIMIT 1"},
        )
    )
    path = "/" + rows[0]["e"]["value"].split("/", 3)[3]
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    turtle = client.get(path, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    assert len(Graph().parse(data=turtle.get_data(as_text=True), format="turtle")) > 0


# -- the row cap, and answers a query's own LIMIT keeps within it -------------------------------------------

ANY_TRIPLE = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
#: How many rows an answer holds, by its media type.
RESULT_COUNTS = {
    "application/sparql-results+json": lambda body: len(json.loads(body)["results"]["bindings"]),
    "application/sparql-results+xml": lambda body: body.count(b"<result>"),
    "text/csv": lambda body: len(list(csv.DictReader(io.StringIO(body.decode())))),
    "text/tab-separated-values": lambda body: len(body.decode().splitlines()) - 1,
}


@pytest.fixture(scope="module")
def capped(built_seeds, tmp_path_factory):
    """A server whose answers stop at 5 rows."""
    store = tmp_path_factory.mktemp("capped") / "kg"
    shutil.copytree(built_seeds, store)
    settings = Settings(store=store, max_rows=5)
    app = create_app(settings, pool=InProcessPool(store, max_rows=5, base=settings.base))
    yield app.test_client()
    close_app(app)


@pytest.mark.parametrize(
    ("text", "bound"),
    [
        (ANY_TRIPLE + " LIMIT 10", 10),
        (ANY_TRIPLE + " limit 10 offset 5", 10),
        (ANY_TRIPLE + "\nOFFSET 3 LIMIT 7\n", 7),
        ("SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?o ORDER BY DESC(?n) ?o LIMIT 20", 20),
        ('SELECT * WHERE { ?s ?p ?o FILTER (?o != "}") } LIMIT 3', 3),
        (ANY_TRIPLE, None),
        ("SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } LIMIT 1 } ?s ?q ?r }", None),  # a subquery's LIMIT
        (ANY_TRIPLE + " LIMIT 1000 # } LIMIT 3", None),  # the last brace is in a comment
        ('SELECT * WHERE { ?s ?p ?o FILTER (?o != "} LIMIT 3") }', None),  # ... or in a string
        (ANY_TRIPLE + " LIMIT 3 VALUES ?s { <urn:a> }", None),
        (ANY_TRIPLE + " ORDER BY (?o < 3) LIMIT 3", None),  # an operator after the brace: not read
        (ANY_TRIPLE + " ?xLIMIT 3", None),
    ],
)
def test_a_selects_bound_is_its_top_level_limit_and_nothing_that_only_looks_like_one(text, bound):
    assert top_limit(text) == bound


@pytest.mark.parametrize("asked", [4, 5])
def test_a_select_whose_own_limit_is_within_the_row_cap_is_answered_whole(capped, asked):
    for media, count in RESULT_COUNTS.items():
        response = capped.get(
            "/sparql", query_string={"query": f"{ANY_TRIPLE} LIMIT {asked}"}, headers={"Accept": media}
        )
        assert response.status_code == 200, media
        assert count(response.get_data()) == asked, media
        assert "X-SPARQL-MaxRows" not in response.headers, media


@pytest.mark.parametrize(
    "text",
    [
        ANY_TRIPLE + " LIMIT 6",
        ANY_TRIPLE + " LIMIT 1000 # } LIMIT 3",
        "SELECT ?s ?q ?r WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 } ?s ?q ?r }",
        "SELECT * WHERE { ?s ?p ?o { SELECT ?x WHERE { ?x ?y ?z } LIMIT 1 } }",
    ],
)
def test_a_select_the_row_cap_may_cut_is_cut_and_says_so_whatever_limits_it_holds(capped, text):
    for media, count in RESULT_COUNTS.items():
        response = capped.get("/sparql", query_string={"query": text}, headers={"Accept": media})
        assert response.status_code == 200, (media, response.get_data(as_text=True))
        assert count(response.get_data()) == 5, media
        assert response.headers["X-SPARQL-MaxRows"] == "5", media


def test_an_answer_within_its_limit_is_the_same_bytes_as_one_the_row_counting_writer_makes(client):
    limited = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 50"
    for media in RESULT_COUNTS:
        direct = client.get("/sparql", query_string={"query": limited}, headers={"Accept": media})
        # the same query with a brace in a comment at its end: no bound is read, the answer goes through the writer
        counted = client.get("/sparql", query_string={"query": limited + "\n# }"}, headers={"Accept": media})
        assert direct.status_code == counted.status_code == 200, media
        assert direct.get_data() == counted.get_data(), media
        assert direct.headers["Content-Type"] == counted.headers["Content-Type"], media


@pytest.mark.parametrize(
    "text",
    [
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p",  # ties: their order must not change either
        "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY DESC(?n) ?p",
        "SELECT DISTINCT ?t WHERE { ?s a ?t } OFFSET 2",
    ],
)
def test_an_answer_without_a_limit_within_the_cap_is_the_same_bytes_as_one_the_writer_makes(client, text):
    for media in RESULT_COUNTS:
        quick = client.get("/sparql", query_string={"query": text}, headers={"Accept": media})
        # the word CONSTRUCT in a comment: the query is not given a LIMIT, its answer goes through the writer
        counted = client.get("/sparql", query_string={"query": text + "\n# CONSTRUCT"}, headers={"Accept": media})
        assert quick.status_code == counted.status_code == 200, media
        assert quick.get_data() == counted.get_data(), media


@pytest.mark.parametrize("rows", [5, 6])
def test_a_select_without_a_limit_is_whole_up_to_the_cap_and_cut_past_it(capped, rows):
    values = " ".join(str(i) for i in range(rows))
    for text in (
        f"SELECT ?v WHERE {{ VALUES ?v {{ {values} }} }}",
        f"SELECT ?v WHERE {{ }} VALUES ?v {{ {values} }}",  # a VALUES block at the end
    ):
        for media, count in RESULT_COUNTS.items():
            response = capped.get("/sparql", query_string={"query": text}, headers={"Accept": media})
            assert response.status_code == 200, (media, response.get_data(as_text=True))
            assert count(response.get_data()) == min(rows, 5), (text, media)
            assert ("X-SPARQL-MaxRows" in response.headers) == (rows > 5), (text, media)


def test_a_syntax_error_says_what_the_query_as_sent_holds_wrong(capped):
    for text in (
        "SELECT ?x WHERE { ?x",
        "SELECT ?x WHERE { ?x ?p ?o } LIMIT",
        "SELECT ?x WHERE { ?x ?p ?o } LIMIT 3 LIMIT 4",
    ):
        response = capped.get("/sparql", query_string={"query": text})
        assert response.status_code == 400
        assert "LIMIT 6" not in response.get_data(as_text=True)


# -- the query string ---------------------------------------------------------------------------------------


def test_query_strings_are_read_as_urllib_reads_them_escapes_errors_and_all():
    samples = [
        "query=" + urllib.parse.quote('SELECT ?x WHERE { ?x rdfs:label "é\\\\%41" } # ünïcode'),
        "query=a+b%2Bc&format=json&format=&output",
        "query=100%25%20sure%zz%4&&=x&x==y",
        "a%5Cx41=%5C%5C%5Cx41\\x41",
        "bad=%ff%fe",
        "q=%C3%A9t%C3%A9",
        "q=caf\u00e9",  # raw bytes of a URL, as the environ holds them: not ASCII
        "",
    ]
    rng = random.Random(7)
    alphabet = "ab%+=&\\x4Fc1 "
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(2000)]
    for text in samples:
        try:
            expected: object = urllib.parse.parse_qs(text, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError as exc:
            expected = f"the request parameters cannot be read: {exc}"
        try:
            found: object = _form(text)
        except ProtocolError as error:
            found = error.message
        assert found == expected, text


# -- the default prefixes ---------------------------------------------------------------------------------


def test_every_default_prefix_works_undeclared_and_a_declared_one_overrides_it(client):
    for name, iri in PREFIXES.items():
        short = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER (STRSTARTS(STR(?p), STR({name}:))) }}"
        full = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o FILTER (STRSTARTS(STR(?p), STR(<{iri}>))) }}"
        assert _rows(client.get("/sparql", query_string={"query": short})) == _rows(
            client.get("/sparql", query_string={"query": full})
        ), name
    own = "PREFIX rdfs: <urn:not-rdfs#> SELECT (COUNT(*) AS ?n) WHERE { ?s rdfs:label ?o }"
    assert _rows(client.get("/sparql", query_string={"query": own}))[0]["n"]["value"] == "0"
    unknown = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s nope:p ?o }"})
    assert unknown.status_code == 400 and "Prefix not found" in unknown.get_data(as_text=True)
