"""CONSTRUCT answers in Turtle written by Oxigraph in one call, the server's prefixes put in afterwards.

kg.serve.worker.PrefixedTurtle must give the very bytes Oxigraph writes when it is handed the triples and the
prefixes, for any IRI (local names that need escapes or cannot be written with a prefix at all), any literal
(holding IRIs, commas, quotes, line breaks), blank nodes and `rdf:type`; must say when it cannot (a literal
holding `<`) rather than guess; and must never give back more triples than its limit.
"""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from kg.namespaces import PREFIXES
from kg.serve.worker import PrefixedTurtle

TURTLE = ox.RdfFormat.TURTLE
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
BASES = [*PREFIXES.values(), "https://data.newskg.example/", "urn:x:", "http://example.org/"]
#: Pieces of local names and literals: what a prefixed name can hold as it is, with an escape, or not at all.
PIECES = ["a", "B", "9", "_", "-", ".", "~", "%20", "!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=", "/"]
PIECES += ["?", "#", "@", ":", "é", "·", "\u203f", "中", " , ", ' "q" ', "\\", "\n", "<x>", ""]


def random_graph(rng: random.Random) -> list[ox.Triple]:
    def iri() -> ox.NamedNode:
        while True:
            try:
                return ox.NamedNode(rng.choice(BASES) + "".join(rng.choice(PIECES[:25]) for _ in range(rng.randint(0, 6))))
            except ValueError:  # not an IRI: draw again
                pass

    def text() -> str:
        return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6)))

    def term() -> ox.NamedNode | ox.Literal | ox.BlankNode:
        kind = rng.randrange(6)
        if kind < 2:
            return iri()
        if kind == 2:
            return ox.Literal(text(), language="en")
        if kind == 3:
            return ox.Literal(str(rng.randint(-9, 99)), datatype=XSD_INTEGER if rng.random() < 0.5 else iri())
        if kind == 4:
            return ox.Literal(text())
        return ox.BlankNode(f"b{rng.randrange(3)}")

    triples, subject = [], iri()
    for _ in range(rng.randint(0, 12)):
        if rng.random() < 0.3:
            subject = iri() if rng.random() < 0.8 else ox.BlankNode("b1")
        triples.append(ox.Triple(subject, RDF_TYPE if rng.random() < 0.1 else iri(), term()))
    return triples


def evaluated(triples: list[ox.Triple]) -> ox.QueryTriples:
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    return store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")


@pytest.mark.parametrize("seed", range(4))
def test_prefixed_turtle_is_byte_for_byte_what_oxigraph_writes_with_the_prefixes_or_none(seed):
    rng = random.Random(seed)
    writer = PrefixedTurtle(ox, PREFIXES)
    written = declined = 0
    for _ in range(300):
        triples = random_graph(rng)
        expected = ox.serialize(list(evaluated(triples)), format=TURTLE, prefixes=PREFIXES)
        got = writer.write(evaluated(triples), 100_000)
        if got is None:  # only when a literal holds a `<`
            assert any(isinstance(t.object, ox.Literal) and "<" in t.object.value for t in triples)
            declined += 1
            continue
        assert got == expected
        written += 1
    assert written > 200 and declined > 0


def test_prefixed_turtle_declines_a_graph_past_its_limit_and_writes_one_within_it():
    writer = PrefixedTurtle(ox, PREFIXES)
    kg = PREFIXES["kg"]
    triples = [ox.Triple(ox.NamedNode(f"{kg}s{i}"), ox.NamedNode(f"{kg}p"), ox.Literal(str(i))) for i in range(50)]
    assert writer.write(evaluated(triples), 49) is None
    assert writer.write(evaluated(triples), 50) == ox.serialize(
        list(evaluated(triples)), format=TURTLE, prefixes=PREFIXES
    )
    assert writer.write(evaluated([]), 5) == b""  # no header for an empty graph, as Oxigraph writes it
    assert PrefixedTurtle(ox, {}).write(evaluated(triples[:3]), 5) == ox.serialize(
        list(evaluated(triples[:3])), format=TURTLE
    )
