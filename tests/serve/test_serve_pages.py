"""Every IRI the build minted resolves on `kg serve`: HTML for people, RDF for programs.

Entity pages show the label, type, Wikidata link, every mention with its sentence and article, the
entities most often named with it and a picture of that neighbourhood; article pages show the text
with every mention highlighted; anything else lists its statements.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from rdflib import Graph, Literal, URIRef
from serving import copy_store, http, running_server, store_facts

from kg.namespaces import PREFIXES, Iris
from kg.resources import query_files

TOKEN = "pages-token"
IRIS = Iris()
CARROLL = IRIS.entity("Person", "Chad G. Carroll")
EVENT = IRIS.entity("Event", "Defection test event")
RDFS_LABEL = URIRef(PREFIXES["rdfs"] + "label")
SCRIPT_IRI = "javascript://%0Aalert(document.domain)"  # a valid IRI that would run script if it were a link


class Page(HTMLParser):
    """The parts of a page the tests look at: links, element classes, text per element id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.classes: list[str] = []
        self.ids: dict[str, str] = {}
        self._open: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")
        self.classes.append(values.get("class") or "")
        self._open.append(values.get("id"))
        if values.get("id"):
            self.ids[values["id"] or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            if element_id:
                self.ids[element_id] += data


@pytest.fixture(scope="module")
def store_path(built_seeds, tmp_path_factory):
    return copy_store(built_seeds, tmp_path_factory.mktemp("pages") / "kg")


@pytest.fixture(scope="module")
def facts(store_path):
    """What the store says, read directly (not through the server), to check the pages against."""
    return store_facts(store_path)


@pytest.fixture(scope="module")
def server(store_path, facts):
    facts("SELECT * WHERE { ?s ?p ?o } LIMIT 1")  # read the store before the server writes to it
    with running_server(store_path, "--update-token", TOKEN) as running:
        done = http(
            running.sparql,
            method="POST",
            data={
                "update": f"""INSERT DATA {{ GRAPH <urn:test:linking> {{
                    <{CARROLL}> owl:sameAs <http://www.wikidata.org/entity/Q1234567> ;
                                kg:linkConfidence "0.87"^^xsd:decimal .
                    <{EVENT}> a kg:Event ; rdfs:label "Defection test event" ;
                              sem:hasActor <{CARROLL}> ; sem:hasPlace <{IRIS.entity("Place", "Panmunjom")}> ;
                              sem:hasTime "2017-11-13"^^xsd:date ;
                              rdfs:seeAlso <{SCRIPT_IRI}> .
                }} }}"""
            },
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert done.status == 204, done.text
        yield running


def page(server, iri_or_path: str, accept: str = "text/html") -> tuple[int, str]:
    path = urlsplit(iri_or_path).path if iri_or_path.startswith("http") else iri_or_path
    reply = http(server.url.rstrip("/") + path, headers={"Accept": accept})
    return reply.status, reply.body.decode("utf-8")


def test_an_entity_iri_resolves_to_a_page_with_label_type_and_statements(server):
    status, html = page(server, CARROLL)
    assert status == 200
    assert "<h1>Chad G. Carroll" in html and 'class="kind person"' in html
    assert "Chad Carroll" in html, "alternative labels are listed"
    assert "mention count" in html, "properties are named by the ontology's labels"


def test_the_entity_page_shows_every_mention_with_its_sentence_and_article(server, facts):
    html = page(server, CARROLL)[1]
    mentions = facts(
        f"""SELECT ?anchor ?sentence ?title WHERE {{ <{CARROLL}> gaf:denotedBy ?m .
              ?m nif:anchorOf ?anchor ; nif:sentence/nif:anchorOf ?sentence ; nif:referenceContext/rdfs:label ?title }}"""
    )
    count = facts(f"SELECT ?n WHERE {{ <{CARROLL}> kg:mentionCount ?n }}")[0]["n"]
    assert len(mentions) == int(count) > 1
    section = html.split('class="mentions"', 1)[1]
    assert section.count("<mark>") == len(mentions)
    for mention in mentions:
        assert f"<mark>{mention['anchor']}</mark>" in section
        assert mention["title"].replace("'", "&#39;")[:40] in section
    articles = {
        row["a"] for row in facts(f"SELECT DISTINCT ?a WHERE {{ <{CARROLL}> gaf:denotedBy/nif:referenceContext ?a }}")
    }
    for article in articles:
        assert urlsplit(article).path in html


def test_the_entity_page_lists_the_entities_most_often_named_with_it(server, facts):
    shared = facts(
        f"""SELECT ?other ?label (COUNT(DISTINCT ?s) AS ?n) WHERE {{
              <{CARROLL}> gaf:denotedBy/nif:sentence ?s . ?other gaf:denotedBy/nif:sentence ?s ; rdfs:label ?label .
              FILTER (?other != <{CARROLL}>) }} GROUP BY ?other ?label ORDER BY DESC(?n)"""
    )
    most = int(shared[0]["n"])
    html = page(server, CARROLL)[1]
    table = html.split('class="grid co-mentions"', 1)[1].split("</table>", 1)[0]
    first_row = table.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert f'<td class="num">{most}</td>' in first_row
    assert any(row["label"] in first_row for row in shared if int(row["n"]) == most)
    same_articles = facts(
        f"""SELECT DISTINCT ?other WHERE {{ <{CARROLL}> gaf:denotedBy/nif:referenceContext ?a .
              ?other gaf:denotedBy/nif:referenceContext ?a FILTER (?other != <{CARROLL}>) }}"""
    )
    assert table.count("<tr>") - 1 == min(12, len(same_articles)), "a row per entity in its articles (12 at most)"


def test_the_neighbourhood_picture_links_to_the_neighbours_pages(server):
    html = page(server, CARROLL)[1]
    svg = html.split('<svg xmlns="http://www.w3.org/2000/svg" class="neighbourhood"', 1)[1].split("</svg>", 1)[0]
    targets = re.findall(r'<a class="node" href="([^"]+)"', svg)
    assert len(targets) >= 5 and len(svg.split("<circle")) > len(targets)
    for target in targets[:4]:
        assert page(server, target)[0] == 200


def test_wikidata_links_and_any_other_statements_show_on_the_page(server):
    html = page(server, CARROLL)[1]
    assert 'href="https://www.wikidata.org/wiki/Q1234567"' in html
    assert "kg:linkConfidence 0.87" in html
    referred = html.split("Referred to by", 1)[1]
    assert "Defection test event" in referred and "sem:hasActor" in referred
    status, event_html = page(server, EVENT)
    assert status == 200 and 'class="kind event"' in event_html
    assert "sem:hasActor" in event_html and "/person/chad-g-carroll" in event_html
    assert "sem:hasTime" in event_html and "2017-11-13" in event_html
    assert SCRIPT_IRI in event_html, "the statement is shown"
    assert not [href for href in Page(event_html).links if not href.startswith(("/", "http:", "https:", "mailto:"))]


def test_entities_come_as_turtle_json_ld_or_n_triples_to_rdf_clients(server):
    status, turtle = page(server, CARROLL, accept="text/turtle")
    graph = Graph().parse(data=turtle, format="turtle")
    assert status == 200 and (URIRef(CARROLL), RDFS_LABEL, Literal("Chad G. Carroll")) in graph
    jsonld = page(server, CARROLL, accept="application/ld+json")[1]
    assert (URIRef(CARROLL), RDFS_LABEL, Literal("Chad G. Carroll")) in Graph().parse(data=jsonld, format="json-ld")
    nt = page(server, urlsplit(CARROLL).path + "?format=ntriples", accept="text/html")[1]
    assert (URIRef(CARROLL), RDFS_LABEL, Literal("Chad G. Carroll")) in Graph().parse(data=nt, format="nt")
    html = page(server, CARROLL, accept="text/html,application/xhtml+xml,*/*;q=0.8")[1]
    assert html.lstrip().startswith("<!doctype html>")
    remote = Graph().parse(server.url.rstrip("/") + urlsplit(CARROLL).path)  # rdflib dereferences the IRI
    assert (URIRef(CARROLL), RDFS_LABEL, Literal("Chad G. Carroll")) in remote


def test_an_article_page_highlights_every_mention_trigger_and_date_in_the_text(server, facts):
    article = facts("SELECT ?a WHERE { ?a a kg:Article ; rdfs:label ?l } ORDER BY ?l LIMIT 1")[0]["a"]
    mentions = facts(
        f"""SELECT ?m ?anchor ?class WHERE {{ ?m nif:referenceContext <{article}> ; nif:anchorOf ?anchor ; a ?class .
              FILTER (?class IN (kg:EntityMention, kg:GroupMention, kg:EventMention, kg:TimeMention)) }}"""
    )
    assert {row["class"].rsplit("#", 1)[1] for row in mentions} >= {"EntityMention", "EventMention", "TimeMention"}
    status, html = page(server, article)
    assert status == 200
    text = html.split('<div class="article-text">', 1)[1].split("</div>", 1)[0]
    parsed = Page(text)
    assert len(re.findall(r'class="mention ', text)) == len(mentions)
    for mention in mentions:
        fragment = mention["m"].rsplit("#", 1)[1]
        assert parsed.ids[fragment] == mention["anchor"], "each highlight is the exact words of its mention"
    people = [href for href in parsed.links if href.startswith("/person/")]
    assert people and page(server, people[0])[0] == 200
    status, turtle = page(server, article, accept="text/turtle")
    graph = Graph().parse(data=turtle, format="turtle")
    assert len(list(graph.subjects())) > len(mentions), "the article's RDF holds its mentions and sentences"


def test_other_iris_list_their_statements_and_unknown_ones_are_a_404(server, facts):
    agent = facts("SELECT ?a WHERE { ?a a kg:Software ; rdfs:label ?l FILTER(STRSTARTS(?l, 'newskg')) } LIMIT 1")[0][
        "a"
    ]
    status, html = page(server, agent)
    assert status == 200 and "newskg" in html and "software version" in html
    status, html = page(server, "/person/nobody-at-all")
    assert status == 404 and "Nothing is known" in html
    assert page(server, "/person/a%3Eb%22c")[0] == 404
    for malformed in ("/person/%25zz", "/person/a%23b%23c", "/person/a%25", "/x%EF%BF%BE"):
        assert page(server, malformed)[0] == 404, malformed  # not an IRI anything could be stored under


def test_max_rows_limits_clients_queries_but_never_cuts_a_page_short(server, store_path, facts):
    article = facts("SELECT ?a WHERE { ?a a kg:Article ; rdfs:label ?l } ORDER BY ?l LIMIT 1")[0]["a"]
    mentions = facts(
        f"""SELECT (COUNT(*) AS ?n) WHERE {{ ?m nif:referenceContext <{article}> ; a ?class .
              FILTER (?class IN (kg:EntityMention, kg:GroupMention, kg:EventMention, kg:TimeMention)) }}"""
    )[0]["n"]
    assert int(mentions) > 3
    with running_server(store_path, "--max-rows", "3") as capped:
        html = page(capped, article)[1]
        text = html.split('<div class="article-text">', 1)[1].split("</div>", 1)[0]
        assert len(re.findall(r'class="mention ', text)) == int(mentions)
        assert html == page(server, article)[1], "the same page as without the limit"
        turtle = page(capped, article, accept="text/turtle")[1]
        assert len(Graph().parse(data=turtle, format="turtle")) > 3
        table = http(capped.sparql, params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers={"Accept": "text/csv"})
        assert table.headers["x-sparql-maxrows"] == "3" and len(table.text.strip().splitlines()) == 4


def test_search_finds_entities_by_any_of_their_names(server):
    status, html = page(server, "/search?q=carroll")
    assert status == 200 and 'href="/person/chad-g-carroll"' in html
    assert page(server, "/search?q=%22%5C%7D")[0] == 200


def test_the_query_page_offers_every_canned_query_and_the_vendored_editor(server):
    status, html = page(server, "/")
    assert status == 200
    for path in query_files():
        assert f'data-name="{path.stem}"' in html
    assert "/static/yasgui/yasgui.min.js" in html and "cdn" not in html.lower()
    script = http(server.url + "static/yasgui/yasgui.min.js")
    assert script.status == 200 and len(script.body) > 500_000
    canned = http(server.url + "queries/co-mentions.rq")
    assert canned.text == (query_files()[0].parent / "co-mentions.rq").read_text(encoding="utf-8")


def test_health_reports_ok(server):
    health = http(server.url + "health")
    assert health.status == 200 and json.loads(health.body)["status"] == "ok"
