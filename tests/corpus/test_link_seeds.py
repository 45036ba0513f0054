"""Linking the seed articles with the bundled starter index, against a hand-made gold file:
precision first, the well-known entities linked, the rest explicitly not linked."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS, SHARED, select

from kg.corpus.link import link_corpus
from kg.corpus.resolve import resolve_corpus
from kg.namespaces import KG
from kg.store.query import read_query
from kg.store.records import mention_records
from kg.validate.check import validate_store
from kg.wikidata.index import build_index
from kg.wikidata.sources import open_index_sources

GOLD = Path(__file__).resolve().parents[1] / "data" / "seed-gold.tsv"

WELL_KNOWN = [
    ("Place", "North Korea", "Q423"),
    ("Place", "South Korea", "Q884"),
    ("Place", "Seoul", "Q8684"),
    ("Place", "Pyongyang", "Q18808"),
    ("Place", "China", "Q148"),
    ("Place", "U.S.", "Q30"),  # written "U.S." in three articles (once "U.S.-led"), "US" in two
    ("Event", "Korean War", "Q8663"),
    ("Organization", "Associated Press", "Q40469"),
    ("Organization", "BBC", "Q9531"),
]


def read_gold() -> dict[tuple[str, str], str]:
    with GOLD.open(encoding="utf-8") as stream:
        rows = csv.DictReader((line for line in stream if not line.startswith("#")), delimiter="\t")
        return {(r["kind"], r["label"]): r["qid"] for r in rows}


def stored_links(store) -> dict[tuple[str, str], str | None]:
    rows = select(
        store,
        """SELECT ?type ?label ?target WHERE {
             ?e a ?type ; rdfs:label ?label ; kg:wikidataLink ?link .
             VALUES ?type { kg:Person kg:Organization kg:Place kg:Event }
             OPTIONAL { ?link kg:linkTarget ?target } }""",
    )
    return {(r["type"].rsplit("#", 1)[-1], r["label"]): r.get("target", "").rsplit("/", 1)[-1] or None for r in rows}


def accuracy(gold: dict, links: dict, covered: set[str] | None = None) -> dict[str, float]:
    """Precision of the links made; recall of the entities that are Wikidata items (QID or ABSENT in the gold);
    recall over the gold QIDs the index holds (`covered`)."""
    linked = {k: q for k, q in links.items() if q}
    correct = sum(1 for k, q in linked.items() if gold.get(k) == q)
    items = [k for k, g in gold.items() if g != "NIL"]
    in_index = [k for k, g in gold.items() if g.startswith("Q") and (covered is None or g in covered)]
    return {
        "links": len(linked),
        "correct": correct,
        "precision": correct / len(linked) if linked else 1.0,
        "recall": correct / len(items),
        "recall_in_index": sum(1 for k in in_index if links.get(k) == gold[k]) / len(in_index),
    }


def test_the_gold_file_covers_every_seed_entity_and_every_one_has_a_decision(seed_store):
    gold, links = read_gold(), stored_links(seed_store)
    assert set(links) == set(gold), "the gold file names exactly the entities of the seed build"
    assert all(g == "NIL" or g == "ABSENT" or g.startswith("Q") for g in gold.values())


def test_precision_and_recall_on_the_seeds_with_the_starter_index(seed_store, wikidata_cache):
    gold, links = read_gold(), stored_links(seed_store)
    index = next((wikidata_cache / "wikidata").glob("starter-*.sqlite"))
    with open_index_sources([index]) as sources:
        covered = {g for g in gold.values() if g.startswith("Q") and sources.local[0].item(g) is not None}
    figures = accuracy(gold, links, covered)
    print(f"\nseed linking with the starter index: {figures}")
    wrong = {k: (q, gold[k]) for k, q in links.items() if q and gold[k] != q}
    assert wrong == {}, "precision first: no wrong link on the seeds"
    assert figures["precision"] == 1.0
    assert figures["recall_in_index"] >= 0.9, figures
    assert figures["recall"] >= 0.4, figures


@pytest.mark.parametrize(("kind", "label", "qid"), WELL_KNOWN, ids=[w[1] for w in WELL_KNOWN])
def test_well_known_entities_link_to_their_wikidata_items(seed_store, kind, label, qid):
    assert stored_links(seed_store)[(kind, label)] == qid


def test_what_the_starter_index_lacks_stays_explicitly_unlinked(seed_store):
    links = stored_links(seed_store)
    for key in [
        ("Organization", "Reuters"),
        ("Person", "Kim Jong Un"),
        ("Person", "James Pearson"),
        ("Place", "Demilitarized Zone"),
    ]:
        assert links[key] is None, f"{key[1]}: not in any CC0/MIT table, so not linked (never to a look-alike)"
    unexplained = select(
        seed_store,
        """SELECT ?e WHERE { ?e kg:wikidataLink ?l . ?l kg:linkOutcome kg:NotLinked FILTER NOT EXISTS { ?l kg:linkReason ?r } }""",
    )
    assert not unexplained, "every decision not to link says why"


def test_the_korean_demilitarized_zone_is_one_place_under_all_its_names(seed_store):
    rows = select(
        seed_store,
        """SELECT ?e ?kind WHERE { ?e skos:altLabel|rdfs:label ?name ; a ?kind
             FILTER(?name IN ("DMZ", "Demilitarized Zone", "Korean Demilitarized Zone")) }""",
    )
    assert {(r["e"], r["kind"]) for r in rows} == {(rows[0]["e"], str(KG.Place))}


def test_no_weapon_model_becomes_an_organisation(seed_store):
    """ "handguns and AK rifles": the AK is a rifle's model, not an entity of any kind."""
    assert ("Organization", "AK") not in stored_links(seed_store)
    assert not select(seed_store, """SELECT ?e WHERE { ?e rdfs:label "AK" }""")


def test_links_carry_confidence_source_and_enrichment(seed_store):
    rows = select(
        seed_store,
        """SELECT ?confidence ?source ?date ?description ?country WHERE {
             ?e rdfs:label "Seoul" ; owl:sameAs wd:Q8684 ; schema:description ?description ;
                kg:wikidataCountry ?country ; kg:wikidataLink ?link .
             ?link kg:confidence ?confidence ; kg:linkSource ?s .
             ?s dcterms:identifier ?source ; dcterms:date ?date }""",
    )
    assert len(rows) == 1
    row = rows[0]
    assert float(row["confidence"]) >= 0.9 and row["source"] == "starter"
    assert row["description"] == "capital city of South Korea"
    assert row["country"] == "http://www.wikidata.org/entity/Q884"


def test_the_linked_seed_store_conforms_to_all_shapes(seed_store):
    report = validate_store(seed_store)
    assert report.conforms, report.text()


def test_canned_linking_queries_answer_on_the_seeds(seed_store):
    per_type = {r["type"].rsplit("#", 1)[-1]: r for r in select(seed_store, read_query("linked-entities-by-type"))}
    # "Koreas" ("the two Koreas") is no longer linked to the region Korea
    assert (per_type["Place"]["linked"], per_type["Event"]["linked"], per_type["Person"]["linked"]) == ("6", "1", "0")
    # Ajou University Medical Center, the Korean People's Army, Reuters, the UN Command
    assert int(per_type["Organization"]["notLinked"]) == 4 and per_type["Organization"]["notChecked"] == "0"
    ids = {r["name"]: r["qid"] for r in select(seed_store, read_query("wikidata-ids"))}
    assert ids["Seoul"] == "Q8684" and ids["BBC"] == "Q9531" and len(ids) == 9
    places = [r["name"] for r in select(seed_store, read_query("places-with-coordinates"))]
    assert set(places) == {"North Korea", "South Korea", "Seoul", "China", "Pyongyang", "U.S."}
    review = select(seed_store, read_query("link-review"))
    assert len(review) == 25 and review[0]["outcome"] == "not linked"  # one decision per entity


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory) -> Path:
    if not (SHARED / "wikidata").is_dir():
        pytest.skip("../shared/wikidata is absent: no larger index to build")
    path = tmp_path_factory.mktemp("shared-index") / "all.sqlite"
    build_index([SHARED / "wikidata"], path, name="shared-all")
    return path


def test_a_larger_index_from_all_shared_tables_links_more_and_stays_precise(seed_build, shared_index):
    store, _, settings = seed_build
    entities = resolve_corpus(mention_records(store), store.iris)
    with open_index_sources([shared_index]) as sources:
        result = link_corpus(entities, settings, store.iris, sources=sources)
    links = {(e.kind, e.label): result.decisions[e.iri].qid for e in result.entities}
    gold = read_gold()
    figures = accuracy(gold, links)
    print(f"\nseed linking with all shared tables (dr5hn included): {figures}")
    assert links[("Place", "Suwon")] == "Q20714", "dr5hn's cities add Suwon"
    assert figures["precision"] == 1.0


def test_kg_link_relinks_a_store_from_the_command_line(tmp_path, wikidata_cache):
    store = tmp_path / "store"
    env_cache = ["--config", str(tmp_path / "kg.toml")]
    (tmp_path / "kg.toml").write_text(f'wikidata_cache = "{wikidata_cache}"\n', encoding="utf-8")
    article = sorted(SEEDS.iterdir())[4]
    built = subprocess.run(
        [sys.executable, "-m", "kg", *env_cache, "build", str(article), "--store", str(store), "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    run = subprocess.run(
        [sys.executable, "-m", "kg", *env_cache, "link", "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "\nlinking: " in run.stdout and "SHACL: conforms" in run.stdout
    strict = subprocess.run(
        [sys.executable, "-m", "kg", *env_cache, "link", "--store", str(store), "--threshold", "0.99"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert strict.returncode == 0, strict.stderr
    query = subprocess.run(
        [sys.executable, "-m", "kg", "query", "wikidata-ids", "--store", str(store), "-f", "csv"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    linked = query.stdout.splitlines()[1:]
    assert all(float(line.rsplit(",", 1)[-1]) >= 0.99 for line in linked), "re-linking replaced every earlier link"
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg",
            *env_cache,
            "link",
            "--store",
            str(store),
            "--index",
            str(tmp_path / "nope.sqlite"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert missing.returncode == 1 and "no Wikidata index at" in missing.stderr


def test_a_nationality_word_is_a_mention_of_its_country_of_its_own_kind(seed_store):
    """ "North Korean border guards": a group mention that North Korea's node also points to."""
    rows = select(
        seed_store,
        """SELECT ?m ?anchor ?country WHERE { ?m a kg:NationalityMention, kg:GroupMention ; nif:anchorOf ?anchor .
             ?e gaf:denotedBy ?m ; rdfs:label ?country ; a kg:Place }""",
    )
    assert rows and {r["anchor"] for r in rows} >= {"North Korean", "South Korean"}
    assert {r["country"] for r in rows if r["anchor"] == "North Korean"} == {"North Korea"}
    groups = select(seed_store, """SELECT ?g WHERE { ?a a kg:Article ; kg:mentionsGroup ?g }""")
    assert "North Korean" in {r["g"] for r in groups}, "the article still records the group"


def test_a_place_name_that_modifies_a_noun_is_a_modifier_mention_of_the_place(seed_store):
    """ "U.S. military", "Seoul officials": mentions of the place's node, of their own kind."""
    rows = select(
        seed_store,
        """SELECT ?anchor ?place WHERE { ?m a kg:ModifierMention, kg:EntityMention ; nif:anchorOf ?anchor .
             ?e gaf:denotedBy ?m ; rdfs:label ?place ; a kg:Place }""",
    )
    assert {(r["anchor"], r["place"]) for r in rows} >= {("Seoul", "Seoul")}
    assert any(r["place"] in {"United States", "US", "U.S."} for r in rows)


def test_the_un_that_speaks_for_the_un_command_is_the_un_command(seed_store):
    """ "..., the UN said" in an article about the United Nations Command: no link to the United Nations."""
    assert not select(seed_store, "SELECT ?e WHERE { ?e owl:sameAs wd:Q1065 }")
    (command,) = select(seed_store, """SELECT ?e WHERE { ?e rdfs:label "United Nations Command" }""")
    anchors = {
        r["a"]
        for r in select(seed_store, f"""SELECT ?a WHERE {{ <{command["e"]}> gaf:denotedBy ?m . ?m nif:anchorOf ?a }}""")
    }
    assert {"UN", "UNC", "United Nations Command", "UN Command", "U.N. Command"} <= anchors


def test_kim_jong_un_is_one_person(seed_store):
    rows = select(
        seed_store,
        """SELECT ?e ?kind WHERE { ?e rdfs:label|skos:altLabel ?n ; a ?kind FILTER(CONTAINS(?n, "Kim Jong")) }""",
    )
    assert {(r["e"], r["kind"]) for r in rows} == {(rows[0]["e"], str(KG.Person))}
