"""Linking to Wikidata on the cluster: the two rounds of `kg.corpus.link.link`, each spread over entity partitions.

`kg.corpus.link.link` decides in two rounds: each entity on its own (its candidates from the index, scored by
name, type and popularity), then each again with the confident links of the first round around it as
context (countries, related items, names in descriptions). Here the rounds run on the workers, a partition
of entities per task, each worker opening the Wikidata index once (the index is "shipped" as the settings
that name it: the bundled starter index, or an index file every worker reaches at the same path). Between
the rounds the driver builds each entity's context (`kg.corpus.link.article_contexts`): it needs, for every article, the
first-round links of the entities it names, so it is the global step, of the size of the entity mentions'
articles (about 50 bytes per entity and article it is named in: 1-2 GB per million articles). Merging the
entities linked to one item and moving reclassed ones (`kg.corpus.link.merge_linked`) is global too (IRIs must
stay unique), over the decisions only.

The same functions on the same entities: the same decisions as `link_corpus`. With the live API switched
on (`wikidata_api`), linking stays on the driver, as it asks the API one name at a time, rate-limited.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from functools import lru_cache
from typing import Any

from ..corpus.link import (
    LinkContext,
    LinkDecision,
    LinkQuery,
    LinkResult,
    article_contexts,
    config_from,
    decide_one,
    gather_candidates,
    link_corpus,
    link_result,
    national_body,
    queries_from_entities,
    score_candidates,
)
from ..model import Entity
from ..namespaces import Iris
from ..settings import Settings
from ..wikidata.items import Item
from ..wikidata.sources import Sources, open_sources

#: Entities per linking task at most: a task does thousands of index lookups; fewer, larger tasks cost less overhead...
QUERIES_PER_TASK = 2000
#: ...but at least this many tasks per worker, of even size, so that no worker is left with a last one alone.
TASKS_PER_WORKER = 4
_HELD = ExitStack()  # the worker's open indexes, kept for the life of the process (see `worker_sources`)


@lru_cache(maxsize=2)
def worker_sources(settings: Settings) -> Sources:
    """The Wikidata sources the settings name, opened once per worker process and kept open."""
    return _HELD.enter_context(open_sources(settings))


def first_round(queries: list[LinkQuery], settings: Settings) -> list[Item | None]:
    """Each entity on its own: the item of its confident link, if any (the context of the second round)."""
    config = config_from(settings)
    cands = gather_candidates(queries, worker_sources(settings).local, config)
    return [decide_one(q, score_candidates(q, c, None), config).item for q, c in zip(queries, cands, strict=True)]


def second_round(queries: list[LinkQuery], contexts: list[LinkContext], settings: Settings) -> list[LinkDecision]:
    """Each entity with its context: the decision `kg.corpus.link.link` makes. Candidates are gathered again:
    cheaper than shipping them from the first round."""
    config = config_from(settings)
    sources = worker_sources(settings).local
    cands = gather_candidates(queries, sources, config)
    return [
        national_body(q, sources, ctx) or decide_one(q, score_candidates(q, c, ctx), config)
        for q, c, ctx in zip(queries, cands, contexts, strict=True)
    ]


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)] or [[]]


def link_on_cluster(client: Any, entities: list[Entity], settings: Settings, iris: Iris) -> LinkResult:
    """`link_corpus` with its two rounds on the workers; the same `LinkResult`."""
    if settings.wikidata_api:
        return link_corpus(entities, settings, iris)
    started = time.perf_counter()
    config = config_from(settings)
    with open_sources(settings) as sources:  # here first: a starter index is made once, before the workers ask
        used = tuple(dict.fromkeys(s.info for s in sources.all))
    queries = queries_from_entities(entities)
    workers = max(1, len(client.scheduler_info()["workers"]))
    size = max(1, min(QUERIES_PER_TASK, -(-len(queries) // (workers * TASKS_PER_WORKER))))
    chunks = _chunks(queries, size)
    settled = client.scatter(settings, broadcast=True)
    firsts = client.gather(client.map(first_round, chunks, settings=settled, pure=False))
    anchors = {i: item for i, item in enumerate(x for part in firsts for x in part) if item is not None}
    contexts = article_contexts(queries, anchors, [[] for _ in queries], config)
    parts = _chunks(contexts, size)
    decided = client.gather(client.map(second_round, chunks, parts, settings=settled, pure=False))
    decisions = [d for part in decided for d in part]
    return link_result(entities, decisions, iris, used, config, started)
