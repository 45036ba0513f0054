"""The shared Wikidata tables as index input, and the bundled starter data made from them."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import SHARED

from kg.settings import SettingsError, load_settings
from kg.wikidata.index import LocalIndex, build_index
from kg.wikidata.items import read_items, read_items_header
from kg.wikidata.sources import index_paths
from kg.wikidata.starter import STARTER_ITEMS, starter_index_path, write_starter_items
from kg.wikidata.tables import TableError, read_tables

TABLES = SHARED / "wikidata"
needs_tables = pytest.mark.skipif(not TABLES.is_dir(), reason="../shared/wikidata is absent (tables of Wikidata items)")


def test_the_bundled_starter_data_ships_in_the_package_and_says_what_it_is():
    assert STARTER_ITEMS.is_file() and STARTER_ITEMS.stat().st_size < 5_000_000, "a few MB at most"
    head = read_items_header(STARTER_ITEMS)
    assert {s["table"] for s in head["sources"]} == {"fb15k", "us-congress", "histwardb", "natural-earth"}
    assert "ODbL" not in head["licence"], "no share-alike data in the package"
    assert head["items"] > 15_000


def test_the_starter_index_is_built_once_into_the_cache(tmp_path):
    first = starter_index_path(tmp_path)
    stamp = first.stat().st_mtime_ns
    assert first.parent == tmp_path / "wikidata" and first.name.startswith("starter-")
    assert starter_index_path(tmp_path).stat().st_mtime_ns == stamp, "the second call reuses it"
    from kg.wikidata.starter import STARTER_REGIONS

    qids = {i.qid for i in read_items(STARTER_ITEMS)} | {i.qid for i in read_items(STARTER_REGIONS)}
    with LocalIndex(first) as index:
        assert index.info.id == "starter" and index.info.items == len(qids), "the starter's items and its regions"
        assert index.item("Q884").label == "South Korea"
    assert index_paths("starter:/data/extra.sqlite", tmp_path) == [first, Path("/data/extra.sqlite")]
    assert index_paths("none", tmp_path) == [] and index_paths("", tmp_path) == []


@needs_tables
def test_remaking_the_starter_data_from_the_tables_gives_the_bundled_items(tmp_path):
    out = tmp_path / "starter.jsonl.gz"
    write_starter_items([TABLES], out)
    assert list(read_items(out)) == list(read_items(STARTER_ITEMS)), "run 'kg wikidata starter ../shared/wikidata'"
    again = tmp_path / "again.jsonl.gz"
    write_starter_items([TABLES], again)
    assert out.read_bytes() == again.read_bytes(), "deterministic, byte for byte"


@needs_tables
def test_tables_merge_by_qid_with_classes_popularity_and_countries():
    items, read = read_tables([TABLES], starter_only=True)
    by_qid = {i.qid: i for i in items}
    assert {r.table.id for r in read} == {"fb15k", "us-congress", "histwardb", "natural-earth"}
    north = by_qid["Q423"]
    assert north.label == "North Korea" and {"DPRK", "Democratic People's Republic of Korea"} <= set(north.aliases)
    assert (north.kind, north.countries, north.popularity) == ("Place", ("Q423",), 1.0)
    assert set(north.sources) == {"fb15k", "histwardb", "natural-earth"}
    seoul = by_qid["Q8684"]
    assert seoul.countries == ("Q884",), "from its description: 'capital city of South Korea'"
    atlanta = by_qid["Q23556"]
    assert atlanta.countries == ("Q30",), "'Georgia' is also a US state: not a country name to go by"
    americas = by_qid["Q828"]
    assert americas.countries == (), "'North America' is not America"
    obama = by_qid["Q76"]
    assert (obama.kind, obama.related, obama.born) == ("Person", ("Q29552",), "1961-08-04")
    assert by_qid["Q207"].popularity > by_qid["Q8684"].popularity > 0
    assert "estimate" in seoul.popularity_basis


def test_a_country_named_in_a_description_by_a_name_a_historical_state_shares_is_todays():
    from kg.wikidata.items import Item
    from kg.wikidata.tables import derive_countries

    items = {
        "Q901": Item("Q901", "Veldonia", aliases=("VLD",), kind="Place", countries=("Q901",), sources=("natural-earth",)),
        "Q902": Item("Q902", "Old Veldonia", aliases=("Veldonia",), kind="Place", countries=("Q902",), sources=("histwardb",)),
        "Q903": Item("Q903", "Dunmore", description="city in Veldonia", kind="Place"),
        "Q904": Item("Q904", "Marlowe", description="county seat in Hale County, VLD", kind="Place"),
        "Q905": Item("Q905", "Hale", description="town in the US of old", kind="Place"),
    }
    found = derive_countries(items)
    assert found["Q903"].countries == ("Q901",), "the historical state shares the name; today's country is meant"
    assert found["Q904"].countries == ("Q901",), "a country's name in capitals counts"
    assert found["Q905"].countries == (), "no country is called so"


@needs_tables
def test_dr5hn_cities_with_doubtful_qids_are_left_out(tmp_path):
    items, _ = read_tables([TABLES / "dr5hn_countries_states_cities" / "cities.tsv"])
    by_qid = {i.qid: i for i in items}
    assert by_qid["Q20714"].label == "Suwon" and by_qid["Q20714"].countries == ("Q884",)
    assert by_qid["Q20714"].coordinates == (37.29111, 127.00889)
    assert "Q109386" not in by_qid or by_qid["Q109386"].label != "Pyongyang", "Nampho's QID on Pyongyang's row"
    path = tmp_path / "dr5hn.sqlite"
    report = build_index([TABLES / "dr5hn_countries_states_cities"], path)
    with LocalIndex(path) as index:
        assert "ODbL" in index.info.licence
        assert index.item("Q18808").label == "Pyongyang", "from states.csv"
    assert report.kinds == {"Place": report.items}


def test_unknown_tables_are_clear_errors(tmp_path):
    (tmp_path / "mine.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(TableError, match="not a table newskg knows"):
        read_tables([tmp_path / "mine.csv"])
    with pytest.raises(TableError, match="no known table found"):
        read_tables([tmp_path])


def test_linking_settings_come_from_the_config_and_the_environment(tmp_path):
    config = tmp_path / "kg.toml"
    config.write_text('link_threshold = 0.75\nwikidata_index = "starter:/x.sqlite"\nwikidata_cache = "~/cache"\n')
    settings = load_settings(config, environ={"KG_WIKIDATA_API": "yes", "KG_LINK": "0"})
    assert settings.link_threshold == 0.75 and settings.wikidata_index == "starter:/x.sqlite"
    assert settings.wikidata_cache == Path("~/cache").expanduser()
    assert settings.wikidata_api is True and settings.link is False
    with pytest.raises(SettingsError, match="link_threshold must be between 0 and 1"):
        load_settings(config, environ={"KG_LINK_THRESHOLD": "1.5"})
    with pytest.raises(SettingsError, match="setting 'link_threshold'"):
        load_settings(config, environ={"KG_LINK_THRESHOLD": "high"})


def test_the_starter_file_is_compressed_json_lines():
    with gzip.open(STARTER_ITEMS, "rt", encoding="utf-8") as stream:
        head = json.loads(stream.readline())
        first = json.loads(stream.readline())
    assert head["format"] == "newskg-wikidata-items" and first["qid"].startswith("Q")


def test_the_coordinates_of_the_starters_places_ship_apart_under_their_own_licence():
    from kg.wikidata.starter import STARTER_COORDINATES

    head = read_items_header(STARTER_COORDINATES)
    assert "ODbL" in head["licence"] and head["items"] > 500
    for name in ("LICENSE.odbl.txt", "CONTENT_LICENSE.dbcl.txt"):
        assert STARTER_COORDINATES.with_name(f"starter-coordinates.{name}").is_file(), "the licence ships beside it"
    kinds = {item.qid: item.kind for item in read_items(STARTER_ITEMS)}
    points = list(read_items(STARTER_COORDINATES))
    assert all(p.coordinates and not p.label for p in points), "points, no names"
    assert all(kinds[p.qid] == "Place" or (kinds[p.qid] is None and p.kind == "Place") for p in points), (
        "points for the starter's places, and for its items of no kind, which they make places"
    )
    assert any(kinds[p.qid] is None for p in points)


def test_an_item_of_no_known_kind_that_the_cities_table_lists_is_a_place_in_the_starter_index(tmp_path):
    index = LocalIndex(starter_index_path(tmp_path))
    gironde = index.item("Q12526")  # FB15k gives the French department no type; dr5hn lists it as a state
    assert gironde is not None and gironde.kind == "Place" and gironde.coordinates is not None


def test_the_starter_index_gives_countries_and_cities_their_points_and_names_both_licences(tmp_path):
    from kg.wikidata.index import LocalIndex

    index = LocalIndex(starter_index_path(tmp_path))
    korea, seoul = index.item("Q884"), index.item("Q8684")
    assert korea is not None and korea.label == "South Korea" and korea.coordinates is not None
    assert seoul is not None and seoul.coordinates == pytest.approx((37.57, 126.98), abs=0.01)
    assert "ODbL" in index.info.licence and "public domain" in index.info.licence


@needs_tables
def test_remaking_the_coordinates_from_the_tables_gives_the_bundled_file(tmp_path):
    from kg.wikidata.starter import STARTER_COORDINATES, write_starter_coordinates

    out = tmp_path / "starter-coordinates.jsonl.gz"
    write_starter_coordinates([TABLES], out)
    assert out.read_bytes() == STARTER_COORDINATES.read_bytes(), "run 'kg wikidata starter ../shared/wikidata'"


def test_the_first_level_divisions_ship_apart_under_their_own_licence():
    from kg.wikidata.starter import GENERIC_REGION_WORDS, STARTER_REGIONS

    head = read_items_header(STARTER_REGIONS)
    assert "ODbL" in head["licence"] and head["items"] > 4000
    for name in ("LICENSE.odbl.txt", "CONTENT_LICENSE.dbcl.txt"):
        assert STARTER_REGIONS.with_name(f"starter-regions.{name}").is_file(), "the licence ships beside it"
    regions = list(read_items(STARTER_REGIONS))
    assert all(r.kind == "Place" and r.label and r.countries for r in regions)
    assert not any(set(r.label.casefold().split()) <= GENERIC_REGION_WORDS for r in regions), "no 'Central' region"


@needs_tables
def test_remaking_the_regions_from_the_tables_gives_the_bundled_file(tmp_path):
    from kg.wikidata.starter import STARTER_REGIONS, write_starter_regions

    out = tmp_path / "starter-regions.jsonl.gz"
    write_starter_regions([TABLES], out)
    assert out.read_bytes() == STARTER_REGIONS.read_bytes(), "run 'kg wikidata starter ../shared/wikidata'"


def test_a_region_named_like_a_town_has_a_namesakes_low_prior(tmp_path):
    from kg.wikidata.items import Item, write_items
    from kg.wikidata.starter import NAMESAKE_REGION_SITELINKS, write_starter_regions
    from kg.wikidata.tables import popularity_from_sitelinks

    tables = tmp_path / "dr5hn"
    tables.mkdir()
    (tables / "countries.csv").write_text("name,iso2,wikiDataId\nRuritania,RU,Q9100001\n")
    (tables / "states.csv").write_text(
        "name,country_code,country_name,type,latitude,longitude,wikiDataId,population\n"
        "Strelsau,RU,Ruritania,province,1.0,2.0,Q9100002,9000000\n"
        "Zenda,RU,Ruritania,province,1.5,2.5,Q9100003,9000000\n"
        "Central,RU,Ruritania,region,1.7,2.7,Q9100004,100000\n"
    )
    (tables / "cities.tsv").write_text(
        "qid\tname\tcountry_code\tstate_name\tpopulation\tlatitude\tlongitude\n"
        "Q9100005\tStrelsau\tRU\tStrelsau\t2000000\t1.0\t2.0\n"
    )
    starter = tmp_path / "starter-items.jsonl.gz"
    write_items([Item("Q9100001", "Ruritania", kind="Place", countries=("Q9100001",))], starter, {"date": "2026-01-01"})
    out = tmp_path / "regions.jsonl.gz"
    assert write_starter_regions([tables], out, starter=starter) == 2, "'Central' is no name"
    regions = {r.label: r for r in read_items(out)}
    assert regions["Strelsau"].popularity == pytest.approx(popularity_from_sitelinks(NAMESAKE_REGION_SITELINKS))
    assert "named like a town" in regions["Strelsau"].popularity_basis
    assert regions["Zenda"].popularity > regions["Strelsau"].popularity, "no town is called Zenda"
    assert regions["Zenda"].description == "province of Ruritania" and regions["Zenda"].countries == ("Q9100001",)


def test_the_starter_index_holds_the_first_level_divisions_fb15k_lacks(tmp_path):
    index = LocalIndex(starter_index_path(tmp_path))
    wallonia = index.item("Q231")
    assert wallonia is not None and wallonia.kind == "Place" and wallonia.countries == ("Q31",)
    assert "dr5hn" in index.info.licence or "ODbL" in index.info.licence


def test_the_starter_index_knows_each_states_formal_name_that_its_abbreviations_stand_for(wikidata_cache):
    from kg.article.abbreviations import table_path
    from kg.wikidata.names import key

    rows = [line.split("\t") for line in table_path().read_text("utf-8").splitlines() if not line.startswith("#")]
    with LocalIndex(starter_index_path(wikidata_cache)) as index:
        found = index.find({key(formal): formal for _, formal, _ in rows})
    missing = [
        formal
        for _, formal, _ in rows
        if not any(m.item.kind == "Place" and "Q30" in m.item.countries for m in found.get(key(formal), ()))
    ]
    assert not missing, "an abbreviation would stand for a name no index item has"
