"""Popularity in the confidence share, and companies named with their legal form: hand-made items only."""

from __future__ import annotations

import pytest
from conftest import hand_made_index

from kg.corpus.link import LinkConfig, LinkQuery, company_names, link, rank, without_legal_form
from kg.wikidata.items import Item
from kg.wikidata.sources import Sources

ITEMS = [
    Item("Q1", "Bigtown", description="capital city of Freedonia", kind="Place", popularity=0.82, countries=("Q9",)),
    Item("Q2", "Bigtown", description="city in Sylvania", kind="Place", popularity=0.57, countries=("Q8",)),
    Item("Q3", "Acme", description="American maker of everything", kind="Organization", popularity=0.5),
    Item("Q4", "Millbrook", description="town in Freedonia", kind="Place", popularity=0.6, countries=("Q9",)),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Sources:
    folder = tmp_path_factory.mktemp("prior-index")
    with hand_made_index(ITEMS, folder, "priors") as opened:
        yield opened


def one(sources: Sources, kind: str, label: str):
    (decision,) = link([LinkQuery(f"https://data.newskg.example/x/{label}", kind, label)], sources.local, LinkConfig())
    return decision


def test_a_famous_place_is_not_halved_by_a_smaller_namesake(sources):
    d = one(sources, "Place", "Bigtown")
    assert d.qid == "Q1" and d.confidence >= 0.6


def test_a_company_named_with_its_legal_form_links_to_the_company(sources):
    d = one(sources, "Organization", "Acme Corp")
    assert d.qid == "Q3" and "without its legal form" in d.reason


def test_a_name_with_a_legal_form_never_links_to_a_place_of_that_name(sources):
    assert one(sources, "Organization", "Millbrook Inc").qid is None


@pytest.mark.parametrize(
    ("name", "bare"),
    [
        ("General Motors Corp", "General Motors"),
        ("Atari Corp.", "Atari"),
        ("Acme Holdings plc", "Acme Holdings"),
        ("General Electric Co", None),
        ("Inc", None),
        ("Reuters", None),
    ],
)
def test_legal_forms_come_off_the_end_of_a_name_only(name, bare):
    assert without_legal_form(name) == bare


@pytest.mark.parametrize(
    ("name", "others"),
    [
        (
            "Hallam Inc",
            [f"Hallam {f}" for f in ("Corp", "Corporation", "Incorporated", "Limited", "Llc", "Ltd", "Plc")] + ["Hallam"],
        ),
        ("NV Hallam", ["Hallam"]),
        ("Hale and Co Inc", ["Hale and Co", "Hale", "Hale & Co"]),
        ("Hale and Dunmore", ["Hale & Dunmore"]),
        ("General Electric Co", []),
        ("Novak", []),
    ],
)
def test_a_companys_name_is_also_looked_up_as_it_is_written_otherwise(name, others):
    assert [other for other, _ in company_names(name)] == others


def test_a_company_is_found_by_its_name_written_otherwise(tmp_path):
    items = [
        Item("Q1", "Hale & Dunmore", description="maker of soap", kind="Organization", popularity=0.5),
        Item("Q2", "Marlowe", description="bank", kind="Organization", popularity=0.5),
        Item("Q3", "Hallam Lampworks", description="maker of lamps", kind="Organization", popularity=0.5),
        Item("Q4", "Dunmore Corporation", description="media company", kind="Organization", popularity=0.5),
    ]
    with hand_made_index(items, tmp_path, "firms") as sources:
        assert one(sources, "Organization", "Hale and Dunmore").qid == "Q1"
        assert one(sources, "Organization", "Marlowe and Co Inc").qid == "Q2"
        assert one(sources, "Organization", "NV Hallam Lampworks").qid == "Q3"
        assert one(sources, "Organization", "Dunmore Inc").qid == "Q4"
        assert one(sources, "Place", "Hale and Dunmore").qid is None, "only an organisation's name is rewritten"


def test_a_short_name_matches_only_names_written_with_the_same_capitals(tmp_path):
    items = [
        Item("Q30", "United States of America", aliases=("US", "the US", "U.S."), kind="Place", popularity=1.0),
    ]
    with hand_made_index(items, tmp_path, "us") as sources:
        assert one(sources, "Place", "US").qid == "Q30"
        assert one(sources, "Place", "U.S.").qid == "Q30"
        assert one(sources, "Place", "Us").qid is None  # "Us" Weekly, the magazine


def test_a_plural_alias_of_a_region_is_not_linked(tmp_path):
    items = [Item("Q18097", "Korea", aliases=("Koreas",), kind="Place", popularity=0.9)]
    with hand_made_index(items, tmp_path, "k") as sources:
        assert one(sources, "Place", "Koreas").qid is None  # "the two Koreas": two states, not the region
        assert one(sources, "Place", "Korea").qid == "Q18097"


def test_a_regions_name_without_its_noun_counts_as_its_label(tmp_path):
    items = [
        Item("Q1", "Dunmore", description="town in Sylvania", kind="Place", popularity=0.5),
        Item("Q2", "Dunmore Province", aliases=("Dunmore",), description="province of Veldonia", kind="Place"),
        Item("Q3", "Hallam", description="town in Veldonia", kind="Place", popularity=0.5),
        Item("Q4", "Hallam Institute", aliases=("Hallam",), description="college in Veldonia", kind="Place"),
        Item("Q5", "Kingsby", description="city in Veldonia", kind="Place", popularity=0.5, countries=("Q9",)),
        Item("Q6", "Kingsby Prefecture", aliases=("Kingsby",), kind="Place", popularity=0.5, countries=("Q9",)),
    ]
    with hand_made_index(items, tmp_path, "regions") as sources:
        town, province = rank(LinkQuery("x", "Place", "Dunmore"), sources.local)[:2]
        assert town.name == province.name == 1.0, "the town and the province are both called Dunmore"
        town, institute = rank(LinkQuery("x", "Place", "Hallam"), sources.local)[:2]
        assert institute.name < town.name, "an institute is no region: its alias is only an alias"
        town, prefecture = rank(LinkQuery("x", "Place", "Kingsby"), sources.local)[:2]
        assert prefecture.name < town.name, "a region named after a town of its country: the name is the town's"


SERVICES = [
    Item(
        "Q30", "United States of America", aliases=("United States",), kind="Place", popularity=1.0, countries=("Q30",)
    ),
    Item("Q145", "United Kingdom", kind="Place", popularity=1.0, countries=("Q145",)),
    Item("Q11220", "United States Navy", kind="Organization", popularity=0.9, countries=("Q30",)),
    Item("Q172771", "Royal Navy", kind="Organization", popularity=0.9, countries=("Q145",)),
    Item(
        "Q559549",
        "United States Naval Academy",
        aliases=("Navy",),
        kind="Organization",
        popularity=0.7,
        countries=("Q30",),
    ),
]


def test_a_bare_navy_is_the_navy_of_the_one_country_its_article_names(tmp_path):
    a, b = "a" * 64, "b" * 64
    queries = [
        LinkQuery("https://data.newskg.example/organization/navy", "Organization", "Navy", (), (a,)),
        LinkQuery("https://data.newskg.example/place/united-states", "Place", "United States", (), (a,)),
        LinkQuery("https://data.newskg.example/organization/navy-2", "Organization", "Navy", (), (b,)),
        LinkQuery("https://data.newskg.example/place/united-states-2", "Place", "United States", (), (b,)),
        LinkQuery("https://data.newskg.example/place/united-kingdom", "Place", "United Kingdom", (), (b,)),
    ]
    with hand_made_index(SERVICES, tmp_path, "navy") as sources:
        one_country, _, two_countries, _, _ = link(queries, sources.local, LinkConfig())
    assert one_country.qid == "Q11220" and "United States" in one_country.reason
    assert two_countries.qid is None, "two countries named: whose navy is not clear, and never the academy"


BODIES = [
    Item("Q901", "Veldonia", kind="Place", popularity=1.0, countries=("Q901",)),
    Item("Q902", "Sylvania", aliases=("SY",), kind="Place", popularity=1.0, countries=("Q902",)),
    Item("Q903", "Veldonian Department of the Treasury", kind="Organization", popularity=0.6, countries=("Q901",)),
    Item("Q904", "Sylvanian Treasury", kind="Organization", popularity=0.6, countries=("Q902",)),
    Item("Q905", "Veldonian Secretary of the Treasury", popularity=0.6, countries=("Q901",)),
    Item("Q906", "Salvation Army", kind="Organization", popularity=0.7),
    Item("Q907", "SY Army", kind="Organization", popularity=0.6),  # the index gives it no country
]


def test_a_bare_treasury_is_the_treasury_of_the_one_country_its_article_names(tmp_path):
    a = "a" * 64
    queries = [
        LinkQuery("https://data.newskg.example/organization/treasury", "Organization", "Treasury", (), (a,)),
        LinkQuery("https://data.newskg.example/place/veldonia", "Place", "Veldonia", (), (a,)),
    ]
    with hand_made_index(BODIES, tmp_path, "bodies") as sources:
        treasury, _ = link(queries, sources.local, LinkConfig())
    assert treasury.qid == "Q903", "the department, not the office of its secretary"


def test_a_body_named_after_a_country_is_that_countrys_wherever_the_article_is(tmp_path):
    a = "a" * 64
    queries = [
        LinkQuery("https://data.newskg.example/organization/sy-treasury", "Organization", "SY Treasury", (), (a,)),
        LinkQuery("https://data.newskg.example/place/veldonia", "Place", "Veldonia", (), (a,)),
        LinkQuery("https://data.newskg.example/organization/salvation-army", "Organization", "Salvation Army", (), (a,)),
    ]
    with hand_made_index(BODIES, tmp_path, "bodies") as sources:
        treasury, _, army = link(queries, sources.local, LinkConfig())
    assert treasury.qid == "Q904" and "SY" in treasury.reason
    assert army.qid == "Q906", "no country is called Salvation: the name links as any other"


def test_a_countrys_body_the_index_does_not_place_in_it_links_by_its_name(tmp_path):
    query = LinkQuery("https://data.newskg.example/organization/sy-army", "Organization", "SY Army", (), ("a" * 64,))
    with hand_made_index(BODIES, tmp_path, "bodies") as sources:
        (army,) = link([query], sources.local, LinkConfig())
    assert army.qid == "Q907"
