"""The corpus graph of a first build, made on the workers: each chunk's statements and its SHACL check.

When nothing of the corpus graph is stored yet, `kg.pipeline.corpus.update_corpus` writes every chunk whole:
there is nothing to compare. Its time then goes on making the statements in Python (rdflib triples for each
entity, its link decision and each reported event, then pyoxigraph quads) and on writing them in one
transaction a chunk: at 2,000 articles, 305,000 statements, about 11 s of the driver's, with the workers
idle. Here each chunk is made, serialized as N-Quads and checked with SHACL on a worker, with the same
functions (`kg.rdf.triples.entity_triples`, `kg.rdf.links.link_triples`, `kg.rdf.triples.reported_event_triples`),
and the driver bulk-loads the N-Quads as they come back, in order, many chunks a load (a third of the cost of
the transactions); the last chunk still ends the stage in one transaction with the pending mark.

A later build compares each chunk with the stored graph and writes only what changed; it makes its chunks
on the driver as before (comparing needs the chunk there anyway, and few nodes change).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from ..corpus.link import LinkDecision, LinkResult
from ..model import Entity, ReportedEvent
from ..namespaces import Iris
from ..pipeline.corpus import Change, ChunkMaker, node_of
from ..rdf.links import link_triples
from ..rdf.triples import Triple, entity_triples, reported_event_triples
from ..settings import Settings
from ..store.store import to_quads
from ..validate.check import ValidationReport, validate_triples


@dataclass
class Made:
    """One chunk as a worker made it: N-Quads, how many nodes and statements, its SHACL report."""

    nquads: bytes
    nodes: int
    quads: int
    validation: ValidationReport | None


def make_chunk(
    entities: list[Entity],
    decisions: list[LinkDecision] | None,
    events: list[ReportedEvent],
    base: str,
    validate: bool,
    engine: str,
) -> Made:
    """The statements of a chunk of entities (with their link decisions, if linked) or of reported events,
    as `kg.pipeline.corpus` makes them, checked with SHACL when `validate`."""
    iris = Iris(base)
    triples: list[Triple] = []
    for i, e in enumerate(entities):
        triples += entity_triples(e, iris)
        if decisions is not None:
            triples += link_triples(e, decisions[i], iris)
    for event in events:
        triples += reported_event_triples(event, iris)
    quads = to_quads(triples, iris.corpus_graph)
    checked = validate_triples(triples, quads=quads, engine=engine) if validate and quads else None
    nodes = len({node_of(q.subject.value) for q in quads})
    return Made(ox.serialize(quads, format=ox.RdfFormat.N_QUADS), nodes, len(quads), checked)


def chunks_on_cluster(client: Any, settings: Settings) -> ChunkMaker:
    """A `ChunkMaker` for `update_corpus`: every chunk submitted at once, each taken back in order as it is
    ready (the driver writes one while the workers make the next)."""

    def maker(
        entities: list[Entity], linking: LinkResult | None, events: list[ReportedEvent], chunk: int
    ) -> Iterator[Change]:
        specs = [
            (part, [linking.decisions[e.iri] for e in part] if linking is not None else None, [])
            for part in (entities[start : start + chunk] for start in range(0, len(entities), chunk))
        ]
        specs += [([], None, events[start : start + chunk]) for start in range(0, len(events), chunk)]
        check = (settings.base, settings.validate, settings.shacl_engine)
        futures = [client.submit(make_chunk, *spec, *check, pure=False) for spec in specs]
        try:
            for future in futures:
                made: Made = future.result()
                future.release()
                yield Change(made.nodes, [], [], [], made.validation, nquads=made.nquads, made=made.quads)
        finally:
            client.cancel(futures)

    return maker
