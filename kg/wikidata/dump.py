"""Reading Wikidata's official JSON dump (`latest-all.json.bz2`, `.gz` or plain), one entity at a time.

The dump is one JSON array with an entity per line (`[`, then `{...},` lines, then `]`); we read it
line by line from the compressed stream, so memory stays flat whatever its size. `entity_item`
turns one entity (also what the live API's wbgetentities returns) into an `Item`.
"""

from __future__ import annotations

import bz2
import gzip
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from .classes import ClassFilter
from .items import Item, popularity_from_sitelinks

#: Statements we keep as context, beside country (P17, P27 for people): party, employer, member of,
#: team, parent organisation, headquarters, located in, part of, location.
RELATED_PROPERTIES = ("P102", "P108", "P463", "P54", "P749", "P159", "P131", "P361", "P276")
_LABEL_LANGUAGES = ("en", "mul", "en-gb", "en-ca", "en-us")
_EARTH = "http://www.wikidata.org/entity/Q2"


class DumpError(ValueError):
    """The dump cannot be read; the message names the file and line."""


def open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """The decompressed stream and the raw file under it (whose position tells progress)."""
    raw = path.open("rb")
    head = raw.read(3)
    raw.seek(0)
    if path.suffix == ".bz2" or head == b"BZh":
        return bz2.BZ2File(raw), raw  # reads multi-stream files (lbzip2, pbzip2) too
    if path.suffix == ".gz" or head[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw), raw  # type: ignore[return-value]
    return raw, raw


def _statements(claims: dict[str, Any], prop: str) -> list[Any]:
    """Values of a property's statements with a value, preferred rank first, deprecated left out."""
    found = []
    for st in claims.get(prop, ()):
        rank = st.get("rank", "normal")
        snak = st.get("mainsnak", {})
        if rank == "deprecated" or snak.get("snaktype") != "value" or "datavalue" not in snak:
            continue
        found.append((rank != "preferred", snak["datavalue"].get("value")))
    found.sort(key=lambda x: x[0])  # stable: statement order within a rank
    return [v for _, v in found]


def _item_ids(claims: dict[str, Any], prop: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in _statements(claims, prop):
        if isinstance(value, dict):
            qid = value.get("id") or (f"Q{value['numeric-id']}" if "numeric-id" in value else None)
            if qid and qid.startswith("Q") and qid not in out:
                out.append(qid)
    return tuple(out)


def wikidata_time(value: dict[str, Any]) -> str | None:
    """A Wikidata time value as ISO text to its precision: "1984-01-08", "1984-01", "1984" (None before year 1)."""
    text = value.get("time", "")
    precision = value.get("precision", 11)
    if not text or text[0] not in "+-" or precision < 9:
        return None
    sign, rest = text[0], text[1:]
    date = rest.split("T", 1)[0]
    year, month, day = [*date.split("-"), "00", "00"][:3]
    if sign == "-" or int(year) == 0:
        return None
    year = f"{int(year):04d}"
    if precision == 9 or month == "00":
        return year
    if precision == 10 or day == "00":
        return f"{year}-{month}"
    return f"{year}-{month}-{day}"


def _text(table: dict[str, Any]) -> str:
    for lang in _LABEL_LANGUAGES:
        entry = table.get(lang)
        if entry and entry.get("value"):
            return str(entry["value"])
    return ""


def entity_item(
    entity: dict[str, Any], classes: ClassFilter, *, gate: bool = True, source: str = "dump"
) -> Item | None:
    """The item for one dump (or wbgetentities) entity, or None if it is not an item we keep.

    Items none of whose P31 classes the filter knows are left out (`gate`), or kept with an unknown
    class (`gate=False`, for the live API: the linker weighs an unknown class, it does not drop it).
    """
    if entity.get("type") != "item" or "missing" in entity:
        return None
    qid = entity.get("id", "")
    label = _text(entity.get("labels", {}))
    if not label or not qid.startswith("Q"):
        return None
    claims = entity.get("claims") or {}
    p31 = _item_ids(claims, "P31")
    kind = classes.kind_of(p31)
    if gate and kind is None:
        return None
    aliases: list[str] = []
    alias_table = entity.get("aliases", {})
    for lang in ("en", "mul"):
        for entry in alias_table.get(lang, ()):
            value = entry.get("value")
            if value and value != label and value not in aliases:
                aliases.append(value)
    coordinates = None
    for value in _statements(claims, "P625"):
        if isinstance(value, dict) and value.get("globe", _EARTH) == _EARTH and value.get("latitude") is not None:
            coordinates = (float(value["latitude"]), float(value["longitude"]))
            break
    people = kind == "Person" or "Q5" in p31
    countries = _item_ids(claims, "P27" if people else "P17")
    related: list[str] = []
    for prop in RELATED_PROPERTIES:
        related += [q for q in _item_ids(claims, prop) if q not in related and q not in countries]
    dates = {}
    for prop, name in (("P569", "born"), ("P570", "died")):
        for value in _statements(claims, prop):
            if isinstance(value, dict) and (iso := wikidata_time(value)):
                dates[name] = iso
                break
    sitelinks = len(entity.get("sitelinks") or {})
    return Item(
        qid=qid,
        label=label,
        aliases=tuple(aliases),
        description=_text(entity.get("descriptions", {})),
        kind=kind,
        classes=p31,
        sitelinks=sitelinks,
        popularity=popularity_from_sitelinks(sitelinks),
        popularity_basis="sitelinks",
        coordinates=coordinates,
        countries=countries,
        related=tuple(related),
        born=dates.get("born") if people else None,
        died=dates.get("died") if people else None,
        sources=(source,),
    )


def _entities(path: Path, progress: Callable[[int], None] | None, need: bytes | None) -> Iterator[dict[str, Any]]:
    """Parsed entities of a dump, line by line; lines without `need` in them are not even parsed."""
    stream, raw = open_binary(path)
    done = 0
    try:
        for lineno, line in enumerate(stream, start=1):
            if progress is not None and lineno % 2000 == 0:
                pos = raw.tell()
                progress(pos - done)
                done = pos
            text = line.strip()
            if not text or text in (b"[", b"]"):
                continue
            if text.endswith(b","):
                text = text[:-1]
            if not (text.startswith(b"{") and text.endswith(b"}")):
                raise DumpError(f"{path}:{lineno}: not a Wikidata JSON entity (a line must hold one whole entity)")
            if need is not None and need not in text:
                continue
            try:
                entity = json.loads(text)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise DumpError(f"{path}:{lineno}: not a Wikidata JSON entity ({exc})") from None
            if not isinstance(entity, dict):
                raise DumpError(f"{path}:{lineno}: expected one entity (a JSON object) per line")
            yield entity
    except (OSError, EOFError) as exc:
        raise DumpError(f"{path}: cannot read the dump ({exc})") from None
    finally:
        if progress is not None:
            progress(raw.tell() - done)
        stream.close()
        raw.close()


def read_dump(
    path: Path, classes: ClassFilter | None = None, *, progress: Callable[[int], None] | None = None
) -> Iterator[Item]:
    """Items of a Wikidata JSON dump that pass the class filter (default: `ClassFilter.default()`).

    `progress` is called with the number of (compressed) bytes read since the last call.
    """
    classes = classes or ClassFilter.default()
    for entity in _entities(path, progress, b'"P31"'):
        item = entity_item(entity, classes)
        if item is not None:
            yield item


def subclass_edges(path: Path, *, progress: Callable[[int], None] | None = None) -> dict[str, tuple[str, ...]]:
    """Every "subclass of" (P279) edge in a dump, child -> parents: a first pass for `ClassFilter.with_subclasses`."""
    edges: dict[str, tuple[str, ...]] = {}
    for entity in _entities(path, progress, b'"P279"'):
        parents = _item_ids(entity.get("claims") or {}, "P279")
        if parents and entity.get("id", "").startswith("Q"):
            edges[entity["id"]] = parents
    return edges


def dump_size(path: Path) -> int:
    return path.stat().st_size
