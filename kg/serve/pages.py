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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from markupsafe import Markup, escape

from ..namespaces import ENTITY_CLASSES, KG, PREFIXES
from ..resources import ontology_files, query_files
from . import Site
from .neighbourhood import Neighbour, draw
from .sparql import GRAPH_MEDIA, parse_accept
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
    shown = escape(label or short(term.value))
    here = local_path(site, term.value)
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


def entity_mentions(site: Site, iri: str, limit: int = 500) -> tuple[list[ArticleMentions], int]:
    """Every mention of an entity with its sentence, grouped by article (newest first)."""
    rows = select(
        site,
        f"""SELECT ?m ?anchor ?begin ?end ?sentence ?sb ?article ?title ?published WHERE {{
              <{iri}> gaf:denotedBy ?m .
              ?m nif:referenceContext ?article ; nif:beginIndex ?begin ; nif:endIndex ?end .
              OPTIONAL {{ ?m nif:anchorOf ?anchor }}
              OPTIONAL {{ ?m nif:sentence ?s . ?s nif:anchorOf ?sentence ; nif:beginIndex ?sb }}
              OPTIONAL {{ ?article rdfs:label ?title }}
              OPTIONAL {{ ?article schema:datePublished ?published }}
            }} ORDER BY DESC(?published) ?article ?begin LIMIT {limit + 1}""",
    )
    articles: dict[str, ArticleMentions] = {}
    for row in rows[:limit]:
        article = row["article"].value
        group = articles.get(article)
        if group is None:
            title = row["title"].value if "title" in row else article
            published = row["published"].value if "published" in row else None
            group = articles[article] = ArticleMentions(article, title, published)
        group.mentions.append(
            Mention(
                row["m"].value,
                row["anchor"].value if "anchor" in row else "",
                int(row["begin"].value),
                int(row["end"].value),
                row["sentence"].value if "sentence" in row else None,
                int(row["sb"].value) if "sb" in row else None,
            )
        )
    return list(articles.values()), len(rows)


def co_mentioned(site: Site, iri: str, limit: int = 12) -> list[Neighbour]:
    """The entities named most often with this one: shared sentences first, then shared articles."""
    rows = select(
        site,
        f"""SELECT ?other (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type)
                   (COUNT(DISTINCT ?s) AS ?sentences) (COUNT(DISTINCT ?a) AS ?articles) WHERE {{
              <{iri}> gaf:denotedBy ?m .
              ?m nif:referenceContext ?a .
              ?m2 nif:referenceContext ?a .
              ?other gaf:denotedBy ?m2 .
              FILTER (?other != <{iri}>)
              OPTIONAL {{ ?m nif:sentence ?s . ?m2 nif:sentence ?s }}
              OPTIONAL {{ ?other rdfs:label ?l }}
              OPTIONAL {{ ?other a ?t }}
            }} GROUP BY ?other ORDER BY DESC(?sentences) DESC(?articles) ?label LIMIT {limit}""",
    )
    return [
        Neighbour(
            iri=row["other"].value,
            label=row["label"].value if "label" in row else short(row["other"].value),
            kind=ENTITY_TYPES.get(row["type"].value, "Other") if "type" in row else "Other",
            sentences=int(row["sentences"].value),
            articles=int(row["articles"].value),
        )
        for row in rows
    ]


def links_between(site: Site, neighbours: list[Neighbour]) -> list[tuple[int, int, int]]:
    """Pairs of neighbours named in the same sentence, with how often: the edges of the picture."""
    if len(neighbours) < 2:
        return []
    values = " ".join(f"<{n.iri}>" for n in neighbours)
    rows = select(
        site,
        f"""SELECT ?a ?b (COUNT(DISTINCT ?s) AS ?n) WHERE {{
              VALUES ?a {{ {values} }} VALUES ?b {{ {values} }}
              FILTER (STR(?a) < STR(?b))
              ?a gaf:denotedBy/nif:sentence ?s .
              ?b gaf:denotedBy/nif:sentence ?s .
            }} GROUP BY ?a ?b""",
    )
    index = {n.iri: i for i, n in enumerate(neighbours)}
    return [(index[r["a"].value], index[r["b"].value], int(r["n"].value)) for r in rows]


@dataclass
class Highlight:
    begin: int
    end: int
    mention: str
    kind: str  # Person, Organization, Place, Event, Group
    entity: str | None
    label: str | None


def article_highlights(site: Site, iri: str) -> list[Highlight]:
    rows = select(
        site,
        f"""SELECT ?m ?begin ?end ?class ?entity
                   (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?type) (SAMPLE(?g) AS ?group) WHERE {{
              ?m nif:referenceContext <{iri}> ; a ?class ; nif:beginIndex ?begin ; nif:endIndex ?end .
              FILTER (?class IN (kg:EntityMention, kg:GroupMention))
              OPTIONAL {{ ?entity gaf:denotedBy ?m . OPTIONAL {{ ?entity rdfs:label ?l }} OPTIONAL {{ ?entity a ?t }} }}
              OPTIONAL {{ ?m kg:resolvedName ?g }}
            }} GROUP BY ?m ?begin ?end ?class ?entity ORDER BY ?begin""",
    )
    out = []
    for row in rows:
        if row["class"].value.endswith("GroupMention"):
            kind = "Group"
        else:
            kind = ENTITY_TYPES.get(row["type"].value, "Other") if "type" in row else "Other"
        label = row["label"].value if "label" in row else (row["group"].value if "group" in row else None)
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
    """The RDF format the client asked for (?format= or Accept), or None for HTML."""
    named = request.args.get("format")
    if named:
        key = {"ttl": "turtle", "nt": "ntriples", "json": "jsonld", "rdf": "rdfxml", "xml": "rdfxml"}.get(named, named)
        return key if key in PAGE_RDF else None
    ranges = parse_accept(request.headers.get("Accept"))
    best_html = max((q for m, q in ranges if m in ("text/html", "application/xhtml+xml")), default=0.0)
    best: tuple[float, str] | None = None
    for media, q in ranges:
        name = GRAPH_MEDIA.get(media)
        if name in PAGE_RDF and q > best_html and (best is None or q > best[0]):
            best = (q, name)
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


def canned_queries() -> list[dict[str, str]]:
    """The queries in queries/: name, the first comment line as a title, and the text."""
    out = []
    for path in query_files():
        text = path.read_text(encoding="utf-8")
        comments = [line.lstrip("# ").rstrip() for line in text.splitlines() if line.startswith("#")]
        title = comments[0].split(":", 1)[0] if comments else path.stem
        out.append({"name": path.stem, "title": title, "about": " ".join(comments), "text": text})
    return out


@pages.get("/")
def index() -> str:
    site = _site()
    try:
        counts = {
            row["type"].value: int(row["n"].value)
            for row in select(
                site,
                """SELECT ?type (COUNT(?x) AS ?n) WHERE {
                     VALUES ?type { kg:Article kg:Person kg:Organization kg:Place kg:Event } ?x a ?type
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
    except PageError:
        counts, top = {}, []
    return render_template(
        "query.html",
        queries=canned_queries(),
        counts={ENTITY_TYPES.get(k, "Article"): v for k, v in counts.items()},
        top=[(row, ENTITY_TYPES.get(row["type"].value, "Other")) for row in top],
        base=site.iris.base,
        prefixes=PREFIXES,
        updates=bool(site.policy.update_token),
        timeout=site.policy.timeout,
        max_rows=site.settings.max_rows,
    )


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


@pages.get("/search")
def search() -> str:
    site = _site()
    text = request.args.get("q", "").strip()
    rows = []
    if text:
        rows = select(
            site,
            f"""SELECT ?e (SAMPLE(?label) AS ?name) (SAMPLE(?type) AS ?kind) (MAX(?n) AS ?mentions) WHERE {{
                  VALUES ?type {{ kg:Person kg:Organization kg:Place kg:Event }}
                  ?e a ?type ; rdfs:label ?label .
                  {{ ?e rdfs:label ?name0 }} UNION {{ ?e skos:altLabel ?name0 }}
                  FILTER (CONTAINS(LCASE(STR(?name0)), LCASE({sparql_string(text)})))
                  OPTIONAL {{ ?e kg:mentionCount ?n }}
                }} GROUP BY ?e ORDER BY DESC(?mentions) ?name LIMIT 100""",
        )
    return render_template(
        "search.html",
        q=text,
        rows=[(row, ENTITY_TYPES.get(row["kind"].value, "Other")) for row in rows],
    )


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
    """Whatever the base IRI + path names: an entity, an article or any other node."""
    site = _site()
    iri = iri_for_path(site, path)
    if not _valid_iri(iri):
        abort(404)
    types = [row["t"].value for row in select(site, f"SELECT DISTINCT ?t WHERE {{ <{iri}> a ?t }}")]
    kind = next((ENTITY_TYPES[t] for t in types if t in ENTITY_TYPES), None)
    if kind is None and str(KG.Article) in types:
        kind = "Article"
    if not types and not ask(site, f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }}"):
        return render_template("missing.html", iri=iri), 404  # type: ignore[return-value]
    fmt = wants_rdf()
    if fmt:
        return rdf_response(site, describe_query(site, iri, kind or ""), fmt)
    if kind == "Article":
        return article_page(site, iri)
    if kind is not None:
        return entity_page(site, iri, kind)
    return resource_page(site, iri)


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
        "turtle": f"{here}?format=turtle",
        "jsonld": f"{here}?format=jsonld",
        "wikidata": wikidata_links(statements),
    }


def entity_page(site: Site, iri: str, kind: str) -> str:
    statements = outgoing(site, iri, skip=[_DENOTED_BY])
    mentions, total = entity_mentions(site, iri)
    neighbours = co_mentioned(site, iri)
    picture = draw(
        Neighbour(iri, _common(site, iri, statements)["label"], kind, 0, 0),
        neighbours,
        links_between(site, neighbours),
        href=lambda i: local_path(site, i),
    )
    return render_template(
        "entity.html",
        kind=kind,
        mentions=mentions,
        mention_total=total,
        neighbours=neighbours,
        picture=picture,
        referenced=incoming(site, iri),
        **_common(site, iri, statements),
    )


def article_page(site: Site, iri: str) -> str:
    statements = outgoing(site, iri)
    text = next((v.value for s in statements if s.prop == _IS_STRING for v, _ in s.values), "")
    shown = [s for s in statements if s.prop != _IS_STRING]
    highlights = article_highlights(site, iri)
    entities: dict[str, dict[str, tuple[str, str, int]]] = defaultdict(dict)
    for h in highlights:
        if h.entity:
            label, kind, count = entities[h.kind].get(h.entity, (h.label or short(h.entity), h.kind, 0))
            entities[h.kind][h.entity] = (label, kind, count + 1)
    published = next((v.value for s in statements if s.prop.endswith("datePublished") for v, _ in s.values), None)
    return render_template(
        "article.html",
        text=highlighted_text(site, text, highlights),
        mention_count=len(highlights),
        entities={k: sorted(v.items(), key=lambda item: (-item[1][2], item[1][0])) for k, v in entities.items()},
        kinds=[
            k for k in ("Person", "Organization", "Place", "Event", "Group") if any(h.kind == k for h in highlights)
        ],
        published=published,
        **_common(site, iri, shown),
    )


def resource_page(site: Site, iri: str) -> str:
    statements = outgoing(site, iri)
    return render_template("resource.html", referenced=incoming(site, iri), **_common(site, iri, statements))


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
