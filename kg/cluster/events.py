"""Event merging on the cluster: independent components merged on the workers, IRIs minted on the driver.

`kg.corpus.merge.merge_events` merges within articles, then across articles that share an argument (blocking by
type family and entity or group), then along stories (articles that already share an event). None of its
steps ever looks beyond the records connected to one another by a shared article or a shared blocking key
(`kg.corpus.merge.event_components`), so each such component is drafted apart, on a worker (`event_drafts`), with
the entities its arguments name (trimmed to the mentions it uses). The drafts come back and are minted in
one order over the corpus (`kg.corpus.merge.mint_events`): IRIs must be unique and the same for the same input.

What stays global, and why: finding the components (a union-find over records, articles and blocking keys:
about 200 bytes an event mention, some 0.5-1 GB per million articles) and minting (one small draft per
event). Where the curve bends: a popular argument ("the United States" in a family of statements) joins all
the records that name it into one component, which one worker merges alone; the quadratic part of merging
(pairs within one blocking key) stays inside it.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from typing import Any

from ..article.events import Taxonomy, taxonomy_for
from ..corpus.merge import EventDraft, event_components, event_drafts, mint_events
from ..model import Entity, EventRecord, ReportedEvent
from ..namespaces import Iris

#: Components per task at least: most components are one article's few events, not worth a task each.
TASKS_PER_WORKER = 4


@lru_cache(maxsize=4)
def _taxonomy(events: bool, lexicon: str | None) -> Taxonomy:
    return taxonomy_for(events, lexicon)


def draft_components(
    components: list[tuple[list[EventRecord], list[Entity]]], events: bool, lexicon: str | None
) -> list[EventDraft]:
    """A worker's share: each component's events drafted on its own."""
    taxonomy = _taxonomy(events, lexicon)
    return [d for records, entities in components for d in event_drafts(records, entities, taxonomy)]


def _with_entities(component: list[EventRecord], by_mention: dict[str, Entity]) -> list[Entity]:
    """The entities the component's arguments name, each with only the mentions the component uses."""
    used: dict[str, set[str]] = {}
    named: dict[str, Entity] = {}
    for r in component:
        for f in r.fillers:
            e = by_mention.get(f.value) if f.kind == "entity" else None
            if e is not None:
                used.setdefault(e.iri, set()).add(f.value)
                named[e.iri] = e
    return [replace(e, mentions=tuple(sorted(used[iri]))) for iri, e in named.items()]


def merge_on_cluster(
    client: Any,
    records: list[EventRecord],
    entities: list[Entity],
    taxonomy: Taxonomy,
    iris: Iris,
    events: bool,
    lexicon: str | None,
) -> list[ReportedEvent]:
    """`merge_events` with the components merged on the workers; the same reported events."""
    components = event_components(records, entities, taxonomy)
    by_mention = {m: e for e in entities for m in e.mentions}
    workers = max(1, len(client.scheduler_info()["workers"]))
    tasks = min(len(components), workers * TASKS_PER_WORKER) or 1
    shares: list[list[tuple[list[EventRecord], list[Entity]]]] = [[] for _ in range(tasks)]
    sizes = [0] * tasks
    for component in sorted(components, key=len, reverse=True):  # largest first, each to the lightest share
        lightest = sizes.index(min(sizes))
        shares[lightest].append((component, _with_entities(component, by_mention)))
        sizes[lightest] += len(component)
    drafted = client.gather(client.map(draft_components, shares, events=events, lexicon=lexicon, pure=False))
    return mint_events([d for part in drafted for d in part], taxonomy, iris)
