"""Rebuilds: deterministic IRIs, changed articles replaced, bad files skipped without harm."""

from __future__ import annotations

import shutil

import pyoxigraph as ox
import pytest
from conftest import SEEDS, select
from rdflib import Dataset, Graph
from rdflib.compare import isomorphic
from rdflib.namespace import PROV

from kg.namespaces import KG, Iris, text_hash
from kg.pipeline.build import build
from kg.settings import Settings
from kg.store.store import Store, to_rdflib

# Build times differ by design; source paths differ because the two copies live in two folders.
VARYING = {PROV.endedAtTime, PROV.startedAtTime, KG.sourcePath, KG.sourceKey}


def comparable_graph(store: Store) -> Graph:
    """The union of the store's graphs, less the statements that vary between two builds."""
    g = Graph()
    for q in store.ox:
        p = to_rdflib(q.predicate)
        if p not in VARYING:
            g.add((to_rdflib(q.subject), p, to_rdflib(q.object)))
    return g


def test_same_corpus_built_twice_gives_same_iris_and_isomorphic_graphs(tmp_path, nlp):
    graphs = []
    for name in ("one", "two"):
        copy = tmp_path / f"corpus-{name}"
        shutil.copytree(SEEDS, copy)
        settings = Settings(store=tmp_path / name)
        with Store(settings.store, Iris(settings.base)) as store:
            # Different folders, opposite reading order: same articles, so the same graph.
            inputs = sorted(copy.iterdir(), reverse=(name == "two"))
            build(inputs, settings, nlp=nlp, store=store)
            graphs.append(comparable_graph(store))
    a, b = graphs
    assert len(a) > 2000
    assert set(a.subjects()) == set(b.subjects()), "same IRIs"
    assert isomorphic(a, b)


def test_a_changed_article_replaces_its_old_version_and_nothing_else(tmp_path, nlp):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = Settings(store=tmp_path / "store")
    store = Store(settings.store, Iris(settings.base))
    build([corpus], settings, nlp=nlp, store=store)
    graphs_before = {g.value for g in store.ox.named_graphs()}

    path = corpus / "002_0c9f0ae4b417fcc8.txt"
    old_text = path.read_text(encoding="utf-8")
    path.write_text(old_text.replace("Shin Mi-jeong", "Park Ji-won"), encoding="utf-8")
    report = build([corpus], settings, nlp=nlp, store=store)
    assert (report.added, report.replaced, report.unchanged) == (0, 1, 4)

    graphs_after = {g.value for g in store.ox.named_graphs()}
    assert len(graphs_after) == len(graphs_before)
    rows = select(store, "SELECT ?hash WHERE { ?a kg:sourcePath ?p ; kg:sha256 ?hash . FILTER(STRENDS(?p, '002_0c9f0ae4b417fcc8.txt')) }")
    assert len(rows) == 1 and rows[0]["hash"] == text_hash(path.read_text(encoding="utf-8")) != text_hash(old_text)
    people = {r["n"] for r in select(store, "SELECT ?n WHERE { ?p a kg:Person ; rdfs:label ?n }")}
    assert "Park Ji-won" in people
    # Shin Mi-jeong is still named in article 004, now only there.
    shin = select(store, 'SELECT ?c WHERE { ?p rdfs:label "Shin Mi-jeong" ; kg:articleCount ?c }')
    assert shin == [{"c": "1"}]
    store.close()


def test_bad_files_are_reported_and_skipped_and_the_good_ones_built(tmp_path, nlp):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Jacinda Ardern met Scott Morrison in Sydney on Friday.", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(b"\xff\xfe\x00\x01binary")
    (corpus / "feed.jsonl").write_text('{"id": "1", "text": "Angela Merkel visited Warsaw on Monday."}\n{broken\n', encoding="utf-8")
    settings = Settings(store=tmp_path / "store")
    store = Store(settings.store, Iris(settings.base))
    report = build([corpus], settings, nlp=nlp, store=store)
    assert report.added == 2
    assert sorted(e.source.rsplit("/", 1)[-1] for e in report.errors) == ["bad.txt", "feed.jsonl:2"]
    assert not report.ok, "a build with failures must not look successful"
    people = {r["n"] for r in select(store, "SELECT ?n WHERE { ?p a kg:Person ; rdfs:label ?n }")}
    assert {"Jacinda Ardern", "Scott Morrison", "Angela Merkel"} <= people
    store.close()


def test_store_opens_through_rdflib_as_a_dataset(seed_store):
    ds = seed_store.dataset()
    assert isinstance(ds, Dataset)
    rows = list(ds.query('SELECT ?p WHERE { ?p rdfs:label "Chad G. Carroll" }',
                         initNs={"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}))
    assert len(rows) == 1


def test_adding_an_article_rewrites_only_the_nodes_it_changes(tmp_path, nlp):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = Settings(store=tmp_path / "step")
    with Store(settings.store, Iris(settings.base)) as store:
        first = build([corpus], settings, nlp=nlp, store=store)
        (corpus / "extra.txt").write_text("Jacinda Ardern met Scott Morrison in Sydney on Friday.", encoding="utf-8")
        second = build([corpus], settings, nlp=nlp, store=store)
        stepwise = comparable_graph(store)
    assert (second.added, second.unchanged) == (1, 5)
    assert second.validation is not None and second.validation.conforms
    assert second.entities == first.entities + 3
    # The three new people and places, and the runs that made them (resolution, linking, agents,
    # sources): not the seed entities, which the new article does not touch.
    assert 3 < second.nodes_written <= 3 + 6 < first.nodes_written

    settings = Settings(store=tmp_path / "whole")
    with Store(settings.store, Iris(settings.base)) as store:
        build([corpus], settings, nlp=nlp, store=store)
        whole = comparable_graph(store)
    assert isomorphic(stepwise, whole)


def test_a_record_repeated_with_new_text_in_one_feed_leaves_only_its_last_version(tmp_path, nlp):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        '{"id": "a1", "text": "Angela Merkel visited Warsaw on Monday."}\n'
        '{"id": "a1", "text": "Emmanuel Macron visited Lisbon on Monday."}\n',
        encoding="utf-8",
    )
    settings = Settings(store=tmp_path / "store")
    with Store(settings.store, Iris(settings.base)) as store:
        report = build([feed], settings, nlp=nlp, store=store)
        assert (report.added, report.replaced) == (1, 1)
        assert len(select(store, "SELECT ?a WHERE { ?a a kg:Article }")) == 1
        names = {r["n"] for r in select(store, "SELECT ?n WHERE { ?e a ?c ; rdfs:label ?n . FILTER(?c IN (kg:Person, kg:Place)) }")}
        assert names == {"Emmanuel Macron", "Lisbon"}


def test_a_corpus_write_that_fails_stops_the_update_with_its_error(tmp_path, nlp, monkeypatch):
    """Corpus chunks are written by a background thread; its failure must not pass unnoticed."""
    from kg.pipeline.corpus import update_corpus
    from kg.rdf.triples import Provenance
    from kg.store.store import StoreError

    settings = Settings(store=tmp_path / "store", link=False)
    with Store(settings.store, Iris(settings.base)) as store:
        build([SEEDS], settings, nlp=nlp, store=store)
        graph = store.iris.corpus_graph
        written = len(list(store.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph))))
        calls = []
        real = Store.replace_subjects

        def failing(self, graph, subjects, quads):
            calls.append(len(quads))
            if len(calls) == 2:
                raise StoreError("disk full (simulated)")
            return real(self, graph, subjects, quads)

        monkeypatch.setattr(Store, "replace_subjects", failing)
        store.ox.remove_graph(ox.NamedNode(graph))
        with pytest.raises(StoreError, match="disk full"):
            update_corpus(store, settings, Provenance.now("test"))
        assert len(calls) == 2  # nothing written after the failure
        kept = len(list(store.ox.quads_for_pattern(None, None, None, ox.NamedNode(graph))))
        assert kept == calls[0] < written  # the chunk before it, whole
