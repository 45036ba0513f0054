"""Events on the seeds: one defection, one shooting, one surgery, merged across the articles that report them,
with roles, dates, evidence, and nothing the text does not say."""

from __future__ import annotations

import pytest
from conftest import select

KG = "https://w3id.org/newskg/ontology#"


def events_of(store, cls: str) -> list[dict[str, str]]:
    return select(
        store,
        f"""SELECT ?e ?label ?articles ?mentions WHERE {{
              ?e a kg:ReportedEvent, kg:{cls} ; rdfs:label ?label ; kg:supportingArticles ?articles ;
                 kg:eventMentionCount ?mentions }}""",
    )


def only(store, cls: str) -> str:
    found = events_of(store, cls)
    assert len(found) == 1, f"one {cls} event expected, found {[e['label'] for e in found]}"
    return found[0]["e"]


def values(store, event: str, prop: str) -> set[str]:
    rows = select(store, f"SELECT ?v ?l WHERE {{ <{event}> {prop} ?v . OPTIONAL {{ ?v rdfs:label ?l }} }}")
    return {r.get("l", r["v"]) for r in rows}


def role_values(store, event: str, role: str) -> set[str]:
    rows = select(
        store,
        f"""SELECT ?v ?l WHERE {{ <{event}> kg:role ?r . ?r sem:roleType kg:{role}Role ; rdf:value ?v .
                                  OPTIONAL {{ ?v rdfs:label ?l }} }}""",
    )
    return {r.get("l", r["v"]) for r in rows}


def time_of(store, event: str) -> tuple[str, str]:
    rows = select(
        store,
        f"""SELECT ?from ?to WHERE {{ <{event}> sem:hasTime ?t .
                                      ?t sem:hasEarliestBeginTimeStamp ?from ; sem:hasLatestEndTimeStamp ?to }}""",
    )
    assert len(rows) == 1
    return rows[0]["from"], rows[0]["to"]


def evidence(store, event: str) -> list[dict[str, str]]:
    return select(
        store,
        f"""SELECT ?article ?trigger ?sentence ?conf WHERE {{
              <{event}> gaf:denotedBy ?m . ?m nif:referenceContext ?article ; nif:anchorOf ?trigger ;
              kg:confidence ?conf ; nif:sentence/nif:anchorOf ?sentence }}""",
    )


# -- the merged events -------------------------------------------------------------------------------------------


def test_one_defection_on_2017_11_13_at_panmunjom_supported_by_all_five_articles(seed_store):
    defection = only(seed_store, "Defection")
    assert defection.endswith("/event/defection/2017-11-13-panmunjom")
    row = events_of(seed_store, "Defection")[0]
    assert row["label"] == "defection, 2017-11-13, Panmunjom"
    assert row["articles"] == "5"
    assert time_of(seed_store, defection) == ("2017-11-13", "2017-11-13")
    day = select(seed_store, f"SELECT ?d WHERE {{ <{defection}> sem:hasTime/time:inXSDDate ?d }}")
    assert day == [{"d": "2017-11-13"}]
    assert {"Panmunjom", "South Korea", "North Korea"} <= values(seed_store, defection, "sem:hasPlace")
    assert role_values(seed_store, defection, "Place") == {"Panmunjom"}
    assert role_values(seed_store, defection, "Destination") == {"South Korea"}
    assert role_values(seed_store, defection, "Origin") == {"North Korea"}
    assert values(seed_store, defection, "kg:participantGroup") == {"North Korean"}
    assert len({r["article"] for r in evidence(seed_store, defection)}) == 5


def test_the_shooting_of_the_defector_by_north_korean_soldiers_is_one_event(seed_store):
    shooting = only(seed_store, "Shooting")
    row = events_of(seed_store, "Shooting")[0]
    assert int(row["articles"]) == 5
    assert values(seed_store, shooting, "kg:participantGroup") == {"North Korean"}
    assert "North Korea" in values(seed_store, shooting, "sem:hasActor")
    assert role_values(seed_store, shooting, "Patient") == set(), "the defector is named by no entity"
    # the date comes from the undated article's "on Nov. 13", placed in 2017 by the dated reports
    assert time_of(seed_store, shooting) == ("2017-11-13", "2017-11-13")
    sentences = {" ".join(r["sentence"].split()) for r in evidence(seed_store, shooting)}
    assert any(s.startswith("The soldier was shot at least five times by fellow North Korean soldiers") for s in sentences)
    assert any(s.startswith("North Korean soldiers fired about 40 rounds at the defector") for s in sentences)
    instruments = role_values(seed_store, shooting, "Instrument")
    assert "handguns and AK rifles" in instruments


def test_the_surgery_took_place_at_ajou_university_medical_center_last_week(seed_store):
    surgery = only(seed_store, "Surgery")
    assert "Ajou University Medical Center" in values(seed_store, surgery, "sem:hasPlace")
    assert int(events_of(seed_store, "Surgery")[0]["articles"]) == 5
    assert time_of(seed_store, surgery) == ("2017-11-13", "2017-11-19"), "after undergoing two surgeries last week"
    rows = select(
        seed_store,
        f"""SELECT ?b ?e WHERE {{ <{surgery}> sem:hasTime ?t . ?t a time:Interval ;
              time:hasBeginning/time:inXSDDate ?b ; time:hasEnd/time:inXSDDate ?e }}""",
    )
    assert rows == [{"b": "2017-11-13", "e": "2017-11-19"}]
    # the place is inferred from where the helicopter took him, and says so
    inferred = select(
        seed_store,
        f"""SELECT ?l WHERE {{ <{surgery}> kg:role ?r . ?r sem:roleType kg:PlaceRole ; kg:inferred true ;
                                rdf:value/rdfs:label ?l }}""",
    )
    assert {r["l"] for r in inferred} >= {"Ajou University Medical Center"}


def test_the_violation_of_the_armistice_has_the_korean_war_as_context_and_is_reported_by_the_un_command(seed_store):
    violation = only(seed_store, "Violation")
    assert int(events_of(seed_store, "Violation")[0]["articles"]) == 5
    assert values(seed_store, violation, "kg:hasContext") == {"Korean War"}
    context = select(seed_store, f"SELECT ?c WHERE {{ <{violation}> kg:hasContext ?c . ?c a kg:Event }}")
    assert len(context) == 1, "the context is the named event (kg:Event) the build resolved"
    assert "North Korea" in role_values(seed_store, violation, "Agent")
    reporters = select(
        seed_store,
        f"""SELECT ?speaker WHERE {{ ?s a kg:Statement ; kg:reports <{violation}> ; sem:hasActor/rdfs:label ?speaker }}""",
    )
    assert {"United Nations Command", "Chad G. Carroll"} <= {r["speaker"] for r in reporters}


def test_statements_have_a_named_speaker_and_accusations_a_target(seed_store):
    speakers = {
        r["speaker"]
        for r in select(seed_store, "SELECT ?speaker WHERE { ?s a kg:Statement ; kg:role ?r . "
                        "?r sem:roleType kg:AgentRole ; rdf:value/rdfs:label ?speaker }")
    }
    assert {"Chad G. Carroll", "United Nations Command", "Lee Cook-Jong", "Shin Mi-jeong", "Reuters", "BBC"} <= speakers
    lee = select(
        seed_store,
        """SELECT ?s ?n ?place WHERE { ?s a kg:Statement ; sem:hasActor/rdfs:label "Lee Cook-Jong" ;
             kg:supportingArticles ?n ; sem:hasPlace/rdfs:label ?place }""",
    )
    assert lee and {r["place"] for r in lee} == {"Suwon"} and lee[0]["n"] == "2"
    accusation = only(seed_store, "Accusation")
    assert role_values(seed_store, accusation, "Agent") == {"North Korea"}
    assert role_values(seed_store, accusation, "Patient") == {"South Korea"}


def test_every_reported_event_has_a_type_a_trigger_and_a_participant_or_place(seed_store):
    rows = select(
        seed_store,
        """SELECT ?e (COUNT(DISTINCT ?m) AS ?mentions) (COUNT(DISTINCT ?a) AS ?actors) (COUNT(DISTINCT ?p) AS ?places)
                  (COUNT(DISTINCT ?g) AS ?groups) (SAMPLE(?type) AS ?t) WHERE {
             ?e a kg:ReportedEvent ; kg:eventType ?type ; gaf:denotedBy ?m .
             OPTIONAL { ?e sem:hasActor ?a } OPTIONAL { ?e sem:hasPlace ?p } OPTIONAL { ?e kg:participantGroup ?g }
           } GROUP BY ?e""",
    )
    assert len(rows) >= 10
    for r in rows:
        assert int(r["mentions"]) >= 1 and r["t"].startswith(KG)
        assert int(r["actors"]) + int(r["places"]) + int(r["groups"]) >= 1, r["e"]


def test_reported_events_live_in_the_corpus_graph_and_event_mentions_in_their_article_graph(seed_store):
    graphs = {r["g"] for r in select(seed_store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?e a kg:ReportedEvent } }")}
    assert graphs == {seed_store.iris.corpus_graph}
    rows = select(
        seed_store,
        """SELECT ?g ?a WHERE { GRAPH ?g { ?m a kg:EventMention ; nif:referenceContext ?a } }""",
    )
    assert rows and all(r["g"] == r["a"].replace("/article/", "/graph/article/") for r in rows)


# -- evidence ------------------------------------------------------------------------------------------------------


def test_every_event_mention_points_to_its_trigger_its_sentence_and_its_article(seed_store):
    rows = select(
        seed_store,
        """SELECT ?m ?text ?b ?e ?anchor ?sb ?se ?conf WHERE {
             ?m a kg:EventMention ; nif:referenceContext ?a ; nif:beginIndex ?b ; nif:endIndex ?e ;
                nif:anchorOf ?anchor ; kg:confidence ?conf ; nif:sentence ?s .
             ?s nif:beginIndex ?sb ; nif:endIndex ?se .
             ?a nif:isString ?text }""",
    )
    assert len(rows) > 60
    for r in rows:
        assert r["text"][int(r["b"]) : int(r["e"])] == r["anchor"]
        assert int(r["sb"]) <= int(r["b"]) < int(r["e"]) <= int(r["se"])
        assert 0 < float(r["conf"]) <= 1


def test_role_values_in_article_graphs_are_the_articles_own_mentions(seed_store):
    rows = select(
        seed_store,
        """SELECT ?m ?v ?kind WHERE { GRAPH ?g { ?m a kg:EventMention ; kg:role/rdf:value ?v . ?v a ?kind ;
                                                 nif:referenceContext ?a } }""",
    )
    kinds = {r["kind"].rsplit("#", 1)[-1] for r in rows}
    assert kinds <= {"EntityMention", "GroupMention", "NationalityMention", "ModifierMention", "TimeMention", "ArgumentPhrase"}
    assert {"EntityMention", "GroupMention", "TimeMention"} <= kinds


# -- times ---------------------------------------------------------------------------------------------------------


def time_values(store, anchor: str) -> list[dict[str, str]]:
    return select(
        store,
        f"""SELECT ?a ?kind ?pos ?b ?e ?from ?to WHERE {{
              ?t a kg:TimeMention ; nif:anchorOf "{anchor}" ; nif:referenceContext ?a .
              OPTIONAL {{ ?t kg:timeKind ?written }}
              OPTIONAL {{ ?t kg:timeValue ?value . ?value a ?class }}
              BIND (COALESCE(?written, IF(?class = time:Interval, "interval", "point")) AS ?kind)
              OPTIONAL {{ ?t kg:timeValue ?v .
                OPTIONAL {{ ?v time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear|kg:inXSDgMonthDay ?pos }}
                OPTIONAL {{ ?v time:hasBeginning/time:inXSDDate ?b ; time:hasEnd/time:inXSDDate ?e }}
                OPTIONAL {{ ?v sem:hasEarliestBeginTimeStamp ?from ; sem:hasLatestEndTimeStamp ?to }} }} }}""",
    )


def test_time_expressions_of_the_seeds_have_typed_values(seed_store):
    last_week = time_values(seed_store, "last week")
    assert [(r["kind"], r["b"], r["e"]) for r in last_week] == [("interval", "2017-11-13", "2017-11-19")]
    years = time_values(seed_store, "1953")
    assert years and {(r["kind"], r["pos"]) for r in years} == {("point", "1953")}
    wednesdays = time_values(seed_store, "Wednesday")
    assert wednesdays and {r["pos"] for r in wednesdays} == {"2017-11-22"}
    assert {r["pos"] for r in time_values(seed_store, "Thursday")} == {"2017-11-16"}, "released ... Thursday: the past one"
    assert {r["pos"] for r in time_values(seed_store, "Monday, November 13")} == {"2017-11-13"}
    assert {(r["kind"], r.get("pos")) for r in time_values(seed_store, "a few seconds")} == {("duration", None)}


def test_an_undated_article_keeps_relative_dates_as_text_and_days_without_a_year(seed_store):
    nov13 = time_values(seed_store, "Nov. 13")
    undated = [r for r in nov13 if "from" not in r]
    assert [r["pos"] for r in undated] == ["--11-13"], "Nov. 13 in the undated article: a gMonthDay"
    assert {r["pos"] for r in nov13 if "from" in r} == {"2017-11-13"}
    datatype = select(seed_store, "SELECT ?p WHERE { ?v kg:inXSDgMonthDay ?p FILTER(DATATYPE(?p) = xsd:gMonthDay) }")
    assert datatype
    assert [(r["kind"], r.get("pos")) for r in time_values(seed_store, "the past three years")] == [("unresolved", None)]
    months = select(
        seed_store,
        """SELECT ?b ?e WHERE { ?t nif:anchorOf "January to August 2017" ; kg:timeValue ?v .
             ?v time:hasBeginning/time:inXSDgYearMonth ?b ; time:hasEnd/time:inXSDgYearMonth ?e }""",
    )
    assert months == [{"b": "2017-01", "e": "2017-08"}]


# -- precision -----------------------------------------------------------------------------------------------------


def mention_anchors(store) -> set[str]:
    return {r["w"] for r in select(store, "SELECT ?w WHERE { ?m a kg:EventMention ; nif:anchorOf ?w }")}


def sentence_events(store, fragment: str) -> set[str]:
    rows = select(
        store,
        f"""SELECT ?w WHERE {{ ?m a kg:EventMention ; nif:anchorOf ?w ; nif:sentence/nif:anchorOf ?s .
                               FILTER CONTAINS(?s, "{fragment}") }}""",
    )
    return {r["w"] for r in rows}


@pytest.mark.parametrize(
    ("fragment", "not_an_event"),
    [
        ("didn't exchange fire", "fire"),  # negated
        ("He is not going to die", "die"),  # negated future
        ("requested a meeting", "meeting"),  # asked for, not held
        ("enticing North Koreans to defect", "defect"),  # what the North claims, not a defection
        ("attempting to flee", "flee"),  # an attempt
        ("30,000 North Koreans have fled", "fled"),  # a statistic, not one event
        ("780 North Koreans fleeing", "fleeing"),
        ("how many defection attempts", "defection"),  # a kind of event
        ("tries to escape on foot", "escape"),
        ("Doctors announced on Wednesday", "announced"),  # no named speaker
        ("doctors said he had regained consciousness", "said"),
    ],
)
def test_what_did_not_happen_or_is_not_one_event_is_not_an_event(seed_store, fragment, not_an_event):
    assert not_an_event not in sentence_events(seed_store, fragment)


def test_no_event_is_read_from_a_headline(seed_store):
    rows = select(
        seed_store,
        """SELECT ?w WHERE { ?a kg:headlineBeginIndex ?hb ; kg:headlineEndIndex ?he .
             ?m a kg:EventMention ; nif:referenceContext ?a ; nif:beginIndex ?b ; nif:anchorOf ?w .
             FILTER (?b >= ?hb && ?b < ?he) }""",
    )
    assert rows == []
    assert "Defecting" not in mention_anchors(seed_store) and "Shot" not in mention_anchors(seed_store)


def test_no_place_is_an_actor_where_the_text_makes_it_a_place(seed_store):
    agents = select(
        seed_store,
        """SELECT ?e ?l ?cat WHERE { ?e kg:role ?r . ?r sem:roleType ?rt ; rdf:value ?v .
             VALUES ?rt { kg:AgentRole kg:PatientRole kg:RecipientRole }
             ?v rdfs:label ?l ; kg:placeCategory ?cat }""",
    )
    assert agents, "countries act in the news (North Korea accused South Korea)"
    actors = {r["l"] for r in agents}
    assert {"North Korea", "South Korea"} <= actors
    sites = {"Panmunjom", "Suwon", "Joint Security Area", "Demilitarized Zone", "Ajou University Medical Center"}
    assert not actors & sites, "a site the text puts the event at ('at Panmunjom') never acts in it"
    # the dateline "SEOUL, South Korea —" is where the story was filed, not who shot anyone
    dateline = select(
        seed_store,
        """SELECT ?m WHERE { ?m kg:role/rdf:value ?v . ?v nif:anchorOf "SEOUL" }""",
    )
    assert dateline == []


def test_events_of_one_type_are_not_merged_across_different_speakers(seed_store):
    rows = select(
        seed_store,
        """SELECT ?s (COUNT(DISTINCT ?speaker) AS ?n) WHERE { ?s a kg:Statement ; kg:role ?r .
             ?r sem:roleType kg:AgentRole ; rdf:value ?speaker } GROUP BY ?s""",
    )
    assert rows and all(r["n"] == "1" for r in rows)


# -- precision on sentences of other news --------------------------------------------------------------------------


def events_in(nlp, text: str) -> list[tuple[str, str]]:
    from kg.article.extract import extract
    from kg.article.read import article_from_text

    article = article_from_text(" date 2017-11-22 " + text + "\n", "t.txt")
    found = extract(nlp(article.text[article.body_start :]), article)
    return [(e.type.rsplit("#", 1)[-1], e.text) for e in found.events]


@pytest.mark.parametrize(
    "text",
    [
        "The singer shot to fame in 2004 with her first album.",
        "Peel had a heart attack in October, his family said nothing.",
        "He said he hoped to start shooting the film in Mumbai next year.",
        "The measures will help Mr Brown to meet his golden rule on borrowing.",
        "The driver escaped injury when his car left the road near Leeds.",
        "An Iraqi civilian was allegedly killed by British troops in Basra.",
        "Vioxx may be linked to as many as 56,000 American deaths.",
        "About 30,000 North Koreans have fled to South Korea since the war.",
        "The rebels could attack Kabul within days, officials warned.",
        "Police did not arrest anyone after the match in Glasgow.",
    ],
)
def test_no_event_where_a_careful_reader_sees_none(nlp, text):
    kinds = {kind for kind, _ in events_in(nlp, text)} - {"Statement"}
    assert kinds == set(), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Police arrested Carl Jones in Leeds on Tuesday.", ("Arrest", "arrested")),
        ("Conductor Marcello Viotti has died in Germany at 50.", ("Death", "died")),
        ("The Tories accused Tony Blair of being terrified of scrutiny.", ("Accusation", "accused")),
        ("Since the 11 September 2001 attacks in the United States, BA has cut 13,000 jobs.", ("Attack", "attacks")),
    ],
)
def test_events_that_happened_are_read(nlp, text, expected):
    assert expected in events_in(nlp, text)


def test_a_triggers_children_are_read_by_documented_rules_chosen_by_their_dependency():
    from kg.article.events import NOUN_CHILDREN, VERB_CHILDREN

    assert set(VERB_CHILDREN) == {"agent", "dobj", "dative", "prep"}
    assert set(NOUN_CHILDREN) == {"poss", "amod", "compound", "nmod", "prep"}
    assert all(rule.__doc__ for rule in [*VERB_CHILDREN.values(), *NOUN_CHILDREN.values()])
