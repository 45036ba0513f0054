"""Browse: a list per kind of thing (people, organisations, places, events, articles), ranked search,
and a map of places.

Lists are sorted, paged and faceted the way analysts know from Datasette: every facet value shows
how many rows it keeps and is a link that adds it to the filters; the page says how many rows match
and which ones it shows. Lists, facets and sorts are tables of data (BROWSE, SORTS, FACETS), not
branches. The map draws places with coordinates (from the Wikidata index the build used) with a
vendored Leaflet; the tiles come from a URL template the user configures in `kg serve`'s environment
(KG_MAP_TILES, and KG_MAP_ATTRIBUTION); without one the map draws the points on a plain grid, so
nothing is fetched from elsewhere unless the user asked for it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import abort, render_template, request

from ..model import Kind
from . import Site
from .pages import ENTITY_TYPES, _site, cached, local_path, pages, select, short, sparql_string

PAGE_SIZE = 50
#: Rows per page a reader may choose (?per=).
PAGE_SIZES = (10, 50, 200)


@dataclass(frozen=True)
class Facet:
    """A facet: a name, the SPARQL pattern that binds ?v for a row ?x, and how a value is shown."""

    name: str
    title: str
    pattern: str  # binds ?v from ?x
    label_of: str = ""  # a pattern binding ?vl from ?v (a label for IRI values), optional


@dataclass(frozen=True)
class Listing:
    """One browsable kind: its class pattern, title, facets and sorts."""

    slug: str
    title: str
    kind: str  # Person, Organization, Place, Event, Article
    pattern: str  # binds ?x
    facets: tuple[Facet, ...]
    sorts: tuple[str, ...]


_LINKED = Facet(
    "linked",
    "Linked to Wikidata",
    'BIND(IF(EXISTS { ?x owl:sameAs ?wd FILTER STRSTARTS(STR(?wd), "http://www.wikidata.org/entity/") },'
    ' "yes", "no") AS ?v)',
)
_TYPE_FACET = Facet(
    "type", "Class", "?x a ?v . FILTER (?v IN (kg:Person, kg:Organization, kg:Place, kg:Event))",
    "OPTIONAL { ?v rdfs:label ?vl FILTER (LANG(?vl) = 'en' || LANG(?vl) = '') }",
)
_PLACE_CATEGORY = Facet("category", "Kind of place", "?x kg:placeCategory ?v")
_COUNTRY = Facet(
    "country", "Country (Wikidata)", "?x kg:wikidataCountry ?v", "OPTIONAL { ?c owl:sameAs ?v ; rdfs:label ?vl }"
)
_EVENT_TYPE = Facet("type", "Kind of event", "?x kg:eventType ?v", "OPTIONAL { ?v rdfs:label ?vl }")
_EVENT_DATED = Facet("dated", "Dated", 'BIND(IF(EXISTS { ?x sem:hasTime ?t }, "yes", "no") AS ?v)')
#: Keys of an article's metadata (kg:metadata, the JSON the reader kept) that make facets.
ARTICLE_METADATA_FACETS = ("category", "section", "source", "feed")


def _metadata_facet(key: str) -> Facet:
    """A facet on one key of the article's metadata JSON (kept sorted, `"key": "value"`, by the reader)."""
    pattern = (
        f"?x kg:metadata ?meta . "
        f"BIND(REPLACE(STR(?meta), '^.*\"{key}\": \"([^\"]*)\".*$', \"$1\") AS ?v) FILTER (?v != STR(?meta))"
    )
    return Facet(key, key.capitalize(), pattern)


_ARTICLE_FACETS = (
    *(_metadata_facet(key) for key in ARTICLE_METADATA_FACETS),
    Facet("published", "Year published", "?x schema:datePublished ?d . BIND(SUBSTR(STR(?d), 1, 4) AS ?v)"),
)

BROWSE: dict[str, Listing] = {
    listing.slug: listing
    for listing in (
        Listing(
            "entities", "All entities", "Entity",
            "?x a ?class . FILTER (?class IN (kg:Person, kg:Organization, kg:Place, kg:Event))",
            (_TYPE_FACET, _LINKED), ("mentions", "articles", "name"),
        ),
        Listing("people", "People", Kind.PERSON, "?x a kg:Person", (_LINKED,), ("mentions", "articles", "name")),
        Listing(
            "organisations", "Organisations", Kind.ORGANIZATION, "?x a kg:Organization", (_LINKED, _COUNTRY),
            ("mentions", "articles", "name"),
        ),
        Listing(
            "places", "Places", Kind.PLACE, "?x a kg:Place", (_LINKED, _PLACE_CATEGORY, _COUNTRY),
            ("mentions", "articles", "name"),
        ),
        Listing(
            "events", "Events", Kind.EVENT, "{ ?x a kg:ReportedEvent } UNION { ?x a kg:Event }",
            (_EVENT_TYPE, _EVENT_DATED),
            ("articles", "date", "name"),
        ),
        Listing("articles", "Articles", "Article", "?x a kg:Article", _ARTICLE_FACETS, ("date", "name", "mentions")),
    )
}

#: Sorts: the SPARQL that binds the sort key ?k for a row ?x, and the order on its maximum ?key
#: (ties, and the name sort, go by label).
SORTS: dict[str, tuple[str, str]] = {
    "mentions": ("OPTIONAL { ?x kg:mentionCount|kg:eventMentionCount ?k }", "DESC(?key)"),
    "articles": ("OPTIONAL { ?x kg:articleCount|kg:supportingArticles ?k }", "DESC(?key)"),
    "name": ("", ""),
    "date": (
        "OPTIONAL { ?x schema:datePublished|(sem:hasTime/sem:hasEarliestBeginTimeStamp) ?k }",
        "DESC(?key)",
    ),
}


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: what it is, how it is shown, how many rows have it, the link that toggles it."""

    value: str
    label: str
    count: int
    href: str
    on: bool


@dataclass
class FacetView:
    facet: Facet
    values: list[FacetValue] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    iri: str
    label: str
    mentions: int | None
    articles: int | None
    date: str | None
    linked: bool


def _filters(listing: Listing) -> dict[str, str]:
    """The facet values the request chose (only facets this listing has)."""
    names = {f.name for f in listing.facets}
    return {k: v for k, v in request.args.items() if k in names and v}


def _filter_pattern(listing: Listing, chosen: dict[str, str]) -> str:
    parts = []
    for facet in listing.facets:
        if facet.name in chosen:
            pattern = facet.pattern.replace("?v", f"?f_{facet.name}").replace("?meta", f"?meta_{facet.name}")
            pattern = pattern.replace("?wd", f"?wd_{facet.name}").replace("?t ", f"?t_{facet.name} ")
            parts.append(f"{pattern} FILTER (STR(?f_{facet.name}) = {sparql_string(chosen[facet.name])})")
    return "\n".join(parts)


def _href(slug: str, args: dict[str, str], **changes: str | None) -> str:
    merged = {**args, **changes}
    query = {k: v for k, v in merged.items() if v not in (None, "")}
    return f"/browse/{slug}" + ("?" + urlencode(query) if query else "")


@pages.get("/browse")
def browse_index() -> str:
    return render_template("browse_index.html", listings=list(BROWSE.values()))


@pages.get("/browse/<slug>")
def browse(slug: str) -> str:
    listing = BROWSE.get(slug)
    if listing is None:
        abort(404)
    site = _site()
    return cached(site, lambda: _browse(site, listing))


def _browse(site: Site, listing: Listing) -> str:
    slug = listing.slug
    chosen = _filters(listing)
    sort = request.args.get("sort") or listing.sorts[0]
    if sort not in listing.sorts:
        sort = listing.sorts[0]
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    per = PAGE_SIZE if request.args.get("per") not in {str(n) for n in PAGE_SIZES} else int(request.args["per"])
    where = f"{listing.pattern} .\n{_filter_pattern(listing, chosen)}"
    total_rows = select(site, f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}")
    total = int(total_rows[0]["n"].value) if total_rows else 0
    pages_count = max(1, math.ceil(total / per))
    page = min(page, pages_count)
    bind, order = SORTS[sort]
    rows = select(
        site,
        f"""SELECT ?x (SAMPLE(?l) AS ?label) (MAX(?k) AS ?key) WHERE {{
              {where}
              OPTIONAL {{ ?x rdfs:label ?l }}
              {bind}
            }} GROUP BY ?x ORDER BY {order} LCASE(STR(?label)) ?x
            LIMIT {per} OFFSET {(page - 1) * per}""",
    )
    shown = _details(site, [r["x"].value for r in rows])
    args = {k: v for k, v in request.args.items() if k != "page"}
    facets = []
    for facet in listing.facets:
        others = {k: v for k, v in chosen.items() if k != facet.name}
        label_pattern = facet.label_of or ""
        values = select(
            site,
            f"""SELECT ?v (SAMPLE(?vl) AS ?vlabel) (COUNT(DISTINCT ?x) AS ?n) WHERE {{
                  {listing.pattern} . {_filter_pattern(listing, others)}
                  {facet.pattern}
                  {label_pattern}
                }} GROUP BY ?v ORDER BY DESC(?n) ?v LIMIT 30""",
        )
        view = FacetView(facet)
        for v in values:
            raw = v["v"].value
            label = v["vlabel"].value if "vlabel" in v else (short(raw) if v["v"].is_iri else raw)
            if v["v"].is_iri and "vlabel" not in v:
                label = label.split(":", 1)[-1] if ":" in label and not label.startswith("http") else label
            on = chosen.get(facet.name) == raw
            href = _href(slug, args, **{facet.name: None if on else raw, "page": None})
            view.values.append(FacetValue(raw, label, int(v["n"].value), href, on))
        if view.values:
            facets.append(view)
    return render_template(
        "browse.html",
        listing=listing,
        listings=list(BROWSE.values()),
        rows=[shown[r["x"].value] for r in rows if r["x"].value in shown],
        total=total,
        page=page,
        pages_count=pages_count,
        first=(page - 1) * per + 1 if total else 0,
        last=min(total, page * per),
        per=per,
        sizes=[(n, _href(slug, args, per=str(n), page=None)) for n in PAGE_SIZES],
        sort=sort,
        sorts=[(s, _href(slug, args, sort=s, page=None)) for s in listing.sorts],
        facets=facets,
        chosen=chosen,
        clear={name: _href(slug, args, **{name: None, "page": None}) for name in chosen},
        previous=_href(slug, args, page=str(page - 1)) if page > 1 else None,
        next=_href(slug, args, page=str(page + 1)) if page < pages_count else None,
    )


def _details(site: Site, iris: list[str]) -> dict[str, Row]:
    """Label, counts, date and link status of the rows on one page (one query for the page)."""
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in iris)
    out: dict[str, Row] = {}
    for r in select(
        site,
        f"""SELECT ?x (SAMPLE(?l) AS ?label) (MAX(?m) AS ?mentions) (MAX(?a) AS ?articles) (MIN(?d) AS ?date)
                   (MAX(?wd) AS ?linked) WHERE {{
              VALUES ?x {{ {values} }}
              OPTIONAL {{ ?x rdfs:label ?l }}
              OPTIONAL {{ ?x kg:mentionCount|kg:eventMentionCount ?m }}
              OPTIONAL {{ ?x kg:articleCount|kg:supportingArticles ?a }}
              OPTIONAL {{ ?x schema:datePublished|(sem:hasTime/sem:hasEarliestBeginTimeStamp) ?d }}
              OPTIONAL {{ ?x owl:sameAs ?wd FILTER STRSTARTS(STR(?wd), "http://www.wikidata.org/entity/") }}
            }} GROUP BY ?x""",
    ):
        iri = r["x"].value
        out[iri] = Row(
            iri=iri,
            label=r["label"].value if "label" in r else short(iri),
            mentions=int(r["mentions"].value) if "mentions" in r else None,
            articles=int(r["articles"].value) if "articles" in r else None,
            date=r["date"].value[:10] if "date" in r else None,
            linked="linked" in r,
        )
    return out


# -- search -------------------------------------------------------------------------------------------

#: Ranks of a match, best first: the whole name, the start of the name, the start of a word, anywhere.
MATCH_RANKS = {0: "exact", 1: "prefix", 2: "word", 3: "substring"}
SEARCH_PAGE = 50


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    kind: str
    matched: str
    rank: int
    mentions: int

    @property
    def how(self) -> str:
        return MATCH_RANKS[self.rank]


def search_hits(site: Site, text: str, limit: int = 2000) -> list[Hit]:
    """Entities, events and articles whose label, other names or headline match, ranked.

    Exact name first, then names that start with the text, then names with a word that starts
    with it, then any other substring; within a rank, the most mentioned first.
    """
    needle = sparql_string(text.lower())
    rows = select(
        site,
        f"""SELECT ?x (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) (MIN(?r) AS ?rank) (SAMPLE(?name) AS ?matched)
                   (MAX(?n) AS ?mentions) WHERE {{
              VALUES ?t {{ kg:Person kg:Organization kg:Place kg:Event kg:ReportedEvent kg:Article }}
              ?x a ?t .
              {{ ?x rdfs:label ?name }} UNION {{ ?x skos:altLabel ?name }} UNION {{ ?x schema:headline ?name }}
              BIND (LCASE(STR(?name)) AS ?low)
              FILTER (CONTAINS(?low, {needle}))
              BIND (IF(?low = {needle}, 0, IF(STRSTARTS(?low, {needle}), 1,
                    IF(CONTAINS(CONCAT(" ", ?low), CONCAT(" ", {needle})), 2, 3))) AS ?r)
              OPTIONAL {{ ?x rdfs:label ?l }}
              OPTIONAL {{ ?x kg:mentionCount|kg:eventMentionCount ?n }}
            }} GROUP BY ?x ORDER BY ?rank DESC(?mentions) ?label LIMIT {limit}""",
    )
    kinds = {**ENTITY_TYPES, "https://w3id.org/newskg/ontology#ReportedEvent": Kind.EVENT,
             "https://w3id.org/newskg/ontology#Article": "Article"}
    return [
        Hit(
            iri=r["x"].value,
            label=r["label"].value if "label" in r else short(r["x"].value),
            kind=kinds.get(r["type"].value, "Other"),
            matched=r["matched"].value if "matched" in r else "",
            rank=int(r["rank"].value),
            mentions=int(r["mentions"].value) if "mentions" in r else 0,
        )
        for r in rows
    ]


@pages.get("/search")
def search() -> str:
    site = _site()
    return cached(site, lambda: _search(site))


def _search(site: Site) -> str:
    text = request.args.get("q", "").strip()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        page = 1
    hits = search_hits(site, text) if text else []
    pages_count = max(1, math.ceil(len(hits) / SEARCH_PAGE))
    page = min(page, pages_count)
    shown = hits[(page - 1) * SEARCH_PAGE : page * SEARCH_PAGE]
    return render_template(
        "search.html",
        q=text,
        hits=shown,
        total=len(hits),
        first=(page - 1) * SEARCH_PAGE + 1 if hits else 0,
        last=min(len(hits), page * SEARCH_PAGE),
        previous=f"/search?{urlencode({'q': text, 'page': page - 1})}" if page > 1 else None,
        next=f"/search?{urlencode({'q': text, 'page': page + 1})}" if page < pages_count else None,
    )


# -- map ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    iri: str
    label: str
    latitude: float
    longitude: float
    articles: int


def map_points(site: Site) -> tuple[list[Point], int]:
    """Places with coordinates, and how many places have none."""
    rows = select(
        site,
        """SELECT ?x (SAMPLE(?l) AS ?label) (SAMPLE(?lat) AS ?latitude) (SAMPLE(?lon) AS ?longitude)
                  (MAX(?n) AS ?articles) WHERE {
             ?x a kg:Place ; schema:geo ?g . ?g schema:latitude ?lat ; schema:longitude ?lon .
             OPTIONAL { ?x rdfs:label ?l } OPTIONAL { ?x kg:articleCount ?n }
           } GROUP BY ?x ORDER BY DESC(?articles) LIMIT 5000""",
    )
    points = []
    for r in rows:
        try:
            points.append(
                Point(
                    r["x"].value,
                    r["label"].value if "label" in r else short(r["x"].value),
                    float(r["latitude"].value),
                    float(r["longitude"].value),
                    int(r["articles"].value) if "articles" in r else 0,
                )
            )
        except ValueError:
            continue  # a coordinate that is not a number is left off the map, not guessed
    missing = select(
        site, "SELECT (COUNT(?x) AS ?n) WHERE { ?x a kg:Place FILTER NOT EXISTS { ?x schema:geo ?g } }"
    )
    return points, int(missing[0]["n"].value) if missing else 0


def tile_settings() -> dict[str, str] | None:
    """The tile layer the user configured (KG_MAP_TILES, a URL template; KG_MAP_ATTRIBUTION), or None."""
    url = os.environ.get("KG_MAP_TILES", "").strip()
    if not url:
        return None
    return {"url": url, "attribution": os.environ.get("KG_MAP_ATTRIBUTION", "")}


@pages.get("/map")
def places_map() -> str:
    site = _site()
    return cached(site, lambda: _places_map(site))


def _places_map(site: Site) -> str:
    points, missing = map_points(site)
    data = [
        {"label": p.label, "lat": p.latitude, "lon": p.longitude, "articles": p.articles,
         "href": local_path(site, p.iri) or p.iri}
        for p in points
    ]
    return render_template("map.html", points=points, data=data, missing=missing, tiles=tile_settings())
