"""`kg build` on the sample corpus: the facts an analyst relies on."""

from __future__ import annotations

import json

from conftest import SEEDS, select

from kg.namespaces import Iris, text_hash
from kg.pipeline.build import build
from kg.settings import Settings
from kg.store.store import Store


def entities(store, cls: str) -> dict[str, str]:
    rows = select(store, f"SELECT ?e ?label WHERE {{ ?e a kg:{cls} ; rdfs:label ?label }}")
    return {r["label"]: r["e"] for r in rows}


def test_build_reads_all_five_seed_articles_and_conforms(seed_build):
    store, report, _ = seed_build
    assert report.added == 5 and not report.errors
    assert report.validation is not None and report.validation.conforms
    assert report.ok
    assert len(select(store, "SELECT ?a WHERE { ?a a kg:Article }")) == 5


def test_chad_carroll_is_one_person_with_mentions_from_four_articles(seed_store):
    people = entities(seed_store, "Person")
    carrolls = [name for name in people if "Carroll" in name]
    assert carrolls == ["Chad G. Carroll"]
    rows = select(
        seed_store,
        """SELECT ?words ?article WHERE {
             ?p a kg:Person ; rdfs:label "Chad G. Carroll" ; gaf:denotedBy ?m .
             ?m nif:anchorOf ?words ; nif:referenceContext ?article }""",
    )
    assert len({r["article"] for r in rows}) == 4
    assert {r["words"] for r in rows} == {"Chad G. Carroll", "Chad Carroll", "Carroll"}
    alt = {r["alt"] for r in select(seed_store, f"SELECT ?alt WHERE {{ <{people['Chad G. Carroll']}> skos:altLabel ?alt }}")}
    assert {"Chad Carroll", "Carroll"} <= alt


def test_united_nations_command_is_one_organization_with_all_its_names(seed_store):
    orgs = entities(seed_store, "Organization")
    assert "United Nations Command" in orgs
    assert not {"UNC", "UN Command", "U.N. Command"} & set(orgs)
    alt = {r["alt"] for r in select(seed_store, f"SELECT ?alt WHERE {{ <{orgs['United Nations Command']}> skos:altLabel ?alt }}")}
    assert {"UNC", "UN Command", "U.N. Command"} <= alt
    articles = select(
        seed_store,
        f"SELECT DISTINCT ?a WHERE {{ <{orgs['United Nations Command']}> gaf:denotedBy/nif:referenceContext ?a }}",
    )
    assert len(articles) == 5


def test_the_two_koreas_are_one_place_each(seed_store):
    places = entities(seed_store, "Place")
    assert {"North Korea", "South Korea", "Seoul", "Panmunjom"} <= set(places)
    assert not [p for p in places if p.startswith("North Korea") and p != "North Korea" and "Army" not in p]
    words = {r["w"] for r in select(seed_store, f"SELECT ?w WHERE {{ <{places['North Korea']}> gaf:denotedBy/nif:anchorOf ?w }}")}
    assert "North Korea's" not in words  # the possessive is trimmed off the span
    assert "North Korea" in words
    rows = select(
        seed_store,
        f"""SELECT ?m WHERE {{ ?m nif:anchorOf "North Korea" . FILTER NOT EXISTS {{ <{places['North Korea']}> gaf:denotedBy ?m }} }}""",
    )
    assert rows == [], "every 'North Korea' mention, possessive or not, names the one place"


def test_panmunjom_is_a_place_and_nobody_is_named_panmunjom(seed_store):
    assert "Panmunjom" not in entities(seed_store, "Person")
    rows = select(seed_store, """SELECT ?m ?label WHERE { ?m nif:anchorOf "Panmunjom" ; kg:nerLabel "PERSON" ; kg:label ?label }""")
    assert rows and {r["label"] for r in rows} == {"LOC"}, "spaCy's PERSON is kept, and the correction recorded"


def test_no_organization_from_a_headline_photo_credit_or_title(seed_store):
    orgs = entities(seed_store, "Organization")
    people = entities(seed_store, "Person")
    assert not [o for o in orgs if "Defection Video" in o or "Popular Video" in o]
    assert not [n for n in {*orgs, *people} if "/" in n or "Flickr" in n or "Getty" in n]
    assert "U.S. Col" not in orgs and "GMT" not in orgs
    assert "Carroll" not in orgs, "a surname alone is the full name mentioned in the same article"


def test_all_caps_dateline_and_variants_resolve_to_one_node(seed_store):
    places = entities(seed_store, "Place")
    assert "SEOUL" not in places
    words = {r["w"] for r in select(seed_store, f"SELECT ?w WHERE {{ <{places['Seoul']}> gaf:denotedBy/nif:anchorOf ?w }}")}
    assert words == {"Seoul", "SEOUL"}
    assert "Lee" not in entities(seed_store, "Person"), "'Lee' alone is Lee Cook-Jong"


def test_norp_is_a_group_attribute_not_a_person(seed_store):
    assert "North Korean" not in entities(seed_store, "Person")
    groups = {r["g"] for r in select(seed_store, "SELECT DISTINCT ?g WHERE { ?a kg:mentionsGroup ?g }")}
    assert "North Korean" in groups


def test_korean_war_is_a_named_event(seed_store):
    assert "Korean War" in entities(seed_store, "Event")


def test_every_mention_points_to_exact_text_of_its_article(seed_store):
    rows = select(
        seed_store,
        """SELECT ?text ?b ?e ?anchor WHERE {
             ?m nif:referenceContext ?a ; nif:beginIndex ?b ; nif:endIndex ?e ; nif:anchorOf ?anchor .
             ?a nif:isString ?text }""",
    )
    assert len(rows) > 150
    for r in rows:
        assert r["text"][int(r["b"]) : int(r["e"])] == r["anchor"]


def test_articles_have_hash_date_title_source_and_provenance(seed_store):
    rows = select(
        seed_store,
        """SELECT ?a ?hash ?text ?source ?date ?title ?model WHERE {
             ?a a kg:Article ; kg:sha256 ?hash ; nif:isString ?text ; kg:sourcePath ?source ;
                prov:wasGeneratedBy ?x .
             ?x prov:wasAssociatedWith ?agent . ?agent kg:softwareVersion ?model .
             OPTIONAL { ?a schema:datePublished ?date } OPTIONAL { ?a schema:headline ?title } }""",
    )
    by_source = {r["source"].rsplit("/", 1)[-1]: r for r in rows}
    assert len(by_source) == 5
    for name, r in by_source.items():
        assert r["hash"] == text_hash((SEEDS / name).read_text(encoding="utf-8"))
        assert r["a"].endswith(r["hash"])
    assert by_source["000_40d485cd63650440.txt"]["date"] == "2017-11-22"
    assert by_source["001_5baf892247e79391.txt"]["date"] == "2017-11-22T08:27:00Z"
    assert by_source["001_5baf892247e79391.txt"]["title"].startswith("North Korea Defection Video")
    assert by_source["002_0c9f0ae4b417fcc8.txt"]["title"] == "North Korean Soldier Shot While Defecting To South (Video)"
    assert "title" not in by_source["000_40d485cd63650440.txt"]


def test_one_named_graph_per_article_plus_the_corpus_graph(seed_store):
    store = seed_store
    graphs = {g.value for g in store.ox.named_graphs()}
    assert len(graphs) == 6
    assert store.iris.corpus_graph in graphs
    # Entities live in the corpus graph; article graphs hold no entity nodes.
    rows = select(store, "SELECT ?g WHERE { GRAPH ?g { ?e a kg:Person } }")
    assert {r["g"] for r in rows} == {store.iris.corpus_graph}


def test_rebuild_is_idempotent_and_skips_unchanged_articles(seed_build, nlp):
    store, _, settings = seed_build
    before = set(store.ox)
    report = build([SEEDS], settings, nlp=nlp, store=store)
    assert (report.added, report.replaced, report.unchanged) == (0, 0, 5)
    assert set(store.ox) == before


def test_a_writer_that_cannot_write_gives_a_clear_error_not_a_hang(tmp_path):
    from kg.pipeline.messages import Failed
    from kg.pipeline.writer import WriterProcess
    from kg.rdf.triples import Provenance
    from kg.settings import Settings
    from kg.store.store import KnownArticles, StoreError

    not_a_folder = tmp_path / "store"
    not_a_folder.write_text("a file where the store should be", encoding="utf-8")
    writer = WriterProcess(Settings(store=not_a_folder), KnownArticles(), Provenance.now("test"))
    try:
        for _ in range(100):
            writer.send([])
        replies = list(writer.finish())
    except StoreError as exc:
        message = str(exc)
    else:
        message = next(reply.message for reply in replies if isinstance(reply, Failed))
    finally:
        writer.kill()
    assert "store" in message.lower() and str(not_a_folder) in message


def test_output_a_library_prints_in_the_writer_does_not_break_the_build(tmp_path, nlp, monkeypatch):
    import kg.pipeline.writer
    from kg.settings import Settings

    noisy = (
        "import os, kg.pipeline.writer as w; quiet = w.serve\n"
        "def serve(i, o):\n"
        "    print('a library says hello'); os.write(1, b'and C code too')\n"
        "    quiet(i, o)\n"
        "w.serve = serve; w.main()"
    )
    monkeypatch.setattr(kg.pipeline.writer, "_CHILD", noisy)
    settings = Settings(store=tmp_path / "store", link=False, events=False)
    report = build([SEEDS / sorted(p.name for p in SEEDS.iterdir())[0]], settings, nlp=nlp)
    assert report.added == 1 and report.ok


def test_a_title_or_region_written_with_a_name_is_stored_on_its_mention_and_read_back_as_built(tmp_path, nlp, wikidata_cache):
    from kg.corpus.resolve import CorpusMentions
    from kg.store.records import mention_records

    corpus = tmp_path / "titles.jsonl"
    lines = [
        {"id": "t1", "title": "Talks", "text": "President Hallam met the envoy in Veldonia on Monday."},
        {"id": "t2", "title": "Budget", "text": "The budget of Finance Minister Rosa Quillon passed on Tuesday."},
        {"id": "t3", "title": "Plant", "text": "The plant in Dunmore, Ohio, closed on Friday."},
    ]
    corpus.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    settings = Settings(store=tmp_path / "kg", wikidata_cache=wikidata_cache)
    report = build([corpus], settings, nlp=nlp)
    assert report.ok, report.summary()  # SHACL included
    with Store(settings.store, Iris(settings.base), read_only=True) as store:
        titles = {r.text: r.title for r in mention_records(store) if r.kind == "Person"}
        written = {row["t"].value for row in store.query("SELECT ?t WHERE { ?m kg:titleBefore ?t }")}
        mentions = CorpusMentions()
        mentions.add(mention_records(store))
        entities = mentions.resolve(store.iris)
        people = {e.label: e.titles for e in entities if e.kind == "Person"}
        places = {e.label: e.regions for e in entities if e.kind == "Place"}
        regions = {row["r"].value for row in store.query("SELECT ?r WHERE { ?m kg:regionAfter ?r }")}
    assert titles == {"Hallam": "President", "Rosa Quillon": "Finance Minister"}
    assert written == {"President", "Finance Minister"}
    assert people == {"Hallam": ("President",), "Rosa Quillon": ("Finance Minister",)}
    assert regions == {"Ohio"} and places["Dunmore"] == ("Ohio",)
