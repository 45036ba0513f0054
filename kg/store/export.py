"""Export: the store as Turtle, N-Triples, N-Quads, TriG or JSON-LD, serialised by Oxigraph.

Triple formats (Turtle, N-Triples) get the union of all graphs; dataset formats (N-Quads, TriG,
JSON-LD) keep one named graph per article plus the corpus graph.
"""

from __future__ import annotations

from typing import BinaryIO

import pyoxigraph as ox

from ..formats import EXPORT_NAMES, Family, FormatError, get
from ..namespaces import PREFIXES
from .store import Store


def export(store: Store, fmt: str, output: BinaryIO) -> None:
    """Write the whole store to `output` in format `fmt` (a name in kg.formats.EXPORT_NAMES, or its alias)."""
    chosen = get(fmt, Family.RDF)
    if chosen.name not in EXPORT_NAMES:
        raise FormatError(f"cannot export as {chosen.label}; choose one of {', '.join(EXPORT_NAMES)}")
    rdf_format = chosen.oxigraph()
    prefixes = PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    if rdf_format.supports_datasets:
        data = store.ox.quads_for_pattern(None, None, None, None)
    else:
        data = store.ox.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    ox.serialize(data, output, format=rdf_format, prefixes=prefixes)
