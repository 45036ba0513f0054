"""Gold benchmarks: ELEVANT JSON Lines and NIF 2.1 Turtle, read into one shape.

A benchmark is documents (text, evaluation span, labels); a label is a character span with a
Wikidata QID, `NIL` (not in Wikidata) or `NO_MAPPING` (the original annotation had no QID), the
coarse types ELEVANT gives it, and its flags. What counts for scoring is decided in `score.py`;
this module only reads, keeping every label, so the rules stay in one place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..model import Kind

#: What a label's entity_id says when it names no Wikidata item.
NIL = "NIL"
NO_MAPPING = "NO_MAPPING"

#: ELEVANT's coarse type QIDs (`whitelist_types.tsv`) that correspond to our entity kinds.
#: Countries and cities carry both Geographic Entity and Organization: either kind is right for them.
KIND_OF_TYPE = {
    "Q215627": Kind.PERSON,
    "Q43229": Kind.ORGANIZATION,
    "Q27096213": Kind.PLACE,
    "Q1656682": Kind.EVENT,
}
#: Types ELEVANT gives to what are not named things at all: never rewarded, never penalised.
NON_ENTITY_TYPES = frozenset({"QUANTITY", "DATETIME"})

_WIKIDATA_ENTITY = re.compile(r"^https?://(?:www\.)?wikidata\.org/(?:entity|wiki)/(Q\d+)$")
#: News-Fair titles start with the publication date: "20180306 - Rowan Pelling answers ...".
_DATED_TITLE = re.compile(r"^(\d{4})(\d{2})(\d{2}) - (.*)$", re.S)


class GoldError(ValueError):
    """The gold file cannot be read; the message names the file and, where it can, the line."""


@dataclass(frozen=True)
class GoldLabel:
    """One annotated span."""

    id: int
    begin: int
    end: int
    entity: str  # a QID, NIL or NO_MAPPING
    types: frozenset[str] = frozenset()  # ELEVANT's coarse type QIDs, QUANTITY, DATETIME; empty when unknown
    optional: bool = False
    coref: bool = False
    desc: bool = False
    parent: int | None = None
    children: tuple[int, ...] = ()

    @property
    def qid(self) -> str | None:
        return self.entity if self.entity.startswith("Q") and self.entity[1:].isdigit() else None

    @property
    def kinds(self) -> frozenset[str]:
        """Our entity kinds its types allow (empty when its types are unknown or none of ours)."""
        return frozenset(KIND_OF_TYPE[t] for t in self.types if t in KIND_OF_TYPE)


@dataclass(frozen=True)
class GoldDocument:
    id: str
    text: str
    labels: tuple[GoldLabel, ...]
    evaluation_span: tuple[int, int]
    title: str | None = None
    published: date | None = None

    def inside(self, begin: int, end: int) -> bool:
        return self.evaluation_span[0] <= begin and end <= self.evaluation_span[1]


@dataclass
class Benchmark:
    name: str
    documents: list[GoldDocument] = field(default_factory=list)


def read_gold(path: Path) -> Benchmark:
    """A benchmark from an ELEVANT `.jsonl` file or a NIF `.ttl` file (chosen by extension)."""
    if not path.is_file():
        raise GoldError(f"{path}: no such gold file")
    name = path.name.removesuffix(".jsonl").removesuffix(".ttl").removesuffix(".benchmark")
    if path.suffix == ".jsonl":
        return Benchmark(name, list(read_elevant(path)))
    if path.suffix in {".ttl", ".nif"}:
        return Benchmark(name, read_nif(path))
    raise GoldError(f"{path}: a gold benchmark is ELEVANT JSON Lines (.jsonl) or NIF 2.1 Turtle (.ttl)")


def _entity(raw: object) -> str:
    value = str(raw)
    if value == "<NIL>":
        return NIL
    if value == "<NO_MAPPING>":
        return NO_MAPPING
    return value


def _label(raw: dict, where: str) -> GoldLabel:
    try:
        begin, end = (int(x) for x in raw["span"])
        types = raw.get("type") or ""
        return GoldLabel(
            id=int(raw["id"]),
            begin=begin,
            end=end,
            entity=_entity(raw["entity_id"]),
            types=frozenset(t for t in str(types).split("|") if t and t != "OTHER"),
            optional=bool(raw.get("optional")),
            coref=bool(raw.get("coref")),
            desc=bool(raw.get("desc")),
            parent=raw.get("parent"),
            children=tuple(raw.get("children") or ()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GoldError(f"{where}: a label needs id, span [begin, end] and entity_id ({exc})") from None


def _title_and_date(title: str | None) -> tuple[str | None, date | None]:
    m = _DATED_TITLE.match(title or "")
    if not m:
        return title, None
    try:
        return m.group(4), date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return title, None


def read_elevant(path: Path) -> list[GoldDocument]:
    """ELEVANT's benchmark format: one JSON document a line (`id`, `text`, `evaluation_span`, `labels`)."""
    documents = []
    with path.open(encoding="utf-8") as stream:
        for number, line in enumerate(stream, 1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                raw = json.loads(line)
                text = raw["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise GoldError(f"{where}: not an ELEVANT document ({exc})") from None
            title, published = _title_and_date(raw.get("title"))
            span = raw.get("evaluation_span") or [0, len(text)]
            documents.append(
                GoldDocument(
                    id=str(raw.get("id", number)),
                    text=text,
                    labels=tuple(_label(label, where) for label in raw.get("labels", ())),
                    evaluation_span=(int(span[0]), int(span[1])),
                    title=title,
                    published=published,
                )
            )
    return documents


_NIF_QUERY = """
PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
PREFIX itsrdf: <http://www.w3.org/2005/11/its/rdf#>
SELECT ?context ?text ?phrase ?begin ?end ?ref WHERE {
  ?context nif:isString ?text .
  OPTIONAL {
    ?phrase nif:referenceContext ?context ; nif:beginIndex ?begin ; nif:endIndex ?end .
    OPTIONAL { ?phrase itsrdf:taIdentRef ?ref }
  }
}
"""


def read_nif(path: Path) -> list[GoldDocument]:
    """NIF 2.1 (as GERBIL's datasets): a `nif:Context` per document, phrases with `itsrdf:taIdentRef`.

    A reference to a Wikidata entity is its QID; a phrase without one, or with a reference into
    `notInWiki` namespaces, is NIL; a reference to anything else (DBpedia, Wikipedia) has no QID
    we can judge, so it is NO_MAPPING: scored for spans, not for links. NIF carries no types.
    """
    import rdflib

    graph = rdflib.Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as exc:  # rdflib raises many kinds; all mean the same to a user
        raise GoldError(f"{path}: not NIF Turtle ({exc})") from None
    texts: dict[str, str] = {}
    phrases: dict[str, dict[str, tuple[int, int, str]]] = {}
    for row in graph.query(_NIF_QUERY):
        context = str(row.context)
        texts[context] = str(row.text)
        if row.phrase is None:
            continue
        ref = str(row.ref) if row.ref is not None else ""
        found = _WIKIDATA_ENTITY.match(ref)
        entity = found.group(1) if found else (NIL if not ref or "notInWiki" in ref else NO_MAPPING)
        phrases.setdefault(context, {})[str(row.phrase)] = (int(row.begin), int(row.end), entity)
    documents = []
    for context in sorted(texts):
        spans = sorted(phrases.get(context, {}).values())
        labels = tuple(GoldLabel(i, b, e, entity) for i, (b, e, entity) in enumerate(spans))
        text = texts[context]
        documents.append(GoldDocument(context, text, labels, (0, len(text))))
    return documents
