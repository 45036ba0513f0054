"""What we keep of a Wikidata item, whatever source it came from (dump, shared table, live API).

An `Item` is the unit every candidate source returns and every index stores. Items of the same QID
from several sources merge (`merge`); items travel between tools as JSON Lines (`write_items`,
`read_items`), the format of the bundled starter data.
"""

from __future__ import annotations

import gzip
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..model import Kind

#: Our entity classes, as Wikidata items are sorted into them; "Other" is anything else we keep
#: (films, works, ...): never linked, but it tells the linker a name is ambiguous.
KINDS = (Kind.PERSON, Kind.ORGANIZATION, Kind.PLACE, Kind.EVENT)
OTHER = "Other"

#: First line of a newskg items file.
ITEMS_FORMAT = "newskg-wikidata-items"
ITEMS_VERSION = 1


class ItemsError(ValueError):
    """An items file cannot be read."""


def qid_number(qid: str) -> int:
    if not (qid[:1] == "Q" and qid[1:].isdigit()):
        raise ValueError(f"not a Wikidata item id: {qid!r}")
    return int(qid[1:])


def popularity_from_sitelinks(sitelinks: float) -> float:
    """A prior in [0, 1] from the number of Wikipedia (and sister) pages about an item.

    Log scale between 5 sitelinks (0: a local topic, any name match needs context) and 200
    (1: a topic every Wikipedia covers, a country, a world leader, a big city).
    """
    low, high = math.log1p(5), math.log1p(200)
    return round(min(1.0, max(0.0, (math.log1p(max(0.0, sitelinks)) - low) / (high - low))), 4)


@dataclass(frozen=True)
class SourceInfo:
    """Where candidates come from: shown in lookups and recorded with every link."""

    id: str
    label: str
    date: str
    licence: str = ""
    items: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class Item:
    """A Wikidata item as the linker sees it."""

    qid: str
    label: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    kind: str | None = None
    classes: tuple[str, ...] = ()
    sitelinks: int | None = None
    popularity: float = 0.0
    popularity_basis: str = ""
    coordinates: tuple[float, float] | None = None
    countries: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    born: str | None = None
    died: str | None = None
    sources: tuple[str, ...] = field(default=())

    @property
    def number(self) -> int:
        return qid_number(self.qid)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, *self.aliases)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"qid": self.qid, "label": self.label}
        for name in (
            "aliases",
            "description",
            "kind",
            "classes",
            "sitelinks",
            "popularity",
            "popularity_basis",
            "coordinates",
            "countries",
            "related",
            "born",
            "died",
            "sources",
        ):
            value = getattr(self, name)
            if value not in (None, "", (), 0.0) or (name == "sitelinks" and value == 0):
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Item:
        values = dict(data)
        for name in ("aliases", "classes", "countries", "related", "sources"):
            values[name] = tuple(values.get(name, ()))
        if values.get("coordinates") is not None:
            lat, lon = values["coordinates"]
            values["coordinates"] = (float(lat), float(lon))
        return cls(**values)


def _union(a: tuple[str, ...], b: tuple[str, ...], drop: str = "") -> tuple[str, ...]:
    seen = {drop} if drop else set()
    out = []
    for x in (*a, *b):
        if x and x not in seen:
            seen.add(x)
            out.append(x)
    return tuple(out)


def merge(a: Item, b: Item) -> Item:
    """One item from two records of the same QID; `a` (the more authoritative source) wins ties."""
    if a.qid != b.qid:
        raise ValueError(f"cannot merge {a.qid} with {b.qid}")
    aliases = _union(a.aliases, (b.label, *b.aliases), drop=a.label)
    best = a if a.popularity >= b.popularity else b
    kind = a.kind if a.kind not in (None, OTHER) else (b.kind or a.kind)
    return replace(
        a,
        aliases=aliases,
        description=a.description or b.description,
        kind=kind,
        classes=_union(a.classes, b.classes),
        sitelinks=max((s for s in (a.sitelinks, b.sitelinks) if s is not None), default=None),
        popularity=best.popularity,
        popularity_basis=best.popularity_basis,
        coordinates=a.coordinates or b.coordinates,
        countries=_union(a.countries, b.countries),
        related=_union(a.related, b.related),
        born=a.born or b.born,
        died=a.died or b.died,
        sources=_union(a.sources, b.sources),
    )


# -- items files ------------------------------------------------------------------------------


def write_items(items: Iterable[Item], path: Path, header: dict[str, Any]) -> int:
    """Write items as (gzipped, when the name ends in .gz) JSON Lines, byte for byte reproducible."""
    head = {"format": ITEMS_FORMAT, "version": ITEMS_VERSION, **header}
    n = 0
    raw = path.open("wb")
    stream: Any = (
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) if path.suffix == ".gz" else raw
    )
    try:
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        text.write(json.dumps(head, ensure_ascii=False, sort_keys=True) + "\n")
        for item in items:
            text.write(json.dumps(item.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
            n += 1
        text.flush()
        text.detach()
    finally:
        if stream is not raw:
            stream.close()
        raw.close()
    return n


def is_items_file(path: Path) -> bool:
    try:
        with _open_text(path) as stream:
            first = stream.readline(4096)
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return False
    return ITEMS_FORMAT in first


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")  # type: ignore[return-value]
    return path.open(encoding="utf-8")


def read_items_header(path: Path) -> dict[str, Any]:
    with _open_text(path) as stream:
        try:
            head = json.loads(stream.readline())
        except json.JSONDecodeError as exc:
            raise ItemsError(f"{path}: not a newskg items file ({exc})") from None
    if not isinstance(head, dict) or head.get("format") != ITEMS_FORMAT:
        raise ItemsError(f"{path}: not a newskg items file (first line must name {ITEMS_FORMAT!r})")
    if head.get("version") != ITEMS_VERSION:
        raise ItemsError(f"{path}: items format version {head.get('version')} (this newskg reads {ITEMS_VERSION})")
    return head


def read_items(path: Path) -> Iterator[Item]:
    """The items of a newskg items file (its header is checked, then skipped)."""
    read_items_header(path)
    with _open_text(path) as stream:
        stream.readline()
        for lineno, line in enumerate(stream, start=2):
            if not line.strip():
                continue
            try:
                yield Item.from_json(json.loads(line))
            except (json.JSONDecodeError, TypeError, ValueError) as exc:
                raise ItemsError(f"{path}:{lineno}: not an item ({exc})") from None
