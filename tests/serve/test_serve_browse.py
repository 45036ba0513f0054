"""What an analyst browses on `kg serve` besides one entity: the trace behind it (hash nodes, the link
decision, the build's runs), events and the timeline, lists per kind with facets and paging, ranked
search, the map, the query page's canned queries, redirects and helpful 404s, and the page cache.

Every expectation is read from the store itself (not through the server) and compared with the page.
"""

from __future__ import annotations

import json
import re
from html import unescape
from urllib.parse import urlencode, urlsplit

import pytest
from serving import copy_store, http, running_server, store_facts

from kg.namespaces import Iris

TOKEN = "browse-token"
IRIS = Iris()


@pytest.fixture(scope="module")
def store_path(built_seeds, tmp_path_factory):
    return copy_store(built_seeds, tmp_path_factory.mktemp("browse") / "kg")


@pytest.fixture(scope="module")
def facts(store_path):
    """What the store says, read directly (not through the server), to check the pages against."""
    return store_facts(store_path)


@pytest.fixture(scope="module")
def server(store_path, facts):
    facts("SELECT * WHERE { ?s ?p ?o } LIMIT 1")  # open the store before the server may write to it
    with running_server(store_path, "--update-token", TOKEN) as running:
        yield running


def get(server, path: str) -> tuple[int, str, dict[str, str]]:
    reply = http(server.url.rstrip("/") + path, headers={"Accept": "text/html"})
    return reply.status, reply.body.decode("utf-8"), reply.headers


def path_of(iri: str) -> str:
    return urlsplit(iri).path


def ids(html: str) -> set[str]:
    return {unescape(i) for i in re.findall(r'\sid="([^"]+)"', html)}


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# -- trace ----------------------------------------------------------------------------------------------


def test_every_hash_node_an_entity_page_links_to_is_on_that_page_at_its_anchor(server, facts):
    seoul = facts("SELECT ?x WHERE { ?x a kg:Place ; rdfs:label 'Seoul' }")[0]["x"]
    status, html, _ = get(server, path_of(seoul))
    assert status == 200
    linked = {unescape(h) for h in re.findall(r'href="(/place/seoul#[^"]+)"', html)}
    assert "/place/seoul#wikidata" in linked
    anchors = ids(html)
    for href in linked:
        assert href.split("#", 1)[1] in anchors, f"{href} opens at an element of the page"


def test_the_link_decision_shows_outcome_confidence_reason_candidates_and_runner_up(server, facts):
    row = facts(
        """SELECT ?x ?confidence ?reason WHERE { ?x a kg:Place ; rdfs:label 'Seoul' ; kg:wikidataLink ?l .
             ?l kg:confidence ?confidence ; kg:linkReason ?reason }"""
    )[0]
    candidates = facts(f"SELECT ?c WHERE {{ <{row['x']}#wikidata> kg:candidate ?c }}")
    html = get(server, path_of(row["x"]))[1]
    section = html.split('<section class="decision part" id="wikidata">', 1)[1].split("</section>", 1)[0]
    shown = text_of(section)
    assert f"{float(row['confidence']):.3f}" in shown and row["reason"] in shown
    assert "Linked to" in shown and "Q8684" in shown and "Runner-up:" in shown
    assert section.count("<tr id=") == len(candidates) >= 1
    unlinked = facts(
        """SELECT ?x WHERE { ?x a kg:Person ; kg:wikidataLink ?l . ?l kg:linkOutcome kg:NotLinked } LIMIT 1"""
    )[0]["x"]
    shown = text_of(get(server, path_of(unlinked))[1])
    assert "Not linked to Wikidata" in shown and "Reason:" in shown


def test_a_hash_node_the_page_does_not_show_is_served_at_its_own_address(server, facts):
    extraction = facts("SELECT ?x WHERE { ?x a kg:Extraction } LIMIT 1")[0]["x"]
    parent, fragment = extraction.split("#", 1)
    status, html, _ = get(server, f"{path_of(parent)}?part={fragment}")
    assert status == 200
    assert "Part of" in html and f'href="{path_of(parent)}"' in html
    assert "spaCy" in text_of(html) or "spacy" in html, "the model that read the article is named"
    assert get(server, f"{path_of(parent)}?part=no-such-part")[0] == 404
    status, _, headers = get(server, f"{path_of(parent)}?part={fragment}&format=turtle")
    assert status == 200 and headers["content-type"].startswith("text/turtle")


def test_the_corpus_graph_page_shows_the_resolution_and_linking_runs_with_what_they_made(server, facts):
    status, html, _ = get(server, path_of(IRIS.corpus_graph))
    assert status == 200
    assert {"resolution", "linking"} <= ids(html)
    people = facts(f"SELECT (COUNT(?x) AS ?n) WHERE {{ ?x a kg:Person ; prov:wasGeneratedBy <{IRIS.resolution}> }}")
    linked = facts("SELECT (COUNT(?x) AS ?n) WHERE { ?x a kg:WikidataLink ; kg:linkOutcome kg:Linked }")
    shown = text_of(html)
    assert f"{people[0]['n']} person" in shown and f"{linked[0]['n']} entities linked" in shown
    assert get(server, path_of(IRIS.resolution))[0] == 200, "the link every entity page has opens"


# -- events ---------------------------------------------------------------------------------------------


def test_an_event_page_says_what_when_where_who_and_shows_every_sentence(server, facts):
    event = facts(
        """SELECT ?e ?n ?date WHERE { ?e a kg:ReportedEvent ; kg:eventType kg:Defection ; kg:eventMentionCount ?n ;
             sem:hasTime/sem:hasEarliestBeginTimeStamp ?date }"""
    )[0]
    places = facts(f"SELECT ?l WHERE {{ <{event['e']}> sem:hasPlace/rdfs:label ?l }}")
    status, html, _ = get(server, path_of(event["e"]))
    assert status == 200 and 'class="kind event"' in html
    summary = text_of(html.split('class="statements event-summary"', 1)[1].split("</table>", 1)[0])
    assert event["date"][:10] in summary and "defection" in summary
    assert all(p["l"] in summary for p in places) and "origin" in summary and "destination" in summary
    evidence = html.split('class="mentions evidence"', 1)[1].split("</section>", 1)[0]
    assert evidence.count('<mark class="trigger">') == int(event["n"])


def test_entity_and_article_pages_list_the_events_they_take_part_in(server, facts):
    involved = facts(
        """SELECT ?x (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a kg:ReportedEvent ; sem:hasActor ?x . ?x a kg:Person }
           GROUP BY ?x ORDER BY DESC(?n) LIMIT 1"""
    )[0]
    html = get(server, path_of(involved["x"]))[1]
    events = html.split('class="events"', 1)[1].split("</section>", 1)[0]
    assert events.count('class="event-link"') >= int(involved["n"])
    article = facts("SELECT ?a WHERE { ?a a kg:Article } LIMIT 1")[0]["a"]
    reported = facts(
        f"""SELECT DISTINCT ?e WHERE {{ ?m nif:referenceContext <{article}> ; a kg:EventMention .
              ?e gaf:denotedBy ?m ; a kg:ReportedEvent }}"""
    )
    html = get(server, path_of(article))[1]
    listed = html.split('class="plain article-events"', 1)[1].split("</ul>", 1)[0]
    assert {path_of(r["e"]) for r in reported} == set(re.findall(r'class="event-link" href="([^"]+)"', listed))


def test_the_timeline_carries_every_dated_event_and_counts_the_undated(server, facts):
    dated = facts("SELECT DISTINCT ?e WHERE { ?e a kg:ReportedEvent ; sem:hasTime ?t }")
    undated = facts("SELECT DISTINCT ?e WHERE { ?e a kg:ReportedEvent FILTER NOT EXISTS { ?e sem:hasTime ?t } }")
    status, html, _ = get(server, "/timeline")
    assert status == 200 and "vendor/vis-timeline/vis-timeline-graph2d.min.js" in html
    items = json.loads(unescape(html.split('id="timeline-items">', 1)[1].split("</script>", 1)[0]))
    assert {item["href"] for item in items} == {path_of(r["e"]) for r in dated}
    assert f"{len(undated)} undated event(s)" in html
    assert get(server, "/static/vendor/vis-timeline/LICENSE.md")[0] == 200


# -- browse, search, map ----------------------------------------------------------------------------------


def test_the_home_page_counts_link_to_their_lists_and_the_lists_count_the_same(server, facts):
    html = get(server, "/")[1]
    links = dict(re.findall(r'<a class="count-link" href="(/browse/\w+)">([\d,]+) ', html))
    assert set(links) == {f"/browse/{k}" for k in ("articles", "people", "organisations", "places", "events")}
    for path, count in links.items():
        page = get(server, path)[1]
        assert re.search(rf'<span class="muted count">{count}</span>', page), path
    places = facts("SELECT (COUNT(?x) AS ?n) WHERE { ?x a kg:Place }")[0]["n"]
    assert links["/browse/places"] == places


def test_a_facet_filters_the_list_and_paging_walks_it(server, facts):
    linked = {
        r["l"]
        for r in facts(
            """SELECT ?l WHERE { ?x a kg:Place ; rdfs:label ?l ; owl:sameAs ?w
                 FILTER STRSTARTS(STR(?w), "http://www.wikidata.org/entity/") }"""
        )
    }
    html = get(server, "/browse/places")[1]
    facet = html.split('data-facet="linked"', 1)[1].split("</section>", 1)[0]
    assert re.search(rf'data-value="yes">yes</a> <span class="muted">{len(linked)}</span>', facet)
    page = get(server, "/browse/places?linked=yes&sort=name")[1]
    names = re.findall(r'<tr><td><a href="/place/[^"]+">([^<]+)</a>', page)
    assert set(map(unescape, names)) == linked and names == sorted(names, key=str.casefold)
    events = int(facts("SELECT (COUNT(?e) AS ?n) WHERE { { ?e a kg:ReportedEvent } UNION { ?e a kg:Event } }")[0]["n"])
    first = re.findall(r"<tr><td><a href=\"(/event/[^\"]+)\"", get(server, "/browse/events?per=10")[1])
    second_html = get(server, "/browse/events?per=10&page=2")[1]
    second = re.findall(r"<tr><td><a href=\"(/event/[^\"]+)\"", second_html)
    assert len(first) == 10 and len(second) == events - 10 and not set(first) & set(second)
    assert f"Showing 11–{events} of {events}" in second_html
    assert get(server, "/browse/nothing")[0] == 404


def test_search_ranks_exact_names_then_prefixes_then_words_then_anywhere(server, facts):
    html = get(server, "/search?q=seoul")[1]
    rows = re.findall(r'<tr><td><a href="([^"]+)">.*?<td class="muted">(\w+)</td>', html)
    ranks = [how for _, how in rows]
    order = ["exact", "prefix", "word", "substring"]
    assert ranks[0] == "exact" and rows[0][0] == "/place/seoul"
    assert [order.index(r) for r in ranks] == sorted(order.index(r) for r in ranks)
    assert any(href.startswith("/article/") for href, _ in rows), "headlines are searched"
    assert any(href.startswith("/event/") for href, _ in rows), "events are searched"
    total = len(facts(
        """SELECT DISTINCT ?x WHERE { VALUES ?t { kg:Person kg:Organization kg:Place kg:Event kg:ReportedEvent kg:Article }
             ?x a ?t . { ?x rdfs:label ?n } UNION { ?x skos:altLabel ?n } UNION { ?x schema:headline ?n }
             FILTER CONTAINS(LCASE(STR(?n)), "seoul") }"""
    ))
    assert f"of {total}" in html
    assert get(server, "/search?q=%22%5C%7D")[0] == 200


def test_the_map_lists_the_places_with_coordinates_and_fetches_no_tiles_unless_configured(server, facts):
    placed = facts("SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a kg:Place ; schema:geo ?g }")[0]["n"]
    unplaced = facts("SELECT (COUNT(?x) AS ?n) WHERE { ?x a kg:Place FILTER NOT EXISTS { ?x schema:geo ?g } }")
    status, html, _ = get(server, "/map")
    assert status == 200 and "vendor/leaflet/leaflet.js" in html
    points = json.loads(unescape(html.split('id="map-points">', 1)[1].split("</script>", 1)[0]))
    assert len(points) == int(placed)
    assert f"{unplaced[0]['n']} without" in html
    assert json.loads(html.split('id="map-tiles">', 1)[1].split("</script>", 1)[0]) is None
    assert get(server, "/static/vendor/leaflet/LICENSE")[0] == 200


# -- the query page -------------------------------------------------------------------------------------


def test_the_query_page_opens_on_a_query_any_store_answers(server):
    html = get(server, "/")[1]
    canned = json.loads(unescape(html.split('id="canned-queries">', 1)[1].split("</script>", 1)[0]))
    site = json.loads(unescape(html.split('id="site">', 1)[1].split("</script>", 1)[0]))
    assert canned[0]["name"] == site["default"] == "store-overview"
    reply = http(server.sparql, method="POST", data={"query": canned[0]["text"]},
                 headers={"Accept": "application/sparql-results+json"})
    assert reply.status == 200 and len(json.loads(reply.body)["results"]["bindings"]) > 5


def test_canned_queries_about_an_entity_name_this_stores_own_example_and_answer(server, facts):
    top_person = facts(
        "SELECT ?l WHERE { ?x a kg:Person ; kg:mentionCount ?n ; rdfs:label ?l } ORDER BY DESC(?n) ?l LIMIT 1"
    )[0]["l"]
    html = get(server, "/")[1]
    canned = {q["name"]: q for q in json.loads(unescape(html.split('id="canned-queries">', 1)[1].split("</script>", 1)[0]))}
    assert f'VALUES ?name {{ "{top_person}" }}' in canned["articles-mentioning"]["text"]
    for query in canned.values():
        if query["parameter"]:
            reply = http(server.sparql, method="POST", data={"query": query["text"]},
                         headers={"Accept": "application/sparql-results+json"})
            assert json.loads(reply.body)["results"]["bindings"], query["name"]


# -- redirects, 404s, the cache ---------------------------------------------------------------------------


def test_the_old_iri_of_a_merged_or_retyped_entity_redirects_for_good(server, facts):
    replaced = facts("SELECT ?old ?x WHERE { ?x kg:wikidataLink ?l . ?l kg:replacesEntity ?old } LIMIT 1")[0]
    status, _, headers = get(server, path_of(replaced["old"]) + "?format=turtle")
    assert status == 301
    assert headers["location"].endswith(path_of(replaced["x"]) + "?format=turtle")


def test_a_404_suggests_the_entities_named_like_the_path(server):
    status, html, _ = get(server, "/person/chad-carroll")
    assert status == 404 and "Did you mean" in html and 'href="/person/chad-g-carroll"' in html
    status, html, _ = get(server, "/person/zzzz-qqqq")
    assert status == 404 and "Did you mean" not in html


def test_an_entity_page_is_made_again_once_the_store_changes(server):
    path = "/person/chad-g-carroll"
    first = get(server, path)[1]
    assert get(server, path)[1] == first
    done = http(
        server.url + "update",
        method="POST",
        data={"update": f'INSERT DATA {{ <{IRIS.base}person/chad-g-carroll> skos:altLabel "Colonel Carroll" }}'},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert done.status == 204, done.body
    assert "Colonel Carroll" in get(server, path)[1]


def test_reported_events_named_with_an_entity_are_drawn_as_events(server, facts):
    from kg.serve.neighbourhood import COLOURS

    place = facts(
        """SELECT ?x (COUNT(?e) AS ?n) WHERE { ?x a kg:Place ; gaf:denotedBy/nif:sentence ?s .
             ?e a kg:ReportedEvent ; gaf:denotedBy/nif:sentence ?s } GROUP BY ?x ORDER BY DESC(?n) LIMIT 1"""
    )[0]["x"]
    html = get(server, path_of(place))[1]
    svg = html.split('class="neighbourhood"', 1)[1].split("</svg>", 1)[0]
    drawn = re.findall(r'<a class="node" href="(/[^"]+)"><title>[^<]*</title><circle [^>]*fill="([^"]+)"', svg)
    assert [fill for href, fill in drawn if href.startswith("/event/")], "an event among the neighbours"
    assert {fill for href, fill in drawn if href.startswith("/event/")} == {COLOURS["Event"]}


def test_the_page_cache_forgets_old_generations_and_stays_within_its_bounds():
    from kg.serve.pages import PageCache

    cache = PageCache(size=3, chars=800)
    cache.put((1, "/a"), "a" * 10)
    cache.put((1, "/b"), "b" * 10)
    assert cache.get((1, "/a")) == "a" * 10
    cache.put((2, "/c"), "c" * 10)
    assert cache.get((1, "/a")) is None and cache.get((1, "/b")) is None, "a new generation drops the old pages"
    for name in "defg":
        cache.put((2, f"/{name}"), name * 90)
    assert cache.get((2, "/c")) is None and cache.get((2, "/g")) == "g" * 90, "least recently used goes first"
    cache.put((2, "/huge"), "h" * 500)
    assert cache.get((2, "/huge")) is None, "a page an eighth of the whole or larger is not kept"
    for name in "hijklmnop":
        cache.put((2, f"/{name}"), name * 95)
    assert sum(len(cache.get((2, f"/{n}")) or "") for n in "defghijklmnop") <= 800


def test_map_tiles_come_only_from_the_server_the_user_names(monkeypatch):
    from kg.serve.browse import tile_settings

    monkeypatch.delenv("KG_MAP_TILES", raising=False)
    assert tile_settings() is None
    monkeypatch.setenv("KG_MAP_TILES", "http://127.0.0.1:8080/{z}/{x}/{y}.png")
    monkeypatch.setenv("KG_MAP_ATTRIBUTION", "© our own tiles")
    assert tile_settings() == {"url": "http://127.0.0.1:8080/{z}/{x}/{y}.png", "attribution": "© our own tiles"}


def test_the_list_of_all_entities_has_a_type_facet(server, facts):
    counts = {
        r["t"]: int(r["n"])
        for r in facts(
            """SELECT ?t (COUNT(?x) AS ?n) WHERE { VALUES ?t { kg:Person kg:Organization kg:Place kg:Event } ?x a ?t }
               GROUP BY ?t"""
        )
    }
    html = get(server, "/browse/entities")[1]
    assert f'<span class="muted count">{sum(counts.values())}</span>' in html
    facet = html.split('data-facet="type"', 1)[1].split("</section>", 1)[0]
    for type_iri, n in counts.items():
        assert re.search(rf'data-value="{re.escape(type_iri)}">{type_iri.rsplit("#", 1)[1]}</a> <span class="muted">{n}</span>', facet)
    place = next(t for t in counts if t.endswith("#Place"))
    filtered = get(server, "/browse/entities?" + urlencode({"type": place}))[1]
    assert f'<span class="muted count">{counts[place]}</span>' in filtered
