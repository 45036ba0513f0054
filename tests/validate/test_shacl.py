"""The Oxigraph SHACL engine (shapes compiled to SPARQL) gives pyshacl's verdicts, only faster."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import altered
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD

from kg.namespaces import KG, NIF, SCHEMA, SEM
from kg.resources import shape_files
from kg.settings import SettingsError, load_settings
from kg.store.store import to_ox
from kg.validate.check import validate_graph
from kg.validate.shacl import UnsupportedShapeError, compile_shapes, run_checks

EX = "http://example.org/"
MESSAGES = {str(m) for path in shape_files() for m in Graph().parse(path, format="turtle").objects(None, SH.message)}


def verdicts(report) -> set[tuple[str, str, str, str]]:
    return {(v.focus, v.path, v.severity, v.message) for v in report.violations}


def first(graph: Graph, predicate, cls=None):
    for s, o in sorted(graph.subject_objects(predicate)):
        if cls is None or (s, RDF.type, cls) in graph:
            return s, o
    raise AssertionError(f"no {predicate} in the graph")


def breakages(g: Graph) -> dict[str, tuple[list, list]]:
    """One broken graph per kind of constraint our shapes use: (triples removed, triples added)."""
    mention, begin = first(g, NIF.beginIndex, KG.EntityMention)
    _, end = first(g, NIF.endIndex, KG.EntityMention)
    person, label = first(g, RDFS.label, KG.Person)
    article, digest = first(g, KG.sha256)
    _, published = first(g, SCHEMA.datePublished)
    link, confidence = first(g, KG.confidence, KG.WikidataLink)
    _, outcome = first(g, KG.linkOutcome)
    event = sorted(g.subjects(RDF.type, KG.ReportedEvent))[0]
    instant, day = first(g, URIRef("http://www.w3.org/2006/time#inXSDDate"))
    return {
        "minCount": ([(person, RDFS.label, label)], []),
        "maxCount and sh:in": ([], [(person, RDF.type, KG.Place)]),
        "datatype and minLength": ([(person, RDFS.label, label)], [(person, RDFS.label, Literal(""))]),
        "ill-typed literal": ([(instant, URIRef("http://www.w3.org/2006/time#inXSDDate"), day)],
                              [(instant, URIRef("http://www.w3.org/2006/time#inXSDDate"),
                                Literal("2017-02-30", datatype=XSD.date))]),
        "pattern": ([(article, KG.sha256, digest)], [(article, KG.sha256, Literal("not-a-hash"))]),
        "sh:or of datatypes": ([(article, SCHEMA.datePublished, published)],
                               [(article, SCHEMA.datePublished, Literal("22 November 2017"))]),
        "range": ([(link, KG.confidence, confidence)], [(link, KG.confidence, Literal("1.5", datatype=XSD.decimal))]),
        "lessThan": ([(mention, NIF.beginIndex, begin)], [(mention, NIF.beginIndex, Literal(end.toPython() + 5))]),
        "class": ([(mention, NIF.referenceContext, article)], [(mention, NIF.referenceContext, person)]),
        "nodeKind": ([], [(event, SEM.hasActor, Literal("somebody"))]),
        "sh:or of property shapes": (
            [(event, p, o) for p, o in g.predicate_objects(event) if p in (SEM.hasActor, SEM.hasPlace, KG.participantGroup)],
            [],
        ),
        "hasValue and sh:node through an inverse path": (
            [(s, KG.linkTarget, o) for s, o in g.subject_objects(KG.linkTarget)][:1], []
        ),
        "SPARQL constraint": ([(mention, NIF.anchorOf, g.value(mention, NIF.anchorOf))],
                              [(mention, NIF.anchorOf, Literal("Somebody Else"))]),
        "sh:in of IRIs": ([(link, KG.linkOutcome, outcome)], [(link, KG.linkOutcome, KG.Maybe)]),
    }  # fmt: skip


def test_the_seed_graph_conforms_in_both_engines(seed_graph):
    fast, reference = validate_graph(seed_graph), validate_graph(seed_graph, engine="pyshacl")
    assert fast.conforms and reference.conforms
    assert fast.triples == reference.triples == len(seed_graph)


def test_each_kind_of_breakage_gets_the_same_report_from_both_engines(seed_graph):
    for kind, (remove, add) in breakages(seed_graph).items():
        assert remove or add, kind
        g = altered(seed_graph, remove=remove, add=add)
        fast, reference = validate_graph(g), validate_graph(g, engine="pyshacl")
        assert not fast.conforms and not reference.conforms, kind
        assert {(f, p, s) for f, p, s, _ in verdicts(fast)} == {(f, p, s) for f, p, s, _ in verdicts(reference)}, kind
        # default messages are worded differently; the shapes' own sh:message texts are the same
        assert {v for v in verdicts(fast) if v[3] in MESSAGES} == {v for v in verdicts(reference) if v[3] in MESSAGES}


def test_paths_are_shown_as_paths_not_blank_node_ids(seed_graph):
    instant, _ = first(seed_graph, URIRef("http://www.w3.org/2006/time#inXSDDate"))
    g = altered(
        seed_graph,
        add=[(instant, URIRef("http://www.w3.org/2006/time#inXSDgYear"), Literal("2017", datatype=XSD.gYear))],
    )
    for engine in ("oxigraph", "pyshacl"):
        paths = {v.path for v in validate_graph(g, engine=engine).violations}
        assert "(time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear|kg:inXSDgMonthDay|time:hasBeginning)" in paths


SHAPES = f"""
@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <{EX}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:PersonShape a sh:NodeShape ; sh:targetClass ex:Person ;
    sh:property [ sh:path ex:name ; sh:uniqueLang true ; sh:languageIn ("en" "fr") ; sh:maxLength 10 ] ;
    sh:property [ sh:path ex:age ; sh:datatype xsd:integer ; sh:minExclusive 0 ; sh:maxExclusive 150 ] ;
    sh:property [ sh:path ex:nick ; sh:disjoint ex:name ] ;
    sh:property [ sh:path ex:email ; sh:equals ex:mail ] ;
    sh:property [ sh:path ex:knows ; sh:minCount 2 ; sh:maxCount 3 ; sh:class ex:Person ] ;
    sh:property [ sh:path ex:address ; sh:node ex:AddressShape ;
                  sh:property [ sh:path ex:city ; sh:minCount 1 ] ] ;
    sh:property [ sh:path ( ex:employer ex:country ) ; sh:hasValue ex:FR ] ;
    sh:property [ sh:path [ sh:oneOrMorePath ex:parent ] ; sh:not [ sh:hasValue ex:Alice ] ] ;
    sh:xone ( [ sh:path ex:passport ; sh:minCount 1 ] [ sh:path ex:idCard ; sh:minCount 1 ] ) ;
    sh:and ( [ sh:nodeKind sh:IRI ] [ sh:pattern "^http://example" ] ) .
ex:AddressShape a sh:NodeShape ; sh:property [ sh:path ex:zip ; sh:minCount 1 ; sh:maxCount 1 ] .
ex:Worker rdfs:subClassOf ex:Person .
"""

DATA = f"""
@prefix ex: <{EX}> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Worker rdfs:subClassOf ex:Person .
ex:Alice a ex:Person ; ex:name "Alice"@en, "Alicia"@en, "Alice"@de, "Alexandrina Victoria"@fr ; ex:age 0 ;
    ex:nick "Alice"@en ; ex:email "a@x" ; ex:mail "b@x" ; ex:knows ex:Bob ; ex:address ex:A1 ;
    ex:employer ex:Acme ; ex:passport "P1" ; ex:idCard "I1" .
ex:Bob a ex:Worker ; ex:age "old" ; ex:knows ex:Alice, ex:Carol, "Dave" ; ex:address ex:A2 ;
    ex:employer ex:Acme ; ex:parent ex:Eve . ex:Eve ex:parent ex:Alice .
ex:Carol a ex:Person ; ex:age 200 ; ex:knows ex:Alice, ex:Bob, ex:Eve, ex:Frank ; ex:passport "P3" ;
    ex:address ex:A3 .
ex:A3 ex:zip "3" .
ex:Acme ex:country ex:DE .
ex:A1 ex:zip "1", "2" ; ex:city "Paris" . ex:A2 ex:city "Lyon" .
"""


def test_the_features_our_shapes_do_not_use_also_match_pyshacl():
    shapes, data = Graph().parse(data=SHAPES, format="turtle"), Graph().parse(data=DATA, format="turtle")
    conforms, results, _ = validate(data, shacl_graph=shapes, inference="none")
    details = set(results.objects(None, SH.detail))
    reference = {(str(results.value(r, SH.focusNode)), str(results.value(r, SH.sourceConstraintComponent)).split("#")[1])
                 for r in set(results.subjects(RDF.type, SH.ValidationResult)) - details}  # fmt: skip
    store = ox.Store()
    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in data)
    found = run_checks(store, compile_shapes(shapes))
    assert not conforms and found
    assert {r.focus.value for r in found} == {f for f, _ in reference}
    assert len({(r.focus.value, r.path, r.message) for r in found}) == len(reference)
    assert f"{EX}A3" in {r.focus.value for r in found}  # a property shape's property shape: values are its focus


def test_incomparable_values_violate_less_than_as_the_recommendation_says(seed_graph):
    """SHACL 4.5.3: a pair whose values cannot be compared is a violation (pyshacl lets it pass)."""
    mention, end = first(seed_graph, NIF.endIndex, KG.EntityMention)
    g = altered(seed_graph, remove=[(mention, NIF.endIndex, end)], add=[(mention, NIF.endIndex, Literal(str(end)))])
    found = {(v.focus, v.path) for v in validate_graph(g).violations}
    assert (str(mention), "nif:beginIndex") in found
    assert (str(mention), "nif:endIndex") in found


def test_shapes_the_compiler_cannot_translate_are_refused():
    closed = Graph().parse(
        data=f"@prefix sh: <http://www.w3.org/ns/shacl#> . <{EX}S> a sh:NodeShape ; sh:targetClass <{EX}C> ; sh:closed true .",
        format="turtle",
    )
    with pytest.raises(UnsupportedShapeError, match="closed"):
        compile_shapes(closed)


def test_the_engine_is_a_setting():
    assert load_settings(environ={"KG_SHACL_ENGINE": "pyshacl"}).shacl_engine == "pyshacl"
    with pytest.raises(SettingsError, match="shacl_engine"):
        load_settings(environ={"KG_SHACL_ENGINE": "jena"})
    with pytest.raises(ValueError, match="unknown SHACL engine"):
        validate_graph(Graph(), engine="jena")


def test_each_value_constraint_is_compiled_by_a_documented_function_of_its_own():
    from kg.validate.shacl import VALUE_COMPONENTS

    names = [component.__name__ for component in VALUE_COMPONENTS]
    assert len(set(names)) == len(names)
    assert all(component.__doc__ and component.__doc__.startswith("sh:") for component in VALUE_COMPONENTS)
