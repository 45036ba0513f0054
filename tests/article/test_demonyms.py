"""The demonym table: built from the shared countries table, shipped as data, read as word -> country."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED

from kg.article.demonyms import build_table, country_of, demonyms, table_path

DR5HN = SHARED / "wikidata" / "dr5hn_countries_states_cities" / "countries.csv"
ADMIN0 = SHARED / "wikidata" / "natural_earth_admin0" / "admin0_countries.tsv"


def test_a_nationality_word_and_its_plural_name_their_country():
    assert country_of("Iraqi").qid == country_of("Iraqis").qid == "Q796"
    assert country_of("North Korean").name == "North Korea"
    assert country_of("Chinese").qid == "Q148" and country_of("Chineses") is None
    assert country_of("Muslim") is None


def test_a_word_shared_by_two_countries_goes_to_the_more_populous(tmp_path: Path):
    rows = tmp_path / "countries.csv"
    rows.write_text(
        "name,nationality,population,wikiDataId\n"
        "Dominica,Dominican,72000,Q784\n"
        'Dominican Republic,"Dominican, Quisqueyan",10700000,Q786\n'
        "Freedonia,Freedonian or Fredonese,5,Q9\n",
        encoding="utf-8",
    )
    table = {form: (name, qid) for form, name, qid, _ in build_table(rows)}
    assert table["Dominican"] == ("Dominican Republic", "Q786")
    assert table["Dominicans"] == ("Dominican Republic", "Q786")
    assert table["Freedonians"] == ("Freedonia", "Q9") and "Fredoneses" not in table


@pytest.mark.skipif(not DR5HN.is_file(), reason="../shared/wikidata is not beside this checkout")
def test_the_shipped_table_is_what_the_shared_tables_make():
    made = {form: (name, qid) for form, name, qid, _ in build_table(DR5HN, ADMIN0)}
    assert made == {form: (c.name, c.qid) for form, c in demonyms().items()}
    assert (table_path().parent / "LICENSE.odbl.txt").is_file(), "the ODbL table ships with its licence"
