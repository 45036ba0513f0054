"""Linking decisions: names, types, popularity and context; NIL below the threshold; type correction;
one entity per Wikidata item; and the triples that record it all, checked by the shapes."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import hand_made_index
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF

from kg.corpus.link import LinkConfig, LinkDecision, LinkQuery, article_of, link, link_entities, queries_from_entities
from kg.model import Entity
from kg.namespaces import GEO, KG, SCHEMA, WD, Iris
from kg.rdf.links import decision_triples, run_triples
from kg.rdf.triples import entity_triples
from kg.validate.check import validate_graph
from kg.wikidata.index import LocalIndex, build_index
from kg.wikidata.items import Item, write_items
from kg.wikidata.sources import Sources

IRIS = Iris()
A, B, C = ("a" * 64, "b" * 64, "c" * 64)

ITEMS = [
    Item("Q230", "Georgia", description="country in the Caucasus", kind="Place", popularity=1.0, countries=("Q230",)),
    Item(
        "Q1428", "Georgia", description="state of the United States", kind="Place", popularity=0.73, countries=("Q30",)
    ),
    Item(
        "Q30",
        "United States of America",
        aliases=("U.S.", "US", "United States", "USA"),
        description="country in North America",
        kind="Place",
        popularity=1.0,
        countries=("Q30",),
    ),
    Item(
        "Q23556",
        "Atlanta",
        description="capital of the US state of Georgia",
        kind="Place",
        popularity=0.7,
        countries=("Q30",),
        coordinates=(33.749, -84.388),
    ),
    Item(
        "Q884",
        "South Korea",
        aliases=("Republic of Korea",),
        description="country in East Asia",
        kind="Place",
        popularity=1.0,
        countries=("Q884",),
    ),
    Item(
        "Q42153",
        "Paju",
        description="city in Gyeonggi Province, South Korea",
        kind="Place",
        popularity=0.3,
        countries=("Q884",),
        coordinates=(37.76, 126.78),
    ),
    Item(
        "Q797",
        "Alaska",
        aliases=("AK",),
        description="state of the United States",
        kind="Place",
        popularity=0.67,
        countries=("Q30",),
    ),
    Item(
        "Q1065",
        "United Nations",
        aliases=("UN", "U.N."),
        description="intergovernmental organization",
        kind="Organization",
        popularity=0.78,
    ),
    Item(
        "Q6173900",
        "James Pearson",
        description="English footballer",
        kind="Person",
        popularity=0.17,
        countries=("Q145",),
    ),
    Item("Q25188", "Inception", description="2010 film", kind="Other", popularity=0.6),
    Item(
        "Q76",
        "Barack Obama",
        aliases=("Obama",),
        description="44th president of the United States",
        kind="Person",
        popularity=1.0,
        countries=("Q30",),
        related=("Q29552",),
        born="1961-08-04",
    ),
    Item(
        "Q29552",
        "Democratic Party",
        description="political party in the United States",
        kind="Organization",
        popularity=0.7,
        countries=("Q30",),
    ),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Sources:
    folder = tmp_path_factory.mktemp("link-index")
    with hand_made_index(ITEMS, folder) as opened:
        yield opened


def q(iri: str, kind: str, label: str, *alts: str, articles: tuple[str, ...] = (A,)) -> LinkQuery:
    return LinkQuery(f"https://data.newskg.example/{iri}", kind, label, alts, articles)


def decide(sources: Sources, *queries: LinkQuery, threshold: float = 0.6) -> list[LinkDecision]:
    return link(list(queries), sources.local, LinkConfig(threshold=threshold))


def test_an_exact_name_of_the_right_type_links_with_a_reason(sources):
    (d,) = decide(sources, q("place/south-korea", "Place", "South Korea"))
    assert (d.qid, d.linked, d.corrected_kind) == ("Q884", True, None)
    assert 0.9 <= d.confidence <= 1.0
    assert d.source.id == "test" and d.source.date == "2024-05-01"
    assert "label 'South Korea'" in d.reason


def test_no_candidate_means_not_linked(sources):
    (d,) = decide(sources, q("person/chad-g-carroll", "Person", "Chad G. Carroll"))
    assert (d.qid, d.confidence, d.candidates) == (None, 0.0, ())
    assert d.reason == "no candidate in the sources"


def test_an_obscure_namesake_is_not_linked_precision_first(sources):
    (d,) = decide(sources, q("person/james-pearson", "Person", "James Pearson"))
    assert d.qid is None, "a Reuters correspondent is not the footballer of the same name"
    assert d.runners_up[0].qid == "Q6173900" and d.confidence < 0.6
    assert "below the threshold" in d.reason


def test_acronyms_and_dotted_forms_match_aliases(sources):
    un, us = decide(sources, q("organization/un", "Organization", "UN", "U.N."), q("place/u-s", "Place", "U.S.", "US"))
    assert (un.qid, us.qid) == ("Q1065", "Q30")


def test_a_short_alias_of_another_type_is_not_enough(sources):
    (d,) = decide(sources, q("organization/ak", "Organization", "AK"))
    assert d.qid is None, "the 'AK' of AK-47 is not Alaska"
    assert d.best.qid == "Q797" and d.best.type < 1.0


def test_a_film_is_never_an_entity_of_ours(sources):
    (d,) = decide(sources, q("organization/inception", "Organization", "Inception"))
    assert d.qid is None and d.best.qid == "Q25188"


def test_context_decides_between_namesakes(sources):
    (alone,) = decide(sources, q("place/georgia", "Place", "Georgia"))
    assert alone.qid == "Q230", "alone, the better-known Georgia"
    assert alone.runners_up[0].qid == "Q1428"
    with_atlanta = decide(sources, q("place/georgia", "Place", "Georgia"), q("place/atlanta", "Place", "Atlanta"))
    georgia = with_atlanta[0]
    state = next(c for c in georgia.candidates if c.qid == "Q1428")
    country = next(c for c in georgia.candidates if c.qid == "Q230")
    assert state.score > country.score, "next to Atlanta, the US state"
    assert state.context > 0 and any(e.startswith("its country") and "same articles" in e for e in state.evidence)
    assert georgia.qid in (None, "Q1428"), "never the country when the article is about Atlanta"


def test_a_persons_party_in_the_same_article_is_context(sources):
    obama, _ = decide(
        sources,
        q("person/obama", "Person", "Obama"),
        q("organization/democratic-party", "Organization", "Democratic Party"),
    )
    assert obama.qid == "Q76"
    assert any("related item Democratic Party (Q29552)" in e for e in obama.best.evidence)
    assert obama.best.context > 0


def test_a_village_tagged_person_becomes_a_place_when_the_link_is_confident(sources):
    paju, korea = decide(sources, q("person/paju", "Person", "Paju"), q("place/south-korea", "Place", "South Korea"))
    assert (paju.qid, paju.kind, paju.corrected_kind) == ("Q42153", "Person", "Place")
    assert "spaCy said person" in paju.reason
    assert korea.corrected_kind is None
    (alone,) = decide(sources, q("person/paju", "Person", "Paju", articles=(C,)))
    assert alone.qid is None, "without support from its articles a name of another type is not enough"


def test_a_one_word_alias_of_another_type_does_not_correct_the_type(sources):
    (d,) = decide(sources, q("place/obama", "Place", "Obama"))
    assert d.qid is None, "'Obama' tagged as a place is not enough to make it the president"
    assert (d.best.qid, d.best.type) == ("Q76", 0.35)


def test_the_threshold_is_a_setting(sources):
    (strict,) = decide(sources, q("place/paju", "Place", "Paju"), threshold=0.95)
    (lenient,) = decide(sources, q("place/paju", "Place", "Paju"), threshold=0.3)
    assert strict.qid is None and lenient.qid == "Q42153"
    assert strict.confidence == lenient.confidence


def entity(path: str, kind: str, label: str, alts: tuple[str, ...], mentions: list[tuple[str, int]]) -> Entity:
    iris = tuple(sorted(IRIS.mention(d, b, b + len(label)) for d, b in mentions))
    articles = len({d for d, _ in mentions})
    return Entity(IRIS.base + path, kind, label, alts, iris, articles, "GPE" if kind == "Place" else None)


def test_queries_come_from_resolved_entities_with_their_articles():
    e = entity("place/seoul", "Place", "Seoul", ("SEOUL",), [(A, 0), (B, 10), (A, 40)])
    (query,) = queries_from_entities([e])
    assert query == LinkQuery(e.iri, "Place", "Seoul", ("SEOUL",), (A, B))
    assert article_of(IRIS.mention(C, 3, 9)) == C


def test_two_nodes_linked_to_one_item_become_one_entity(sources):
    us = entity("place/u-s", "Place", "U.S.", ("US",), [(A, 5), (A, 50), (B, 7)])
    states = entity("place/united-states", "Place", "United States", (), [(C, 9)])
    korea = entity("place/south-korea", "Place", "South Korea", (), [(A, 90)])
    results = []
    for order in ([us, states, korea], [korea, states, us]):
        results.append(link_entities(order, sources, IRIS))
    one, two = results
    assert one.entities == two.entities, "the same result whatever the order"
    merged = next(e for e in one.entities if e.label == "U.S.")
    assert merged.iri == us.iri, "the node with the most mentions keeps its IRI and label"
    assert set(merged.alt_labels) == {"US", "United States"}
    assert set(merged.mentions) == set(us.mentions) | set(states.mentions)
    assert merged.articles == 3
    decision = one.decisions[merged.iri]
    assert decision.qid == "Q30" and decision.replaces == (states.iri,)
    assert len(one.entities) == 2 and one.counts()["merged away"] == 1


def test_a_corrected_entity_moves_to_its_class_and_remembers_its_old_iri(sources):
    paju = entity("person/paju", "Person", "Paju", (), [(A, 0)])
    korea = entity("place/south-korea", "Place", "South Korea", (), [(A, 30)])
    result = link_entities([paju, korea], sources, IRIS)
    moved = next(e for e in result.entities if e.label == "Paju")
    assert (moved.iri, moved.kind) == (IRIS.base + "place/paju", "Place")
    assert result.decisions[moved.iri].replaces == (paju.iri,)


def test_link_triples_record_the_link_its_evidence_and_the_enrichment(sources):
    paju = entity("person/paju", "Person", "Paju", (), [(A, 0)])
    korea = entity("place/south-korea", "Place", "South Korea", (), [(A, 30)])
    result = link_entities([paju, korea], sources, IRIS)
    moved = next(e for e in result.entities if e.label == "Paju")
    g = Graph()
    for t in entity_triples(moved, IRIS) + decision_triples(result, moved, IRIS) + run_triples(result, IRIS):
        g.add(t)
    node = URIRef(moved.iri)
    link_node = g.value(node, KG.wikidataLink)
    assert g.value(node, OWL.sameAs) == WD.Q42153
    assert g.value(link_node, KG.linkOutcome) == KG.Linked
    assert g.value(link_node, KG.linkTarget) == WD.Q42153
    assert Decimal("0.6") <= g.value(link_node, KG.confidence).toPython() <= 1
    assert str(g.value(link_node, KG.replacesEntity)) == paju.iri
    fix = g.value(node, KG.typeCorrection)
    assert (g.value(fix, KG.previousClass), g.value(fix, KG.correctedClass)) == (KG.Person, KG.Place)
    assert g.value(node, RDF.type) == KG.Place
    assert str(g.value(node, SCHEMA.description)) == "city in Gyeonggi Province, South Korea"
    assert g.value(node, KG.wikidataCountry) == WD.Q884
    wkt = g.value(g.value(node, GEO.hasGeometry), GEO.asWKT)
    assert wkt == Literal("POINT(126.780000 37.760000)", datatype=GEO.wktLiteral)
    geo = g.value(node, SCHEMA.geo)
    assert (g.value(geo, SCHEMA.latitude).toPython(), g.value(geo, SCHEMA.longitude).toPython()) == (
        Decimal("37.760000"),
        Decimal("126.780000"),
    )
    source = g.value(link_node, KG.linkSource)
    assert (source, RDF.type, KG.CandidateSource) in g
    report = validate_graph(g)
    assert report.conforms, report.text()


def test_not_linked_is_explicit_and_lists_the_candidates_weighed(sources):
    pearson = entity("person/james-pearson", "Person", "James Pearson", (), [(A, 0)])
    result = link_entities([pearson], sources, IRIS)
    g = Graph()
    for t in entity_triples(pearson, IRIS) + decision_triples(result, pearson, IRIS) + run_triples(result, IRIS):
        g.add(t)
    link_node = g.value(URIRef(pearson.iri), KG.wikidataLink)
    assert g.value(link_node, KG.linkOutcome) == KG.NotLinked
    assert g.value(URIRef(pearson.iri), OWL.sameAs) is None
    candidate = g.value(link_node, KG.candidate)
    assert g.value(candidate, KG.candidateItem) == WD.Q6173900 and g.value(candidate, KG.rank).toPython() == 1
    assert validate_graph(g).conforms


def test_the_shapes_catch_two_qids_a_bad_iri_and_a_confidence_out_of_range(sources):
    korea = entity("place/south-korea", "Place", "South Korea", (), [(A, 30)])
    result = link_entities([korea], sources, IRIS)
    triples = entity_triples(korea, IRIS) + decision_triples(result, korea, IRIS) + run_triples(result, IRIS)
    g = Graph()
    for t in triples:
        g.add(t)
    node, link_node = URIRef(korea.iri), URIRef(korea.iri + "#wikidata")
    g.add((node, OWL.sameAs, URIRef("https://www.wikidata.org/wiki/Q884")))
    g.set((link_node, KG.confidence, Literal(Decimal("1.5"))))
    report = validate_graph(g)
    messages = {v.message for v in report.violations}
    assert not report.conforms
    assert any("at most one Wikidata item" in m for m in messages)
    assert any("confidence between 0 and 1" in m for m in messages)


def test_people_get_their_dates(sources):
    obama = entity("person/barack-obama", "Person", "Barack Obama", (), [(A, 0)])
    result = link_entities([obama], sources, IRIS)
    triples = set(decision_triples(result, obama, IRIS))
    assert (
        URIRef(obama.iri),
        SCHEMA.birthDate,
        Literal("1961-08-04", datatype=URIRef("http://www.w3.org/2001/XMLSchema#date")),
    ) in triples


def test_the_linking_run_names_its_sources_and_threshold(sources):
    result = link_entities([], sources, IRIS, LinkConfig(threshold=0.7))
    g = Graph()
    for t in run_triples(result, IRIS):
        g.add(t)
    run = URIRef(IRIS.linking)
    assert g.value(run, KG.threshold).toPython() == Decimal("0.700")
    assert (
        str(
            g.value(
                g.value(run, URIRef("http://www.w3.org/ns/prov#used")), URIRef("http://purl.org/dc/terms/identifier")
            )
        )
        == "test"
    )
    assert validate_graph(g).conforms


def test_sources_close(tmp_path: Path):
    write_items(ITEMS[:1], tmp_path / "one.jsonl", {"label": "one"})
    build_index([tmp_path / "one.jsonl"], tmp_path / "one.sqlite")
    with Sources(local=[LocalIndex(tmp_path / "one.sqlite")]) as s:
        assert s.local[0].item("Q230").label == "Georgia"


SIBLINGS = [
    Item("Q9000001", "Marbury County", description="county in Oregon, United States", kind="Place", popularity=0.5),
    Item("Q9000002", "Marbury County", description="county in Vermont, United States", kind="Place", popularity=0.5),
    Item("Q9000003", "Dunmore County", description="county in Oregon, USA", kind="Place", popularity=0.6),
    Item("Q9000004", "Elsa Dunmore", description="county in Oregon, United States", kind="Person", popularity=0.6),
]


@pytest.fixture(scope="module")
def sibling_sources(tmp_path_factory) -> Sources:
    with hand_made_index(SIBLINGS, tmp_path_factory.mktemp("siblings")) as opened:
        yield opened


def test_a_place_linked_in_the_same_article_with_the_same_description_decides_between_namesakes(sibling_sources):
    (alone,) = decide(sibling_sources, q("place/marbury-county", "Place", "Marbury County"))
    assert alone.qid is None, "two counties of that name, and nothing says which"
    marbury, dunmore = decide(
        sibling_sources,
        q("place/marbury-county", "Place", "Marbury County"),
        q("place/dunmore-county", "Place", "Dunmore County"),
    )
    assert dunmore.qid == "Q9000003"
    assert marbury.qid == "Q9000001", "the county of the state its neighbour in the list is in"
    assert any("is also a 'county in oregon'" in e for e in marbury.best.evidence)
    vermont = next(c for c in marbury.candidates if c.qid == "Q9000002")
    assert "a namesake is the kind of place the articles name" in vermont.evidence
    elsewhere = decide(
        sibling_sources,
        q("place/marbury-county", "Place", "Marbury County"),
        q("place/dunmore-county", "Place", "Dunmore County", articles=(B,)),
    )
    assert elsewhere[0].qid is None, "a sibling counts only in the same articles"


def test_a_sibling_never_makes_a_lone_weak_candidate_a_link(sibling_sources):
    lone = Item(
        "Q9000005", "Oregon Trail", aliases=("OT",), description="county in Oregon, United States", kind="Place"
    )
    with hand_made_index([*SIBLINGS, lone], Path(tempfile.mkdtemp())) as sources:
        ot, _ = decide(sources, q("place/ot", "Place", "OT"), q("place/dunmore-county", "Place", "Dunmore County"))
    assert ot.qid is None and not any("is also a" in e for e in ot.best.evidence)


def test_a_full_name_without_the_items_middle_initial_links_only_a_famous_person():
    people = [
        Item("Q9000011", "Peter Q. Hallam", description="singer", kind="Person", popularity=0.67),
        Item("Q9000012", "Arthur K. Benton", description="president", kind="Person", popularity=1.0),
    ]
    with hand_made_index(people, Path(tempfile.mkdtemp())) as sources:
        hallam, benton = decide(
            sources,
            q("person/peter-hallam", "Person", "Peter Hallam"),
            q("person/arthur-benton", "Person", "Arthur Benton"),
        )
    assert hallam.qid is None, "many a Peter Hallam is not the singer Peter Q. Hallam"
    assert hallam.best.qid == "Q9000011" and "person name" in hallam.best.how
    assert benton.qid == "Q9000012", "the famous one is meant"


OFFICE_HOLDERS = [
    Item("Q9000021", "Edgar Hallam", description="7th president of Veldonia", kind="Person", popularity=0.7),
    Item("Q9000022", "Rosa Hallam", description="Veldonian painter", kind="Person", popularity=0.8),
    Item("Q9000023", "Mia Hallam", description="daughter of the 7th president of Veldonia", kind="Person", popularity=0.6),
    Item("Q9000024", "Otto Brandt", description="4th president of Veldonia", kind="Person", popularity=0.6),
    Item("Q9000025", "Lena Brandt", description="2nd president of Veldonia", kind="Person", popularity=0.6),
    Item("Q9000026", "Ida Kessel", description="obscure president of a chess club", kind="Person", popularity=0.0),
    Item(
        "Q9000027", "Nora Fenwick", aliases=("Fenwick",), description="senator of Veldonia", kind="Person", popularity=0.5
    ),
    Item(
        "Q9000028", "Paul Fenwick", aliases=("Fenwick",), description="Veldonian footballer", kind="Person", popularity=0.5
    ),
]


def titled(label: str, *titles: str) -> LinkQuery:
    return LinkQuery(f"https://data.newskg.example/person/{label.lower()}", "Person", label, (), (A,), titles=titles)


@pytest.fixture(scope="module")
def holder_sources(tmp_path_factory) -> Sources:
    with hand_made_index(OFFICE_HOLDERS, tmp_path_factory.mktemp("holders")) as opened:
        yield opened


def test_a_surname_alone_after_an_offices_title_links_the_one_holder_of_that_office(holder_sources):
    (hallam,) = decide(holder_sources, titled("Hallam", "President"))
    assert hallam.qid == "Q9000021", "the president, not the more popular painter of the same surname"
    assert "surname after the title 'president'" in hallam.best.how
    assert not any(c.qid == "Q9000023" for c in hallam.candidates), "a president's daughter holds no office"
    (bare,) = decide(holder_sources, titled("Hallam"))
    assert bare.qid is None, "without the title, a surname alone names anyone of that surname"


def test_two_holders_of_the_office_with_one_surname_link_neither(holder_sources):
    (brandt,) = decide(holder_sources, titled("Brandt", "President"))
    assert brandt.qid is None and "2 holders of the office" in brandt.reason


def test_an_obscure_holder_of_the_office_is_not_linked_precision_first(holder_sources):
    (kessel,) = decide(holder_sources, titled("Kessel", "President"))
    assert kessel.qid is None and kessel.best.qid == "Q9000026"


def test_an_offices_title_is_evidence_for_the_namesake_whose_description_names_it(holder_sources):
    (fenwick,) = decide(holder_sources, titled("Fenwick", "Sen."))
    assert fenwick.best.qid == "Q9000027"
    assert any("the title 'sen'" in e for e in fenwick.best.evidence)
    (plain,) = decide(holder_sources, titled("Fenwick"))
    assert plain.best.score == next(c.score for c in plain.candidates if c.qid == "Q9000028"), "a tie without it"


def test_queries_carry_the_titles_written_before_a_persons_mentions():
    e = Entity("https://data.newskg.example/person/hallam", "Person", "Hallam", (), (), 1, None, titles=("President",))
    (query,) = queries_from_entities([e])
    assert query.titles == ("President",)


def test_lookup_takes_the_offices_title_written_before_the_name(tmp_path):
    from click.testing import CliRunner

    from kg.cli import main

    with hand_made_index(OFFICE_HOLDERS, tmp_path):
        index = str(tmp_path / "test.sqlite")
        titled_run = CliRunner().invoke(
            main, ["wikidata", "lookup", "Hallam", "--type", "person", "--title", "President", "--index", index]
        )
        bare_run = CliRunner().invoke(main, ["wikidata", "lookup", "Hallam", "--type", "person", "--index", index])
    assert titled_run.exit_code == 0, titled_run.output
    assert titled_run.output.splitlines()[-1].startswith("linked: Q9000021 Edgar Hallam")
    assert "linked: Q9000021" not in bare_run.output


def test_an_acronym_the_label_spells_out_links_only_an_item_known_by_that_long_form(tmp_path):
    items = [
        Item("Q9000031", "Mott Group", aliases=("MCR",), description="holding company", kind="Organization", popularity=0.8),
    ]
    with hand_made_index(items, tmp_path) as sources:
        spelled, alone = decide(
            sources,
            q("organization/mcr-co", "Organization", "Marlowe Cable and Radio Co", "MCR"),
            q("organization/mcr", "Organization", "MCR"),
        )
    assert spelled.qid is None, "the article says MCR is Marlowe Cable and Radio, which Mott Group is not"
    assert alone.qid == "Q9000031", "an acronym nothing spells out keeps its alias match"


def test_a_state_written_after_a_places_name_chooses_the_namesake_in_it(tmp_path):
    towns = [
        Item("Q9000041", "Dunmore", description="city in Hale County, Ohio, United States", kind="Place", popularity=0.3),
        Item("Q9000042", "Dunmore", description="city in Massachusetts, United States", kind="Place", popularity=0.6),
    ]
    with hand_made_index(towns, tmp_path) as sources:
        plain, ohio = decide(
            sources,
            q("place/dunmore", "Place", "Dunmore"),
            LinkQuery("https://data.newskg.example/place/dunmore-2", "Place", "Dunmore", (), (B,), regions=("Ohio",)),
        )
    assert plain.qid == "Q9000042", "with nothing else to go by, the better known town"
    assert ohio.qid == "Q9000041", "the less known one, in the state the text names"
    assert "its description names 'ohio', written after the name" in ohio.best.evidence
    other = next(c for c in ohio.candidates if c.qid == "Q9000042")
    assert "a namesake is in the state or country written after the name" in other.evidence


def test_lookup_takes_the_region_written_after_the_name(tmp_path):
    from click.testing import CliRunner

    from kg.cli import main

    towns = [
        Item("Q9000041", "Dunmore", description="city in Hale County, Ohio, United States", kind="Place", popularity=0.3),
        Item("Q9000042", "Dunmore", description="city in Massachusetts, United States", kind="Place", popularity=0.6),
    ]
    with hand_made_index(towns, tmp_path):
        args = ["wikidata", "lookup", "Dunmore", "--type", "place", "--index", str(tmp_path / "test.sqlite")]
        run = CliRunner().invoke(main, [*args, "--region", "Ohio"])
    assert run.exit_code == 0, run.output
    assert run.output.splitlines()[-1].startswith("linked: Q9000041 Dunmore")
