"""Before Oxigraph runs a text, the endpoint knows its form, its FROM clauses and every remote call in it."""

from __future__ import annotations

import pytest

from kg.serve.tokens import inspect, needs_inspection, refused_remote


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("PREFIX x: <urn:x:> SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("BASE <http://a/> PREFIX : <b#> construct { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("# ask first\nASK { ?s ?p ?o }", "ASK"),
        ("DESCRIBE <urn:x>", "DESCRIBE"),
        ("PREFIX x: <urn:x:> INSERT DATA { x:a x:b x:c }", "UPDATE"),
        ("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "UPDATE"),
        ("LOAD <http://example.org/data.ttl>", "UPDATE"),
    ],
)
def test_the_form_of_a_query_or_update(text, form):
    assert inspect(text).form == form


def test_from_clauses_are_found_and_a_from_in_a_string_is_not():
    assert inspect("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }").has_dataset
    assert inspect("SELECT * FROM NAMED <urn:g> WHERE { GRAPH ?g { ?s ?p ?o } }").has_dataset
    assert not inspect('SELECT * WHERE { ?s ?p "from <urn:g>" }').has_dataset
    assert not inspect("SELECT ?from WHERE { ?from ?p ?o }").has_dataset


def test_service_targets_resolve_prefixes_and_the_base():
    found = inspect(
        "BASE <http://remote.example/> PREFIX r: <http://other.example/> "
        "SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } SERVICE SILENT r:endpoint { ?a ?b ?c } }"
    )
    assert found.remote == ("http://remote.example/sparql", "http://other.example/endpoint")
    escaped = inspect(r"SELECT * WHERE { SERVICE <http://\u0065vil.example/> { ?s ?p ?o } }")
    assert escaped.remote == ("http://evil.example/",)


def test_service_hidden_in_strings_comments_variables_and_language_tags_is_not_a_call():
    text = '''SELECT * WHERE {
        ?s ?p """a long string with SERVICE <http://x/> { } inside""" .
        ?s ?p 'SERVICE <http://y/>' .
        # SERVICE <http://z/> { }
        ?service ?p "text"@service .
    }'''
    assert inspect(text).remote == ()


def test_a_service_on_a_variable_or_unknown_prefix_cannot_be_allowed():
    found = inspect("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } SERVICE nope:x { } }")
    assert found.remote == (None, None)
    assert "fixed endpoint IRI" in refused_remote(found, frozenset({"http://ok.example/sparql"}))


def test_allow_list_decides():
    found = inspect("SELECT * WHERE { SERVICE <http://ok.example/sparql> { ?s ?p ?o } }")
    assert refused_remote(found, frozenset({"http://ok.example/sparql"})) is None
    assert "federated queries are off" in refused_remote(found, frozenset())
    assert "not in this server's allow-list" in refused_remote(found, frozenset({"http://other.example/sparql"}))


def test_plain_queries_skip_lexing():
    assert not needs_inspection("SELECT ?n WHERE { ?p a kg:Person ; rdfs:label ?n }")
    assert needs_inspection("select * where { Service <x:y> {} }")


def test_escapes_and_percent_codes_in_prefixed_names_hide_nothing():
    """`ex:a\\#` and `ex:a\\'b` are names (SPARQL's PN_LOCAL_ESC), not the start of a comment or a string."""
    comment = inspect(r"PREFIX ex: <http://e/> SELECT * WHERE { BIND(ex:a\# AS ?k) SERVICE <http://x/> { } }")
    assert comment.remote == ("http://x/",)
    string = inspect(r"PREFIX ex: <http://e/> SELECT * WHERE { ?s ex:a\'b ?o SERVICE <http://y/> { } FILTER(?o != 'q') }")
    assert string.remote == ("http://y/",)
    load = inspect(r"PREFIX ex: <http://e/> INSERT DATA { ex:b\'c ex:p ex:o } ; LOAD <http://z/x.ttl> ; CLEAR ALL")
    assert load.remote == ("http://z/x.ttl",)
    encoded = inspect(r"PREFIX ex: <http://e/> SELECT * WHERE { SERVICE ex:a%20b\.c { } }")
    assert encoded.remote == ("http://e/a%20b.c",)
