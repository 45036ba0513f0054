"""SHACL: the seed graph conforms, and each kind of broken graph is caught with a readable report."""

from __future__ import annotations

import pyoxigraph as ox
from conftest import altered
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from kg.namespaces import KG, NIF, SCHEMA
from kg.resources import shape_files
from kg.store.store import to_ox
from kg.validate.check import _turtle, validate_graph, validate_nquads, validate_quads, validate_store


def first(graph: Graph, predicate, cls=None):
    for s, o in graph.subject_objects(predicate):
        if cls is None or (s, RDF.type, cls) in graph:
            return s, o
    raise AssertionError(f"no {predicate} in the graph")


def test_the_seed_store_conforms(seed_store):
    report = validate_store(seed_store)
    assert report.conforms, report.text()
    assert report.triples > 2000


def test_an_anchor_that_is_not_the_text_at_its_span_is_a_violation(seed_graph):
    mention, anchor = first(seed_graph, NIF.anchorOf, KG.EntityMention)
    g = altered(seed_graph, remove=[(mention, NIF.anchorOf, anchor)], add=[(mention, NIF.anchorOf, Literal("Somebody Else"))])
    report = validate_graph(g)
    assert not report.conforms
    assert any(str(mention) in v.message and "anchorOf" in v.message for v in report.violations), report.text()


def test_a_span_that_ends_before_it_begins_is_a_violation(seed_graph):
    mention, begin = first(seed_graph, NIF.beginIndex, KG.EntityMention)
    g = altered(seed_graph, remove=[(mention, NIF.beginIndex, begin)],
               add=[(mention, NIF.beginIndex, Literal(10_000_000, datatype=XSD.integer))])
    report = validate_graph(g)
    assert any(v.focus == str(mention) and "begins before it ends" in v.message for v in report.violations)


def test_bad_hash_untyped_date_missing_label_and_two_types_are_violations(seed_graph):
    article, digest = first(seed_graph, KG.sha256)
    _, date = first(seed_graph, SCHEMA.datePublished)
    person, label = first(seed_graph, RDFS.label, KG.Person)
    g = altered(
        seed_graph,
        remove=[(article, KG.sha256, digest), (person, RDFS.label, label), (article, SCHEMA.datePublished, date)],
        add=[
            (article, KG.sha256, Literal("not-a-hash")),
            (article, SCHEMA.datePublished, Literal("22 November 2017")),
            (person, RDF.type, KG.Organization),
        ],
    )
    report = validate_graph(g)
    messages = {(v.focus, v.message) for v in report.violations}
    assert (str(article), "an article hash is 64 lower-case hex digits (SHA-256)") in messages
    assert (str(article), "a publication date is an xsd:date or xsd:dateTime") in messages
    assert (str(person), "an entity has exactly one non-empty label") in messages
    assert (str(person), "an entity has exactly one type, from the newskg ontology") in messages
    text = report.text()
    assert text.startswith("SHACL: ") and "violation" in text and "path: kg:sha256" in text


def test_a_mention_without_an_article_is_a_violation(seed_graph):
    mention, article = first(seed_graph, NIF.referenceContext, KG.EntityMention)
    g = altered(seed_graph, remove=[(mention, NIF.referenceContext, article)])
    report = validate_graph(g)
    assert any(v.focus == str(mention) and "exactly one article" in v.message for v in report.violations)
    assert URIRef(mention)


def test_fast_validation_gives_the_same_verdicts_as_plain_pyshacl(seed_graph):
    """Flattened property shapes and SPARQL constraints run in Oxigraph change the speed, not the report."""
    mention, anchor = first(seed_graph, NIF.anchorOf, KG.EntityMention)
    article, digest = first(seed_graph, KG.sha256)
    g = altered(
        seed_graph,
        remove=[(mention, NIF.anchorOf, anchor), (article, KG.sha256, digest)],
        add=[(mention, NIF.anchorOf, Literal("Somebody Else")), (article, KG.sha256, Literal("x"))],
    )
    conforms, results, _ = validate(g, shacl_graph=_turtle(shape_files()), inference="none", allow_warnings=True)
    plain = {
        (str(results.value(r, SH.focusNode)), str(results.value(r, SH.resultMessage)))
        for r in results.subjects(SH.resultSeverity)
    }
    fast = validate_graph(g)
    assert not conforms and not fast.conforms
    assert {(v.focus, v.message) for v in fast.violations} == plain
    assert len(plain) >= 2


def test_statements_handed_over_as_n_quads_get_the_same_report(seed_graph):
    """A build's writer sends corpus chunks to the build's process as N-Quads; the report is the one for the quads."""
    person, label = first(seed_graph, RDFS.label, KG.Person)
    g = altered(seed_graph, remove=[(person, RDFS.label, label)])
    quads = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode("urn:chunk")) for s, p, o in g]
    direct = validate_quads(quads)
    handed = validate_nquads(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    assert not handed.conforms and handed.triples == direct.triples
    assert handed.violations == direct.violations
    assert any(v.focus == str(person) and "label" in v.message for v in handed.violations)
