"""The bundled starter index: a small items file in the package, made into SQLite on first use.

The package ships `kg/_data/wikidata/starter-items.jsonl.gz` (made by `kg wikidata starter` from
the CC0, public-domain and MIT tables of ``../shared/wikidata``, never the ODbL one); the first
lookup turns it into an index in the user's cache folder, named after the files' hash, so a new
starter file gets a new index and an old cache is never used by mistake.

Beside it, apart, ships `starter-coordinates.jsonl.gz`: the coordinates of the starter's countries and
cities, from the dr5hn database (ODbL 1.0; its licence files lie beside it). It is a database of its
own, so the items file stays free of share-alike terms; the index in the cache joins the two, and its
source says both licences. Places get points on the map, and linked places their geo:hasGeometry.

And apart too, under the same terms, `starter-regions.jsonl.gz`: the first-level divisions of every country
in dr5hn (provinces, states, regions), which news names all the time ("Salta, Jujuy and Tucuman" in a
harvest report) and FB15k mostly lacks. A region named like a town or another place of the starter gets a
low prior: a bare "Salta" is the city; "Salta province", or provinces named beside it, bring the
region back (see `kg.article.mention_rules.a_region_named_with_its_noun` and the linker's siblings).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from ..model import Kind
from .index import BarFactory, build_index
from .items import Item, read_items, read_items_header, write_items
from .names import key
from .tables import TableError, estimate, read_tables, table_files

STARTER_ITEMS = Path(__file__).resolve().parent.parent / "_data" / "wikidata" / "starter-items.jsonl.gz"
STARTER_COORDINATES = STARTER_ITEMS.with_name("starter-coordinates.jsonl.gz")
COORDINATES_LABEL = "coordinates of the starter's places (dr5hn countries-states-cities-database)"
#: The only table with coordinates; what it gives is shipped apart from the items (see the module doc).
COORDINATES_TABLE = "dr5hn"
STARTER_REGIONS = STARTER_ITEMS.with_name("starter-regions.jsonl.gz")
REGIONS_LABEL = "first-level divisions of every country (dr5hn countries-states-cities-database)"
#: The sitelinks a region is taken to have when a town of the tables (one of about 20,000 people or more) or a
#: place of the starter has its name: the bare name means that place.
NAMESAKE_REGION_SITELINKS = 15
TOWN_POPULARITY = 0.3
#: Region names that are words of a description, not names ("West", "Central", "North East"): never matched.
GENERIC_REGION_WORDS = frozenset(
    {
        *("north", "south", "east", "west", "northern", "southern", "eastern", "western", "central", "centre"),
        *("center", "capital", "coast", "coastal", "littoral", "lakes", "islands", "upper", "lower", "middle"),
        *("interior", "highlands", "lowlands", "plateau", "mountains", "border", "federal", "district", "region"),
    }
)
STARTER_NAME = "starter"
STARTER_LABEL = "newskg starter index (FB15k-237 Wikidata labels, Natural Earth, US Congress, histwardb)"


def default_cache_dir() -> Path:
    """Where newskg caches what it derives: $XDG_CACHE_HOME/newskg, else ~/.cache/newskg."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "newskg"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def starter_index_path(
    cache_dir: Path | None = None,
    items: Path = STARTER_ITEMS,
    *,
    coordinates: Path | None = STARTER_COORDINATES,
    regions: Path | None = STARTER_REGIONS,
    bar: BarFactory | None = None,
) -> Path:
    """The starter index, built from the bundled items (coordinates, regions) files on first use (a few seconds)."""
    if not items.is_file():
        raise FileNotFoundError(f"the bundled Wikidata starter data is missing from this install ({items})")
    add_ons = [p for p in (coordinates, regions) if p is not None and p.is_file()]
    inputs = [items, *add_ons]  # the starter's own items first: their labels win
    cache = (cache_dir or default_cache_dir()) / "wikidata"
    digest = hashlib.sha256("".join(file_hash(p) for p in inputs).encode()).hexdigest()
    path = cache / f"{STARTER_NAME}-{digest[:16]}.sqlite"
    if not path.is_file():
        head = read_items_header(items)
        build_index(inputs, path, name=STARTER_NAME, label=head.get("label", STARTER_LABEL), bar=bar)
    return path


def write_starter_items(tables: Sequence[Path], output: Path, *, date: str | None = None) -> int:
    """Write the starter items file from the shared tables (only those whose licence allows shipping)."""
    items, read = read_tables(tables, starter_only=True)
    sources = [
        {"table": r.table.id, "file": r.path.name, "licence": r.table.licence, "rows": r.rows, "label": r.table.label}
        for r in read
    ]
    newest = max(r.path.stat().st_mtime for r in read)
    header = {
        "label": STARTER_LABEL,
        "licence": "; ".join(dict.fromkeys(f"{s['table']}: {s['licence']}" for s in sources)),
        "date": date or datetime.fromtimestamp(newest, UTC).date().isoformat(),
        "sources": sources,
        "items": len(items),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    return write_items(items, output, header)


def write_starter_coordinates(
    tables: Sequence[Path], output: Path, *, starter: Path = STARTER_ITEMS, date: str | None = None
) -> int:
    """Write the coordinates file: a point for each place of the starter items the dr5hn tables locate.

    Only items the starter holds and gives no point of its own: the file adds coordinates to the index,
    never items (an item here has no name; the index joins it to the starter's by QID). A starter item
    of no known kind that the tables list as a city, state or country is a place, and its record here
    says so (a French department FB15k gives no type is a place to link its name to).
    """
    starter_items = list(read_items(starter))
    places = {item.qid for item in starter_items if item.kind == Kind.PLACE and item.coordinates is None}
    unknown = {item.qid for item in starter_items if item.kind is None and item.coordinates is None}
    found = [(t, p) for t, p in table_files(tables) if t.id == COORDINATES_TABLE]
    if not found:
        raise TableError(f"no {COORDINATES_TABLE} table (countries.csv, states.csv, cities.tsv) in the inputs")
    points: dict[str, tuple[float, float]] = {}
    for table, path in found:
        for item in table.reader(path):
            if (item.qid in places or item.qid in unknown) and item.coordinates is not None:
                points.setdefault(item.qid, item.coordinates)  # countries first, then states, then cities
    table = found[0][0]
    header = {
        "label": COORDINATES_LABEL,
        "licence": f"{table.id}: {table.licence}",
        "date": date or read_items_header(starter).get("date", ""),  # the starter's: remade, the file is the same
        "sources": [
            {"table": table.id, "file": p.name, "licence": table.licence, "label": table.label} for _, p in found
        ],
        "items": len(points),
    }
    located = (
        Item(qid, "", kind=Kind.PLACE if qid in unknown else None, coordinates=point, sources=(table.id,))
        for qid, point in sorted(points.items())
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    return write_items(sorted(located, key=lambda i: i.number), output, header)


def write_starter_regions(
    tables: Sequence[Path], output: Path, *, starter: Path = STARTER_ITEMS, date: str | None = None
) -> int:
    """Write the regions file: every first-level division dr5hn names, with its country, point and prior.

    A region named like a town of the tables or a place of the starter (not a country) has the prior of
    `NAMESAKE_REGION_SITELINKS`; one whose name is only words of a description ("Central") is left out.
    """
    found = [(t, p) for t, p in table_files(tables) if t.id == COORDINATES_TABLE]
    states = [(t, p) for t, p in found if p.name == "states.csv"]
    if not states:
        raise TableError(f"no {COORDINATES_TABLE} states.csv in the inputs")
    towns = {key(i.label) for i in read_items(starter) if i.kind == Kind.PLACE and i.qid not in i.countries}
    for table, path in found:
        if path.name == "cities.tsv":
            towns.update(key(i.label) for i in table.reader(path) if i.popularity >= TOWN_POPULARITY)
    regions: dict[str, Item] = {}
    for table, path in states:
        for item in table.reader(path):
            name = key(item.label)
            if not name or set(name.split()) <= GENERIC_REGION_WORDS or item.qid in regions:
                continue
            if name in towns:
                popularity, basis = estimate(NAMESAKE_REGION_SITELINKS, "dr5hn first-level division named like a town")
                if popularity < item.popularity:
                    item = replace(item, popularity=popularity, popularity_basis=basis)
            regions[item.qid] = item
    table = states[0][0]
    header = {
        "label": REGIONS_LABEL,
        "licence": f"{table.id}: {table.licence}",
        "date": date or read_items_header(starter).get("date", ""),
        "sources": [
            {"table": table.id, "file": p.name, "licence": table.licence, "label": table.label} for _, p in states
        ],
        "items": len(regions),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    return write_items(sorted(regions.values(), key=lambda i: i.number), output, header)
