"""RDF: articles, mentions and entities as triples under our ontology.

Pure functions from extraction and resolution results to lists of rdflib triples; which graph
they go to (one per article, one for the corpus) is decided here too, by IRI, in `Iris`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from . import __version__
from .extract import Extraction
from .namespaces import GAF, KG, NIF, SCHEMA, Iris
from .read import Article
from .resolve import Entity

Triple = tuple[URIRef, URIRef, URIRef | Literal]

_IRI_SAFE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^\s<>\"{}|\\^`]+$")
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


def _count(n: int) -> Literal:
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
        (a, KG.bodyBeginIndex, _count(article.body_start)),
        (a, KG.tokenCount, _count(extraction.tokens)),
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
            (a, KG.headlineBeginIndex, _count(article.title_span[0])),
            (a, KG.headlineEndIndex, _count(article.title_span[1])),
        ]
    if article.published is not None:
        triples.append((a, SCHEMA.datePublished, Literal(article.published)))
    if article.modified is not None:
        triples.append((a, SCHEMA.dateModified, Literal(article.modified)))
    if article.source_id:
        triples.append((a, KG.sourceId, Literal(article.source_id)))
    if article.url:
        if _IRI_SAFE.match(article.url):
            triples.append((a, SCHEMA.url, URIRef(article.url)))
        else:
            triples.append((a, SCHEMA.url, Literal(article.url, datatype=XSD.anyURI)))
    if article.metadata:
        blob = json.dumps(article.metadata, ensure_ascii=False, sort_keys=True, default=str)
        triples.append((a, KG.metadata, Literal(blob, datatype=RDF.JSON)))

    text = article.text
    for begin, end in extraction.sentences:
        s = URIRef(iris.sentence(digest, begin, end))
        triples += [
            (s, RDF.type, KG.Sentence),
            (s, NIF.referenceContext, a),
            (s, NIF.beginIndex, _count(begin)),
            (s, NIF.endIndex, _count(end)),
            (s, NIF.anchorOf, Literal(text[begin:end])),
        ]
    groups = set()
    for m in extraction.mentions:
        node = URIRef(iris.mention(digest, m.begin, m.end))
        is_group = m.kind == "Group"
        triples += [
            (node, RDF.type, KG.GroupMention if is_group else KG.EntityMention),
            (node, NIF.referenceContext, a),
            (node, NIF.beginIndex, _count(m.begin)),
            (node, NIF.endIndex, _count(m.end)),
            (node, NIF.anchorOf, Literal(m.text)),
            (node, NIF.sentence, URIRef(iris.sentence(digest, *m.sentence))),
            (node, KG.nerLabel, Literal(m.ner_label)),
            (node, KG.resolvedName, Literal(m.name)),
        ]
        if m.label != m.ner_label:
            triples.append((node, KG.label, Literal(m.label)))
        if is_group:
            groups.add(m.name)
        else:
            triples.append((node, KG.resolvedClass, KG[m.kind]))
    triples += [(a, KG.mentionsGroup, Literal(g)) for g in sorted(groups)]
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
        (node, KG.mentionCount, _count(len(entity.mentions))),
        (node, KG.articleCount, _count(entity.articles)),
        (node, PROV.wasGeneratedBy, URIRef(iris.resolution)),
    ]
    triples += [(node, SKOS.altLabel, Literal(alt)) for alt in entity.alt_labels]
    if entity.place_category:
        triples.append((node, KG.placeCategory, Literal(entity.place_category)))
    triples += [(node, GAF.denotedBy, URIRef(m)) for m in entity.mentions]
    return triples
