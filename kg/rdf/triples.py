"""RDF: articles, mentions and entities as triples under our ontology.

Pure functions from extraction and resolution results to lists of rdflib triples; which graph
they go to (one per article, one for the corpus) is decided here too, by IRI, in `Iris`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, TIME, XSD

from .._version import __version__
from ..article.events import PARTICIPANT_ROLES, PLACE_ROLES, ROLE_IRI
from ..article.read import Article
from ..model import (
    DAY,
    DEMONYM,
    MODIFIER,
    MONTH,
    MONTH_DAY,
    YEAR,
    Entity,
    EventMention,
    Extraction,
    Kind,
    Point,
    ReportedEvent,
    TimeExpression,
    TimeValue,
)
from ..names import group_name
from ..namespaces import GAF, IRI_SAFE, KG, NIF, SCHEMA, SEM, Iris

Triple = tuple[URIRef, URIRef, URIRef | Literal]

# Oxigraph stores xsd:nonNegativeInteger as xsd:integer; we write what it gives back.
_NNI = XSD.integer


@dataclass(frozen=True)
class Provenance:
    """Who made the graph and when: newskg's version, the spaCy pipeline, the time."""

    model: str
    time: datetime
    software: str = __version__

    @classmethod
    def now(cls, model: str) -> Provenance:
        return cls(model=model, time=datetime.now(UTC).replace(microsecond=0))


def _opening(body: str, width: int = 80) -> str:
    """The first words of the body, for articles without a headline."""
    line = " ".join(body.strip().split("\n", 1)[0].split())
    return line if len(line) <= width else line[: width - 1].rsplit(" ", 1)[0] + "…"


@lru_cache(maxsize=4096)
def count_literal(n: int) -> Literal:
    """A count as a literal; made once per value, as rdflib takes tens of microseconds per literal."""
    return Literal(n, datatype=_NNI)


def _agents(iris: Iris, prov: Provenance) -> tuple[URIRef, URIRef, list[Triple]]:
    software = URIRef(f"{iris.base}agent/newskg/{prov.software}")
    model_name, _, model_version = prov.model.partition(" ")
    model = URIRef(f"{iris.base}agent/spacy/{model_name}/{model_version or 'unknown'}")
    triples: list[Triple] = [
        (software, RDF.type, KG.Software),
        (software, RDFS.label, Literal(f"newskg {prov.software}")),
        (software, KG.softwareVersion, Literal(prov.software)),
        (model, RDF.type, KG.Software),
        (model, RDFS.label, Literal(f"spaCy pipeline {prov.model}")),
        (model, KG.softwareVersion, Literal(model_version or "unknown")),
    ]
    return software, model, triples


def article_triples(article: Article, extraction: Extraction, iris: Iris, prov: Provenance) -> list[Triple]:
    """Everything read from one article: the article, its sentences with mentions, its mentions."""
    digest = article.digest
    a = URIRef(iris.article(digest))
    activity = URIRef(iris.extraction(digest))
    software, model, triples = _agents(iris, prov)
    label = article.title or _opening(article.text[article.body_start :]) or article.source.rsplit("/", 1)[-1]
    triples += [
        (a, RDF.type, KG.Article),
        (a, RDFS.label, Literal(label)),
        (a, NIF.isString, Literal(article.text)),
        (a, KG.sha256, Literal(digest)),
        (a, KG.sourcePath, Literal(article.source)),
        (a, KG.sourceKey, Literal(article.source_key)),
        (a, KG.bodyBeginIndex, count_literal(article.body_start)),
        (a, KG.tokenCount, count_literal(extraction.tokens)),
        (a, PROV.wasGeneratedBy, activity),
        (activity, RDF.type, KG.Extraction),
        (activity, RDFS.label, Literal(f"extraction of {label}")),
        (activity, PROV.used, a),
        (activity, PROV.wasAssociatedWith, software),
        (activity, PROV.wasAssociatedWith, model),
        (activity, PROV.endedAtTime, Literal(prov.time)),
    ]
    if article.title:
        triples += [(a, SCHEMA.headline, Literal(article.title)), (a, DCTERMS.title, Literal(article.title))]
    if article.title_span:
        triples += [
            (a, KG.headlineBeginIndex, count_literal(article.title_span[0])),
            (a, KG.headlineEndIndex, count_literal(article.title_span[1])),
        ]
    if article.published is not None:
        triples.append((a, SCHEMA.datePublished, Literal(article.published)))
    if article.modified is not None:
        triples.append((a, SCHEMA.dateModified, Literal(article.modified)))
    if article.source_id:
        triples.append((a, KG.sourceId, Literal(article.source_id)))
    if article.url:
        if IRI_SAFE.match(article.url):
            triples.append((a, SCHEMA.url, URIRef(article.url)))
        else:
            triples.append((a, SCHEMA.url, Literal(article.url, datatype=XSD.anyURI)))
    if article.metadata:
        blob = json.dumps(article.metadata, ensure_ascii=False, sort_keys=True, default=str)
        triples.append((a, KG.metadata, Literal(blob, datatype=RDF.JSON)))

    text = article.text
    for begin, end in extraction.sentences:
        s = URIRef(iris.sentence(digest, begin, end))
        triples += [(s, RDF.type, KG.Sentence), *_span(s, a, begin, end, text[begin:end])]
    groups = set()
    for m in extraction.mentions:
        node = URIRef(iris.mention(digest, m.begin, m.end))
        nationality = m.label == DEMONYM
        is_group = m.kind == Kind.GROUP or nationality
        if nationality:  # a group mention that also names its country: the country's entity points to it
            triples.append((node, RDF.type, KG.NationalityMention))
        elif m.label == MODIFIER:  # "U.S. officials": the place's mention, of its own kind
            triples.append((node, RDF.type, KG.ModifierMention))
        triples += [
            (node, RDF.type, KG.GroupMention if is_group else KG.EntityMention),
            *_span(node, a, m.begin, m.end, m.text),
            (node, NIF.sentence, URIRef(iris.sentence(digest, *m.sentence))),
            (node, KG.nerLabel, Literal(m.ner_label)),
            (node, KG.resolvedName, Literal(m.name)),
        ]
        if m.label != m.ner_label:
            triples.append((node, KG.label, Literal(m.label)))
        if m.title:
            triples.append((node, KG.titleBefore, Literal(m.title)))
        if m.region:
            triples.append((node, KG.regionAfter, Literal(m.region)))
        if is_group:
            groups.add(group_name(m.text) if nationality else m.name)
        if not is_group or nationality:
            triples.append((node, KG.resolvedClass, KG[m.kind]))
    triples += [(a, KG.mentionsGroup, Literal(g)) for g in sorted(groups)]
    triples += time_mention_triples(digest, extraction.times, iris)
    triples += event_mention_triples(digest, extraction.events, iris)
    return triples


# -- time ------------------------------------------------------------------------------------------

_POSITION = {
    DAY: (TIME.inXSDDate, XSD.date),
    MONTH: (TIME.inXSDgYearMonth, XSD.gYearMonth),
    YEAR: (TIME.inXSDgYear, XSD.gYear),
    MONTH_DAY: (KG.inXSDgMonthDay, XSD.gMonthDay),
}


def _instant(node: URIRef, point: Point) -> list[Triple]:
    prop, datatype = _POSITION[point.granularity]
    return [(node, RDF.type, TIME.Instant), (node, prop, Literal(point.lexical, datatype=datatype))]


def time_value_triples(node: URIRef, value: TimeValue) -> list[Triple]:
    """A value as OWL-Time: an instant at its own granularity, or an interval between two; plus the
    first and last day it covers (SEM's earliest-begin and latest-end time stamps), for timelines."""
    if value.end is None:
        triples = _instant(node, value.begin)
    else:
        begin, end = URIRef(f"{node}&begin"), URIRef(f"{node}&end")
        triples = [(node, RDF.type, TIME.Interval), (node, TIME.hasBeginning, begin), (node, TIME.hasEnd, end)]
        triples += _instant(begin, value.begin) + _instant(end, value.end)
    if value.earliest is not None and value.latest is not None:
        triples += [
            (node, SEM.hasEarliestBeginTimeStamp, Literal(value.earliest.isoformat(), datatype=XSD.date)),
            (node, SEM.hasLatestEndTimeStamp, Literal(value.latest.isoformat(), datatype=XSD.date)),
        ]
    return triples


def _span(node: URIRef, article: URIRef, begin: int, end: int, text: str) -> list[Triple]:
    return [
        (node, NIF.referenceContext, article),
        (node, NIF.beginIndex, count_literal(begin)),
        (node, NIF.endIndex, count_literal(end)),
        (node, NIF.anchorOf, Literal(text)),
    ]


def time_mention_triples(digest: str, times: tuple[TimeExpression, ...], iris: Iris) -> list[Triple]:
    """Each DATE/TIME expression of an article, and its value when it has one."""
    a = URIRef(iris.article(digest))
    triples: list[Triple] = []
    for t in times:
        node = URIRef(iris.mention(digest, t.begin, t.end))
        triples += [(node, RDF.type, KG.TimeMention), *_span(node, a, t.begin, t.end, t.text)]
        triples.append((node, NIF.sentence, URIRef(iris.sentence(digest, *t.sentence))))
        if t.value is None:
            triples.append((node, KG.timeKind, Literal(t.kind)))  # with a value, its OWL-Time class says which
            continue
        value = URIRef(iris.time_value(digest, t.begin, t.end))
        triples.append((node, KG.timeValue, value))
        if t.anchored:
            triples.append((node, KG.relativeToPublication, Literal(True)))
        triples += time_value_triples(value, t.value)
    return triples


# -- events ----------------------------------------------------------------------------------------


def _confidence(value: float) -> Literal:
    return decimal_literal(f"{value:.2f}")


@lru_cache(maxsize=4096)
def decimal_literal(text: str) -> Literal:
    """A decimal literal of this lexical form; made once per value (scores have a thousand at most)."""
    return Literal(Decimal(text), datatype=XSD.decimal)


def event_mention_triples(digest: str, events: tuple[EventMention, ...], iris: Iris) -> list[Triple]:
    """Each event an article reports: its trigger span, type, confidence and qualified roles, whose
    values are the article's own mentions (entity, group, time) or, for instruments, phrases."""
    a = URIRef(iris.article(digest))
    triples: list[Triple] = []
    for e in events:
        node = URIRef(iris.event_mention(digest, e.begin, e.end))
        triples += [(node, RDF.type, KG.EventMention), *_span(node, a, e.begin, e.end, e.text)]
        triples += [
            (node, NIF.sentence, URIRef(iris.sentence(digest, *e.sentence))),
            (node, KG.eventType, URIRef(e.type)),
            (node, KG.matchedTrigger, Literal(e.entry)),
            (node, KG.confidence, _confidence(e.confidence)),
        ]
        if e.anaphoric:
            triples.append((node, KG.anaphoric, Literal(True)))
        for arg in e.arguments:
            role = URIRef(f"{node}&{arg.role}={arg.begin},{arg.end}")
            value = URIRef(iris.mention(digest, arg.begin, arg.end))
            triples += [
                (node, KG.role, role),
                (role, RDF.type, SEM.Role),
                (role, SEM.roleType, URIRef(ROLE_IRI[arg.role])),
                (role, RDF.value, value),
            ]
            if arg.inferred:
                triples.append((role, KG.inferred, Literal(True)))
            if arg.kind == "phrase":
                triples += [(value, RDF.type, KG.ArgumentPhrase), *_span(value, a, arg.begin, arg.end, arg.text)]
        triples += [(node, KG.reports, URIRef(iris.event_mention(digest, b, end))) for b, end in e.reports]
    return triples


def resolution_triples(iris: Iris, prov: Provenance) -> list[Triple]:
    """The corpus-wide resolution run and the software that did it."""
    activity = URIRef(iris.resolution)
    software, _, agents = _agents(iris, prov)
    return [t for t in agents if t[0] == software] + [
        (activity, RDF.type, KG.Resolution),
        (activity, RDFS.label, Literal("corpus-wide entity resolution")),
        (activity, PROV.wasAssociatedWith, software),
        (activity, PROV.endedAtTime, Literal(prov.time)),
    ]


def entity_triples(entity: Entity, iris: Iris) -> list[Triple]:
    """One entity of the corpus graph, pointing at every mention that names it."""
    node = URIRef(entity.iri)
    triples: list[Triple] = [
        (node, RDF.type, KG[entity.kind]),
        (node, RDFS.label, Literal(entity.label)),
        (node, KG.mentionCount, count_literal(len(entity.mentions))),
        (node, KG.articleCount, count_literal(entity.articles)),
        (node, PROV.wasGeneratedBy, URIRef(iris.resolution)),
    ]
    triples += [(node, SKOS.altLabel, Literal(alt)) for alt in entity.alt_labels]
    if entity.place_category:
        triples.append((node, KG.placeCategory, Literal(entity.place_category)))
    triples += [(node, GAF.denotedBy, URIRef(m)) for m in entity.mentions]
    return triples


def reported_event_triples(event: ReportedEvent, iris: Iris) -> list[Triple]:
    """One reported event of the corpus graph: its type, SEM's direct roles (sem:hasActor, sem:hasPlace,
    sem:hasTime), qualified roles with the number of articles giving each, and the mentions that report it."""
    node = URIRef(event.iri)
    etype = URIRef(event.type)
    triples: list[Triple] = [
        (node, RDF.type, KG.ReportedEvent),
        (node, RDF.type, etype),
        (node, KG.eventType, etype),
        (node, RDFS.label, Literal(event.label)),
        (node, KG.supportingArticles, count_literal(event.articles)),
        (node, KG.eventMentionCount, count_literal(len(event.mentions))),
        (node, KG.confidence, _confidence(event.confidence)),
        (node, PROV.wasGeneratedBy, URIRef(iris.resolution)),
    ]
    for i, r in enumerate(event.roles, start=1):
        value: URIRef | Literal = Literal(r.value) if r.literal else URIRef(r.value)
        role = URIRef(f"{event.iri}#role-{i}")
        triples += [
            (node, KG.role, role),
            (role, RDF.type, SEM.Role),
            (role, SEM.roleType, URIRef(ROLE_IRI[r.role])),
            (role, RDF.value, value),
            (role, KG.supportingArticles, count_literal(r.articles)),
        ]
        if r.inferred:
            triples.append((role, KG.inferred, Literal(True)))
        if r.literal and r.role in PARTICIPANT_ROLES:
            triples.append((node, KG.participantGroup, value))
        elif not r.literal and r.role in PARTICIPANT_ROLES:
            triples.append((node, SEM.hasActor, value))
        elif not r.literal and r.role in PLACE_ROLES:
            triples.append((node, SEM.hasPlace, value))
        elif not r.literal and r.role == "context":
            triples.append((node, KG.hasContext, value))
    if event.time is not None:
        when = URIRef(f"{event.iri}#time")
        triples.append((node, SEM.hasTime, when))
        triples += time_value_triples(when, event.time)
    triples += [(node, KG.reports, URIRef(other)) for other in event.reports]
    triples += [(node, GAF.denotedBy, URIRef(m)) for m in event.mentions]
    return triples
