"""SHACL for events and time: the seed graph conforms, and each kind of broken event or date is caught."""

from __future__ import annotations

from decimal import Decimal

import pyoxigraph as ox
import pytest
from conftest import altered
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, TIME, XSD

from kg.namespaces import KG, SEM
from kg.store.store import to_rdflib
from kg.validate.check import validate_graph


@pytest.fixture(scope="module")
def event_graph(seed_store) -> Graph:
    """One article's graph (with its event and time mentions) and the reported events of the corpus graph."""
    store = seed_store
    article = next(
        g.value for g in store.ox.named_graphs() if g.value != store.iris.corpus_graph and "73cc1ef4" in g.value
    )
    g = Graph()
    for q in store.ox.quads_for_pattern(None, None, None, ox.NamedNode(article)):
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    events = f"{store.iris.base}event/"
    for q in store.ox.quads_for_pattern(None, None, None, ox.NamedNode(store.iris.corpus_graph)):
        if q.subject.value.startswith(events):
            g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


def first_subject(graph: Graph, cls) -> URIRef:
    return sorted(graph.subjects(RDF.type, cls))[0]


def messages(graph: Graph) -> list[str]:
    report = validate_graph(graph)
    assert not report.conforms
    return [f"{v.path} {v.message}" for v in report.violations]


def test_the_seed_events_and_times_conform(event_graph):
    assert len(list(event_graph.subjects(RDF.type, KG.EventMention))) > 10
    assert len(list(event_graph.subjects(RDF.type, KG.ReportedEvent))) > 10
    assert len(list(event_graph.subjects(RDF.type, TIME.Interval))) >= 2
    report = validate_graph(event_graph)
    assert report.conforms, report.text()


def test_an_event_mention_without_a_type_is_a_violation(event_graph):
    mention = first_subject(event_graph, KG.EventMention)
    etype = event_graph.value(mention, KG.eventType)
    found = messages(altered(event_graph, remove=[(mention, KG.eventType, etype)]))
    assert any("kg:eventType" in m and "exactly one event type" in m for m in found)


def test_a_reported_event_with_no_participant_or_place_is_a_violation(event_graph):
    event = next(e for e in sorted(event_graph.subjects(RDF.type, KG.Surgery)))
    remove = [(event, p, o) for p, o in event_graph.predicate_objects(event) if p in (SEM.hasActor, SEM.hasPlace, KG.participantGroup)]
    assert remove
    found = messages(altered(event_graph, remove=remove))
    assert any("at least one participant" in m for m in found)


def test_an_interval_that_ends_before_it_begins_is_a_violation(event_graph):
    interval = first_subject(event_graph, TIME.Interval)
    begin = event_graph.value(interval, SEM.hasEarliestBeginTimeStamp)
    later = Literal("2099-01-01", datatype=XSD.date)
    found = messages(
        altered(event_graph, remove=[(interval, SEM.hasEarliestBeginTimeStamp, begin)], add=[(interval, SEM.hasEarliestBeginTimeStamp, later)])
    )
    assert any("begins on or before the day it ends" in m for m in found)


def test_an_ill_typed_date_is_a_violation(event_graph):
    instant = next(s for s, o in sorted(event_graph.subject_objects(TIME.inXSDDate)))
    old = event_graph.value(instant, TIME.inXSDDate)
    bad = Literal("2017-13-45", datatype=XSD.date)
    assert messages(altered(event_graph, remove=[(instant, TIME.inXSDDate, old)], add=[(instant, TIME.inXSDDate, bad)]))
    wrong_type = Literal("2017-11", datatype=XSD.gYearMonth)
    assert messages(altered(event_graph, remove=[(instant, TIME.inXSDDate, old)], add=[(instant, TIME.inXSDDate, wrong_type)]))


def test_a_role_of_an_unknown_type_or_without_a_value_is_a_violation(event_graph):
    role = first_subject(event_graph, SEM.Role)
    rtype = event_graph.value(role, SEM.roleType)
    found = messages(altered(event_graph, remove=[(role, SEM.roleType, rtype)], add=[(role, SEM.roleType, KG.VictimRole)]))
    assert any("role type" in m for m in found)
    value = event_graph.value(role, RDF.value)
    assert any("exactly one value" in m for m in messages(altered(event_graph, remove=[(role, RDF.value, value)])))


def test_a_confidence_above_one_is_a_violation(event_graph):
    mention = first_subject(event_graph, KG.EventMention)
    old = event_graph.value(mention, KG.confidence)
    over = Literal(Decimal("1.5"), datatype=XSD.decimal)
    assert messages(altered(event_graph, remove=[(mention, KG.confidence, old)], add=[(mention, KG.confidence, over)]))


def test_an_interval_between_two_days_of_an_undated_article_conforms(tmp_path, nlp):
    """Found on real news: "between 12 January and 10 February" with no publication date to place the year."""
    from kg.namespaces import Iris
    from kg.pipeline.build import build
    from kg.settings import Settings
    from kg.store.store import Store

    article = tmp_path / "sina.txt"
    article.write_text("Sina said its shares were purchased between 12 January and 10 February for about $230m.\n", encoding="utf-8")
    settings = Settings(store=tmp_path / "store", link=False)
    with Store(settings.store, Iris(settings.base)) as store:
        report = build([article], settings, nlp=nlp, store=store)
        ends = [
            r["d"].value
            for r in store.query("SELECT ?d WHERE { ?i time:hasBeginning|time:hasEnd ?x . ?x kg:inXSDgMonthDay ?d }")
        ]
    assert sorted(ends) == ["--01-12", "--02-10"]
    assert report.validation is not None and report.validation.conforms, report.validation.text()
