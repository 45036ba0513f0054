"""Records read back from the store: the mentions and event mentions the corpus stage works from.

The corpus stage needs, of every article graph, only its named mentions (for resolution) and its
event mentions with their roles and times (for event merging). A build hands them over in memory as
it writes; `kg link` and a build that finishes an interrupted corpus stage read them back here, with
the same records as the result, so the two paths cannot disagree on what a mention is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from ..article.events import ROLE_OF_IRI
from ..corpus.merge import event_record
from ..model import (
    DAY,
    MONTH,
    MONTH_DAY,
    YEAR,
    EventRecord,
    Filler,
    MentionRecord,
    Point,
    TimeValue,
    point_from_lexical,
)
from ..names import group_name
from .store import Store


def mention_records(store: Store) -> Iterator[MentionRecord]:
    """Every entity mention with its in-article resolution, for corpus-wide resolution."""
    rows = store.query(
        """SELECT ?hash ?m ?anchor ?name ?class ?label ?title ?region WHERE {
             VALUES ?mention { kg:EntityMention kg:NationalityMention }
             ?m a ?mention ; nif:referenceContext ?a ; nif:anchorOf ?anchor ;
                kg:resolvedName ?name ; kg:resolvedClass ?class ; kg:nerLabel ?ner .
             ?a kg:sha256 ?hash .
             OPTIONAL { ?m kg:label ?fixed }
             OPTIONAL { ?m kg:titleBefore ?title }
             OPTIONAL { ?m kg:regionAfter ?region }
             BIND(COALESCE(?fixed, ?ner) AS ?label)
           }"""
    )
    for row in rows:
        yield MentionRecord(
            digest=row["hash"].value,
            iri=row["m"].value,
            text=row["anchor"].value,
            name=row["name"].value,
            kind=row["class"].value.rsplit("#", 1)[-1],
            label=row["label"].value,
            title=row["title"].value if row["title"] is not None else None,
            region=row["region"].value if row["region"] is not None else None,
        )


_GRANULARITY = {
    "http://www.w3.org/2001/XMLSchema#date": DAY,
    "http://www.w3.org/2001/XMLSchema#gYearMonth": MONTH,
    "http://www.w3.org/2001/XMLSchema#gYear": YEAR,
    "http://www.w3.org/2001/XMLSchema#gMonthDay": MONTH_DAY,
}
_POSITIONS = "time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear|kg:inXSDgMonthDay"
_VALUE_KINDS = {"EntityMention": "entity", "GroupMention": "group", "TimeMention": "time", "ArgumentPhrase": "phrase"}


def _point(term: object) -> Point | None:
    if term is None:
        return None
    granularity = _GRANULARITY.get(term.datatype.value)  # type: ignore[attr-defined]
    return point_from_lexical(term.value, granularity) if granularity else None  # type: ignore[attr-defined]


def _published(term: object) -> date | None:
    if term is None:
        return None
    return date.fromisoformat(term.value[:10])  # type: ignore[attr-defined]


def read_event_records(store: Store) -> list[EventRecord]:
    """Every stored event mention with its roles, times and reports, for `merge_events`.

    Five flat queries joined here: one query with nested OPTIONALs is a hundred times slower in Oxigraph.
    """
    base: dict[str, dict] = {}
    for row in store.query(
        """SELECT ?em ?hash ?type ?begin ?conf ?ana ?pub WHERE {
             ?em a kg:EventMention ; nif:referenceContext ?a ; kg:eventType ?type ;
                 nif:beginIndex ?begin ; kg:confidence ?conf .
             ?a kg:sha256 ?hash .
             OPTIONAL { ?em kg:anaphoric ?ana }
             OPTIONAL { ?a schema:datePublished ?pub } }"""
    ):
        base[row["em"].value] = {
            "iri": row["em"].value,
            "digest": row["hash"].value,
            "type": row["type"].value,
            "begin": int(row["begin"].value),
            "confidence": float(row["conf"].value),
            "anaphoric": row["ana"] is not None and row["ana"].value == "true",
            "published": _published(row["pub"]),
            "fillers": [],
            "reports": [],
            "time": None,
        }
    kinds: dict[str, tuple[str, str]] = {}
    for row in store.query(
        """SELECT DISTINCT ?value ?kind ?name ?text ?nationality WHERE {
             ?em a kg:EventMention ; kg:role/rdf:value ?value . ?value a ?kind .
             OPTIONAL { ?value kg:resolvedName ?name } OPTIONAL { ?value nif:anchorOf ?text }
             BIND(EXISTS { ?value a kg:NationalityMention } AS ?nationality) }"""
    ):
        kind = _VALUE_KINDS.get(row["kind"].value.rsplit("#", 1)[-1])
        if kind and row["nationality"].value == "true":
            if kind == "group":  # its resolved name is the country's; to events it is the group
                kinds[row["value"].value] = (kind, group_name(row["text"].value))
        elif kind:
            text = row["name"] if row["name"] is not None else row["text"]
            kinds[row["value"].value] = (kind, text.value if text is not None else "")
    times: dict[str, TimeValue] = {}
    for row in store.query(
        f"""SELECT ?value ?pos WHERE {{ ?em a kg:EventMention ; kg:role/rdf:value ?value .
              ?value kg:timeValue ?tv . ?tv {_POSITIONS} ?pos }}"""
    ):
        if (point := _point(row["pos"])) is not None:
            times[row["value"].value] = TimeValue(point)
    for row in store.query(
        f"""SELECT ?value ?bpos ?epos WHERE {{ ?em a kg:EventMention ; kg:role/rdf:value ?value .
              ?value kg:timeValue ?tv . ?tv time:hasBeginning ?b ; time:hasEnd ?e .
              ?b {_POSITIONS} ?bpos . ?e {_POSITIONS} ?epos }}"""
    ):
        begin, end = _point(row["bpos"]), _point(row["epos"])
        if begin is not None and end is not None:
            times[row["value"].value] = TimeValue(begin, end)
    for row in store.query(
        """SELECT ?em ?rtype ?value ?inf WHERE { ?em a kg:EventMention ; kg:role ?role .
             ?role sem:roleType ?rtype ; rdf:value ?value . OPTIONAL { ?role kg:inferred ?inf } }"""
    ):
        record = base.get(row["em"].value)
        role = ROLE_OF_IRI.get(row["rtype"].value)
        value = row["value"].value
        if record is None or role is None or value not in kinds:
            continue
        kind, text = kinds[value]
        inferred = row["inf"] is not None and row["inf"].value == "true"
        record["fillers"].append(Filler(role, value, kind, text, inferred))
    for row in store.query("SELECT ?em ?other WHERE { ?em a kg:EventMention ; kg:reports ?other }"):
        if row["em"].value in base:
            base[row["em"].value]["reports"].append(row["other"].value)
    return [event_record(r, times) for r in base.values()]
