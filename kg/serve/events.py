"""Events: a page per reported event, events on entity and article pages, and a timeline.

A reported event (kg:ReportedEvent) is what the corpus stage made of the trigger words the articles
use for one happening: its class (defection, statement, ...), when (sem:hasTime, a date or a span),
where (places with their role: origin, destination, path, place), who (sem:hasActor and the role
values), how many articles report it, and the sentences that do. The timeline draws every dated
event with vis-timeline, a vendored library (kg/serve/static/vendor/vis-timeline), from data
embedded in the page: nothing is fetched from elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template, request
from markupsafe import escape

from . import Site
from .pages import ENTITY_TYPES, _site, cached, local_path, pages, select, short, sparql_iri, vocabulary_labels

#: How many sentences an event page shows (the first, by article date): the rest are one query away.
SENTENCE_LIMIT = 200
#: Events on a timeline at most (the most reported first); the page says when it shows fewer.
TIMELINE_LIMIT = 2000


@dataclass(frozen=True)
class RoleValue:
    """One role an event gives: its type (agent, origin, ...) and what fills it (an entity or words)."""

    role: str
    value: str
    label: str
    is_entity: bool
    kind: str
    articles: int


@dataclass(frozen=True)
class EventSentence:
    """A sentence that reports the event, with its trigger word marked."""

    article: str
    title: str
    published: str | None
    mention: str
    sentence: str
    trigger_begin: int
    trigger_end: int

    @property
    def before(self) -> str:
        return self.sentence[: self.trigger_begin]

    @property
    def trigger(self) -> str:
        return self.sentence[self.trigger_begin : self.trigger_end]

    @property
    def after(self) -> str:
        return self.sentence[self.trigger_end :]


@dataclass(frozen=True)
class Participant:
    """A place or an actor of an event: its IRI, label and kind."""

    iri: str
    label: str
    kind: str


@dataclass
class EventView:
    """What an event page shows."""

    iri: str
    label: str
    event_type: str
    begin: str | None
    end: str | None
    confidence: float | None
    articles: int
    mentions: int
    roles: list[RoleValue] = field(default_factory=list)
    places: list[Participant] = field(default_factory=list)
    actors: list[Participant] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    sentences: list[EventSentence] = field(default_factory=list)

    @property
    def when(self) -> str:
        if not self.begin:
            return "undated"
        return self.begin if not self.end or self.end == self.begin else f"{self.begin} – {self.end}"


def type_label(iri: str) -> str:
    """The event class's English label from the ontology, else its local name."""
    return vocabulary_labels().get(iri) or iri.rsplit("#", 1)[-1]


def event_view(site: Site, iri: str) -> EventView:
    node = sparql_iri(iri)
    rows = select(
        site,
        f"""SELECT ?label ?type ?begin ?end ?date ?confidence ?articles ?mentions WHERE {{
              OPTIONAL {{ {node} rdfs:label ?label }}
              OPTIONAL {{ {node} kg:eventType ?type }}
              OPTIONAL {{ {node} kg:confidence ?confidence }}
              OPTIONAL {{ {node} kg:supportingArticles ?articles }}
              OPTIONAL {{ {node} kg:eventMentionCount ?mentions }}
              OPTIONAL {{ {node} sem:hasTime ?t .
                         OPTIONAL {{ ?t sem:hasEarliestBeginTimeStamp ?begin }}
                         OPTIONAL {{ ?t sem:hasLatestEndTimeStamp ?end }} }}
            }} LIMIT 1""",
    )
    row = rows[0] if rows else {}

    def value(name: str) -> str | None:
        return row[name].value if name in row else None

    view = EventView(
        iri=iri,
        label=value("label") or short(iri),
        event_type=type_label(value("type") or ""),
        begin=value("begin"),
        end=value("end"),
        confidence=float(value("confidence")) if value("confidence") else None,
        articles=int(value("articles") or 0),
        mentions=int(value("mentions") or 0),
    )
    for r in select(
        site,
        f"""SELECT ?roleType ?value (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?kind) (MAX(?n) AS ?articles) WHERE {{
              {node} kg:role ?role . ?role sem:roleType ?roleType ; rdf:value ?value .
              OPTIONAL {{ ?role kg:supportingArticles ?n }}
              OPTIONAL {{ ?value rdfs:label ?l }} OPTIONAL {{ ?value a ?t }}
            }} GROUP BY ?roleType ?value ORDER BY ?roleType DESC(?articles)""",
    ):
        is_entity = r["value"].is_iri
        view.roles.append(
            RoleValue(
                role=type_label(r["roleType"].value),
                value=r["value"].value,
                label=r["label"].value if "label" in r else r["value"].value,
                is_entity=is_entity,
                kind=ENTITY_TYPES.get(r["kind"].value, "Other") if "kind" in r else "Other",
                articles=int(r["articles"].value) if "articles" in r else 0,
            )
        )
    for r in select(
        site,
        f"""SELECT ?p ?x (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?kind) WHERE {{
              VALUES ?p {{ sem:hasPlace sem:hasActor }} {node} ?p ?x .
              OPTIONAL {{ ?x rdfs:label ?l }} OPTIONAL {{ ?x a ?t }}
            }} GROUP BY ?p ?x ORDER BY ?label""",
    ):
        label = r["label"].value if "label" in r else short(r["x"].value)
        kind = ENTITY_TYPES.get(r["kind"].value, "Other") if "kind" in r else "Other"
        (view.places if r["p"].value.endswith("hasPlace") else view.actors).append(
            Participant(r["x"].value, label, kind)
        )
    groups = select(site, f"SELECT ?g WHERE {{ {node} kg:participantGroup ?g }} ORDER BY ?g")
    view.groups = [r["g"].value for r in groups]
    for r in select(
        site,
        f"""SELECT ?m ?article ?title ?published ?sentence ?sb ?begin ?end WHERE {{
              {node} gaf:denotedBy ?m .
              ?m nif:referenceContext ?article ; nif:beginIndex ?begin ; nif:endIndex ?end ;
                 nif:sentence ?s . ?s nif:anchorOf ?sentence ; nif:beginIndex ?sb .
              OPTIONAL {{ ?article rdfs:label ?title }} OPTIONAL {{ ?article schema:datePublished ?published }}
            }} ORDER BY ?published ?article ?begin LIMIT {SENTENCE_LIMIT}""",
    ):
        sb = int(r["sb"].value)
        view.sentences.append(
            EventSentence(
                article=r["article"].value,
                title=r["title"].value if "title" in r else short(r["article"].value),
                published=r["published"].value if "published" in r else None,
                mention=r["m"].value,
                sentence=r["sentence"].value,
                trigger_begin=max(0, int(r["begin"].value) - sb),
                trigger_end=max(0, int(r["end"].value) - sb),
            )
        )
    return view


@dataclass(frozen=True)
class EventRow:
    """An event in a list: on an entity's or an article's page, or in the browse list."""

    iri: str
    label: str
    event_type: str
    begin: str | None
    articles: int
    role: str = ""


def events_involving(site: Site, entity: str, limit: int = 50) -> list[EventRow]:
    """Events the entity takes part in: as actor, place, or the value of a role."""
    node = sparql_iri(entity)
    rows = select(
        site,
        f"""SELECT ?e (SAMPLE(?l) AS ?label) (SAMPLE(?type) AS ?etype) (SAMPLE(?begin) AS ?b)
                   (MAX(?n) AS ?articles) (GROUP_CONCAT(DISTINCT ?how; separator=" ") AS ?roles) WHERE {{
              {{ SELECT ?e ?how WHERE {{  # the entity's own statements first: Oxigraph keeps this order
                {{ ?e sem:hasActor {node} BIND("actor" AS ?how) }}
                UNION {{ ?e sem:hasPlace {node} BIND("place" AS ?how) }}
                UNION {{ ?r rdf:value {node} . ?e kg:role ?r . ?r sem:roleType ?rt
                         BIND(REPLACE(STR(?rt), "^.*#(.*)Role$", "$1") AS ?how) }} }} }}
              ?e a kg:ReportedEvent .
              OPTIONAL {{ ?e rdfs:label ?l }} OPTIONAL {{ ?e kg:eventType ?type }}
              OPTIONAL {{ ?e kg:supportingArticles ?n }}
              OPTIONAL {{ ?e sem:hasTime/sem:hasEarliestBeginTimeStamp ?begin }}
            }} GROUP BY ?e ORDER BY DESC(?articles) ?label LIMIT {limit}""",
    )
    return [_event_row(r, _roles(r["roles"].value if "roles" in r else "")) for r in rows]


#: Said by sem:hasActor and sem:hasPlace alone; a qualified role (agent, origin, ...) says more.
_GENERIC_ROLES = {"actor", "place"}


def _roles(found: str) -> str:
    """The roles an entity has in an event, the qualified ones only when there are any."""
    roles = sorted({r.lower() for r in found.split()})
    specific = [r for r in roles if r not in _GENERIC_ROLES]
    return ", ".join(specific or roles)


def article_events(site: Site, article: str) -> list[EventRow]:
    """The reported events an article's trigger words were merged into."""
    rows = select(
        site,
        f"""SELECT ?e (SAMPLE(?l) AS ?label) (SAMPLE(?type) AS ?etype) (SAMPLE(?begin) AS ?b)
                   (MAX(?n) AS ?articles) WHERE {{
              ?m nif:referenceContext {sparql_iri(article)} ; a kg:EventMention .
              ?e gaf:denotedBy ?m ; a kg:ReportedEvent .
              OPTIONAL {{ ?e rdfs:label ?l }} OPTIONAL {{ ?e kg:eventType ?type }}
              OPTIONAL {{ ?e kg:supportingArticles ?n }}
              OPTIONAL {{ ?e sem:hasTime/sem:hasEarliestBeginTimeStamp ?begin }}
            }} GROUP BY ?e ORDER BY DESC(BOUND(?b)) ?b DESC(?articles) ?label LIMIT 200""",
    )
    return [_event_row(r) for r in rows]


def _event_row(r: dict, role: str = "") -> EventRow:
    return EventRow(
        iri=r["e"].value,
        label=r["label"].value if "label" in r else short(r["e"].value),
        event_type=type_label(r["etype"].value) if "etype" in r else "event",
        begin=r["b"].value if "b" in r else None,
        articles=int(r["articles"].value) if "articles" in r else 0,
        role=role,
    )


@dataclass(frozen=True)
class TimelineItem:
    """One bar or point on the timeline."""

    iri: str
    label: str
    event_type: str
    begin: str
    end: str | None
    articles: int


def timeline_items(site: Site, entity: str | None = None) -> tuple[list[TimelineItem], int]:
    """Dated events (optionally those involving one entity), most reported first; and how many are undated."""
    involving = ""
    if entity:
        node = sparql_iri(entity)
        involving = (  # a sub-select, so the entity's statements are read first
            f"{{ SELECT DISTINCT ?e WHERE {{ {{ ?e sem:hasActor {node} }} UNION {{ ?e sem:hasPlace {node} }} "
            f"UNION {{ ?r rdf:value {node} . ?e kg:role ?r }} }} }}"
        )
    rows = select(
        site,
        f"""SELECT ?e (SAMPLE(?l) AS ?label) (SAMPLE(?type) AS ?etype) (MIN(?b) AS ?begin) (MAX(?x) AS ?end)
                   (MAX(?n) AS ?articles) WHERE {{
              {involving}
              ?e a kg:ReportedEvent ; sem:hasTime ?t . ?t sem:hasEarliestBeginTimeStamp ?b .
              OPTIONAL {{ ?t sem:hasLatestEndTimeStamp ?x }}
              OPTIONAL {{ ?e rdfs:label ?l }} OPTIONAL {{ ?e kg:eventType ?type }}
              OPTIONAL {{ ?e kg:supportingArticles ?n }}
            }} GROUP BY ?e ORDER BY DESC(?articles) ?begin LIMIT {TIMELINE_LIMIT}""",
    )
    undated = select(
        site,
        f"""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ {involving}
              ?e a kg:ReportedEvent FILTER NOT EXISTS {{ ?e sem:hasTime ?t }} }}""",
    )
    items = [
        TimelineItem(
            iri=r["e"].value,
            label=r["label"].value if "label" in r else short(r["e"].value),
            event_type=type_label(r["etype"].value) if "etype" in r else "event",
            begin=r["begin"].value[:10],
            end=r["end"].value[:10] if "end" in r else None,
            articles=int(r["articles"].value) if "articles" in r else 0,
        )
        for r in rows
    ]
    return items, int(undated[0]["n"].value) if undated else 0


@pages.get("/timeline")
def timeline() -> str:
    """Every dated event on a timeline (or those of one entity, ?entity=IRI), each a link to its page."""
    site = _site()
    return cached(site, lambda: _timeline(site))


def _timeline(site: Site) -> str:
    entity = request.args.get("entity") or None
    if entity and not entity.startswith(site.iris.base):
        entity = None  # only our own entities; anything else would be pasted into a query
    items, undated = timeline_items(site, entity)
    data = [
        {
            "id": i,
            "content": str(escape(item.label)),  # vis-timeline draws content and titles as HTML
            "start": item.begin,
            **({"end": item.end, "type": "range"} if item.end and item.end != item.begin else {"type": "point"}),
            "title": str(escape(f"{item.event_type}: {item.label} ({item.articles} article(s))")),
            "href": local_path(site, item.iri) or item.iri,
            "className": "event-item",
        }
        for i, item in enumerate(items)
    ]
    focus = request.args.get("focus")
    focus_id = next((d["id"] for d, item in zip(data, items, strict=True) if item.iri == focus), None)
    return render_template(
        "timeline.html",
        items=items,
        data=data,
        undated=undated,
        limit=TIMELINE_LIMIT,
        entity=entity,
        entity_path=local_path(site, entity) if entity else None,
        focus=focus_id,
    )
