"""The SPARQL 1.1 Service Description of this endpoint, in the RDF format a client asks for."""

from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from ..formats import REGISTRY
from ..namespaces import PREFIXES
from .worker import ox_formats

#: The W3C's names for the formats we answer in (https://www.w3.org/ns/formats/), from kg.formats.
FORMAT_IRIS = {f.name: f.w3c for f in REGISTRY}

#: The RDF formats the description is served in, as the workers name them.
RDF_FORMATS = ox_formats()[1]


#: What the description says of the default graph, by `union` (kg serve --default-graph).
_DEFAULT_GRAPH = {
    True: (
        "The default graph is the union of all graphs (one named graph per article plus the corpus graph), "
        "unless the request names its dataset (default-graph-uri, named-graph-uri, FROM, FROM NAMED).",
        "the union of all graphs in the store",
    ),
    False: (
        "The default graph is the store's own default graph, as in the SPARQL standard (the facts are in the "
        "named graphs: one per article plus the corpus graph); requests may name their dataset "
        "(default-graph-uri, named-graph-uri, FROM, FROM NAMED).",
        "the store's default graph (not the union of the named graphs)",
    ),
}


def service_turtle(
    endpoint: str,
    *,
    corpus_graph: str,
    updates: bool,
    federation: bool,
    timeout: float,
    max_rows: int,
    union: bool = True,
) -> str:
    """The description as Turtle: languages, formats, features and the default dataset.

    sd:UnionDefaultGraph is claimed only when the default graph is the union (`union`), as the
    Service Description vocabulary defines it; clients read it to know which dataset they query.
    """
    languages = "sd:SPARQL11Query" + (", sd:SPARQL11Update" if updates else "")
    features = ["sd:UnionDefaultGraph"] if union else []
    if federation:
        features.append("sd:BasicFederatedQuery")
    feature_line = f"\n    sd:feature {', '.join(features)} ;" if features else ""
    formats = ", ".join(f"<http://www.w3.org/ns/formats/{name}>" for name in FORMAT_IRIS.values())
    limits = f"queries stop after {timeout:g} s" + (f"; at most {max_rows:,} result rows" if max_rows else "")
    comment, graph_comment = _DEFAULT_GRAPH[union]
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

<{endpoint}> a sd:Service ;
    dcterms:title "newskg SPARQL endpoint" ;
    rdfs:comment "A knowledge graph of news built by newskg. {comment} {limits}." ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage {languages} ;{feature_line}
    sd:resultFormat {formats} ;
    sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
    sd:defaultDataset [
        a sd:Dataset ;
        sd:defaultGraph [ a sd:Graph ; rdfs:comment "{graph_comment}" ] ;
        sd:namedGraph [ a sd:NamedGraph ; sd:name <{corpus_graph}> ;
                        rdfs:comment "entities resolved across the corpus" ]
    ] .
"""


@lru_cache(maxsize=64)
def render(turtle: str, fmt: str) -> tuple[str, bytes]:
    """(media type, bytes) of the description in `fmt`, converted by Oxigraph."""
    target = RDF_FORMATS[fmt]
    triples = [quad.triple for quad in ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE)]
    prefixes = {
        "sd": "http://www.w3.org/ns/sparql-service-description#",
        "formats": "http://www.w3.org/ns/formats/",
        "rdfs": PREFIXES["rdfs"],
        "dcterms": PREFIXES["dcterms"],
    }
    return target.media_type, ox.serialize(triples, format=target, prefixes=prefixes)
