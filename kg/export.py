"""Export: the store as Turtle, N-Triples, N-Quads, TriG or JSON-LD, serialised by Oxigraph.

Triple formats (Turtle, N-Triples) get the union of all graphs; dataset formats (N-Quads, TriG,
JSON-LD) keep one named graph per article plus the corpus graph.
"""

from __future__ import annotations

from typing import BinaryIO

import pyoxigraph as ox

from .namespaces import PREFIXES
from .store import Store

FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
}
#: File extensions, for picking a format from an output file name.
EXTENSIONS = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "trig": "trig", "jsonld": "jsonld", "json": "jsonld"}


def export(store: Store, fmt: str, output: BinaryIO) -> None:
    """Write the whole store to `output` in format `fmt` (a key of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    rdf_format = FORMATS[fmt]
    prefixes = PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    if rdf_format.supports_datasets:
        data = store.ox.quads_for_pattern(None, None, None, None)
    else:
        data = store.ox.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    ox.serialize(data, output, format=rdf_format, prefixes=prefixes)
