"""Before Oxigraph runs a text, the endpoint knows its form, its FROM clauses and every remote call in it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from serving import crash_shapes

from kg.resources import query_files
from kg.serve.tokens import (
    MAX_CHAIN,
    MAX_DEPTH,
    MAX_NESTING,
    UsingConflictError,
    inspect,
    needs_inspection,
    refused_remote,
    too_deep,
    with_using,
)


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


# -- shapes that would crash the engine --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(crash_shapes()))
def test_a_shape_that_crashes_the_engine_is_refused_with_the_limit_it_crosses(name):
    refusal = too_deep(crash_shapes()[name])
    assert refusal is not None
    assert any(str(limit) in refusal for limit in (MAX_NESTING, MAX_CHAIN, MAX_DEPTH)), refusal


def test_the_engine_really_crashes_on_such_a_shape_so_the_guard_is_needed():
    text = crash_shapes()["nested STR("]
    run = subprocess.run(
        [sys.executable, "-c", "import sys, pyoxigraph as ox; ox.Store().query(sys.stdin.read())"],
        input=text.encode(),
        capture_output=True,
        timeout=60,
    )
    assert run.returncode < 0, "pyoxigraph survived it: the limits could be raised"


def test_canned_queries_and_real_query_shapes_pass():
    for path in query_files():
        assert too_deep(path.read_text(encoding="utf-8")) is None, path
    ordinary = [
        "SELECT * WHERE { ?s ?p ?o FILTER(?o IN (" + ", ".join(str(i) for i in range(20000)) + ")) }",
        "SELECT (CONCAT(" + ", ".join(['"a"'] * 5000) + ") AS ?x) WHERE {}",
        "SELECT * WHERE { VALUES ?x { " + " ".join(f"<urn:x{i}>" for i in range(20000)) + " } }",
        "SELECT * WHERE { ?s <urn:p> " + ", ".join(f"<urn:o{i}>" for i in range(5000)) + " }",
        "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 400) + " }",
        "SELECT * WHERE { BIND(" + "STR(" * 60 + "?x" + ")" * 60 + " AS ?y) }",
        "INSERT DATA { " + " . ".join(f"<urn:s{i}> <urn:p> {-i}, +{i}, 1e-3, '{i}'^^xsd:int" for i in range(5000)) + " }",
        "SELECT * WHERE { ?s <urn:p>* ?o ; <urn:q>+ ?x . " + " . ".join(f"?s <urn:p> ?o{i}" for i in range(2000)) + " }",
    ]
    for text in ordinary:
        assert too_deep(text) is None, text[:80]


def test_brackets_and_operators_in_strings_iris_and_comments_do_not_count():
    noise = "(((({{{{[[[[ && || UNION " * 2000
    assert too_deep(f'SELECT * WHERE {{ ?s ?p "{noise}" }}') is None
    assert too_deep(f"SELECT * WHERE {{ ?s ?p ?o }} # {noise}") is None
    assert too_deep("SELECT * WHERE { ?s ?p <urn:" + "(" * 5000 + "> }") is None


def test_nesting_and_chains_add_up_along_the_deepest_path():
    # 60 levels (600) with a chain of 450 inside (1,050): each alone is under its limit
    inner = " && ".join(["?o"] * 450)
    text = "SELECT * WHERE { FILTER(" + "(" * 60 + inner + ")" * 60 + ") }"
    refusal = too_deep(text)
    assert refusal is not None and str(MAX_DEPTH) in refusal
    assert too_deep("SELECT * WHERE { FILTER(" + "(" * 20 + inner + ")" * 20 + ") }") is None


def test_using_graph_uri_becomes_a_using_clause_on_every_operation_with_a_where():
    text = (
        "PREFIX ex: <http://example/> CLEAR ALL ; INSERT DATA { GRAPH ex:g { ex:a ex:b ex:c } } ;\n"
        "DELETE { ?s ?p ?o } INSERT { ?s ?p 'where' } WHERE { { SELECT * WHERE { ?s ?p ?o } } } ;\n"
        "DELETE WHERE { GRAPH ?g { ?s ex:b ?o } }"
    )
    rewritten = with_using(text, ["http://example/g"], ["http://example/n"])
    clause = "USING <http://example/g> USING NAMED <http://example/n>"
    assert f"INSERT {{ ?s ?p 'where' }} {clause} WHERE {{ {{ SELECT * WHERE" in rewritten  # not the subquery's
    assert f"DELETE {{ GRAPH ?g {{ ?s ex:b ?o }} }} {clause} WHERE {{ GRAPH ?g {{ ?s ex:b ?o }} }}" in rewritten
    assert "INSERT DATA { GRAPH ex:g { ex:a ex:b ex:c } }" in rewritten
    assert rewritten.count("USING <") == 2


def test_an_update_with_its_own_using_or_with_conflicts_with_the_parameters():
    for text in (
        "WITH <http://example/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "DELETE { ?s ?p ?o } USING <http://example/g> WHERE { ?s ?p ?o }",
    ):
        with pytest.raises(UsingConflictError):
            with_using(text, [], ["http://example/n"])
    assert with_using("INSERT { <urn:a> <urn:b> 'with' } WHERE { ?s <urn:with> ?o }", ["urn:g"], []).count("USING") == 1


def test_using_graph_uri_must_be_an_absolute_iri_that_cannot_break_out_of_its_brackets():
    for bad in ("relative", "urn:a> } ; DROP ALL ; INSERT DATA { <urn:b", "http://example/a b"):
        with pytest.raises(ValueError, match="absolute IRIs"):
            with_using("INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", [bad], [])


def test_a_load_without_an_address_is_a_syntax_error_not_a_remote_call():
    assert inspect("LOAD ; CLEAR ALL").remote == ()
    assert inspect("LOAD <http://example/x>").remote == ("http://example/x",)
