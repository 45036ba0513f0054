"""The SPARQL 1.1 Protocol and the pages through Flask's test client, over workers running in this process.

The same requests as a client sends, answered by the same code (kg.serve.sparql, kg.serve.pages, the
worker's evaluation), without a server or worker processes: each test takes milliseconds. The real
server, its processes, timeouts and connections are tested in test_serve_protocol.py and beside it.
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from inprocess import InProcessPool
from rdflib import Graph

from kg.serve import close_app, create_app
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
