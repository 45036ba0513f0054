"""The triples of linking: each entity's Wikidata link decision, its evidence and runner-up, the run.

A decision is written whether or not it links (an analyst can see why something was left unlinked):
the link node `<entity>#wikidata` with its confidence and reason, the ranked candidates, a correction
of the entity's class when the linked item says so, and the item's description and coordinates.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, XSD

from .._version import __version__
from ..corpus.link import LinkConfig, LinkDecision, LinkResult
from ..model import Entity, Kind
from ..namespaces import GEO, KG, SCHEMA, WD, Iris
from ..wikidata.items import Item, SourceInfo
from .triples import Triple, count_literal, decimal_literal


def _decimal(x: float, places: int = 3) -> Literal:
    return decimal_literal(f"{x:.{places}f}")


def _date(iso: str) -> Literal:
    if len(iso) == 10:
        return Literal(iso, datatype=XSD.date)
    if len(iso) == 7:
        return Literal(iso, datatype=XSD.gYearMonth)
    return Literal(iso, datatype=XSD.gYear)


def wikidata_iri(qid: str) -> URIRef:
    return WD[qid]


def source_iri(source: SourceInfo, iris: Iris) -> URIRef:
    return URIRef(iris.candidate_source(source.id, source.date))


def link_triples(entity: Entity, decision: LinkDecision, iris: Iris) -> list[Triple]:
    """The decision about one entity, as triples about it and its link node (IRIs under the entity's)."""
    node = URIRef(entity.iri)
    link_node = URIRef(f"{entity.iri}#wikidata")
    triples: list[Triple] = [
        (node, KG.wikidataLink, link_node),
        (link_node, RDF.type, KG.WikidataLink),
        (link_node, PROV.wasGeneratedBy, URIRef(iris.linking)),
        (link_node, KG.confidence, _decimal(decision.confidence)),
        (link_node, KG.linkReason, Literal(decision.reason)),
    ]
    for old in decision.replaces:
        triples.append((link_node, KG.replacesEntity, Literal(old, datatype=XSD.anyURI)))
    item = decision.item
    if item is not None:
        target = wikidata_iri(item.qid)
        triples += [
            (node, OWL.sameAs, target),
            (link_node, KG.linkOutcome, KG.Linked),
            (link_node, KG.linkTarget, target),
            (link_node, KG.linkSource, source_iri(decision.candidates[0].source, iris)),
            (link_node, KG.wikidataLabel, Literal(item.label)),
        ]
        triples += _enrichment(entity, item)
    else:
        triples.append((link_node, KG.linkOutcome, KG.NotLinked))
    for rank, cand in enumerate(decision.candidates, start=1):
        c = URIRef(f"{entity.iri}#wikidata-candidate-{rank}")
        triples += [
            (link_node, KG.candidate, c),
            (c, RDF.type, KG.LinkCandidate),
            (c, KG.candidateItem, wikidata_iri(cand.qid)),
            (c, RDFS.label, Literal(cand.item.label)),
            (c, KG.rank, count_literal(rank)),
            (c, KG.score, _decimal(min(1.0, cand.score))),
            (c, KG.nameScore, _decimal(cand.name)),
            (c, KG.typeScore, _decimal(cand.type)),
            (c, KG.popularityScore, _decimal(cand.popularity)),
            (c, KG.contextScore, _decimal(cand.context)),
            (c, KG.matchedName, Literal(cand.matched)),
            (c, KG.linkSource, source_iri(cand.source, iris)),
        ]
    if decision.corrected_kind:
        fix = URIRef(f"{entity.iri}#type-correction")
        because = (
            f"linked with confidence {decision.confidence:.2f} to {item.label if item else '?'} "
            f"({decision.qid}), which Wikidata classes as {decision.corrected_kind.lower()}"
        )
        triples += [
            (node, KG.typeCorrection, fix),
            (fix, RDF.type, KG.TypeCorrection),
            (fix, KG.previousClass, KG[decision.kind]),
            (fix, KG.correctedClass, KG[decision.corrected_kind]),
            (fix, RDFS.comment, Literal(because)),
            (fix, PROV.wasGeneratedBy, URIRef(iris.linking)),
        ]
    return triples


def _enrichment(entity: Entity, item: Item) -> list[Triple]:
    node = URIRef(entity.iri)
    triples: list[Triple] = []
    if item.description:
        triples.append((node, SCHEMA.description, Literal(item.description, lang="en")))
    for country in item.countries:
        if country != item.qid:
            triples.append((node, KG.wikidataCountry, wikidata_iri(country)))
    if item.coordinates and entity.kind == Kind.PLACE:
        lat, lon = item.coordinates
        geo = URIRef(f"{entity.iri}#geo")
        geometry = URIRef(f"{entity.iri}#geometry")
        triples += [
            (node, SCHEMA.geo, geo),
            (geo, RDF.type, SCHEMA.GeoCoordinates),
            (geo, SCHEMA.latitude, _decimal(lat, 6)),
            (geo, SCHEMA.longitude, _decimal(lon, 6)),
            (node, GEO.hasGeometry, geometry),
            (geometry, RDF.type, GEO.Geometry),
            (geometry, GEO.asWKT, Literal(f"POINT({lon:.6f} {lat:.6f})", datatype=GEO.wktLiteral)),
        ]
    if entity.kind == Kind.PERSON:
        if item.born:
            triples.append((node, SCHEMA.birthDate, _date(item.born)))
        if item.died:
            triples.append((node, SCHEMA.deathDate, _date(item.died)))
    return triples


def linking_triples(iris: Iris, sources: Iterable[SourceInfo], config: LinkConfig, time: datetime) -> list[Triple]:
    """The linking run: when, with what threshold, from which sources, by which software."""
    activity = URIRef(iris.linking)
    software = URIRef(f"{iris.base}agent/newskg/{__version__}")
    triples: list[Triple] = [
        (software, RDF.type, KG.Software),
        (software, RDFS.label, Literal(f"newskg {__version__}")),
        (software, KG.softwareVersion, Literal(__version__)),
        (activity, RDF.type, KG.Linking),
        (activity, RDFS.label, Literal("Wikidata linking")),
        (activity, PROV.wasAssociatedWith, software),
        (activity, PROV.endedAtTime, Literal(time)),
        (activity, KG.threshold, _decimal(config.threshold)),
    ]
    for source in sources:
        s = source_iri(source, iris)
        triples += [
            (activity, PROV.used, s),
            (s, RDF.type, KG.CandidateSource),
            (s, RDFS.label, Literal(source.label or source.id)),
            (s, DCTERMS.identifier, Literal(source.id)),
        ]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", source.date or ""):
            triples.append((s, DCTERMS.date, Literal(source.date, datatype=XSD.date)))
        if source.licence:
            triples.append((s, DCTERMS.license, Literal(source.licence)))
        if source.items is not None:
            triples.append((s, KG.itemCount, count_literal(source.items)))
    return triples


# -- the corpus --------------------------------------------------------------------------------


def run_triples(result: LinkResult, iris: Iris) -> list[Triple]:
    """The linking activity of a corpus stage and the sources it used: once per corpus graph."""
    return linking_triples(iris, result.sources, result.config, result.time)


def decision_triples(result: LinkResult, entity: Entity, iris: Iris) -> list[Triple]:
    """The link triples of one (final) entity of `result`, written beside `triples.entity_triples(entity, iris)`."""
    return link_triples(entity, result.decisions[entity.iri], iris)
