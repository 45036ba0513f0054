"""Merging event mentions across articles: what makes two reports one event, and what keeps them apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from conftest import SEEDS

from kg.article.events import load_taxonomy
from kg.corpus.merge import merge_events
from kg.model import DAY, MONTH_DAY, YEAR, Entity, EventRecord, Filler, Point, TimeValue
from kg.namespaces import KG, Iris

IRIS = Iris()
PUBLISHED = date(2017, 11, 22)


@pytest.fixture(scope="module")
def taxonomy():
    return load_taxonomy()


def entity(kind: str, label: str, *mentions: str, category: str | None = None) -> Entity:
    return Entity(IRIS.entity(kind, label), kind, label, (), tuple(mentions), 1, category)


NORTH = entity("Place", "North Korea", "a1#n", "a2#n", "a3#n", "a4#n", category="GPE")
SEOUL = entity("Place", "Seoul", "a1#s", "a2#s", "a3#s", category="GPE")
BUSAN = entity("Place", "Busan", "a2#b", category="GPE")
CARROLL = entity("Person", "Chad G. Carroll", "a1#c", "a2#c")
LEE = entity("Person", "Lee Cook-Jong", "a2#l")
ENTITIES = [NORTH, SEOUL, BUSAN, CARROLL, LEE]


def record(article: str, etype: str, *fillers: Filler, begin: int = 0, time: TimeValue | None = None,
           published: date | None = PUBLISHED, confidence: float = 0.75, anaphoric: bool = False) -> EventRecord:  # fmt: skip
    return EventRecord(
        iri=f"{article}#event={begin},{begin + 5}",
        digest=article,
        type=str(KG[etype]),
        begin=begin,
        confidence=confidence,
        published=published,
        anaphoric=anaphoric,
        time=time,
        fillers=fillers,
    )


def agent(mention: str) -> Filler:
    return Filler("agent", mention, "entity", "")


def place(mention: str) -> Filler:
    return Filler("place", mention, "entity", "")


def group(name: str) -> Filler:
    return Filler("agent", f"group-{name}", "group", name)


def day(y: int, m: int, d: int) -> TimeValue:
    return TimeValue(Point(DAY, y, m, d))


def merged(taxonomy, *records: EventRecord):
    return merge_events(list(records), ENTITIES, taxonomy, IRIS)


def test_reports_that_share_a_participant_and_agree_on_the_date_are_one_event(taxonomy):
    events = merged(
        taxonomy,
        record("a1", "Shooting", group("North Korean"), time=day(2017, 11, 13)),
        record("a2", "Shooting", group("North Korean"), place("a2#s")),
        record("a3", "Shooting", agent("a3#n"), place("a3#s")),
    )
    assert len(events) == 1
    shooting = events[0]
    assert shooting.articles == 3 and len(shooting.mentions) == 3
    assert str(shooting.time) == "2017-11-13"
    assert set(shooting.values("agent")) == {"North Korean", NORTH.iri}
    assert shooting.iri == IRIS.reported_event("Shooting", "2017-11-13 Seoul")
    assert shooting.confidence > 0.9, "three articles are surer than one"


def test_a_kind_of_event_merges_with_its_general_type_and_keeps_the_specific_one(taxonomy):
    events = merged(
        taxonomy,
        record("a1", "Flight", place("a1#s")),
        record("a2", "Defection", place("a2#s"), time=day(2017, 11, 13)),
    )
    assert [e.type for e in events] == [str(KG.Defection)]


def test_incompatible_types_or_dates_keep_reports_apart(taxonomy):
    assert len(merged(taxonomy, record("a1", "Shooting", place("a1#s")), record("a2", "Surgery", place("a2#s")))) == 2
    apart = merged(
        taxonomy,
        record("a1", "Shooting", place("a1#s"), time=day(2017, 11, 13)),
        record("a2", "Shooting", place("a2#s"), time=TimeValue(Point(YEAR, 1953))),
    )
    assert len(apart) == 2


def test_undated_reports_published_months_apart_are_different_events(taxonomy):
    events = merged(
        taxonomy,
        record("a1", "Shooting", place("a1#s"), published=date(2017, 11, 22)),
        record("a2", "Shooting", place("a2#s"), published=date(2018, 3, 1)),
    )
    assert len(events) == 2


def test_a_day_without_a_year_is_placed_by_the_dated_reports(taxonomy):
    events = merged(
        taxonomy,
        record("a1", "Shooting", group("North Korean"), time=TimeValue(Point(MONTH_DAY, None, 11, 13)), published=None),
        record("a2", "Shooting", group("North Korean")),
    )
    assert len(events) == 1 and str(events[0].time) == "2017-11-13"
    conflicting = merged(
        taxonomy,
        record("a1", "Shooting", group("North Korean"), time=TimeValue(Point(MONTH_DAY, None, 11, 13)), published=None),
        record("a2", "Shooting", group("North Korean"), time=TimeValue(Point(MONTH_DAY, None, 11, 14)), published=None),
    )
    assert len(conflicting) == 2


def test_statements_are_one_event_only_when_the_speaker_is_the_same(taxonomy):
    events = merged(
        taxonomy,
        record("a1", "Statement", agent("a1#c"), place("a1#s")),
        record("a2", "Statement", agent("a2#c")),
        record("a2", "Statement", agent("a2#l"), place("a2#s"), begin=50),
    )
    speakers = sorted(tuple(e.values("agent")) for e in events)
    assert speakers == sorted([(CARROLL.iri,), (LEE.iri,)])
    assert next(e for e in events if e.values("agent") == [CARROLL.iri]).articles == 2


def test_an_anaphoric_mention_joins_the_story_its_articles_share_and_is_dropped_alone(taxonomy):
    story = [
        record("a1", "Shooting", group("North Korean"), begin=1),
        record("a2", "Shooting", group("North Korean"), begin=1),
        record("a1", "Defection", place("a1#s"), begin=9),
    ]
    bare = record("a2", "Defection", begin=9, anaphoric=True, confidence=0.35)
    events = merged(taxonomy, *story, bare)
    defection = next(e for e in events if e.type == str(KG.Defection))
    assert defection.articles == 2 and bare.iri in defection.mentions
    alone = merged(taxonomy, record("a3", "Defection", begin=9, anaphoric=True))
    assert alone == [], "nothing named took part: not an event we can stand behind"


def test_two_cities_as_the_place_of_a_story_event_keep_them_apart(taxonomy):
    story = [record("a1", "Shooting", group("North Korean"), begin=1), record("a2", "Shooting", group("North Korean"), begin=1)]
    events = merged(taxonomy, *story, record("a1", "Surgery", place("a1#s"), begin=9), record("a2", "Surgery", place("a2#b"), begin=9))
    assert len([e for e in events if e.type == str(KG.Surgery)]) == 2


def test_statements_link_to_the_events_they_report(taxonomy):
    violation = record("a1", "Violation", agent("a1#n"), begin=40)
    statement = replace(record("a1", "Statement", agent("a1#c")), reports=(violation.iri,))
    events = merged(taxonomy, statement, violation)
    said = next(e for e in events if e.type == str(KG.Statement))
    assert said.reports == (next(e for e in events if e.type == str(KG.Violation)).iri,)


def test_the_same_mentions_in_any_order_give_the_same_events(taxonomy):
    records = [
        record("a1", "Shooting", group("North Korean"), time=day(2017, 11, 13)),
        record("a2", "Shooting", group("North Korean"), place("a2#s")),
        record("a2", "Statement", agent("a2#c"), begin=30),
        record("a1", "Statement", agent("a1#c"), begin=30),
        record("a3", "Defection", place("a3#s")),
    ]
    assert merged(taxonomy, *records) == merged(taxonomy, *reversed(records))


def test_event_records_kept_while_building_equal_those_read_back_from_the_store(seed_store, nlp):
    """A fresh build merges events from the records it kept, a later one from the store: the same records."""
    from kg.article.events import taxonomy_for
    from kg.article.extract import extract_all
    from kg.article.read import read_articles
    from kg.corpus.merge import event_records
    from kg.store.records import read_event_records

    kept = [
        r
        for article, extraction in extract_all(nlp, read_articles([SEEDS]), taxonomy=taxonomy_for(True, None))
        for r in event_records(article, extraction, seed_store.iris)
    ]
    stored = read_event_records(seed_store)
    assert len(kept) > 30
    assert sorted(kept, key=lambda r: r.iri) == sorted(stored, key=lambda r: r.iri)
