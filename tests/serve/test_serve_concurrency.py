"""Readers go on while a build or an update writes, and never see half of what is written.

A `kg build` writes the served store from another process (a batch of articles per transaction);
the server's readers pick the new articles up while it runs and each article they see is whole.
An update through the server is one transaction too: readers see all of it or none of it.
"""

from __future__ import annotations

import importlib
import json
import shutil
import threading
import time
from collections import defaultdict

import pytest
from conftest import SEEDS
from serving import http, query, running_server

from kg.pipeline.build import build
from kg.settings import Settings

build_module = importlib.import_module("kg.pipeline.build")  # the module, not the `kg.build` function kg exports

TOKEN = "concurrency-token"
MENTIONS_PER_ARTICLE = """SELECT ?a (COUNT(?m) AS ?n) WHERE {
  ?a a kg:Article . ?m nif:referenceContext ?a ; a kg:EntityMention } GROUP BY ?a"""


def observe(server, text: str, seen: list, stop: threading.Event, errors: list) -> None:
    while not stop.is_set():
        reply = query(server, text)
        if reply.status != 200:
            errors.append((reply.status, reply.text))
            continue
        seen.append(json.loads(reply.body))


def counts(answer: dict) -> dict[str, int]:
    return {row["a"]["value"]: int(row["n"]["value"]) for row in answer["results"]["bindings"]}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two seed articles to start with; the other three and nine edited copies to add while serving."""
    root = tmp_path_factory.mktemp("corpus")
    first, later = root / "first", root / "later"
    first.mkdir()
    later.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for path in seeds[:2]:
        shutil.copy(path, first / path.name)
    for path in seeds[2:]:
        shutil.copy(path, later / path.name)
    for n, path in enumerate(seeds * 2):
        if n < 9:
            text = path.read_text(encoding="utf-8")
            (later / f"copy{n}_{path.name}").write_text(text + f"\n\nReporting by desk number {n}.\n", encoding="utf-8")
    return first, later


def arriving_slowly(folder, pause: float):
    """The folder's files one by one, `pause` seconds apart, as a feed that trickles in would give them."""
    for n, path in enumerate(sorted(folder.iterdir())):
        if n:
            time.sleep(pause)
        yield path


def test_readers_see_whole_articles_and_pick_up_new_ones_while_a_build_writes(tmp_path, corpus, nlp, monkeypatch):
    first, later = corpus
    settings = Settings(store=tmp_path / "kg")
    assert build([first], settings, nlp=nlp).ok
    monkeypatch.setattr(build_module, "WRITE_BATCH", 1)  # one transaction per article: many versions to see
    # One article per spaCy batch, arriving 0.4 s apart: the build lasts several of the server's
    # reopen intervals (a second) however fast the machine parses, so readers must see it in between.
    settings = Settings(store=settings.store, batch_size=1)
    with running_server(settings.store) as server:
        seen: list[dict] = []
        errors: list = []
        stop = threading.Event()
        readers = [
            threading.Thread(target=observe, args=(server, MENTIONS_PER_ARTICLE, seen, stop, errors)) for _ in range(3)
        ]
        for reader in readers:
            reader.start()
        try:
            report = build(arriving_slowly(later, 0.4), settings, nlp=nlp)
            assert report.ok and report.added == 12, report.summary()
            deadline = time.monotonic() + 20
            final: dict[str, int] = {}
            while time.monotonic() < deadline and len(final) < 14:
                final = counts(json.loads(query(server, MENTIONS_PER_ARTICLE).body))
                time.sleep(0.2)
        finally:
            stop.set()
            for reader in readers:
                reader.join()
    assert not errors, errors[:3]
    assert len(final) == 14, "the server picked up every article the build added"
    versions = {len(counts(answer)) for answer in seen}
    assert len(versions - {2, 14}) >= 1, f"readers saw the store grow during the build: {sorted(versions)}"
    partial = defaultdict(set)
    for answer in seen:
        for article, n in counts(answer).items():
            if n != final[article]:
                partial[article].add(n)
    assert not partial, f"articles seen half-written: {dict(partial)}"


def test_readers_see_an_update_all_at_once(built_seeds, tmp_path):
    store = tmp_path / "kg"
    shutil.copytree(built_seeds, store)
    triples = 20_000
    data = " ".join(f"<urn:bulk:s{i}> <urn:bulk:p> {i} ." for i in range(triples))
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:bulk> { ?s ?p ?o } }"
    with running_server(store, "--update-token", TOKEN) as server:
        seen: list[dict] = []
        errors: list = []
        stop = threading.Event()
        readers = [threading.Thread(target=observe, args=(server, count, seen, stop, errors)) for _ in range(3)]
        for reader in readers:
            reader.start()
        try:
            for update in (f"INSERT DATA {{ GRAPH <urn:bulk> {{ {data} }} }}", "DROP GRAPH <urn:bulk>"):
                time.sleep(0.3)
                done = http(
                    server.sparql,
                    method="POST",
                    data=update.encode(),
                    headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
                )
                assert done.status == 204, done.text
                after = int(json.loads(query(server, count).body)["results"]["bindings"][0]["n"]["value"])
                assert after == (triples if update.startswith("INSERT") else 0), "a client reads its own update"
            time.sleep(0.3)
        finally:
            stop.set()
            for reader in readers:
                reader.join()
    assert not errors, errors[:3]
    observed = {int(answer["results"]["bindings"][0]["n"]["value"]) for answer in seen}
    assert observed <= {0, triples} and len(seen) > 10, sorted(observed)[:10]


def test_the_gunicorn_internals_the_front_builds_on_are_there_in_the_pinned_release():
    """kg/serve/front.py subclasses gunicorn's threaded worker and uses parts of it that are not its public
    interface (its connection object, its poller and queue of pending connections, its socket reader);
    pyproject.toml pins gunicorn to the release it was written against. A release that
    moves them fails here, in CI, rather than in a server under load."""
    import inspect
    from importlib.metadata import version

    from gunicorn.http.unreader import SocketUnreader
    from gunicorn.workers import gthread
    from packaging.requirements import Requirement

    pinned = next(
        Requirement(line.split("#", 1)[0].strip().strip('",'))
        for line in (SEEDS.parent / "pyproject.toml").read_text(encoding="utf-8").splitlines()
        if line.strip().startswith('"gunicorn')
    )
    assert version("gunicorn") in pinned.specifier, f"gunicorn {version('gunicorn')} is not the pinned {pinned}"
    assert gthread._DEFER is not None
    for name in ("handle", "finish_request", "murder_pending", "init_process"):
        assert callable(getattr(gthread.ThreadWorker, name)), name
    for name in ("init", "wait_for_data"):
        assert callable(getattr(gthread.TConn, name)), name
    for name in ("chunk", "take_buffered", "unread"):
        assert callable(getattr(SocketUnreader, name)), name
    worker_source, conn_source = inspect.getsource(gthread.ThreadWorker), inspect.getsource(gthread.TConn)
    for attribute in ("self.poller", "self.pending_conns", "self.nr_conns"):
        assert attribute in worker_source, attribute
    for attribute in ("self.initialized", "self.data_ready", "self.parser", "self.sock", "self.timeout"):
        assert attribute in conn_source, attribute
