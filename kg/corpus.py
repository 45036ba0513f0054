"""Corpus: the cross-article stages, run once a build's articles are stored.

Corpus-wide resolution makes one node per real-world thing from every article's mentions; the
nodes go to the corpus graph. Only nodes whose statements changed are written and validated, so
adding one article to a large store costs little, and a reader sees every node whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from .rdf import Provenance, Triple, entity_triples, resolution_triples
from .resolve import CorpusMentions
from .store import Store, fingerprint, to_quads
from .validate import ValidationReport, validate_triples

#: Entities turned into triples, compared, checked and written together (one transaction).
CHUNK = 2000


@dataclass
class CorpusReport:
    """What updating the corpus graph did."""

    entities: int = 0
    changed: int = 0
    removed: int = 0
    quads: int = 0
    validation: ValidationReport | None = None


def update_corpus(
    store: Store,
    prov: Provenance,
    mentions: CorpusMentions | None = None,
    *,
    validate: bool = True,
) -> CorpusReport:
    """Resolve the corpus and bring its graph up to date.

    `mentions` are every entity mention in the store; a build that saw them all passes them in,
    otherwise they are read back from the store.
    """
    iris = store.iris
    if mentions is None:
        mentions = CorpusMentions()
        mentions.add(store.mention_records())
    entities = mentions.resolve(iris)
    report = CorpusReport(entities=len(entities), validation=ValidationReport() if validate else None)
    graph = iris.corpus_graph
    old = store.subject_fingerprints(graph)
    seen: set[str] = set()

    def parts() -> Iterator[tuple[list[Triple], bool]]:
        """Triples to compare, and whether they stand or fall together (the run and its agents)."""
        yield resolution_triples(iris, prov), True
        for start in range(0, len(entities), CHUNK):
            yield [t for e in entities[start : start + CHUNK] for t in entity_triples(e, iris)], False

    for triples, whole in parts():
        by_subject: dict[str, list[int]] = defaultdict(list)
        quads = to_quads(triples, graph)
        for i, q in enumerate(quads):
            by_subject[q.subject.value].append(i)
        seen.update(by_subject)
        changed = [s for s, idx in by_subject.items() if old.get(s) != fingerprint(quads[i].triple for i in idx)]
        if not changed:
            continue
        if whole:
            changed = list(by_subject)
        keep = sorted(i for s in changed for i in by_subject[s])
        if report.validation is not None:
            report.validation.merge(validate_triples(triples[i] for i in keep))
        store.replace_subjects(graph, changed, [quads[i] for i in keep])
        report.changed += len(changed)
        report.quads += len(keep)
    stale = sorted(set(old) - seen)
    store.remove_subjects(graph, stale)
    report.removed = len(stale)
    return report

