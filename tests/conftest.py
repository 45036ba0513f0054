"""Shared fixtures: the real spaCy model, the seed corpus, a real Oxigraph store in a temp dir."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from rdflib import Graph

from kg.article.extract import load_pipeline
from kg.namespaces import Iris
from kg.pipeline.build import BuildReport, build
from kg.settings import Settings, choose_model
from kg.store.store import Store, to_rdflib
from kg.wikidata.index import LocalIndex, build_index
from kg.wikidata.items import Item, write_items
from kg.wikidata.sources import Sources

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def nlp():
    """The real spaCy pipeline, loaded once per test session."""
    return load_pipeline(choose_model(None))


@pytest.fixture(scope="session")
def wikidata_cache(tmp_path_factory) -> Path:
    """A cache folder for the tests' Wikidata indexes (the starter index is made there once)."""
    return tmp_path_factory.mktemp("wikidata-cache")


@pytest.fixture(scope="session")
def seed_template(tmp_path_factory, nlp, wikidata_cache) -> tuple[Path, BuildReport]:
    """The five seed articles built (and linked to Wikidata) once per session into a store that stays closed.

    Every test that reads the seed store reads a copy of this one: building it takes seconds, copying it
    milliseconds, and no test can change what another one sees.
    """
    settings = Settings(store=tmp_path_factory.mktemp("seed-template") / "kg", wikidata_cache=wikidata_cache)
    report = build([SEEDS], settings, nlp=nlp)
    assert report.ok, report.summary()
    return settings.store, report


@pytest.fixture(scope="module")
def seed_build(tmp_path_factory, seed_template, wikidata_cache) -> Iterator[tuple[Store, BuildReport, Settings]]:
    """The seed store for one test module: its own open copy of the session's build, with that build's report."""
    template, report = seed_template
    settings = Settings(store=tmp_path_factory.mktemp("store") / "kg", wikidata_cache=wikidata_cache)
    shutil.copytree(template, settings.store)
    store = Store(settings.store, Iris(settings.base))
    yield store, report, settings
    store.close()


@pytest.fixture(scope="module")
def seed_store(seed_build) -> Store:
    return seed_build[0]


@pytest.fixture(scope="module")
def seed_graph(seed_store) -> Graph:
    """Every statement of the seed store in one rdflib graph (graph names dropped), as SHACL sees it."""
    g = Graph()
    for q in seed_store.ox:
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return g


def altered(graph: Graph, remove=(), add=()) -> Graph:
    """A copy of `graph` with some statements taken out and others put in: a deliberately broken graph."""
    g = Graph()
    for t in graph:
        g.add(t)
    for t in remove:
        g.remove(t)
    for t in add:
        g.add(t)
    return g


def select(store: Store, sparql: str) -> list[dict[str, str]]:
    """Rows of a SELECT as plain dicts of strings (unbound variables are left out)."""
    result = store.query(sparql)
    names = [v.value for v in result.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in result]


@pytest.fixture(scope="session")
def built_seeds(seed_template) -> Path:
    """The seed corpus built once per session into a closed store; copy it before writing to it."""
    return seed_template[0]


@contextmanager
def hand_made_index(items: Iterable[Item], folder: Path, name: str = "test") -> Iterator[Sources]:
    """Candidate sources over an index of hand-made items (source `name`, dated 2024-05-01), closed after."""
    write_items(list(items), folder / f"{name}.jsonl", {"label": "hand-made test items", "date": "2024-05-01"})
    build_index([folder / f"{name}.jsonl"], folder / f"{name}.sqlite", name=name)
    with Sources(local=[LocalIndex(folder / f"{name}.sqlite")]) as opened:
        yield opened
