"""The event taxonomy and its trigger words are data in the ontology: documented, aligned, and extended without code."""

from __future__ import annotations

import pytest
from conftest import select
from rdflib import Graph, URIRef
from rdflib.namespace import RDFS, SKOS

from kg.article.events import NO_EVENTS, LexiconError, load_taxonomy, parse_trigger
from kg.article.extract import extract
from kg.article.read import article_from_text
from kg.namespaces import KG, Iris
from kg.pipeline.build import build
from kg.resources import ontology_files
from kg.settings import Settings
from kg.store.store import Store

CELEBRATION = """
@prefix kg:   <https://w3id.org/newskg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix ex:   <https://example.org/events#> .

ex:Celebration rdfs:subClassOf kg:ReportedEvent ;
    rdfs:label "celebration"@en ;
    kg:triggerLemma "celebrate", "celebration" ;
    kg:ofRole kg:AgentRole .
kg:Arrest kg:triggerLemma "nab" .
"""
TEXT = " date 2005-05-26 Liverpool celebrated in Istanbul on Wednesday after the final. Police nabbed Carl Jones in Leeds.\n"


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


def test_the_taxonomy_has_a_dozen_or_so_documented_types_with_the_issues_words(taxonomy):
    types = {t.name: t for t in taxonomy.types.values() if t.depth >= 1}
    assert 12 <= len(types) <= 20
    words = {
        "Defection": {"defect", "defection"},
        "Shooting": {"shoot", "shooting", "fire"},
        "Flight": {"flee", "escape"},
        "Crash": {"crash"},
        "Transport": {"transport", "fly"},
        "Surgery": {"operate", "surgery"},
        "Violation": {"violate", "violation"},
        "Statement": {"say", "announce"},
        "Accusation": {"accuse"},
        "Meeting": {"meet", "talks"},
        "Arrest": {"arrest"},
        "Attack": {"attack"},
        "Killing": {"kill"},
        "Protest": {"protest"},
    }
    for name, expected in words.items():
        found = {w for w, triggers in taxonomy.triggers.items() if any(t.type.endswith(f"#{name}") for t in triggers)}
        assert expected <= found, f"{name}: {expected - found} missing"
    graph = Graph()
    for path in ontology_files():
        graph.parse(path)
    aligned = 0
    for iri in types.values():
        node = URIRef(iri.iri)
        assert graph.value(node, RDFS.label) is not None and graph.value(node, RDFS.comment) is not None
        matches = [*graph.objects(node, SKOS.closeMatch), *graph.objects(node, SKOS.narrowMatch),
                   *graph.objects(node, SKOS.relatedMatch), *graph.objects(node, KG.cameoCode)]  # fmt: skip
        aligned += bool(matches)
    assert aligned >= 12, "most types are aligned to Wikidata or CAMEO"


def test_a_defection_is_a_kind_of_flight_and_types_know_their_family(taxonomy):
    assert taxonomy.compatible(str(KG.Defection), str(KG.Flight))
    assert not taxonomy.compatible(str(KG.Defection), str(KG.Shooting))
    assert taxonomy.family(str(KG.Shooting)) == str(KG.Attack)
    assert taxonomy.types[str(KG.Statement)].identified_by == "agent"


def test_trigger_patterns_read_their_conditions():
    trig = parse_trigger("fire.VERB >at|across|:dobj <open !as", "x")
    assert (trig.word, trig.pos) == ("fire", "VERB")
    assert trig.children == {"at", "across"} and trig.child_deps == {"dobj"}
    assert trig.heads == {"open"} and trig.without == {"as"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("fire.ADJ", "part of speech must be VERB or NOUN"),
        ("fire >", "must be >dependents, <heads or !excluded"),
        (">at", "must start with a word"),
        ("fire >at||on", "empty alternative"),
    ],
)
def test_a_malformed_trigger_pattern_is_a_clear_error(entry, message):
    with pytest.raises(LexiconError, match=message):
        parse_trigger(entry, "https://example.org/events#Thing")


def test_a_missing_or_broken_lexicon_file_is_a_clear_error(tmp_path):
    with pytest.raises(LexiconError, match="event lexicon not found"):
        load_taxonomy((str(tmp_path / "nope.ttl"),))
    bad = tmp_path / "bad.ttl"
    bad.write_text("this is not turtle", encoding="utf-8")
    with pytest.raises(LexiconError, match="not valid Turtle"):
        load_taxonomy((str(bad),))


def test_a_users_lexicon_adds_a_type_and_a_word_without_code_changes(tmp_path, nlp):
    lexicon = tmp_path / "celebrations.ttl"
    lexicon.write_text(CELEBRATION, encoding="utf-8")
    taxonomy = load_taxonomy((str(lexicon),))
    article = article_from_text(TEXT, "t.txt")
    found = extract(nlp(TEXT[article.body_start :]), article, taxonomy)
    by_type = {e.type.rsplit("#", 1)[-1]: e for e in found.events}
    assert {"Celebration", "Arrest"} <= set(by_type)
    celebration = by_type["Celebration"]
    assert {(a.role, a.text) for a in celebration.arguments} >= {("agent", "Liverpool"), ("place", "Istanbul")}
    assert [a.text for a in celebration.arguments if a.role == "time"] == ["Wednesday"]
    assert {(a.role, a.text) for a in by_type["Arrest"].arguments} >= {("patient", "Carl Jones"), ("place", "Leeds")}
    plain = extract(nlp(TEXT[article.body_start :]), article)
    assert "Celebration" not in {e.type.rsplit("#", 1)[-1] for e in plain.events}
    assert extract(nlp(TEXT[article.body_start :]), article, NO_EVENTS).events == ()


def test_builds_read_the_lexicon_setting_and_can_leave_events_out(tmp_path, nlp):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "final.txt").write_text(TEXT, encoding="utf-8")
    lexicon = tmp_path / "celebrations.ttl"
    lexicon.write_text(CELEBRATION, encoding="utf-8")

    with_lexicon = Settings(store=tmp_path / "with", event_lexicon=str(lexicon))
    with Store(with_lexicon.store, Iris(with_lexicon.base)) as store:
        report = build([corpus], with_lexicon, nlp=nlp, store=store)
        assert report.ok and report.events >= 1
        rows = select(store, "SELECT ?l WHERE { ?e a kg:ReportedEvent ; kg:eventType <https://example.org/events#Celebration> ; rdfs:label ?l }")
        assert rows == [{"l": "celebration, 2005-05-25, Istanbul"}]

    without = Settings(store=tmp_path / "without", events=False)
    with Store(without.store, Iris(without.base)) as store:
        report = build([corpus], without, nlp=nlp, store=store)
        assert report.ok and report.events == 0
        assert select(store, "SELECT ?m WHERE { ?m a kg:EventMention }") == []
        assert select(store, "SELECT ?t WHERE { ?t a kg:TimeMention }"), "dates are still read"


def test_the_lexicon_can_be_named_on_the_command_line_and_a_bad_one_is_one_clear_line(tmp_path):
    import subprocess
    import sys

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "final.txt").write_text(TEXT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "kg", "build", str(corpus), "--store", str(tmp_path / "s"), "-q",
         "--event-lexicon", str(tmp_path / "missing.ttl")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"Error: event lexicon not found: {tmp_path / 'missing.ttl'}"
