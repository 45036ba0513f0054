"""Nationality words and the countries they refer to: "Russian officials" mentions Russia.

The table ships as data (`kg/_data/demonyms/demonyms.tsv`, with its source and licence beside it),
made by `build_table` from the `nationality` column of the dr5hn countries table (ODbL 1.0, so the
table file is ODbL too; the code is not), with Natural Earth's English country names (public
domain). A word that names the people of more than one country
("Dominican", "Chinese" in Taiwan's row) goes to the most populous of them; what the table gives
that is a name of the place, not of its people ("UK", "New Zealand", "Cook Island"), is left out.
Plurals ("Iraqis", "Americans") are derived, except for words that take none ("Chinese", "British").

Remake the table from the shared tables with::

    python -m kg.article.demonyms ../shared/wikidata/dr5hn_countries_states_cities/countries.csv \
        ../shared/wikidata/natural_earth_admin0/admin0_countries.tsv
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..resources import resource_dir

#: Endings of nationality words that take an -s plural ("Iraqi" -> "Iraqis", "Greek" -> "Greeks").
_PLURAL_ENDINGS = ("an", "i", "ine", "er", "ot", "ard", "ite", "ic", "ek", "ino", "ar", "kh", "ean", "ene")
HEADER = "# demonym\tcountry\tqid\tpopulation\n"


@dataclass(frozen=True)
class Country:
    name: str
    qid: str


def _forms(raw: str) -> list[str]:
    parts = re.split(r",| or ", raw)
    return [p.strip() for p in parts if p.strip() and p.strip()[0].isupper()]


def _english_names(admin0_tsv: Path | None) -> dict[str, str]:
    """QID -> Natural Earth's English name ("Isle of Man", not dr5hn's "Man (Isle of)")."""
    if admin0_tsv is None or not admin0_tsv.is_file():
        return {}
    with admin0_tsv.open(encoding="utf-8", newline="") as stream:
        return {r["wikidataid"]: r["name_en"] for r in csv.DictReader(stream, delimiter="\t") if r.get("name_en")}


def build_table(countries_csv: Path, admin0_tsv: Path | None = None) -> list[tuple[str, str, str, int]]:
    """(demonym, country name, QID, population) rows, one per word, sorted; ambiguous words go to the most
    populous country. Names are Natural Earth's English ones where `admin0_tsv` has the QID."""
    english = _english_names(admin0_tsv)
    best: dict[str, tuple[int, str, str]] = {}
    with countries_csv.open(encoding="utf-8", newline="") as stream:
        for row in csv.DictReader(stream):
            qid = row.get("wikiDataId", "").strip()
            if not qid.startswith("Q"):
                continue
            population = int(float(row.get("population") or 0))
            names = {row["name"].strip().casefold(), english.get(qid, "").casefold()} - {""}
            for word in _forms(row.get("nationality", "")):
                if word.isupper() or {word.casefold(), word.casefold() + "s"} & names:
                    continue  # "UK", "New Zealand", "Cook Island": a name of the place, not of its people
                plural = word.endswith(_PLURAL_ENDINGS) and " " not in word
                for form in [word, word + "s"] if plural else [word]:
                    seen = best.get(form)
                    if seen is None or population > seen[0]:
                        best[form] = (population, english.get(qid, row["name"].strip()), qid)
    return sorted((form, name, qid, pop) for form, (pop, name, qid) in best.items())


def write_table(rows: list[tuple[str, str, str, int]], out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="\n") as stream:
        stream.write(HEADER)
        for form, name, qid, population in rows:
            stream.write(f"{form}\t{name}\t{qid}\t{population}\n")


def table_path() -> Path:
    return resource_dir("demonyms") / "demonyms.tsv"


@lru_cache(maxsize=1)
def demonyms() -> dict[str, Country]:
    """Nationality word (as written, capitalised) -> the country it refers to."""
    out: dict[str, Country] = {}
    with table_path().open(encoding="utf-8") as stream:
        for line in stream:
            if line.startswith("#") or not line.strip():
                continue
            form, name, qid, _ = line.rstrip("\n").split("\t")
            out[form] = Country(name, qid)
    return out


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    return frozenset(c.name for c in demonyms().values())


def is_a_country_name(name: str) -> bool:
    """Whether the name is a country's, as the table names it ("France", "Brazil")."""
    return name in _country_names()


def country_of(word: str) -> Country | None:
    """The country a nationality word refers to ("Iraqis" -> Iraq), or None."""
    return demonyms().get(word.strip())


if __name__ == "__main__":
    write_table(build_table(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None), table_path())
    print(f"wrote {table_path()}")
