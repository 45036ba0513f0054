"""Corpus-wide resolution on the cluster: a shuffle by name, union-find over distinct names, a shuffle by cluster.

`kg.corpus.resolve.CorpusMentions.resolve` does, on one machine: one record per (article, name) -> union-find by the
corpus rules -> one entity per group, minted in a global order. Here, with Dask bags:

1. map: each partition's mention shard becomes its (article, name) records (`LocalName`, as CorpusMentions
   makes them), and one node per distinct (kind, name) of the partition (mentions merged, counts summed);
2. shuffle by (kind, name), the blocking key: a node per distinct name of the corpus;
3. union-find over the distinct names (`kg.corpus.resolve.name_groups`, the same rules), in one task: the rules
   join names across the whole corpus (an acronym defined in one article, used in another), so this step is
   global. Its size is the number of distinct names, not of mentions: names grow much slower than articles
   (Heaps' law); at about 300 bytes a name, a few million names (a million articles) fit in 1-2 GB;
4. the cluster ids joined back to the records, shuffled by cluster: each cluster's entity drafted where its
   records land (`kg.corpus.resolve.draft`);
5. IRIs minted in one task from (kind, label, first mention) per entity (`kg.corpus.resolve.mint_iris`): numbered
   IRIs ("Label 2") need the global order; ~100 bytes an entity;
6. the entities written as shards; the driver reads them for linking, event merging and the corpus graph.

Same records, same entities, same IRIs as `CorpusMentions.resolve`: the two rules that depend on order
visit the distinct names once per article they occur in, in the order the one-machine resolution visits
its records (see `name_groups`), and a first mention orders entities as their sorted mentions do.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..corpus.resolve import CorpusMentions, LocalName, draft, mint_iris, name_groups, visited
from ..model import Entity, MentionRecord
from ..namespaces import Iris, slug
from . import shards


@dataclass
class NameNode:
    """One distinct (kind, name): its occurrences' anchors and labels summed, and the articles it is in
    when the order-dependent rules look at it (acronyms only: other names need no list)."""

    kind: str
    name: str
    anchors: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    digests: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def add(self, other: NameNode) -> NameNode:
        self.anchors.update(other.anchors)
        self.labels.update(other.labels)
        self.digests += other.digests
        return self

    def local(self) -> LocalName:
        """As a record `name_groups` reads (kind, name, anchors)."""
        flat = tuple(x for anchor, count in self.anchors.items() for x in (anchor, count))
        labels = tuple(x for label, count in self.labels.items() for x in (label, count))
        return LocalName("", self.name, self.kind, "", flat, labels, "")


def partition_locals(work: str, number: int, keep: list[int]) -> list[LocalName]:
    """The (article, name) records of one partition's mention shard, of the articles whose records count."""
    wanted = set(keep)
    mentions = CorpusMentions()
    mentions.add(
        MentionRecord(r["digest"], r["iri"], r["text"], r["name"], r["kind"], r["label"])
        for r in shards.read_table(work, "mentions", number)
        if r["seq"] in wanted
    )
    return mentions.locals()


def name_nodes(locals_: Iterable[LocalName]) -> list[NameNode]:
    """One node per distinct (kind, name) of a partition."""
    nodes: dict[tuple[str, str], NameNode] = {}
    for loc in locals_:
        node = NameNode(loc.kind, loc.name, Counter(loc.anchors), Counter(loc.labels))
        if visited(loc.name):
            node.digests.append(loc.digest)
        got = nodes.get(node.key)
        nodes[node.key] = node if got is None else got.add(node)
    return list(nodes.values())


def merge_nodes(key: tuple[str, str], nodes: list[NameNode]) -> NameNode:
    first, *rest = nodes
    for node in rest:
        first.add(node)
    return first


def cluster_names(*parts: list[NameNode]) -> dict[tuple[str, str], int]:
    """The global step: union-find over every distinct name, as `CorpusMentions.resolve` would group them.

    Returns each (kind, name)'s cluster (the smallest node index of its group)."""
    nodes = sorted((n for part in parts for n in part), key=lambda n: (n.name, n.kind))
    locals_ = [n.local() for n in nodes]
    # The order-dependent rules visit records by (article, name); a node stands for its name in each article.
    visits = sorted((d, n.name, i) for i, n in enumerate(nodes) for d in n.digests)
    groups = name_groups(locals_, [i for _, _, i in visits])
    return {n.key: groups.find(i) for i, n in enumerate(nodes)}


def keyed_by_cluster(locals_: list[LocalName], clusters: dict[tuple[str, str], int]) -> list[tuple[int, LocalName]]:
    return [(clusters[(loc.kind, loc.name)], loc) for loc in locals_]


def drafted(item: tuple[int, list[tuple[int, LocalName]]]) -> tuple[int, Any]:
    cluster, members = item
    return cluster, draft(sorted((loc for _, loc in members), key=lambda x: (x.digest, x.name)))


def mint(*parts: list[tuple[int, Any]], base: str) -> dict[int, str]:
    """The global step of minting: every entity's IRI from (kind, label, first mention)."""
    keys = [(cluster, d.kind, d.label, d.mentions[0]) for part in parts for cluster, d in part]
    found = mint_iris([(kind, label, first) for _, kind, label, first in keys], Iris(base))
    return {cluster: iri for (cluster, *_), iri in zip(keys, found, strict=True)}


def write_entities(part: list[tuple[int, Any]], iris: dict[int, str], work: str, number: int) -> int:
    rows = [
        {"digest": "", "partition": number, "seq": i, "record": shards.pack(d.entity(iris[cluster]))}
        for i, (cluster, d) in enumerate(part)
    ]
    shards.write_table(work, "entities", number, rows)
    return len(rows)


def _pickled_size(part: list) -> list[int]:
    return [sum(len(pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL)) for x in part)]


@dataclass
class ResolveReport:
    names: int = 0
    entities: int = 0
    #: Bytes of records the two shuffles move between workers (pickled): names, then records by cluster.
    shuffle_bytes: int = 0


def resolve_on_cluster(
    client: Any, work: str, keep: dict[int, list[int]], base: str
) -> tuple[list[Entity], ResolveReport]:
    """The corpus's entities from the mention shards of the partitions in `keep` (partition -> seqs that count),
    as `CorpusMentions.resolve` would make them from the same records; written as entity shards, read back."""
    import dask
    import dask.bag as db

    numbers = sorted(keep)
    if not numbers:
        return [], ResolveReport()
    locals_ = db.from_delayed([dask.delayed(partition_locals)(work, n, keep[n]) for n in numbers])
    nodes = locals_.map_partitions(name_nodes)
    by_name = nodes.groupby(lambda n: n.key, shuffle="tasks").starmap(merge_nodes)
    clusters = dask.delayed(cluster_names)(*by_name.to_delayed())
    keyed = locals_.map_partitions(keyed_by_cluster, clusters)
    drafts = keyed.groupby(lambda pair: pair[0], shuffle="tasks").map(drafted)
    parts = drafts.to_delayed()
    iris = dask.delayed(mint)(*parts, base=base)
    written = [dask.delayed(write_entities)(p, iris, work, i) for i, p in enumerate(parts)]
    sizes = [nodes.map_partitions(_pickled_size).sum(), keyed.map_partitions(_pickled_size).sum()]
    # One graph, computed once: the records are read once and each shuffle runs once.
    *counts, names, name_bytes, record_bytes = client.gather(
        client.compute([*written, dask.delayed(len)(clusters), *sizes])
    )
    report = ResolveReport(names=names, entities=sum(counts), shuffle_bytes=name_bytes + record_bytes)
    entities: list[Entity] = []
    for number in range(len(parts)):
        entities += [shards.unpack(r["record"]) for r in shards.read_table(work, "entities", number)]
    entities.sort(key=lambda e: (e.kind, slug(e.label), e.label, e.mentions))
    return entities, report
