"""Corpus-wide resolution on the cluster: a shuffle by name, union-find over distinct names, a shuffle by cluster.

`kg.corpus.resolve.CorpusMentions.resolve` does, on one machine: one record per (article, name) -> union-find by the
corpus rules -> one entity per group, minted in a global order. Here, as Dask tasks (futures):

1. map: each partition's mention shard becomes its (article, name) records (`LocalName`, as CorpusMentions
   makes them), kept on the worker that read them, and one node per distinct (kind, name) of the partition
   (mentions merged, counts summed; a name resolved within its article, a bare "Navy", is one node per article:
   `kg.corpus.resolve.scope`);
2. shuffle by (kind, name, scope), the blocking key: each partition's nodes dealt into one bucket per worker by a
   stable hash of the key, each bucket merged where it lands: a node per distinct name of the corpus;
3. union-find over the distinct names (`kg.corpus.resolve.name_groups`, the same rules), in one task: the rules
   join names across the whole corpus (an acronym defined in one article, used in another), so this step is
   global. Its size is the number of distinct names, not of mentions: names grow much slower than articles
   (Heaps' law); at about 300 bytes a name, a few million names (a million articles) fit in 1-2 GB;
4. the cluster ids joined back to the records, shuffled by cluster the same way: each cluster's entity drafted
   where its records land (`kg.corpus.resolve.draft`);
5. IRIs minted in one task from (kind, label, first mention) per entity (`kg.corpus.resolve.mint_iris`): numbered
   IRIs ("Label 2") need the global order; ~100 bytes an entity;
6. the entities written as shards; the driver reads them for linking, event merging and the corpus graph.

Same records, same entities, same IRIs as `CorpusMentions.resolve`: the two rules that depend on order
visit the distinct names once per article they occur in, in the order the one-machine resolution visits
its records (see `name_groups`), and a first mention orders entities as their sorted mentions do.

Why futures and not Dask bags (the first version): a bag's groupby shuffle made some 270 small tasks for 8
partitions and moved every record through generic partd-style groups; at 2,000 articles the resolution's
work is about 3 s of compute, and the bag took 8-10 s of wall time on two workers. The shuffle here is one
task per partition and step, its buckets pickled once (their bytes are the shuffle's size, measured as
they are made), and the steps are submitted together so the scheduler runs them as their inputs are ready.
"""

from __future__ import annotations

import pickle
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..corpus.resolve import CorpusMentions, LocalName, draft, mint_iris, name_groups, scope, visited
from ..model import Entity, MentionRecord
from ..namespaces import Iris, slug
from . import shards


@dataclass
class NameNode:
    """One distinct (kind, name, scope): its occurrences' anchors and labels summed, and the articles it is in
    when the order-dependent rules look at it (acronyms only: other names need no list)."""

    kind: str
    name: str
    scope: str = ""  # the article of a name resolved within its article (`kg.corpus.resolve.scope`), else ""
    anchors: Counter = field(default_factory=Counter)
    labels: Counter = field(default_factory=Counter)
    digests: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.name, self.scope)

    def add(self, other: NameNode) -> NameNode:
        self.anchors.update(other.anchors)
        self.labels.update(other.labels)
        self.digests += other.digests
        return self

    def local(self) -> LocalName:
        """As a record `name_groups` reads (kind, name, anchors)."""
        flat = tuple(x for anchor, count in self.anchors.items() for x in (anchor, count))
        labels = tuple(x for label, count in self.labels.items() for x in (label, count))
        return LocalName(self.scope, self.name, self.kind, "", flat, labels, "")


def partition_locals(work: str, number: int, keep: list[int]) -> list[LocalName]:
    """The (article, name) records of one partition's mention shard, of the articles whose records count."""
    wanted = set(keep)
    mentions = CorpusMentions()
    mentions.add(
        MentionRecord(r["digest"], r["iri"], r["text"], r["name"], r["kind"], r["label"], r["title"], r["region"])
        for r in shards.read_table(work, "mentions", number)
        if r["seq"] in wanted
    )
    return mentions.locals()


def name_nodes(locals_: Iterable[LocalName]) -> list[NameNode]:
    """One node per distinct (kind, name, scope) of a partition."""
    nodes: dict[tuple[str, str, str], NameNode] = {}
    for loc in locals_:
        node = NameNode(loc.kind, loc.name, scope(loc.name, loc.digest), Counter(loc.anchors), Counter(loc.labels))
        if visited(loc.name):
            node.digests.append(loc.digest)
        got = nodes.get(node.key)
        nodes[node.key] = node if got is None else got.add(node)
    return list(nodes.values())


def cluster_names(*parts: list[NameNode]) -> dict[tuple[str, str, str], int]:
    """The global step: union-find over every distinct name, as `CorpusMentions.resolve` would group them.

    Returns each (kind, name, scope)'s cluster (the smallest node index of its group)."""
    nodes = sorted((n for part in parts for n in part), key=lambda n: (n.name, n.kind, n.scope))
    locals_ = [n.local() for n in nodes]
    # The order-dependent rules visit records by (article, name); a node stands for its name in each article.
    visits = sorted((d, n.name, i) for i, n in enumerate(nodes) for d in n.digests)
    groups = name_groups(locals_, [i for _, _, i in visits])
    return {n.key: groups.find(i) for i, n in enumerate(nodes)}


def keyed_by_cluster(
    locals_: list[LocalName], clusters: dict[tuple[str, str, str], int]
) -> list[tuple[int, LocalName]]:
    return [(clusters[(loc.kind, loc.name, scope(loc.name, loc.digest))], loc) for loc in locals_]


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


def bucket_of(key: Hashable, buckets: int) -> int:
    """A key's bucket: a hash that is the same in every process (Python's own hash of a string is not)."""
    return zlib.crc32(repr(key).encode("utf-8")) % buckets


def _dealt(items: Iterable[Any], key: Callable[[Any], Hashable], buckets: int) -> list[bytes]:
    """`items` dealt into buckets by key, each bucket pickled: what one partition sends to each worker."""
    out: list[list[Any]] = [[] for _ in range(buckets)]
    for item in items:
        out[bucket_of(key(item), buckets)].append(item)
    return [pickle.dumps(b, protocol=pickle.HIGHEST_PROTOCOL) for b in out]


def name_buckets(locals_: list[LocalName], buckets: int) -> list[bytes]:
    """Step 1-2, one partition: its name nodes, dealt into buckets by (kind, name, scope)."""
    return _dealt(name_nodes(locals_), lambda n: n.key, buckets)


def merge_names(*pieces: bytes) -> list[NameNode]:
    """Step 2, one bucket: the pieces every partition sent it (in partition order), one node per key."""
    nodes: dict[tuple[str, str, str], NameNode] = {}
    for piece in pieces:
        for node in pickle.loads(piece):
            got = nodes.get(node.key)
            nodes[node.key] = node if got is None else got.add(node)
    return list(nodes.values())


def record_buckets(
    locals_: list[LocalName], clusters: dict[tuple[str, str, str], int], buckets: int
) -> list[bytes]:
    """Step 4, one partition: its records with their cluster, dealt into buckets by cluster."""
    return _dealt(keyed_by_cluster(locals_, clusters), lambda pair: pair[0], buckets)


def draft_bucket(*pieces: bytes) -> list[tuple[int, Any]]:
    """Step 4, one bucket: each of its clusters' entity, drafted from the records every partition sent."""
    members: dict[int, list[tuple[int, LocalName]]] = defaultdict(list)
    for piece in pieces:
        for cluster, loc in pickle.loads(piece):
            members[cluster].append((cluster, loc))
    return [drafted(item) for item in members.items()]


def _piece(pieces: list[bytes], bucket: int) -> bytes:
    return pieces[bucket]


def _sizes(pieces: list[bytes]) -> int:
    return sum(len(p) for p in pieces)


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
    numbers = sorted(keep)
    if not numbers:
        return [], ResolveReport()
    k = max(1, len(client.scheduler_info()["workers"]))

    def shuffled(dealt: list[Any], step: Callable[..., Any]) -> list[Any]:
        # Each partition's bucket b goes to the task of bucket b: a piece a task, run where the partition is.
        pieces = [[client.submit(_piece, d, b, pure=False) for d in dealt] for b in range(k)]
        return [client.submit(step, *bucket, pure=False) for bucket in pieces]

    submit = client.submit
    locals_ = [submit(partition_locals, work, n, keep[n], pure=False) for n in numbers]
    names = [submit(name_buckets, loc, k, pure=False) for loc in locals_]
    merged = shuffled(names, merge_names)
    clusters = submit(cluster_names, *merged, pure=False)
    records = [submit(record_buckets, loc, clusters, k, pure=False) for loc in locals_]
    drafts = shuffled(records, draft_bucket)
    iris = submit(mint, *drafts, base=base, pure=False)
    written = [submit(write_entities, d, iris, work, i, pure=False) for i, d in enumerate(drafts)]
    sizes = [submit(_sizes, d, pure=False) for d in names + records]
    counts, distinct, moved = client.gather([written, submit(len, clusters, pure=False), sizes])
    report = ResolveReport(names=distinct, entities=sum(counts), shuffle_bytes=sum(moved))
    entities: list[Entity] = []
    for number in range(len(drafts)):
        entities += [shards.unpack(r["record"]) for r in shards.read_table(work, "entities", number)]
    entities.sort(key=lambda e: (e.kind, slug(e.label), e.label, e.mentions))
    return entities, report
