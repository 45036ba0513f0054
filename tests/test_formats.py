"""The format registry: one record per format, and the one content negotiation every part uses."""

from __future__ import annotations

import pytest

from kg.formats import EXPORT_NAMES, REGISTRY, Family, FormatError, by_extension, by_media_type, get, negotiate


def test_every_format_has_unique_names_within_its_family_and_an_oxigraph_format():
    for kind in Family:
        names = [n for f in REGISTRY if f.family is kind for n in f.names]
        assert len(names) == len(set(names)), kind
    for f in REGISTRY:
        assert f.oxigraph() is not None and f.w3c and f.media_types


def test_a_name_an_alias_an_extension_and_a_media_type_find_the_same_format():
    assert get("ttl", Family.RDF) is get("Turtle", Family.RDF) is by_extension("graph.ttl", Family.RDF)
    assert by_media_type("application/x-turtle; charset=utf-8", Family.RDF) is get("turtle", Family.RDF)
    assert get("json", Family.RDF).name == "jsonld" and get("json", Family.RESULTS).name == "json"
    assert by_extension("out.json", Family.RDF, EXPORT_NAMES).name == "jsonld"


def test_an_unknown_name_is_an_error_that_lists_the_known_ones():
    with pytest.raises(FormatError, match="turtle, ntriples"):
        get("yaml", Family.RDF)


def test_without_a_preference_the_first_offer_wins_and_with_one_the_highest_weight():
    assert negotiate(None, Family.RDF)[0].name == "turtle"
    assert negotiate("*/*", Family.RESULTS)[0].name == "json"
    assert negotiate("text/turtle;q=0.5, application/n-triples", Family.RDF)[0].name == "ntriples"


def test_an_exact_media_type_beats_a_wildcard_of_the_same_weight():
    assert negotiate("application/*, application/n-quads", Family.RDF)[0].name == "nquads"


def test_an_older_spelling_is_answered_under_that_spelling():
    assert negotiate("application/x-turtle", Family.RDF) == (get("turtle", Family.RDF), "application/x-turtle")


def test_a_client_that_accepts_none_of_the_offers_gets_none():
    assert negotiate("text/html", Family.RDF) is None
    assert negotiate("text/turtle;q=0", Family.RDF, among=["turtle"]) is None
