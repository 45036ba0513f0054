"""Pages: the query page at /, and a page for every IRI the build minted (linked data).

A request path is read as an IRI under the configured base (GET /person/chad-g-carroll is
<base>person/chad-g-carroll). Browsers get HTML: entities with their mentions, the sentences that
are the evidence, the entities they are named with and a picture of that neighbourhood; articles
with their mentions highlighted in the text; anything else as a list of its statements. RDF clients
get Turtle, JSON-LD, N-Triples or RDF/XML by content negotiation. Every page reads the store through
the same SPARQL workers as the endpoint, so the same timeout protects them.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request
from markupsafe import Markup, escape

from .. import formats
from ..formats import Family
from ..model import Kind
from ..namespaces import ENTITY_CLASSES, KG, PREFIXES
from ..resources import ontology_files, query_files
from . import Site
from .neighbourhood import Neighbour, draw

if TYPE_CHECKING:
    from .browse import Hit
from .workers import Answer, Job, QueryTimeoutError, WorkerError, WorkersBusyError

pages = Blueprint("pages", __name__)

#: Other IRIs become links only with these schemes; any other (javascript:, data:, ...) is shown as text.
_LINKED_SCHEMES = ("http://", "https://", "mailto:")
_WIKIDATA = "http://www.wikidata.org/entity/"
_SAME_AS = {
    "http://www.w3.org/2002/07/owl#sameAs",
    "https://schema.org/sameAs",
    "http://www.w3.org/2004/02/skos/core#exactMatch",
}
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_DENOTED_BY = "http://groundedannotationframework.org/gaf#denotedBy"
_IS_STRING = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#isString"
ENTITY_TYPES = {str(KG[name]): name for name in ENTITY_CLASSES}
_ENTITY_CLASS_LIST = ", ".join(f"<{iri}>" for iri in ENTITY_TYPES)
#: The kind a node is drawn and listed as: an entity's class, and reported events with named ones.
_KINDS = {**ENTITY_TYPES, str(KG.ReportedEvent): Kind.EVENT}
#: Formats an RDF client can ask a page for (?format= or Accept).
PAGE_RDF = {"turtle", "jsonld", "ntriples", "rdfxml", "nquads", "trig"}


class PageError(Exception):
    """A page could not be made: the status and what to tell the reader."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- terms ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """An RDF term from a JSON result: an IRI, a blank node or a literal."""

    kind: str  # "uri", "bnode", "literal"
    value: str
    lang: str | None = None
    datatype: str | None = None

    @classmethod
    def of(cls, binding: dict) -> Term:
        kind = binding["type"]
        if kind == "typed-literal":
            kind = "literal"
        return cls(kind, binding["value"], binding.get("xml:lang"), binding.get("datatype"))

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"

    def __str__(self) -> str:
        return self.value


def short(iri: str) -> str:
    """A prefixed name when one of our prefixes fits, else the IRI."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and re.fullmatch(r"[\w.-]*", iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


@lru_cache(maxsize=1)
def vocabulary_labels() -> dict[str, str]:
    """English labels of the terms our ontology files declare (to name properties on pages)."""
    import pyoxigraph as ox

    labels: dict[str, str] = {}
    for path in ontology_files():
        try:
            quads = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
            for quad in quads:
                obj = quad.object
                english = obj.language in (None, "en") if isinstance(obj, ox.Literal) else False
                if quad.predicate.value == _RDFS_LABEL and (english or quad.subject.value not in labels):
                    labels[quad.subject.value] = obj.value
        except (OSError, SyntaxError):
            continue
    return labels


# -- reading the store through the workers -----------------------------------------------------------


def _site() -> Site:
    return current_app.extensions["newskg"]


def _run(site: Site, job: Job, timeout: float | None = None) -> Answer:
    try:
        answer = site.pool.run(job, timeout or site.policy.timeout)
    except QueryTimeoutError:
        raise PageError(503, f"reading the store took longer than {site.policy.timeout:g} s") from None
    except (WorkersBusyError, WorkerError) as exc:
        raise PageError(503, f"the store is busy or unavailable, try again shortly ({type(exc).__name__})") from None
    if answer.chunks is not None:
        answer.body = b"".join(answer.chunks)
        answer.chunks = None
    if answer.status != 200:
        raise PageError(503 if answer.status >= 500 else 500, (answer.body or b"").decode("utf-8", "replace"))
    return answer


def select(site: Site, query: str, timeout: float | None = None) -> list[dict[str, Term]]:
    """Rows of a SELECT, each a dict of the bound variables.

    Pages bound their own queries (LIMIT, one entity or article), so --max-rows, a limit for clients'
    queries, does not cut them: a page never leaves out rows without saying so.
    """
    answer = _run(site, Job(query, results_format="json", max_rows=0), timeout)
    data = json.loads(answer.body or b"{}")
    return [{k: Term.of(v) for k, v in row.items()} for row in data.get("results", {}).get("bindings", [])]


def ask(site: Site, query: str) -> bool:
    answer = _run(site, Job(query, results_format="json", max_rows=0))
    return bool(json.loads(answer.body or b"{}").get("boolean"))


# -- links -------------------------------------------------------------------------------------------


def local_path(site: Site, iri: str) -> str | None:
    """The path on this server that shows an IRI minted under the base, or None."""
    base = site.iris.base
    if iri.startswith(base) and len(iri) > len(base):
        return "/" + quote(iri[len(base) :], safe="/:@!$&'()*+,;=-._~#%")
    return None


def iri_for_path(site: Site, path: str) -> str:
    return site.iris.base + path


def sparql_iri(iri: str) -> str:
    """`<iri>` for a query, once Oxigraph agrees it is an IRI (nothing else is safe inside <...>)."""
    if not _valid_iri(iri):
        raise PageError(400, f"not an IRI: {iri[:200]}")
    return f"<{iri}>"


def link(site: Site, term: Term | str, label: str | None = None) -> Markup:
    """An HTML link to a term: our IRIs to their page here, others to themselves."""
    if isinstance(term, str):
        term = Term("uri", term)
    if term.kind == "literal":
        text = escape(term.value)
        if term.lang:
            return Markup(f'{text} <span class="lang">@{escape(term.lang)}</span>')
        if term.datatype and not term.datatype.endswith(("#string", "#integer", "#langString")):
            return Markup(f'{text} <span class="datatype">{escape(short(term.datatype))}</span>')
        return Markup(text)
    if term.kind == "bnode":
        return Markup(f'<span class="bnode">_:{escape(term.value)}</span>')
    here = local_path(site, term.value)
    # an IRI of ours with no label is shown as its path here (place/us#wikidata), not a long IRI
    shown = escape(label or (term.value[len(site.iris.base) :] if here else short(term.value)))
    if here:
        return Markup(f'<a href="{escape(here)}" title="{escape(term.value)}">{shown}</a>')
    if not term.value.lower().startswith(_LINKED_SCHEMES):
        return Markup(f'<span class="external" title="{escape(term.value)}">{shown}</span>')  # javascript:, data:, ...
    return Markup(f'<a class="external" href="{escape(term.value)}" rel="noopener">{shown}</a>')


# -- what a page shows ----------------------------------------------------------------------------------


@dataclass
class Statement:
    prop: str
    values: list[tuple[Term, str | None]] = field(default_factory=list)  # value, its label


def _statements(rows: Iterable[dict[str, Term]], key: str = "p", value: str = "o") -> list[Statement]:
    grouped: dict[str, Statement] = {}
    for row in rows:
        prop = row[key].value
        statement = grouped.setdefault(prop, Statement(prop))
        label = row["label"].value if "label" in row else None
        item = (row[value], label)
        if item not in statement.values:
            statement.values.append(item)
    order = {_RDF_TYPE: 0, _RDFS_LABEL: 1}
    for statement in grouped.values():  # the same page every time: values in a stable order
        statement.values.sort(key=lambda item: ((item[1] or item[0].value).casefold(), item[0].value))
    return sorted(grouped.values(), key=lambda s: (order.get(s.prop, 2), short(s.prop)))


def outgoing(site: Site, iri: str, skip: Iterable[str] = ()) -> list[Statement]:
    skipped = " ".join(f"<{p}>" for p in skip)
    rows = select(
        site,
        f"""SELECT ?p ?o (SAMPLE(?l) AS ?label) WHERE {{
              <{iri}> ?p ?o .
              {f"FILTER (?p NOT IN ({', '.join(f'<{p}>' for p in skip)}))" if skipped else ""}
              OPTIONAL {{ ?o rdfs:label ?l }}
            }} GROUP BY ?p ?o LIMIT 2000""",
    )
    return _statements(rows)


def incoming(site: Site, iri: str, skip: Iterable[str] = (), limit: int = 200) -> list[Statement]:
    """Statements whose object is `iri` (events naming an actor, say), grouped by property."""
    skipped = list(skip)
    rows = select(
        site,
        f"""SELECT ?p ?o (SAMPLE(?l) AS ?label) WHERE {{
              ?o ?p <{iri}> .
              {f"FILTER (?p NOT IN ({', '.join(f'<{p}>' for p in skipped)}))" if skipped else ""}
              OPTIONAL {{ ?o rdfs:label ?l }}
            }} GROUP BY ?p ?o LIMIT {limit}""",
    )
    return _statements(rows)


@dataclass
class Mention:
    iri: str
    anchor: str
    begin: int
    end: int
    sentence: str | None
    sentence_begin: int | None

    def sentence_html(self) -> Markup:
        """The sentence with the mention's words marked; the words alone when there is none."""
        if self.sentence is None or self.sentence_begin is None:
            return Markup(f"<mark>{escape(self.anchor)}</mark>")
        start = self.begin - self.sentence_begin
        stop = self.end - self.sentence_begin
        text = self.sentence
        if not (0 <= start <= stop <= len(text)):
            return Markup(escape(text))
        return Markup(f"{escape(text[:start])}<mark>{escape(text[start:stop])}</mark>{escape(text[stop:])}")


@dataclass
class ArticleMentions:
    article: str
    title: str
    published: str | None
    mentions: list[Mention] = field(default_factory=list)


def entity_mentions(site: Site, iri: str, page: int = 1, size: int = 100) -> tuple[list[ArticleMentions], int]:
    """One page of an entity's mentions with their sentences, grouped by article (newest first), and
    how many mentions it has in all.

    The page is chosen first from what orders it (article, date, offset), then only its own mentions
    are read in full: sorting every mention with its sentence text took four times as long from disk.
    """
    node = sparql_iri(iri)
    counted = select(site, f"SELECT (COUNT(?m) AS ?n) WHERE {{ {node} gaf:denotedBy ?m }}")
    total = int(counted[0]["n"].value) if counted else 0
    chosen = select(
        site,
        f"""SELECT ?m ?article ?begin ?published WHERE {{
              {node} gaf:denotedBy ?m . ?m nif:referenceContext ?article ; nif:beginIndex ?begin .
              OPTIONAL {{ ?article schema:datePublished ?published }}
            }} ORDER BY DESC(?published) ?article ?begin LIMIT {size} OFFSET {(page - 1) * size}""",
    )
    if not chosen:
        return [], total
    values = _values(row["m"].value for row in chosen)
    details = {
        row["m"].value: row
        for row in select(
            site,
            f"""SELECT ?m ?anchor ?end ?sentence ?sb ?title WHERE {{ VALUES ?m {{ {values} }}
                  ?m nif:endIndex ?end ; nif:referenceContext ?article .
                  OPTIONAL {{ ?m nif:anchorOf ?anchor }}
                  OPTIONAL {{ ?m nif:sentence ?s . ?s nif:anchorOf ?sentence ; nif:beginIndex ?sb }}
                  OPTIONAL {{ ?article rdfs:label ?title }} }}""",
        )
    }
    articles: dict[str, ArticleMentions] = {}
    for row in chosen:
        detail = details.get(row["m"].value, {})
        article = row["article"].value
        group = articles.get(article)
        if group is None:
            title = detail["title"].value if "title" in detail else article
            published = row["published"].value if "published" in row else None
            group = articles[article] = ArticleMentions(article, title, published)
        begin = int(row["begin"].value)
        group.mentions.append(
            Mention(
                row["m"].value,
                detail["anchor"].value if "anchor" in detail else "",
                begin,
                int(detail["end"].value) if "end" in detail else begin,
                detail["sentence"].value if "sentence" in detail else None,
                int(detail["sb"].value) if "sb" in detail else None,
            )
        )
    return list(articles.values()), total


@dataclass
class Neighbourhood:
    """The entities named most often with one entity, and how often they are named with each other."""

    neighbours: list[Neighbour]
    links: list[tuple[int, int, int]]  # (i, j, shared sentences) between neighbours, by index


def neighbourhood(site: Site, iri: str, limit: int = 12) -> Neighbourhood:
    """The entities named most often with this one (shared sentences first, then shared articles) and
    the sentences they share with each other: the table and the picture of an entity page.

    Read in plain steps that each touch only what they need: this entity's articles and sentences;
    the mentions in those sentences (the candidates, by shared sentences); for the best candidates,
    their own articles and sentences (shared articles, and the lines between neighbours). Only an
    entity named with fewer than `limit` others in its sentences looks further, at every entity in its
    articles. One query that paired every mention with every other mention of the same article took
    seconds from disk for a country named in half of 300 articles.
    """
    node = sparql_iri(iri)
    mine = select(
        site,
        f"""SELECT DISTINCT ?a ?s WHERE {{ {node} gaf:denotedBy ?m . ?m nif:referenceContext ?a .
              OPTIONAL {{ ?m nif:sentence ?s }} }}""",
    )
    articles = {row["a"].value for row in mine}
    sentences = {row["s"].value for row in mine if "s" in row}
    if not articles:
        return Neighbourhood([], [])
    together: dict[str, set[str]] = defaultdict(set)  # candidate -> sentences shared with this entity
    if sentences:
        for row in select(
            site,
            f"""SELECT DISTINCT ?other ?s WHERE {{ VALUES ?s {{ {_values(sentences)} }}
                  ?m nif:sentence ?s . ?other gaf:denotedBy ?m }}""",
        ):
            if row["other"].value != iri:
                together[row["other"].value].add(row["s"].value)
    ranked = sorted(together, key=lambda o: (-len(together[o]), o))
    if len(ranked) < limit:  # few named in its sentences: the rest of its articles' entities too
        for row in select(
            site,
            f"""SELECT DISTINCT ?other WHERE {{ VALUES ?a {{ {_values(articles)} }}
                  ?m nif:referenceContext ?a . ?other gaf:denotedBy ?m }}""",
        ):
            if row["other"].value != iri and row["other"].value not in together:
                ranked.append(row["other"].value)
    if len(ranked) > limit:  # shared articles break ties: keep everyone tied with the last place
        cut = len(together[ranked[limit - 1]])
        ranked = [o for o in ranked if len(together[o]) >= cut][: limit * 3] or ranked[:limit]
    if not ranked:
        return Neighbourhood([], [])
    their_articles: dict[str, set[str]] = defaultdict(set)
    their_sentences: dict[str, set[str]] = defaultdict(set)
    named: dict[str, dict[str, Term]] = {}
    for row in select(
        site,
        f"""SELECT ?x ?a ?s WHERE {{ VALUES ?x {{ {_values(ranked)} }}
              ?x gaf:denotedBy ?m . ?m nif:referenceContext ?a . OPTIONAL {{ ?m nif:sentence ?s }} }}""",
    ):
        their_articles[row["x"].value].add(row["a"].value)
        if "s" in row:
            their_sentences[row["x"].value].add(row["s"].value)
    for row in select(
        site,
        f"""SELECT ?x (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) WHERE {{ VALUES ?x {{ {_values(ranked)} }}
              OPTIONAL {{ ?x rdfs:label ?l }}
              OPTIONAL {{ ?x a ?t FILTER (?t IN ({_ENTITY_CLASS_LIST}, kg:ReportedEvent)) }}
            }} GROUP BY ?x""",
    ):
        named[row["x"].value] = row
    neighbours = sorted(
        (
            Neighbour(
                iri=other,
                label=named[other]["label"].value if "label" in named.get(other, {}) else short(other),
                kind=_KINDS.get(named[other]["type"].value, "Other") if "type" in named.get(other, {}) else "Other",
                sentences=len(together[other]),
                articles=len(their_articles[other] & articles),
            )
            for other in ranked
        ),
        key=lambda n: (-n.sentences, -n.articles, n.label),
    )[:limit]
    links = []
    for i, a in enumerate(neighbours):
        for j in range(i + 1, len(neighbours)):
            shared = len(their_sentences[a.iri] & their_sentences[neighbours[j].iri])
            if shared:
                links.append((i, j, shared))
    return Neighbourhood(neighbours, links)


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{iri}>" for iri in sorted(iris))


@dataclass
class Highlight:
    begin: int
    end: int
    mention: str
    kind: str  # Person, Organization, Place, Event, Group
    entity: str | None
    label: str | None


#: Which mentions an article page marks, and as what: a mention's class to the kind it is shown as
#: (entity mentions take their entity's class instead).
HIGHLIGHTED = {
    str(KG.EntityMention): "",
    str(KG.GroupMention): Kind.GROUP,
    str(KG.EventMention): "Trigger",
    str(KG.TimeMention): "Date",
}


def article_highlights(site: Site, iri: str) -> list[Highlight]:
    """Every mention in the article: entities, groups, event triggers (to their event) and dates."""
    classes = ", ".join(f"<{c}>" for c in HIGHLIGHTED)
    rows = select(
        site,
        f"""SELECT ?m ?begin ?end ?class ?entity
                   (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) (SAMPLE(?g) AS ?group)
                   (SAMPLE(?tb) AS ?timeBegin) (SAMPLE(?te) AS ?timeEnd) WHERE {{
              ?m nif:referenceContext {sparql_iri(iri)} ; a ?class ; nif:beginIndex ?begin ; nif:endIndex ?end .
              FILTER (?class IN ({classes}))
              OPTIONAL {{ ?entity gaf:denotedBy ?m . OPTIONAL {{ ?entity rdfs:label ?l }} OPTIONAL {{ ?entity a ?t }} }}
              OPTIONAL {{ ?m kg:resolvedName ?g }}
              OPTIONAL {{ ?m kg:timeValue ?tv . OPTIONAL {{ ?tv sem:hasEarliestBeginTimeStamp ?tb }}
                         OPTIONAL {{ ?tv sem:hasLatestEndTimeStamp ?te }} }}
            }} GROUP BY ?m ?begin ?end ?class ?entity ORDER BY ?begin""",
    )
    out = []
    for row in rows:
        kind = HIGHLIGHTED[row["class"].value]
        if not kind:
            kind = ENTITY_TYPES.get(row["type"].value, "Other") if "type" in row else "Other"
        label = row["label"].value if "label" in row else (row["group"].value if "group" in row else None)
        if kind == "Date" and "timeBegin" in row:
            begin, end = row["timeBegin"].value, row["timeEnd"].value if "timeEnd" in row else None
            label = begin if not end or end == begin else f"{begin} – {end}"
        out.append(
            Highlight(
                int(row["begin"].value),
                int(row["end"].value),
                row["m"].value,
                kind,
                row["entity"].value if "entity" in row else None,
                label,
            )
        )
    return out


def highlighted_text(site: Site, text: str, highlights: list[Highlight]) -> Markup:
    """The article's text, escaped, with each mention wrapped in a link to its entity."""
    parts: list[str] = []
    position = 0
    for h in sorted(highlights, key=lambda h: (h.begin, -h.end)):
        if h.begin < position or h.end > len(text) or h.begin >= h.end:
            continue  # overlapping or out of range: keep the text true
        parts.append(str(escape(text[position : h.begin])))
        fragment = h.mention.rsplit("#", 1)[-1] if "#" in h.mention else ""
        words = escape(text[h.begin : h.end])
        title = escape(f"{h.kind}: {h.label}" if h.label else h.kind)
        target = local_path(site, h.entity) if h.entity else None
        if target:
            parts.append(
                f'<a class="mention {h.kind.lower()}" id="{escape(fragment)}" href="{escape(target)}" '
                f'title="{title}">{words}</a>'
            )
        else:
            parts.append(
                f'<span class="mention {h.kind.lower()}" id="{escape(fragment)}" title="{title}">{words}</span>'
            )
        position = h.end
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts))


def wikidata_links(statements: list[Statement]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(IRI, QID, confidence-like statements) for every Wikidata entity the node is said to be."""
    found = []
    for statement in statements:
        if statement.prop in _SAME_AS:
            for value, _ in statement.values:
                if value.value.startswith(_WIKIDATA):
                    found.append((value.value, value.value[len(_WIKIDATA) :]))
    confidence = [
        (short(s.prop), s.values[0][0].value)
        for s in statements
        if "confidence" in s.prop.lower() and s.values and s.values[0][0].kind == "literal"
    ]
    return [(iri, qid, confidence) for iri, qid in found]


# -- representation ---------------------------------------------------------------------------------


def wants_rdf() -> str | None:
    """The RDF format the client asked for (?format= or Accept, by kg.formats' names), or None for HTML.

    Only an RDF type the client names itself counts, and only above its weight for HTML: a browser's
    `*/*` gets the page."""
    named = request.args.get("format")
    if named:
        found = formats.find(named, Family.RDF)
        return found.name if found is not None and found.name in PAGE_RDF else None
    ranges = formats.parse_accept(request.headers.get("Accept"))
    best_html = max((q for m, q in ranges if m in ("text/html", "application/xhtml+xml")), default=0.0)
    best: tuple[float, str] | None = None
    for media, q in ranges:
        found = formats.by_media_type(media, Family.RDF)
        if found is not None and found.name in PAGE_RDF and q > best_html and (best is None or q > best[0]):
            best = (q, found.name)
    return best[1] if best else None


def rdf_response(site: Site, query: str, fmt: str) -> Response:
    answer = _run(site, Job(query, results_format=None, graph_format=fmt, max_rows=0))
    content_type = dict(answer.headers).get("Content-Type", "text/turtle")
    response = Response(answer.body, status=200, content_type=content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def describe_query(site: Site, iri: str, kind: str) -> str:
    if kind == "Article":
        digest = iri.rsplit("/", 1)[-1]
        graph = site.iris.article_graph(digest)
        return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    return f"CONSTRUCT {{ <{iri}> ?p ?o . ?s ?q <{iri}> }} WHERE {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?q <{iri}> }} }}"


# -- routes -----------------------------------------------------------------------------------------


#: The query the page opens with: it runs on any store.
DEFAULT_QUERY = "store-overview"

#: Canned queries that name an entity in VALUES, and how to find this store's own example for them
#: (the files name one from the seeds, which another corpus may not have). Each query binds the
#: VALUES variables by name.
CANNED_EXAMPLES = {
    "articles-mentioning": """SELECT ?name WHERE { ?x a kg:Person ; kg:mentionCount ?n ; rdfs:label ?name }
                              ORDER BY DESC(?n) ?name LIMIT 1""",
    "entity-profile": """SELECT ?name WHERE { ?x a kg:Organization ; kg:mentionCount ?n ; rdfs:label ?name }
                         ORDER BY DESC(?n) ?name LIMIT 1""",
    "events-involving": """SELECT ?name (COUNT(?e) AS ?n) WHERE { ?e a kg:ReportedEvent ; kg:role/rdf:value ?v .
                             ?v rdfs:label ?name } GROUP BY ?name ORDER BY DESC(?n) ?name LIMIT 1""",
    "event-evidence": """SELECT ?eventType ?name WHERE { ?e a kg:ReportedEvent ; kg:eventType ?eventType ;
                           kg:supportingArticles ?n ; kg:role/rdf:value/rdfs:label ?name }
                         ORDER BY DESC(?n) ?name LIMIT 1""",
}
_VALUES = re.compile(r"VALUES\s*(\?\w+|\([?\w\s]+\))\s*\{[^}]*\}")


def canned_queries() -> list[dict[str, str]]:
    """The queries in queries/: name, the first comment line as a title, the text, and the variable a
    name box fills (`parameter`, for queries that name an entity in VALUES ?name)."""
    out = []
    for path in query_files():
        text = path.read_text(encoding="utf-8")
        comments = [line.lstrip("# ").rstrip() for line in text.splitlines() if line.startswith("#")]
        title = comments[0].split(":", 1)[0] if comments else path.stem
        values = _VALUES.search(text)
        parameter = "name" if values and "?name" in values.group(1) else ""
        out.append({"name": path.stem, "title": title, "about": " ".join(comments), "text": text,
                    "parameter": parameter})
    out.sort(key=lambda q: (q["name"] != DEFAULT_QUERY, q["name"]))
    return out


def sparql_term(term: Term) -> str:
    """A term as SPARQL text (for a VALUES row)."""
    if term.is_iri:
        return sparql_iri(term.value)
    return sparql_string(term.value)


def with_store_examples(site: Site, queries: list[dict[str, str]]) -> list[dict[str, str]]:
    """The canned queries with their VALUES naming this store's own example (CANNED_EXAMPLES), so each
    one shows rows on any corpus; the file's own example stays when the store has none."""
    out = []
    for query in queries:
        finder = CANNED_EXAMPLES.get(query["name"])
        values = _VALUES.search(query["text"])
        if finder and values:
            rows = select(site, finder, timeout=min(site.policy.timeout, 5))
            names = re.findall(r"\?(\w+)", values.group(1))
            if rows and all(n in rows[0] for n in names):
                row = " ".join(sparql_term(rows[0][n]) for n in names)
                if len(names) == 1:
                    block = f"VALUES ?{names[0]} {{ {row} }}"
                else:
                    block = f"VALUES ({' '.join('?' + n for n in names)}) {{ ({row}) }}"
                query = {**query, "text": query["text"][: values.start()] + block + query["text"][values.end() :]}
        out.append(query)
    return out


@pages.get("/")
def index() -> str:
    site = _site()
    return cached(site, lambda: _index(site))


def _index(site: Site) -> str:
    try:
        counts = {
            row["type"].value: int(row["n"].value)
            for row in select(
                site,
                """SELECT ?type (COUNT(?x) AS ?n) WHERE {
                     VALUES ?type { kg:Article kg:Person kg:Organization kg:Place kg:Event kg:ReportedEvent } ?x a ?type
                   } GROUP BY ?type""",
                timeout=min(site.policy.timeout, 5),
            )
        }
        top = select(
            site,
            """SELECT ?e ?label ?type ?n WHERE {
                 VALUES ?type { kg:Person kg:Organization kg:Place kg:Event }
                 ?e a ?type ; kg:mentionCount ?n ; rdfs:label ?label .
               } ORDER BY DESC(?n) ?label LIMIT 12""",
            timeout=min(site.policy.timeout, 5),
        )
        queries = with_store_examples(site, canned_queries())
    except PageError:
        counts, top, queries = {}, [], canned_queries()
    return render_template(
        "query.html",
        queries=queries,
        default_query=DEFAULT_QUERY,
        counts=_kind_counts(counts),
        top=[(row, ENTITY_TYPES.get(row["type"].value, "Other")) for row in top],
        base=site.iris.base,
        prefixes=PREFIXES,
        updates=bool(site.policy.update_token),
        timeout=site.policy.timeout,
        max_rows=site.settings.max_rows,
    )


def _kind_counts(counts: dict[str, int]) -> dict[str, int]:
    """Counts per kind shown on the home page: named and reported events together."""
    out: dict[str, int] = {}
    for type_iri, n in counts.items():
        kind = ENTITY_TYPES.get(type_iri) or (Kind.EVENT if type_iri == str(KG.ReportedEvent) else "Article")
        out[kind] = out.get(kind, 0) + n
    return out


@pages.get("/queries/<name>.rq")
def query_text(name: str) -> Response:
    for query in canned_queries():
        if query["name"] == name:
            return Response(query["text"], content_type="application/sparql-query; charset=utf-8")
    abort(404)


@pages.get("/health")
def health() -> tuple[Response, int]:
    site = _site()
    try:
        ok = ask(site, "ASK { }")
    except PageError as exc:
        return jsonify(status="unavailable", reason=exc.message, workers=site.pool.size), 503
    return jsonify(
        status="ok" if ok else "unavailable",
        store=str(site.settings.store),
        workers=site.pool.size,
        store_version=site.pool.generation,
        updates=bool(site.policy.update_token),
    ), 200


def sparql_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def _valid_iri(iri: str) -> bool:
    """True when Oxigraph takes the IRI: nothing else can be stored, and nothing else is safe inside <...>."""
    import pyoxigraph as ox

    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


@pages.get("/<path:path>")
def resource(path: str) -> Response | str:
    """Whatever the base IRI + path names: an entity, an event, an article, a graph or any other node.

    `?part=fragment` shows the hash node `<base + path#fragment>` (a browser never sends the fragment).
    An IRI an entity had before it was merged or re-typed redirects (301) to the entity's IRI now.
    """
    site = _site()
    part = request.args.get("part")
    iri = iri_for_path(site, path) + (f"#{part}" if part else "")
    if not _valid_iri(iri):
        abort(404)
    types = [row["t"].value for row in select(site, f"SELECT DISTINCT ?t WHERE {{ <{iri}> a ?t }}")]
    if not types and not ask(site, f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"):
        if part:
            abort(404)
        moved = replaced_by(site, iri)
        if moved:
            target = local_path(site, moved) or moved
            query = request.query_string.decode("latin-1")
            return redirect(target + (f"?{query}" if query else ""), code=301)  # type: ignore[return-value]
        if ask(site, f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"):
            return graph_page(site, iri)
        return render_template(  # type: ignore[return-value]
            "missing.html", iri=iri, suggestions=near_matches(site, path)
        ), 404
    kind = next((ENTITY_TYPES[t] for t in types if t in ENTITY_TYPES), None)
    if kind is None and str(KG.Article) in types:
        kind = "Article"
    if kind is None and str(KG.ReportedEvent) in types:
        kind = "ReportedEvent"
    fmt = wants_rdf()
    if fmt:
        return rdf_response(site, describe_query(site, iri, kind or ""), fmt)
    if part:
        return resource_page(site, iri)
    make = PAGE_KINDS.get(kind or "", resource_page)
    return cached(site, lambda: make(site, iri, kind or ""))


def cached(site: Site, make: Callable[[], str]) -> str:
    """The page from the cache when the store has not changed since it was made, else made now.

    Keyed by the store's generation (bumped by the workers when the store's files change or an update
    is made here) and the request's path and query, so a page is never older than the store.
    """
    cache: PageCache = current_app.extensions["newskg.page-cache"]
    key = (site.pool.generation, request.full_path)
    page = cache.get(key)
    if page is None:
        page = make()
        cache.put(key, page)
    return page


class PageCache:
    """The last pages made, by (store generation, path): a bounded LRU shared by the request threads.

    Bounded in pages and in characters (a busy entity's page is a few hundred kB), so it cannot grow
    past a few tens of MB whatever is asked for.
    """

    def __init__(self, size: int = 512, chars: int = 32_000_000) -> None:
        import threading
        from collections import OrderedDict

        self.size = size
        self.chars = chars
        self._held = 0
        self._pages: OrderedDict[tuple[int, str], str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple[int, str], page: str) -> None:
        if len(page) > self.chars // 8:
            return  # one huge page would push out everything else
        with self._lock:
            for stale in [k for k in self._pages if k[0] != key[0]]:  # a new generation: never served again
                self._held -= len(self._pages.pop(stale))
            if key in self._pages:
                self._held -= len(self._pages.pop(key))
            self._pages[key] = page
            self._held += len(page)
            while len(self._pages) > self.size or self._held > self.chars:
                self._held -= len(self._pages.popitem(last=False)[1])


@pages.record_once
def _make_cache(state: object) -> None:
    """The page cache; and the ontology's labels, parsed from its files now rather than on the time
    of the first visitor's page."""
    state.app.extensions["newskg.page-cache"] = PageCache()  # type: ignore[attr-defined]
    vocabulary_labels()


def replaced_by(site: Site, iri: str) -> str | None:
    """The entity that now stands for an IRI merged into it or re-typed (kg:replacesEntity), if any."""
    rows = select(
        site,
        f"""SELECT ?entity WHERE {{
              ?link kg:replacesEntity ?old . FILTER (STR(?old) = {sparql_string(iri)})
              ?entity kg:wikidataLink ?link }} LIMIT 1""",
    )
    return rows[0]["entity"].value if rows else None


def near_matches(site: Site, path: str, limit: int = 8) -> list[Hit]:
    """Entities whose names are near the words of a path that named nothing."""
    from .browse import search_hits

    slug = path.rstrip("/").rsplit("/", 1)[-1]
    words = [w for w in re.split(r"[^\w]+", slug.split("#")[0]) if len(w) > 1][:4]
    if not words:
        return []
    hits = search_hits(site, " ".join(words), limit=limit)
    if len(hits) < limit and len(words) > 1:  # no name holds them all: the longest word alone
        seen = {h.iri for h in hits}
        hits += [h for h in search_hits(site, max(words, key=len), limit=limit) if h.iri not in seen]
    return hits[:limit]


def _common(site: Site, iri: str, statements: list[Statement]) -> dict:
    labels = [v.value for s in statements if s.prop == _RDFS_LABEL for v, _ in s.values]
    here = local_path(site, iri) or "/"
    return {
        "iri": iri,
        "label": labels[0] if labels else short(iri),
        "statements": statements,
        "names": vocabulary_labels(),
        "short": short,
        "link": lambda term, label=None: link(site, term, label),
        "local": lambda term: local_path(site, term) or term,
        "turtle": _as(here, "turtle"),
        "jsonld": _as(here, "jsonld"),
        "wikidata": wikidata_links(statements),
    }


def _as(here: str, fmt: str) -> str:
    """The address of a page's RDF: ?format=, and ?part= for a hash node (its fragment is never sent)."""
    path, _, fragment = here.partition("#")
    return f"{path}?{urlencode({'part': fragment, 'format': fmt} if fragment else {'format': fmt})}"


#: Mentions an entity page shows at a time (?mentions=N is the page).
MENTIONS_PAGE = 100


def entity_page(site: Site, iri: str, kind: str) -> str:
    statements = outgoing(site, iri, skip=[_DENOTED_BY])
    try:
        mention_page = max(1, int(request.args.get("mentions", "1")))
    except ValueError:
        mention_page = 1
    mentions, total = entity_mentions(site, iri, page=mention_page, size=MENTIONS_PAGE)
    near = neighbourhood(site, iri)
    neighbours = near.neighbours
    picture = draw(
        Neighbour(iri, _common(site, iri, statements)["label"], kind, 0, 0),
        neighbours,
        near.links,
        href=lambda i: local_path(site, i),
    )
    decision = trace.link_decision(site, iri)
    shown_parts = {decision.iri} if decision else set()
    shown_parts |= {c.iri for c in decision.candidates} if decision else set()
    here = local_path(site, iri) or "/"
    pages_count = max(1, -(-total // MENTIONS_PAGE))
    return render_template(
        "entity.html",
        kind=kind,
        mentions=mentions,
        mention_total=total,
        mention_page=mention_page,
        mention_pages=pages_count,
        mention_first=(mention_page - 1) * MENTIONS_PAGE + 1,
        mention_last=min(total, mention_page * MENTIONS_PAGE),
        mention_href=lambda n: f"{here}?mentions={n}#mentions",
        neighbours=neighbours,
        picture=picture,
        decision=decision,
        parts=[p for p in trace.parts(site, iri) if p.iri not in shown_parts],
        events=events.events_involving(site, iri),
        timeline=f"/timeline?{urlencode({'entity': iri})}",
        referenced=incoming(site, iri),
        **_common(site, iri, statements),
    )


def event_page(site: Site, iri: str, kind: str = "ReportedEvent") -> str:
    statements = outgoing(site, iri, skip=[_DENOTED_BY])
    view = events.event_view(site, iri)
    return render_template(
        "event.html",
        event=view,
        parts=trace.parts(site, iri),
        timeline=f"/timeline?{urlencode({'focus': iri})}",
        referenced=incoming(site, iri),
        **_common(site, iri, statements),
    )


def article_page(site: Site, iri: str, kind: str = "Article") -> str:
    statements = outgoing(site, iri)
    text = next((v.value for s in statements if s.prop == _IS_STRING for v, _ in s.values), "")
    shown = [s for s in statements if s.prop != _IS_STRING]
    highlights = article_highlights(site, iri)
    entities: dict[str, dict[str, tuple[str, str, int]]] = defaultdict(dict)
    for h in highlights:
        if h.entity and h.kind in ENTITY_TYPES.values():
            label, kind, count = entities[h.kind].get(h.entity, (h.label or short(h.entity), h.kind, 0))
            entities[h.kind][h.entity] = (label, kind, count + 1)
    published = next((v.value for s in statements if s.prop.endswith("datePublished") for v, _ in s.values), None)
    return render_template(
        "article.html",
        text=highlighted_text(site, text, highlights),
        mention_count=sum(h.kind not in ("Trigger", "Date") for h in highlights),
        entities={k: sorted(v.items(), key=lambda item: (-item[1][2], item[1][0])) for k, v in entities.items()},
        kinds=[k for k in LEGEND if any(h.kind == k for h in highlights)],
        legend=LEGEND,
        events=events.article_events(site, iri),
        parts=trace.parts(site, iri, skip_prefixes=("char=", "event=", "sentence=", "time=")),
        published=published,
        **_common(site, iri, shown),
    )


#: The article legend: the kinds of marked words, as named to readers.
LEGEND = {
    Kind.PERSON: Kind.PERSON,
    Kind.ORGANIZATION: "Organisation",
    Kind.PLACE: Kind.PLACE,
    Kind.EVENT: "Named event",
    Kind.GROUP: "Group (NORP)",
    "Trigger": "Event trigger",
    "Date": "Date",
}


def resource_page(site: Site, iri: str, kind: str = "") -> str:
    statements = outgoing(site, iri)
    parent = iri.split("#", 1)[0] if "#" in iri else None
    return render_template(
        "resource.html",
        referenced=incoming(site, iri),
        parts=trace.parts(site, iri),
        parent=parent,
        parent_path=local_path(site, parent) if parent else None,
        **_common(site, iri, statements),
    )


def graph_page(site: Site, iri: str) -> str:
    """A named graph (the corpus graph, an article's graph): its size and the runs that wrote it."""
    size = select(site, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}")
    runs = []
    for row in select(
        site,
        f"""SELECT DISTINCT ?run WHERE {{ VALUES ?t {{ kg:Resolution kg:Linking kg:Extraction }}
              ?run a ?t FILTER (STRSTARTS(STR(?run), {sparql_string(iri + "#")})) }} ORDER BY ?run""",
    ):
        run = row["run"].value
        statements = outgoing(site, run)
        types = [v.value for s in statements if s.prop == _RDF_TYPE for v, _ in s.values]
        labels = [v.value for s in statements if s.prop == _RDFS_LABEL for v, _ in s.values]
        runs.append(
            trace.Run(
                iri=run,
                label=labels[0] if labels else short(run),
                statements=statements,
                figures=trace.run_figures(site, run, types),
            )
        )
    return render_template(
        "graph.html",
        size=int(size[0]["n"].value) if size else 0,
        runs=runs,
        **_common(site, iri, []),
    )


#: Which page shows which kind of node.
PAGE_KINDS: dict[str, Callable[..., str]] = {
    **{kind: entity_page for kind in ENTITY_TYPES.values()},
    "ReportedEvent": event_page,
    "Article": article_page,
}


@pages.app_template_filter("local")
def local_filter(iri: str) -> str:
    """An IRI as the path of its page here, when it is one of ours."""
    return local_path(_site(), iri) or iri


@pages.app_errorhandler(PageError)
def page_error(error: PageError) -> tuple[str, int]:
    return render_template("error.html", status=error.status, message=error.message), error.status


@pages.app_errorhandler(404)
def not_found(error: object) -> tuple[str, int]:
    return render_template("error.html", status=404, message="There is no page here."), 404


# The other page modules add their routes to this blueprint and use the helpers above.
from . import browse, events, trace  # noqa: E402, F401
