"""The canned event queries, run on the seeds, give the rows an analyst expects."""

from __future__ import annotations

from conftest import select

from kg.store.query import read_query


def run(store, name: str) -> list[dict[str, str]]:
    return select(store, read_query(name))


def test_the_timeline_lists_dated_events_in_order_with_their_places(seed_store):
    rows = run(seed_store, "event-timeline")
    dated = [r for r in rows if "from" in r]
    assert [(r["type"], r["from"], r["to"]) for r in dated] == [
        ("Defection", "2017-11-13", "2017-11-13"),
        ("Shooting", "2017-11-13", "2017-11-13"),
        ("Surgery", "2017-11-13", "2017-11-19"),
    ]
    defection, shooting, surgery = dated
    assert set(defection["places"].split("; ")) == {"Panmunjom", "South Korea", "North Korea"}
    assert defection["actors"] == "North Korean" and defection["articles"] == "5"
    assert {"North Korea", "North Korean"} <= set(shooting["actors"].split("; "))
    assert "Ajou University Medical Center" in surgery["places"].split("; ")
    undated = rows[len(dated) :]
    assert undated and all("from" not in r for r in undated)
    assert [int(r["articles"]) for r in undated] == sorted((int(r["articles"]) for r in undated), reverse=True)
    assert ("Violation", "5") in {(r["type"], r["articles"]) for r in undated if r["articles"] == undated[0]["articles"]}


def test_events_involving_north_korea_in_every_role(seed_store):
    rows = run(seed_store, "events-involving")
    found = {(r["label"], r["role"]) for r in rows}
    assert ("defection, 2017-11-13, Panmunjom", "Origin") in found
    # the shooting's label names its main place, which follows how the place nodes resolve
    assert any(label.startswith("shooting, 2017-11-13, ") and role == "Agent" for label, role in found)
    assert ("violation, North Korea", "Agent") in found
    assert ("accusation, North Korea", "Agent") in found
    assert rows[0]["from"] == "2017-11-13", "dated events first"
    assert all(int(r["roleArticles"]) <= int(r["articles"]) for r in rows)


def test_events_involving_a_group_name(seed_store):
    query = read_query("events-involving").replace('"North Korea"', '"North Korean"')
    rows = select(seed_store, query)
    assert {r["label"].split(",")[0] for r in rows} >= {"defection", "shooting", "violation"}
    assert {r["role"] for r in rows} == {"Agent"}


def test_events_by_type_count_events_articles_and_mentions(seed_store):
    rows = {r["type"]: r for r in run(seed_store, "events-by-type")}
    for kind in ("Defection", "Shooting", "Surgery", "Violation"):
        assert (rows[kind]["events"], rows[kind]["articles"], rows[kind]["mostArticlesForOneEvent"]) == ("1", "5", "5")
    assert int(rows["Statement"]["events"]) >= 8 and rows["Statement"]["articles"] == "5"
    assert int(rows["Defection"]["mentions"]) >= 10
    assert rows["Accusation"]["events"] == "1"


def test_the_evidence_of_the_defection_is_a_sentence_in_each_of_the_five_articles(seed_store):
    rows = run(seed_store, "event-evidence")
    assert len({r["article"] for r in rows}) == 5
    assert len({r["event"] for r in rows}) == 1
    sentences = {" ".join(r["sentenceText"].split()) for r in rows}
    assert "He is the third member of the North Korean armed forces to defect this year." in sentences
    assert any(s.startswith("North Korea's actions during the defector's Nov. 13 escape at Panmunjom") for s in sentences)
    for r in rows:
        assert r["trigger"] in r["sentenceText"]
        assert 0 < float(r["confidence"]) <= 1
    undated = [r for r in rows if "published" not in r]
    assert {r["title"] for r in undated} == {"North Korean Soldier Shot While Defecting To South (Video)"}


def test_co_mentions_stay_pairs_of_entities_now_that_events_have_mentions(seed_store):
    rows = run(seed_store, "co-mentions")
    assert rows
    assert not [r for r in rows if "/event/" in r["a"] and "/event/korean-war" not in r["a"]]
    assert not [r for r in rows if "/event/" in r["b"] and "/event/korean-war" not in r["b"]]
