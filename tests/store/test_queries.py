"""The canned analyst queries in queries/, run on the seeds, give the rows an analyst expects."""

from __future__ import annotations

import pytest
from conftest import select

from kg.resources import query_files
from kg.store.query import read_query


def run(store, name: str) -> list[dict[str, str]]:
    return select(store, read_query(name))


def test_there_are_at_least_six_commented_canned_queries():
    files = query_files()
    assert len(files) >= 6
    for path in files:
        assert path.read_text(encoding="utf-8").startswith("#"), f"{path.name} starts with a comment saying what it asks"


@pytest.mark.parametrize("path", query_files(), ids=lambda p: p.stem)
def test_every_canned_query_runs_and_returns_rows(seed_store, path):
    assert run(seed_store, path.stem), f"{path.name} returned nothing on the seeds"


def test_most_mentioned_people(seed_store):
    rows = run(seed_store, "most-mentioned-people")
    top = rows[0]
    assert (top["name"], top["articles"]) == ("Chad G. Carroll", "4")
    assert int(top["mentions"]) >= 6
    assert {"name": "Lee Cook-Jong", "articles": "2"}.items() <= next(r for r in rows if r["name"] == "Lee Cook-Jong").items()


def test_who_is_mentioned_with_whom(seed_store):
    rows = run(seed_store, "co-mentions")
    pairs = {(r["aName"], r["bName"]): r for r in rows}
    korea = pairs[("North Korea", "South Korea")]
    assert int(korea["sentences"]) >= 5 and int(korea["articles"]) >= 3
    assert ("United Nations Command", "North Korea") in pairs
    people = {(r["aName"], r["bName"]): int(r["articles"]) for r in run(seed_store, "people-mentioned-with-people")}
    assert people[("Chad G. Carroll", "Shin Mi-jeong")] == 2


def test_organizations_per_place(seed_store):
    rows = run(seed_store, "organizations-per-place")
    first = rows[0]
    assert (first["placeName"], first["organizationName"]) == ("North Korea", "United Nations Command")
    assert int(first["articles"]) == 5  # every seed article names the UN Command ("the UN said" in one)


def test_articles_that_mention_someone_with_the_sentence(seed_store):
    rows = run(seed_store, "articles-mentioning")
    assert len({r["article"] for r in rows}) == 4
    evidence = {(r["words"], r["sentenceText"].strip()) for r in rows}
    assert ("Carroll", "There were no tour groups at the time of the defection, Carroll said.") in evidence
    for r in rows:
        assert r["words"] in r["sentenceText"]


def test_everything_known_about_one_entity(seed_store):
    rows = run(seed_store, "entity-profile")
    facts = {(r["property"].rsplit("#", 1)[-1], r["value"]) for r in rows}
    assert ("label", "United Nations Command") in facts
    assert ("altLabel", "UNC") in facts and ("altLabel", "U.N. Command") in facts
    assert ("type", "https://w3id.org/newskg/ontology#Organization") in facts
    assert sum(1 for p, _ in facts if p == "referenceContext") == 5


def test_entities_by_type_with_counts(seed_store):
    rows = {r["type"].rsplit("#", 1)[-1]: (int(r["entities"]), int(r["mentions"])) for r in run(seed_store, "entities-by-type")}
    assert set(rows) == {"Person", "Organization", "Place", "Event"}
    assert rows["Event"] == (1, 6)  # the Korean War, named once in each article and twice in one
    assert rows["Place"][1] > rows["Organization"][1] > rows["Person"][1]
    assert rows["Person"][0] == 6
