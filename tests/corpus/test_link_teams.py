"""Teams named after their place ("Portugal beat Norway"): never linked to the place; a club is linked when
the index has one; a national team not at all, since every sport has one (precision first)."""

from __future__ import annotations

import pytest
from conftest import hand_made_index

from kg.corpus.link import LinkConfig, LinkQuery, link
from kg.wikidata.items import Item
from kg.wikidata.sources import Sources

ITEMS = [
    Item("Q100", "Freedonia", description="country in Europe", kind="Place", popularity=1.0, countries=("Q100",)),
    Item(
        "Q101",
        "Freedonia national football team",
        aliases=("Freedonia",),
        description="men's national association football team",
        kind="Organization",
        popularity=0.6,
        countries=("Q100",),
    ),
    Item("Q200", "Port Town", description="city in Freedonia", kind="Place", popularity=0.8, countries=("Q100",)),
    Item(
        "Q201",
        "Port Town F.C.",
        aliases=("Port Town",),
        description="association football club in Port Town, Freedonia",
        kind="Organization",
        popularity=0.6,
        countries=("Q100",),
    ),
]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Sources:
    folder = tmp_path_factory.mktemp("team-index")
    with hand_made_index(ITEMS, folder, "teams") as opened:
        yield opened


def query(label: str, *, team: bool) -> LinkQuery:
    return LinkQuery(
        f"https://data.newskg.example/organization/{label}", "Organization", label, (), ("a" * 64,), team=team
    )


def test_a_club_named_after_its_city_links_to_the_club_not_the_city(sources):
    (d,) = link([query("Port Town", team=True)], sources.local, LinkConfig())
    assert d.qid == "Q201"


def test_a_national_team_is_not_linked_because_every_sport_has_one(sources):
    (d,) = link([query("Freedonia", team=True)], sources.local, LinkConfig())
    assert d.qid is None and "national team" in d.reason


def test_the_same_name_outside_a_match_still_links_to_the_country(sources):
    (d,) = link(
        [LinkQuery("https://data.newskg.example/place/freedonia", "Place", "Freedonia")], sources.local, LinkConfig()
    )
    assert d.qid == "Q100"


def test_a_team_never_links_to_a_university_or_company_that_shares_its_name(tmp_path):
    items = [
        Item("Q300", "Greenstate", description="state of Freedonia", kind="Place", popularity=0.8),
        Item(
            "Q301",
            "University of Greenstate",
            aliases=("Greenstate",),
            description="public university in Greenstate",
            kind="Organization",
            popularity=0.7,
        ),
    ]
    with hand_made_index(items, tmp_path, "campus") as opened:
        (d,) = link([query("Greenstate", team=True)], opened.local, LinkConfig())
    assert d.qid is None


def test_a_team_named_after_its_place_finds_the_team_item_labelled_with_more_words(tmp_path):
    items = [
        Item("Q400", "Bluestate", description="state of Freedonia", kind="Place", popularity=0.8),
        Item("Q401", "Bluestate Crimson Hawks football", kind="Organization", popularity=0.6),
        Item("Q402", "Bluestate Crimson Hawks", description="a band from Bluestate", kind="Organization"),
    ]
    with hand_made_index(items, tmp_path, "college") as opened:
        (team,) = link([query("Bluestate", team=True)], opened.local, LinkConfig())
        (place,) = link([query("Bluestate", team=False)], opened.local, LinkConfig())
    assert team.qid == "Q401" and "team named after" in team.reason
    assert place.qid != "Q401"


def test_a_teams_nickname_outside_a_match_report_is_not_the_team(tmp_path):
    items = [
        Item(
            "Q500",
            "Port Town Sharks",
            aliases=("Sharks",),
            description="basketball team",
            kind="Organization",
            popularity=0.7,
        )
    ]
    with hand_made_index(items, tmp_path, "nick") as opened:
        (plain,) = link([query("Sharks", team=False)], opened.local, LinkConfig())
        (team,) = link([query("Sharks", team=True)], opened.local, LinkConfig())
    assert plain.qid is None and team.qid == "Q500"


def test_a_teams_full_name_is_linked_anywhere_and_a_franchise_is_a_team(tmp_path):
    items = [
        Item(
            "Q600",
            "Port Town City F.C.",
            aliases=("Port Town City",),
            description="football club",
            kind="Organization",
            popularity=0.7,
        ),
        Item(
            "Q601",
            "Bluestate Chiefs",
            description="National Football League franchise",
            kind="Organization",
            popularity=0.7,
        ),
    ]
    with hand_made_index(items, tmp_path, "full") as opened:
        (city,) = link([query("Port Town City", team=False)], opened.local, LinkConfig())
        (chiefs,) = link([query("Bluestate Chiefs", team=True)], opened.local, LinkConfig())
    assert city.qid == "Q600" and chiefs.qid == "Q601"
