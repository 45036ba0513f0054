"""Reading the Wikidata-derived tables of ``../shared/wikidata/`` into items.

None of these tables has Wikidata's P31 classes or sitelink counts, so each reader derives, from
what its table does have, our class and a popularity prior (an *estimated* sitelink count, on the
same scale as the dump's; see `ESTIMATES` and kg/wikidata/README.md). Places and people get a
country: their own for countries, the table's country code, the United States for members of
Congress, and for the rest the last country named in the English description ("capital city of
South Korea" -> South Korea).

| table | licence | in the bundled starter index |
|---|---|---|
| fb15k_entity2wikidata/entities.tsv | MIT packaging, Wikidata content CC0 | yes |
| natural_earth_admin0/admin0_countries.tsv | public domain | yes |
| us_congress_legislators/people_wikidata.tsv | CC0 | yes |
| histwardb_crosswalk/crosswalk.csv | MIT | yes |
| dr5hn_countries_states_cities/*.csv, cities.tsv | ODbL (share-alike) | no: an add-on index you build |
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..model import Kind
from .items import OTHER, Item, merge, popularity_from_sitelinks

#: Estimated sitelinks per kind of row, where a table has no real count (see the README).
ESTIMATES = {
    "country": 200,  # a sovereign state: every Wikipedia has it
    "territory": 60,  # a dependency, disputed or indeterminate territory
    "historical state": 15,  # a polity with no Correlates-of-War code
    "cow state": 150,  # a state with a Correlates-of-War code
    "president": 200,
    "vice president": 120,
    "senator": 45,
    "representative": 25,
    "first-level division": 40,
}


class TableError(ValueError):
    """A table cannot be read, or a path is not a table we know."""


def estimate(sitelinks: float, basis: str) -> tuple[float, str]:
    return popularity_from_sitelinks(sitelinks), f"estimate ({basis}): {round(sitelinks)} sitelinks"


def fb15k_estimate(degree: int) -> float:
    """FB15k-237 holds popular entities: 20 sitelinks at least, more with the degree in its triples."""
    return min(180.0, 20.0 + 12.0 * math.log2(1 + max(0, degree)))


def population_estimate(population: float | None) -> float:
    """A settlement of 10k people ~ 12 sitelinks, 100k ~ 24, 1M ~ 36, 10M ~ 48."""
    if not population or population <= 0:
        return 5.0
    return max(3.0, 12.0 * (math.log10(population) - 3.0))


@dataclass(frozen=True)
class Table:
    """A shared table newskg can read."""

    id: str
    files: tuple[str, ...]
    label: str
    licence: str
    starter: bool
    reader: Callable[[Path], Iterator[Item]]


def _rows(path: Path, delimiter: str) -> Iterator[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            quoting = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
            yield from csv.DictReader(stream, delimiter=delimiter, quoting=quoting)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TableError(f"cannot read {path}: {exc}") from None


def _qid(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if re.fullmatch(r"Q[1-9][0-9]*", value) else None


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "-99") else None
    except ValueError:
        return None


def _coords(lat: str | None, lon: str | None) -> tuple[float, float] | None:
    la, lo = _number(lat), _number(lon)
    if la is None or lo is None or not (-90 <= la <= 90 and -180 <= lo <= 180):
        return None
    return (round(la, 6), round(lo, 6))


def _title_name(title: str) -> str:
    """ "Washington (state)" -> "Washington": a Wikipedia title as a name."""
    return re.sub(r"\s*\([^)]*\)$", "", title.replace("_", " ")).strip()


# -- FB15k-237 entities with Wikidata labels (MIT / CC0) -------------------------------------

FB15K_KINDS = {
    "human": Kind.PERSON,
    "country": Kind.PLACE,
    "place": Kind.PLACE,
    "organization": Kind.ORGANIZATION,
    "educational_institution": Kind.ORGANIZATION,
    "sports_team": Kind.ORGANIZATION,
    "event": Kind.EVENT,
    "film": OTHER,
    "tv_program": OTHER,
    "award_or_work": OTHER,
    "musical_group_or_artist": None,  # solo artists and bands alike: unknown
    "": None,
}


def read_fb15k(path: Path) -> Iterator[Item]:
    for row in _rows(path, "\t"):
        qid = _qid(row.get("qid"))
        label = (row.get("label_en") or "").strip()
        if qid is None or not label:
            continue
        aliases = [a.strip() for a in (row.get("aliases_en") or "").split("|") if a.strip()]
        title = _title_name(row.get("enwiki_title") or "")
        if title and title != label:
            aliases.append(title)
        coarse = (row.get("coarse_type_heuristic") or "").strip()
        degree = int(_number(row.get("degree_in_available_triples")) or 0)
        popularity, basis = estimate(fb15k_estimate(degree), f"FB15k-237, degree {degree}")
        yield Item(
            qid=qid,
            label=label,
            aliases=tuple(dict.fromkeys(a for a in aliases if a != label)),
            description=(row.get("description_en") or "").strip(),
            kind=FB15K_KINDS.get(coarse),
            popularity=popularity,
            popularity_basis=basis,
            countries=(qid,) if coarse == "country" else (),
            sources=("fb15k",),
        )


# -- Natural Earth admin-0 countries (public domain) -------------------------------------------

_NE_SOVEREIGN = {"Sovereign country", "Country", "Sovereignty"}


def read_natural_earth(path: Path) -> Iterator[Item]:
    rows = [r for r in _rows(path, "\t") if _qid(r.get("wikidataid"))]
    by_admin = {r["admin"]: r["wikidataid"] for r in rows if r.get("type") in _NE_SOVEREIGN}
    for row in rows:
        qid = row["wikidataid"]
        label = row.get("name_en") or row.get("admin") or row.get("name")
        if not label:
            continue
        names = [row.get(k, "") for k in ("name", "name_long", "formal_en", "admin")]
        if (iso := row.get("iso_a3", "")) and iso != "-99":
            names.append(iso)
        kind_of_row = row.get("type", "")
        sovereign = kind_of_row in _NE_SOVEREIGN
        region = row.get("subregion") or row.get("continent") or ""
        if sovereign:
            description = f"country in {region}" if region else "country"
        else:
            owner = row.get("sovereignt", "")
            description = f"{kind_of_row.lower()} territory" + (f" of {owner}" if owner and owner != label else "")
            description += f" in {region}" if region else ""
        countries = [qid]
        owner_qid = by_admin.get(row.get("sovereignt", ""))
        if not sovereign and owner_qid and owner_qid != qid:
            countries.append(owner_qid)
        popularity, basis = estimate(ESTIMATES["country" if sovereign else "territory"], f"Natural Earth {kind_of_row}")
        yield Item(
            qid=qid,
            label=label,
            aliases=tuple(dict.fromkeys(n.strip() for n in names if n and n.strip() and n.strip() != label)),
            description=description,
            kind=Kind.PLACE,
            popularity=popularity,
            popularity_basis=basis,
            countries=tuple(countries),
            sources=("natural-earth",),
        )


# -- Members of the US Congress and the executive (CC0) ----------------------------------------

#: The two parties named in the table, as Wikidata items (Democratic Party, Republican Party).
_PARTIES = {"Democrat": "Q29552", "Republican": "Q29468"}
_UNITED_STATES = "Q30"
_ROLES = {
    "prez": ("president of the United States", "president"),
    "viceprez": ("vice president of the United States", "vice president"),
    "sen": ("United States senator", "senator"),
    "rep": ("member of the United States House of Representatives", "representative"),
}


def read_congress(path: Path) -> Iterator[Item]:
    for row in _rows(path, "\t"):
        qid = _qid(row.get("qid"))
        full = (row.get("official_full_name") or "").strip()
        first, middle, last = (row.get(k, "").strip() for k in ("first", "middle", "last"))
        nick, suffix = row.get("nickname", "").strip(), row.get("suffix", "").strip()
        label = full or " ".join(p for p in (first, middle, last) if p)
        if qid is None or not label or not last:
            continue
        forms = [
            f"{first} {last}",
            f"{first} {middle} {last}" if middle else "",
            f"{nick} {last}" if nick else "",
            f"{first} {last} {suffix}" if suffix else "",
            f"{nick} {last} {suffix}" if nick and suffix else "",
            _title_name(row.get("enwiki_title") or ""),
        ]
        role, sitelinks = _ROLES.get(row.get("last_role", ""), ("American politician", "representative"))
        party, state = row.get("last_role_party", ""), row.get("last_role_state", "")
        detail = ", ".join(p for p in (party, state) if p and row.get("last_role") in ("sen", "rep"))
        popularity, basis = estimate(ESTIMATES[sitelinks], f"US {sitelinks}")
        yield Item(
            qid=qid,
            label=label,
            aliases=tuple(dict.fromkeys(f for f in forms if f and f != label)),
            description=f"{role} ({detail})" if detail else role,
            kind=Kind.PERSON,
            popularity=popularity,
            popularity_basis=basis,
            countries=(_UNITED_STATES,),
            related=(_PARTIES[party],) if party in _PARTIES else (),
            born=(row.get("birthday") or "").strip() or None,
            sources=("us-congress",),
        )


# -- histwardb crosswalk of modern and historical states (MIT) ---------------------------------


def read_histwardb(path: Path) -> Iterator[Item]:
    for row in _rows(path, ","):
        qid = _qid(row.get("country_qid"))
        label = (row.get("country") or "").strip()
        if qid is None or not label:
            continue
        coded = bool((row.get("cow_code") or "").strip())
        which = "cow state" if coded else "historical state"
        popularity, basis = estimate(ESTIMATES[which], "histwardb " + ("COW-coded state" if coded else "polity"))
        yield Item(
            qid=qid,
            label=label,
            description="state" if coded else "historical state or polity",
            kind=Kind.PLACE,
            popularity=popularity,
            popularity_basis=basis,
            countries=(qid,),
            sources=("histwardb",),
        )


# -- dr5hn countries, states and cities (ODbL: not in the starter) -----------------------------


def _dr5hn_countries(folder: Path) -> dict[str, tuple[str, str]]:
    path = folder / "countries.csv"
    if not path.is_file():
        return {}
    return {r["iso2"]: (r["wikiDataId"], r["name"]) for r in _rows(path, ",") if _qid(r.get("wikiDataId"))}


def read_dr5hn_countries(path: Path) -> Iterator[Item]:
    for row in _rows(path, ","):
        qid = _qid(row.get("wikiDataId"))
        if qid is None or not row.get("name"):
            continue
        popularity, basis = estimate(ESTIMATES["country"], "dr5hn country")
        region = row.get("subregion") or row.get("region") or ""
        yield Item(
            qid=qid,
            label=row["name"],
            aliases=tuple(a for a in (row.get("iso3", ""),) if a),
            description=f"country in {region}" if region else "country",
            kind=Kind.PLACE,
            popularity=popularity,
            popularity_basis=basis,
            coordinates=_coords(row.get("latitude"), row.get("longitude")),
            countries=(qid,),
            sources=("dr5hn",),
        )


def read_dr5hn_states(path: Path) -> Iterator[Item]:
    countries = _dr5hn_countries(path.parent)
    for row in _rows(path, ","):
        qid = _qid(row.get("wikiDataId"))
        if qid is None or not row.get("name"):
            continue
        country_qid, country_name = countries.get(row.get("country_code", ""), (None, row.get("country_name", "")))
        sitelinks = max(ESTIMATES["first-level division"], population_estimate(_number(row.get("population"))))
        popularity, basis = estimate(sitelinks, "dr5hn first-level division")
        division = (row.get("type") or "administrative division").strip()
        yield Item(
            qid=qid,
            label=row["name"],
            description=f"{division} of {country_name}" if country_name else division,
            kind=Kind.PLACE,
            popularity=popularity,
            popularity_basis=basis,
            coordinates=_coords(row.get("latitude"), row.get("longitude")),
            countries=(country_qid,) if country_qid else (),
            sources=("dr5hn",),
        )


def read_dr5hn_cities(path: Path) -> Iterator[Item]:
    """Cities whose QID is trustworthy: unique among cities and not a state's (see PROVENANCE.md)."""
    countries = _dr5hn_countries(path.parent)
    for row in _rows(path, "\t"):
        qid = _qid(row.get("qid"))
        if qid is None or not row.get("name"):
            continue
        if row.get("qid_shared_by_n_cities", "1") != "1" or row.get("qid_equals_a_state_qid", "") == "yes":
            continue
        country_qid, country_name = countries.get(row.get("country_code", ""), (None, ""))
        population = _number(row.get("population"))
        popularity, basis = estimate(population_estimate(population), "dr5hn population")
        where = ", ".join(p for p in (row.get("state_name", ""), country_name) if p)
        yield Item(
            qid=qid,
            label=row["name"],
            description=f"settlement in {where}" if where else "settlement",
            kind=Kind.PLACE,
            popularity=popularity,
            popularity_basis=basis,
            coordinates=_coords(row.get("latitude"), row.get("longitude")),
            countries=(country_qid,) if country_qid else (),
            sources=("dr5hn",),
        )


#: The tables, in the order their labels win when they disagree (FB15k carries Wikidata's own labels).
TABLES: tuple[Table, ...] = (
    Table(
        "fb15k",
        ("entities.tsv",),
        "FB15k-237 entities with Wikidata labels (villmow/datasets_knowledge_embedding)",
        "MIT (packaging), CC0 (Wikidata content)",
        True,
        read_fb15k,
    ),
    Table(
        "us-congress",
        ("people_wikidata.tsv",),
        "US Congress members and executive (unitedstates/congress-legislators)",
        "CC0-1.0",
        True,
        read_congress,
    ),
    Table("histwardb", ("crosswalk.csv",), "histwardb state crosswalk", "MIT", True, read_histwardb),
    Table(
        "natural-earth",
        ("admin0_countries.tsv",),
        "Natural Earth admin-0 countries 5.1.1",
        "public domain",
        True,
        read_natural_earth,
    ),
    Table(
        "dr5hn",
        ("countries.csv", "states.csv", "cities.tsv"),
        "dr5hn countries-states-cities-database",
        "ODbL-1.0 (database), DbCL-1.0 (contents)",
        False,
        lambda p: _DR5HN_READERS[p.name](p),
    ),
)
_DR5HN_READERS = {
    "countries.csv": read_dr5hn_countries,
    "states.csv": read_dr5hn_states,
    "cities.tsv": read_dr5hn_cities,
}
_BY_FILE = {name: t for t in TABLES for name in t.files}


def table_of(path: Path) -> Table | None:
    return _BY_FILE.get(path.name)


def table_files(paths: Iterable[Path], *, starter_only: bool = False) -> list[tuple[Table, Path]]:
    """The known tables among files and folders (searched recursively), in label-priority order."""
    found: list[tuple[Table, Path]] = []
    for path in paths:
        candidates = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for p in candidates:
            table = table_of(p)
            if table is None:
                if not path.is_dir():
                    raise TableError(f"{p}: not a table newskg knows ({', '.join(sorted(_BY_FILE))})")
                continue
            if starter_only and not table.starter:
                continue
            found.append((table, p))
    order = {t.id: i for i, t in enumerate(TABLES)}
    return sorted(found, key=lambda tp: (order[tp[0].id], tp[0].files.index(tp[1].name), str(tp[1])))


# -- merging and derived countries -------------------------------------------------------------


def _country_names(items: dict[str, Item]) -> dict[str, str]:
    """Country name -> QID, for names that name exactly one country (of today, when historical states share it)."""
    names: dict[str, set[str]] = {}
    others: set[str] = set()
    for item in items.values():
        if item.kind == Kind.PLACE and item.countries[:1] == (item.qid,):
            for name in item.names:
                if (len(name) >= 4 and any(c.isalpha() for c in name) and name[0].isupper()) or _an_initialism(name):
                    names.setdefault(name, set()).add(item.qid)
        else:
            others.add(item.label)  # "Georgia" is also a US state: not a country name to go by
    today = {qid for qids in names.values() for qid in qids if "natural-earth" in items[qid].sources}
    out = {}
    for name, qids in names.items():
        if len(qids) > 1:  # "USA" is also an alias of the Union of South Africa: today's country is meant
            qids = qids & today
        if len(qids) == 1 and name not in others:
            out[name] = next(iter(qids))
    return out


def _an_initialism(name: str) -> bool:
    """A country's name in capitals that no word is written as: "USA", "UAE", "U.S.", "U.K." (not "US", "UK",
    which a description may use in other senses less rarely)."""
    bare = name.replace(".", "")
    return bare.isalpha() and bare.isupper() and (len(bare) >= 3 or ("." in name and len(bare) >= 2))


def derive_countries(items: dict[str, Item]) -> dict[str, Item]:
    """Items without a country get the last country their English description names."""
    names = _country_names(items)
    if not names:
        return items
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![\w-])"
    )
    out = {}
    for qid, item in items.items():
        if not item.countries and item.description and item.kind != OTHER:
            # "North America" is not America: a name right after a capitalised word is part of a longer one.
            found = [
                m.group(1)
                for m in pattern.finditer(item.description)
                if not _CAPITALISED_BEFORE.search(item.description, 0, m.start())
            ]
            if found:
                item = replace(item, countries=(names[found[-1]],))
        out[qid] = item
    return out


_CAPITALISED_BEFORE = re.compile(r"\b[A-Z][\w.']*\s$")


@dataclass
class TableRead:
    table: Table
    path: Path
    rows: int


def read_tables(paths: Iterable[Path], *, starter_only: bool = False) -> tuple[list[Item], list[TableRead]]:
    """Items of every known table under `paths`, merged by QID (sorted by QID), with what was read."""
    items: dict[str, Item] = {}
    read: list[TableRead] = []
    given = list(paths)
    for table, path in table_files(given, starter_only=starter_only):
        n = 0
        for item in table.reader(path):
            n += 1
            old = items.get(item.qid)
            items[item.qid] = item if old is None else merge(old, item)
        read.append(TableRead(table, path, n))
    if not read:
        raise TableError("no known table found in " + ", ".join(str(p) for p in given))
    merged = derive_countries(items)
    return sorted(merged.values(), key=lambda i: i.number), read
