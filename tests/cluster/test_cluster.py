"""`kg build --engine dask` on a real LocalCluster: the same graph as the one-machine build, and no article
lost or doubled when a worker is killed with -9 mid-build.

One-machine reference: `kg.pipeline.build.build` on the first 200 BBC articles (../shared/corpora/bbc). Each test
starts its own cluster of two worker processes and closes it.
"""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import SHARED, select

from kg.namespaces import Iris
from kg.pipeline.build import build
from kg.settings import Settings
from kg.store.store import Store
from kg.validate.check import validate_store

distributed = pytest.importorskip("distributed")
from kg.cluster import dask_build  # noqa: E402

BBC = SHARED / "corpora" / "bbc" / "bbc_articles.jsonl"
ARTICLES = 200
_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
pytestmark = pytest.mark.skipif(not BBC.exists(), reason="the BBC corpus is not beside the clone (../shared)")


@pytest.fixture(scope="module")
def bbc200(tmp_path_factory) -> Path:
    """The first 200 BBC articles as one JSON Lines file (several byte-range partitions on the cluster)."""
    path = tmp_path_factory.mktemp("bbc") / "bbc200.jsonl"
    with BBC.open(encoding="utf-8") as lines, path.open("w", encoding="utf-8") as out:
        for n, line in enumerate(lines):
            if n == ARTICLES:
                break
            out.write(line)
    return path


@pytest.fixture(scope="module")
def started() -> datetime:
    return datetime.now(UTC) - timedelta(seconds=1)


@pytest.fixture(scope="module")
def reference(bbc200, tmp_path_factory, nlp, wikidata_cache, started) -> Settings:
    """The one-machine build of the 200 articles."""
    settings = Settings(store=tmp_path_factory.mktemp("local") / "kg", wikidata_cache=wikidata_cache)
    report = build([str(bbc200)], settings, nlp=nlp)
    assert report.added == ARTICLES and not report.errors
    return settings


def statements(path: Path, since: datetime) -> set[tuple[str, str, str, str]]:
    """Every quad of a store; the times of the build itself (provenance, after `since`) are one token."""
    store = ox.Store.read_only(str(path))
    now = datetime.now(UTC) + timedelta(seconds=1)
    out = set()
    for q in store:
        o = q.object
        text = str(o)
        if isinstance(o, ox.Literal) and o.datatype.value == _DATETIME:
            try:
                when = datetime.fromisoformat(o.value)
            except ValueError:
                when = None
            if when is not None and when.tzinfo is not None and since <= when <= now:
                text = "BUILD-TIME"
        out.add((str(q.subject), str(q.predicate), text, str(q.graph_name)))
    return out


ENTITIES = """SELECT ?e ?kind ?label ?qid WHERE {
  VALUES ?kind { kg:Person kg:Organization kg:Place kg:Event }
  ?e a ?kind ; rdfs:label ?label . OPTIONAL { ?e owl:sameAs ?qid } }"""
MENTIONS = "SELECT ?e ?m WHERE { ?e gaf:denotedBy ?m }"
EVENTS = "SELECT ?e ?label ?m WHERE { ?e a kg:ReportedEvent ; rdfs:label ?label ; gaf:denotedBy ?m }"
ARTICLE_GRAPHS = "SELECT ?a ?g WHERE { GRAPH ?g { ?a a kg:Article } }"


def table(settings: Settings, sparql: str) -> list[str]:
    with Store(settings.store, Iris(settings.base), read_only=True) as store:
        return sorted(json.dumps(row, sort_keys=True) for row in select(store, sparql))


def test_dask_build_of_200_bbc_articles_is_the_one_machine_graph_and_conforms(
    bbc200, reference, tmp_path, wikidata_cache, started
):
    settings = Settings(store=tmp_path / "kg", wikidata_cache=wikidata_cache)
    stages: list[str] = []
    report = dask_build(
        [str(bbc200)], settings, workers=2, dashboard=False, block=64 << 10, progress=lambda s, d, t: stages.append(s)
    )
    assert report.build.added == ARTICLES and not report.build.errors, report.build.summary()
    assert report.partitions >= 6 and report.workers == 2
    assert {"extract", "load", "resolve", "write"} <= set(stages)
    for query in (ENTITIES, MENTIONS, EVENTS, ARTICLE_GRAPHS):  # entities (IRI, kind, label, QID), mentions...
        assert table(settings, query) == table(reference, query), query
    assert statements(settings.store, started) == statements(reference.store, started)  # ...and every statement
    with Store(settings.store, Iris(settings.base), read_only=True) as store:
        assert validate_store(store).conforms


def test_a_worker_killed_with_sigkill_mid_build_loses_and_doubles_no_article(
    bbc200, reference, tmp_path, wikidata_cache, started
):
    from distributed import Client, LocalCluster

    settings = Settings(store=tmp_path / "kg", wikidata_cache=wikidata_cache)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        before = client.run(os.getpid)  # worker address -> process id
        killed: list[int] = []
        lost: list[str] = []  # the partitions the killed worker was running

        def progress(stage: str, done: int, total: int) -> None:
            # Once a partition is done the pipelines are loaded and the workers are busy with the next ones:
            # kill one outright while it runs a partition.
            if stage == "extract" and done >= 1 and not killed:
                running = {w: [k for k in keys if "kg-partition" in str(k)] for w, keys in client.processing().items()}
                busy = sorted(w for w, keys in running.items() if keys)
                if busy and done < total - 1:
                    os.kill(before[busy[0]], signal.SIGKILL)
                    killed.append(before[busy[0]])
                    lost.extend(running[busy[0]])

        report = dask_build([str(bbc200)], settings, client=client, block=32 << 10, progress=progress)
        after = client.run(os.getpid)
    assert killed and lost and killed[0] not in after.values()  # it died mid-partition (its nanny started another)
    assert report.build.added == ARTICLES and not report.build.errors, report.build.summary()
    assert report.partitions > 2  # partitions were left when the worker died
    assert table(settings, ARTICLE_GRAPHS) == table(reference, ARTICLE_GRAPHS)
    assert statements(settings.store, started) == statements(reference.store, started)


def test_a_second_dask_build_skips_unchanged_articles_and_replaces_changed_ones_as_kg_build_does(
    tmp_path, nlp, wikidata_cache
):
    from conftest import SEEDS
    from distributed import Client, LocalCluster

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(SEEDS.glob("*.txt")):
        (corpus / path.name).write_bytes(path.read_bytes())
    local = Settings(store=tmp_path / "local", wikidata_cache=wikidata_cache)
    cluster_settings = Settings(store=tmp_path / "cluster", wikidata_cache=wikidata_cache)
    since = datetime.now(UTC) - timedelta(seconds=1)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        reports = []
        for step in ("first", "second"):
            if step == "second":
                first, second, *_ = sorted(corpus.glob("*.txt"))
                first.write_text(first.read_text(encoding="utf-8") + "\n\nLater, officials met again in Geneva.\n")
                (corpus / "copy.txt").write_bytes(second.read_bytes())  # the same text under another source
                (corpus / "new.txt").write_text("Ministers from France and Germany met in Brussels on Monday.\n")
            one = build([str(corpus)], local, nlp=nlp)
            many = dask_build([str(corpus)], cluster_settings, client=client, block=2048).build
            reports.append((one, many))
            assert (many.added, many.replaced, many.unchanged) == (one.added, one.replaced, one.unchanged), step
            assert not many.errors and many.ok
            assert statements(cluster_settings.store, since) == statements(local.store, since), step
    (_, first_build), (_, second_build) = reports
    assert first_build.added == 5 and (second_build.added, second_build.replaced, second_build.unchanged) == (2, 1, 4)


def test_kg_build_engine_dask_says_where_the_dashboard_is_and_what_each_stage_took(
    tmp_path, wikidata_cache, monkeypatch
):
    from click.testing import CliRunner
    from conftest import SEEDS

    from kg.cli import main

    monkeypatch.setenv("KG_WIKIDATA_CACHE", str(wikidata_cache))
    store = tmp_path / "kg"
    result = CliRunner().invoke(
        main, ["build", str(SEEDS), "--store", str(store), "--engine", "dask", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "Dask dashboard: " in result.output
    assert "articles: 5 added" in result.output
    assert "cluster: 1 partitions on 1 workers; stages: plan" in result.output and "load" in result.output
    assert not list(tmp_path.glob("kg.work/run-*"))  # the shards are gone once loaded


def test_a_scheduler_without_the_dask_engine_is_a_usage_error(tmp_path):
    from click.testing import CliRunner
    from conftest import SEEDS

    from kg.cli import main

    result = CliRunner().invoke(
        main, ["build", str(SEEDS), "--store", str(tmp_path / "kg"), "--scheduler", "tcp://127.0.0.1:1"]
    )
    assert result.exit_code == 2 and "--scheduler needs --engine dask" in result.output
    assert not (tmp_path / "kg").exists()


def test_event_merging_component_by_component_gives_the_events_of_merging_all_at_once(reference):
    from kg.article.events import taxonomy_for
    from kg.corpus.merge import event_components, event_drafts, merge_events, mint_events
    from kg.corpus.resolve import CorpusMentions
    from kg.store.records import mention_records, read_event_records

    with Store(reference.store, Iris(reference.base), read_only=True) as store:
        records = read_event_records(store)
        mentions = CorpusMentions()
        mentions.add(mention_records(store))
        entities = mentions.resolve(store.iris)
        iris = store.iris
    taxonomy = taxonomy_for(True, None)
    components = event_components(records, entities, taxonomy)
    assert 10 < len(components) < len(records)  # split, but not one per record
    apart = [d for component in components for d in event_drafts(component, entities, taxonomy)]
    assert mint_events(apart, taxonomy, iris) == merge_events(records, entities, taxonomy, iris)
