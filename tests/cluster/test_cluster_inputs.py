"""kg.cluster without a cluster: the partitions read what `kg.article.read.read_articles` reads (articles, line
numbers, every per-file and per-line error), from local paths and fsspec URLs; resolution by a shuffle on
names gives the entities of `CorpusMentions.resolve`; loading partitions as they finish ends with the store the
load's decisions alone make."""

from __future__ import annotations

import codecs
import itertools
import json
import random
from collections import defaultdict

import fsspec
import pyoxigraph as ox
import pytest

pytest.importorskip("pyarrow")

from kg.article.read import Article, InputError, Limits, read_articles
from kg.cluster import shards
from kg.cluster.inputs import count_newlines, plan, read_partition
from kg.cluster.load import EarlyLoad, load, plan_load
from kg.cluster.resolve import cluster_names, draft_bucket, merge_names, mint, name_buckets, record_buckets
from kg.corpus.resolve import CorpusMentions
from kg.model import MentionRecord
from kg.namespaces import KG, Iris
from kg.settings import Fields
from kg.store.records import mention_records
from kg.store.store import KnownArticles, Store


def local_counts(pieces):
    return [count_newlines(url, start, end) for url, start, end in pieces]


def described(items) -> list[str]:
    """Items as comparable text: an article by where it was read and what it holds, a notice by its words."""
    out = []
    for item in items:
        if isinstance(item, Article):
            out.append(f"article {item.where} {item.source_key} {item.digest} {item.title} {item.published}")
        else:
            out.append(f"{type(item).__name__} {item}")
    return out


def read_planned(inputs, block, limits=None):
    limits = limits or Limits()
    planned = plan(inputs, workers=2, count_newlines=local_counts, block=block)
    items = list(planned.notices)
    for partition in planned.partitions:
        items += read_partition(partition, limits, Fields())
    return planned, items


def record(n: int) -> str:
    return json.dumps(
        {
            "id": f"r{n}",
            "title": f"Story {n}",
            "date": "2024-03-0" + str(1 + n % 9),
            "text": f"Story number {n} says that Ms Alice Example{n} met officials in Paris. " * (1 + n % 4),
        }
    )


@pytest.fixture
def messy_jsonl(tmp_path):
    """JSON Lines with a byte-order mark, blank lines, bad JSON, bytes that are not UTF-8, a record without
    text, a record without an id, and a line over the size limit."""
    lines = [codecs.BOM_UTF8 + record(0).encode()]
    for n in range(1, 60):
        lines.append(record(n).encode())
        if n % 11 == 0:
            lines.append(b"")
        if n == 17:
            lines.append(b'{"id": "broken", "text": ')
        if n == 23:
            lines.append(b'{"id": "latin", "text": "caf\xe9"}')
        if n == 31:
            lines.append(json.dumps({"id": "no-text", "body": "x"}).encode())
        if n == 37:
            lines.append(json.dumps({"text": "An article without an id, known by its line in Berlin."}).encode())
        if n == 41:
            lines.append(json.dumps({"id": "huge", "text": "word " * 3000}).encode())
    path = tmp_path / "messy.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_byte_ranges_of_a_large_jsonl_file_read_its_articles_and_errors_with_their_line_numbers(messy_jsonl):
    limits = Limits(max_bytes=8000)
    planned, items = read_planned([str(messy_jsonl)], block=700, limits=limits)
    assert len(planned.partitions) > 10  # split at byte ranges that fall mid-line
    assert described(items) == described(read_articles([str(messy_jsonl)], limits=limits))
    errors = [str(i) for i in items if not isinstance(i, Article)]
    assert any(":20: malformed JSON line" in e for e in errors)  # numbered as in the whole file
    assert any("not UTF-8" in e for e in errors) and any("over the largest article" in e for e in errors)


def test_every_split_of_a_jsonl_file_reads_the_same(messy_jsonl):
    whole = described(read_articles([str(messy_jsonl)], limits=Limits(max_bytes=8000)))
    for block in random.Random(7).sample(range(64, 5000), 12):
        assert described(read_planned([str(messy_jsonl)], block=block, limits=Limits(max_bytes=8000))[1]) == whole


def test_a_folder_of_files_reports_each_bad_file_as_the_one_machine_build_does(tmp_path, messy_jsonl):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("Ministers met in Rome on Monday.\n\nThe talks went on.", encoding="utf-8")
    (folder / "b.jsonl").write_bytes(b"\x00\x01binary")
    (folder / "c.jsonl").write_text("  \n", encoding="utf-8")
    (folder / "d.txt").write_bytes(b"caf\xe9 in Lyon")
    (folder / "e.json").write_text(json.dumps([json.loads(record(3)), {"nope": 1}]), encoding="utf-8")
    (folder / "f.txt").write_text("x" * 5000, encoding="utf-8")
    (folder / "notes.csv").write_text("a,b", encoding="utf-8")
    (folder / "g.jsonl").write_bytes(messy_jsonl.read_bytes())
    limits = Limits(max_bytes=4000)
    _, items = read_planned([str(folder)], block=1500, limits=limits)
    # Notices found while planning (skipped files) come first; then everything in input order.
    assert sorted(described(items)) == sorted(described(read_articles([str(folder)], limits=limits)))
    errors = " | ".join(str(i) for i in items if not isinstance(i, Article))
    for words in ("b.jsonl: binary", "c.jsonl: empty", "d.txt: not UTF-8", "f.txt: too large", "e.json#record2"):
        assert words in errors


def test_an_fsspec_url_is_read_like_a_local_folder_and_named_by_its_url(tmp_path, messy_jsonl):
    memory = fsspec.filesystem("memory")
    memory.pipe("/corpus/one.txt", b"Officials met in Madrid on Tuesday.\n\nThey agreed.")
    memory.pipe("/corpus/two.jsonl", messy_jsonl.read_bytes())
    try:
        planned, items = read_planned(["memory://corpus"], block=900, limits=Limits(max_bytes=8000))
    finally:
        memory.rm("/corpus", recursive=True)
    local = tmp_path / "corpus"
    local.mkdir()
    (local / "one.txt").write_text("Officials met in Madrid on Tuesday.\n\nThey agreed.", encoding="utf-8")
    (local / "two.jsonl").write_bytes(messy_jsonl.read_bytes())
    expected = [
        x.replace(str(local), "memory:///corpus")
        for x in described(read_articles([str(local)], limits=Limits(max_bytes=8000)))
    ]
    assert described(items) == expected
    assert len(planned.partitions) > 3


def test_standard_input_and_missing_paths_are_refused_before_anything_is_built(tmp_path):
    with pytest.raises(InputError, match="standard input"):
        plan(["-"], 2, local_counts)
    with pytest.raises(InputError, match="no such file"):
        plan([str(tmp_path / "missing.jsonl")], 2, local_counts)


# -- the corpus stage's resolution, by name shuffle ----------------------------------------------------------


def shuffled_resolution(records: list[MentionRecord], partitions: int, base: str, buckets: int = 3):
    """kg.cluster.resolve's steps, run here in order on `partitions` partitions (articles dealt out at random)
    and `buckets` workers."""
    iris = Iris(base)
    by_article = defaultdict(list)
    for r in records:
        by_article[r.digest].append(r)
    parts = [CorpusMentions() for _ in range(partitions)]
    rng = random.Random(3)
    for digest in sorted(by_article):
        parts[rng.randrange(partitions)].add(by_article[digest])
    locals_ = [p.locals() for p in parts]
    names = [name_buckets(part, buckets) for part in locals_]  # the shuffle by (kind, name)
    clusters = cluster_names(*(merge_names(*(dealt[b] for dealt in names)) for b in range(buckets)))
    keyed = [record_buckets(part, clusters, buckets) for part in locals_]  # the shuffle by cluster
    drafts = [draft_bucket(*(dealt[b] for dealt in keyed)) for b in range(buckets)]
    found = mint(*drafts, base=base)
    return sorted((d.entity(found[c]) for part in drafts for c, d in part), key=lambda e: e.iri), iris


def acronym_records() -> list[MentionRecord]:
    """Names whose grouping depends on the order the acronym rules see them in, over many articles."""
    names = [
        ("United Nations Command", "Organization"),
        ("UN Command", "Organization"),
        ("U.N. Command", "Organization"),
        ("UNC", "Organization"),
        ("Un Command", "Organization"),
        ("United Nations", "Organization"),
        ("UN", "Organization"),
        ("Korean Demilitarized Zone", "Place"),
        ("DMZ", "Place"),
        ("demilitarized zone", "Place"),
        ("Chad G. Carroll", "Person"),
        ("Chad Carroll", "Person"),
        ("Carroll", "Person"),
        ("US", "Place"),
        ("Us", "Organization"),
        ("United States", "Place"),
        ("Navy", "Organization"),  # resolved within each article
        ("U.S. Navy", "Organization"),
    ]
    rng = random.Random(11)
    out = []
    for a in range(40):
        digest = f"{a:064x}"
        for m, (name, kind) in enumerate(rng.sample(names, 5)):
            text = name if rng.random() < 0.7 else rng.choice(["UNC", "DMZ", "UN", name])
            out.append(
                MentionRecord(
                    digest,
                    f"https://x.example/article/{digest}#char={m * 10},{m * 10 + 5}",
                    text,
                    name,
                    kind,
                    {"Person": "PERSON", "Place": "GPE"}.get(kind, "ORG"),
                )
            )
    return out


ACRONYMS = [
    "United Nations",
    "Union Nationale",
    "UN",
    "UN Command",
    "United Nations Command",
    "UNC",
    "U.N.",
    "Un Command",
    "National Union",
    "NU",
    "UN Council",
    "United Nations Council",
    "UNO",
    "United Nations Organization",
    "DMZ",
    "demilitarized zone",
    "Korean Demilitarized Zone",
    "Demilitarized Zone",
    "KDZ",
    "NATO",
    "North Atlantic Treaty Organization",
    "NATO Council",
    "North Atlantic Council",
    "NAC",
]


def random_acronym_corpus(seed: int) -> list[MentionRecord]:
    """Articles naming long forms and their acronyms, at random; seed 1458 is one whose names group
    differently when the acronym rules visit each distinct name once instead of once per article."""
    rng = random.Random(seed)
    out = []
    for a in range(rng.randint(3, 12)):
        digest = f"{a:064x}"
        for m, name in enumerate(rng.sample(ACRONYMS, rng.randint(2, 6))):
            text = rng.choice([name] * 3 + [w for w in ACRONYMS if w.isupper()])
            kind = rng.choice(["Organization"] * 4 + ["Place"])
            out.append(
                MentionRecord(
                    digest, f"https://x.example/article/{digest}#char={m * 10},{m * 10 + 5}", text, name, kind, "ORG"
                )
            )
    return out


@pytest.mark.parametrize("seed", [1458, 1, 2, 3])
def test_resolution_by_name_shuffle_keeps_the_order_the_acronym_rules_see_names_in(seed):
    records = random_acronym_corpus(seed)
    iris = Iris("https://x.example/")
    expected = CorpusMentions()
    expected.add(records)
    for partitions in (1, 4):
        entities, _ = shuffled_resolution(records, partitions, iris.base)
        assert entities == sorted(expected.resolve(iris), key=lambda e: e.iri)


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_resolution_by_a_shuffle_on_names_gives_the_one_machine_entities(seed_store, partitions):
    records = list(mention_records(seed_store)) + acronym_records()
    iris = seed_store.iris
    expected = CorpusMentions()
    expected.add(records)
    one_machine = sorted(expected.resolve(iris), key=lambda e: e.iri)
    entities, _ = shuffled_resolution(records, partitions, iris.base)
    assert entities == one_machine


# -- the load's decisions ------------------------------------------------------------------------------------


def test_the_load_makes_the_one_machine_builds_decisions_about_copies_and_changed_sources():
    known = KnownArticles({"old", "kept"}, {"f.txt": "old", "g.txt": "kept", "h.txt": "old"})
    rows = [
        {"digest": "new", "source_key": "f.txt", "partition": 0, "seq": 0},  # f.txt changed; h.txt keeps "old"
        {"digest": "kept", "source_key": "g.txt", "partition": 0, "seq": 1},  # unchanged
        {"digest": "twin", "source_key": "a.txt", "partition": 1, "seq": 0},
        {"digest": "twin", "source_key": "b.txt", "partition": 2, "seq": 0},  # a copy in another partition
        {"digest": "brief", "source_key": "h.txt", "partition": 2, "seq": 1},  # h.txt changed too: "old" goes
    ]
    plan = plan_load(rows, known)
    assert (plan.added, plan.replaced, plan.unchanged) == (2, 2, 1)
    assert plan.graphs == {"new": (0, 0), "twin": (2, 0), "brief": (2, 1)}  # a copy: its last occurrence's graph
    assert plan.records["twin"] == (1, 0)  # ...and its first occurrence's mentions
    assert plan.superseded == ["old"]
    assert plan.known.by_source == {"f.txt": "new", "g.txt": "kept", "h.txt": "brief", "a.txt": "twin", "b.txt": "twin"}


#: Partitions of a build that copies a text across partitions, changes a stored source and changes one of its
#: own sources twice: (digest, source key) per article, in partition order.
TRICKY = {
    0: [("new", "f.txt"), ("kept", "g.txt"), ("draft", "x.txt")],
    1: [("twin", "a.txt"), ("final", "x.txt")],  # x.txt changed again within the build: "draft" goes
    2: [("twin", "b.txt"), ("brief", "h.txt")],  # a copy of "twin"; h.txt changed too: "old" goes
}


def _tricky_store(path, iris: Iris) -> KnownArticles:
    """A store holding "old" (from f.txt and h.txt) and "kept" (from g.txt), as a build left them."""
    with Store(path, iris) as store:
        for digest, keys in (("old", ["f.txt", "h.txt"]), ("kept", ["g.txt"])):
            graph, article = ox.NamedNode(iris.article_graph(digest)), ox.NamedNode(iris.article(digest))
            store.ox.extend([ox.Quad(article, ox.NamedNode(str(KG.sourceKey)), ox.Literal(k), graph) for k in keys])
    return KnownArticles({"old", "kept"}, {"f.txt": "old", "g.txt": "kept", "h.txt": "old"})


def _tricky_shards(work: str, iris: Iris) -> dict[int, list[dict]]:
    """Each partition's graphs shard (an article says which partition and position it was read from, so that
    the store shows which occurrence was loaded) and its article index."""
    index = {}
    for number, articles in TRICKY.items():
        data, rows = b"", []
        for seq, (digest, key) in enumerate(articles):
            graph, article = ox.NamedNode(iris.article_graph(digest)), ox.NamedNode(iris.article(digest))
            quads = [
                ox.Quad(article, ox.NamedNode(str(KG.sourceKey)), ox.Literal(key), graph),
                ox.Quad(article, ox.NamedNode("http://example.org/readFrom"), ox.Literal(f"{number}/{seq}"), graph),
            ]
            nq = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
            rows.append(
                {"digest": digest, "source_key": key, "partition": number, "seq": seq, "offset": len(data), "length": len(nq)}
            )
            data += nq
        with shards.atomic(shards.shard(work, "graphs", number)) as out:
            out.write(data)
        index[number] = rows
    return index


@pytest.mark.parametrize("finishing", list(itertools.permutations(TRICKY)))
def test_loading_partitions_as_they_finish_ends_with_the_store_of_loading_after_the_decisions(tmp_path, finishing):
    iris = Iris()
    work = str(tmp_path / "work")
    index = _tricky_shards(work, iris)
    rows = [row for number in sorted(index) for row in index[number]]
    stores = {}
    for way in ("after", "early"):
        path = tmp_path / way
        known = _tricky_store(path, iris)
        with Store(path, iris) as store:
            early = None
            if way == "early":
                early = EarlyLoad(store, work, known)
                for number in finishing:
                    early.add(number, index[number])
            load(store, work, sorted(index), rows, plan_load(rows, known), early=early)
        with Store(path, iris, read_only=True) as store:
            stores[way] = {str(q) for q in store.ox}
    assert stores["early"] == stores["after"]
    readers = {q.split(" ")[2] for q in stores["after"] if "readFrom" in q}
    assert readers == {'"0/0"', '"1/1"', '"2/0"', '"2/1"'}  # twin from its last copy; kept as stored; no draft


# -- the corpus graph of a first build, made elsewhere -------------------------------------------------------


class _InProcess:
    """The part of a Dask client `chunks_on_cluster` uses, running each task here and now."""

    class Done:
        def __init__(self, value) -> None:
            self.value = value

        def result(self):
            return self.value

        def release(self) -> None:
            pass

    def submit(self, fn, *args, pure=True, **kwargs):
        return self.Done(fn(*args, **kwargs))

    def cancel(self, futures) -> None:
        pass


def test_a_first_corpus_graph_made_as_nquads_elsewhere_and_bulk_loaded_is_the_graph_made_here(
    built_seeds, tmp_path, wikidata_cache, monkeypatch
):
    import shutil

    monkeypatch.setattr("kg.pipeline.corpus.BULK_BYTES", 16 << 10)  # several bulk loads of several chunks each

    from kg.cluster.graph import chunks_on_cluster
    from kg.pipeline.corpus import update_corpus
    from kg.rdf.triples import Provenance
    from kg.settings import Settings

    prov = Provenance.now("test")  # one provenance for both, so that their build times agree
    graphs, reports = {}, {}
    for way in ("here", "elsewhere"):
        settings = Settings(store=tmp_path / way, wikidata_cache=wikidata_cache, corpus_chunk=7)
        shutil.copytree(built_seeds, settings.store)
        with Store(settings.store, Iris(settings.base)) as store:
            corpus = ox.NamedNode(store.iris.corpus_graph)
            store.ox.remove_graph(corpus)  # as before a first build's corpus stage
            maker = chunks_on_cluster(_InProcess(), settings) if way == "elsewhere" else None
            reports[way] = update_corpus(store, settings, prov, maker=maker)
            assert store.corpus_pending() is None
            graphs[way] = {  # the linking run's own times aside
                str(q) for q in store.ox.quads_for_pattern(None, None, None, corpus) if "#dateTime" not in str(q.object)
            }
    assert graphs["elsewhere"] == graphs["here"] and graphs["here"]
    here, elsewhere = reports["here"], reports["elsewhere"]
    assert (elsewhere.entities, elsewhere.changed, elsewhere.quads, elsewhere.events) == (
        here.entities,
        here.changed,
        here.quads,
        here.events,
    )
    assert elsewhere.validation.conforms and elsewhere.validation.triples == here.validation.triples
