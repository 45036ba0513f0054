"""Trace: the nodes the build mints under another node's IRI (`...#wikidata`, `...#role-1`,
`graph/corpus#linking`), made readable.

A browser never sends the part after `#`, so a link to a hash node opens its parent's page. Every
parent page therefore shows its hash nodes inline, each in an element whose id is the fragment
(the browser scrolls to it); the few an article holds by the hundred (sentences, roles, time
values) are served at their own address, `/parent?part=fragment`, and a line of script on every
page sends a fragment the page does not show there. The Wikidata link decision gets its own view:
the outcome, confidence, reason and the runner-up it beat, so "why this item?" has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Kind
from ..namespaces import KG
from . import Site
from .pages import Statement, Term, _statements, select, sparql_iri

_WIKIDATA = "http://www.wikidata.org/entity/"


@dataclass(frozen=True)
class Candidate:
    """One Wikidata item the linker weighed, with its scores."""

    iri: str
    rank: int
    qid: str
    label: str
    score: float
    scores: dict[str, float]
    matched: str


@dataclass
class LinkDecision:
    """What the linker decided about one entity, and why."""

    iri: str  # the decision's own node (entity#wikidata)
    outcome: str  # Linked, NotLinked
    confidence: float | None
    reason: str
    target: str | None
    target_label: str | None
    replaces: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def fragment(self) -> str:
        return self.iri.rsplit("#", 1)[-1]

    @property
    def qid(self) -> str | None:
        return self.target[len(_WIKIDATA) :] if self.target and self.target.startswith(_WIKIDATA) else None

    @property
    def runner_up(self) -> Candidate | None:
        """The best candidate that is not the chosen item (what the decision was closest to instead)."""
        return next((c for c in self.candidates if c.iri and c.qid != self.qid), None)


_SCORES = {
    "nameScore": "name",
    "typeScore": "type",
    "popularityScore": "popularity",
    "contextScore": "context",
}


def link_decision(site: Site, entity: str) -> LinkDecision | None:
    """The entity's Wikidata link decision with its candidates, or None when the linker left no record."""
    rows = select(
        site,
        f"""SELECT ?link ?outcome ?confidence ?reason ?target ?tlabel ?old WHERE {{
              {sparql_iri(entity)} kg:wikidataLink ?link .
              OPTIONAL {{ ?link kg:linkOutcome ?outcome }}
              OPTIONAL {{ ?link kg:confidence ?confidence }}
              OPTIONAL {{ ?link kg:linkReason ?reason }}
              OPTIONAL {{ ?link kg:linkTarget ?target }}
              OPTIONAL {{ ?link kg:wikidataLabel ?tlabel }}
              OPTIONAL {{ ?link kg:replacesEntity ?old }}
            }} LIMIT 100""",
    )
    if not rows:
        return None
    first = rows[0]

    def value(name: str) -> str | None:
        return first[name].value if name in first else None

    confidence = value("confidence")
    decision = LinkDecision(
        iri=first["link"].value,
        outcome=(value("outcome") or str(KG.NotLinked)).rsplit("#", 1)[-1],
        confidence=float(confidence) if confidence is not None else None,
        reason=value("reason") or "",
        target=value("target"),
        target_label=value("tlabel"),
        replaces=sorted({row["old"].value for row in rows if "old" in row}),
    )
    candidates = select(
        site,
        f"""SELECT ?c ?rank ?item ?label ?score ?matched ?nameScore ?typeScore ?popularityScore ?contextScore
            WHERE {{
              {sparql_iri(decision.iri)} kg:candidate ?c .
              ?c kg:candidateItem ?item .
              OPTIONAL {{ ?c kg:rank ?rank }} OPTIONAL {{ ?c rdfs:label ?label }}
              OPTIONAL {{ ?c kg:score ?score }} OPTIONAL {{ ?c kg:matchedName ?matched }}
              OPTIONAL {{ ?c kg:nameScore ?nameScore }} OPTIONAL {{ ?c kg:typeScore ?typeScore }}
              OPTIONAL {{ ?c kg:popularityScore ?popularityScore }} OPTIONAL {{ ?c kg:contextScore ?contextScore }}
            }} ORDER BY ?rank LIMIT 50""",
    )
    for row in candidates:
        item = row["item"].value
        decision.candidates.append(
            Candidate(
                iri=row["c"].value,
                rank=int(row["rank"].value) if "rank" in row else 0,
                qid=item[len(_WIKIDATA) :] if item.startswith(_WIKIDATA) else item,
                label=row["label"].value if "label" in row else item,
                score=float(row["score"].value) if "score" in row else 0.0,
                scores={name: float(row[key].value) for key, name in _SCORES.items() if key in row},
                matched=row["matched"].value if "matched" in row else "",
            )
        )
    decision.candidates.sort(key=lambda c: c.rank)
    return decision


@dataclass
class Part:
    """A hash node shown inside its parent's page: its fragment (the element's id) and statements."""

    iri: str
    label: str
    statements: list[Statement]

    @property
    def fragment(self) -> str:
        return self.iri.rsplit("#", 1)[-1]


def parts(site: Site, iri: str, skip_prefixes: tuple[str, ...] = ()) -> list[Part]:
    """The hash nodes of `iri` that it points at (entity#wikidata, event#role-1, ...), with their statements.

    Found by following the parent's own statements and one more step (a link decision's candidates),
    never by scanning the store for IRIs that start with the parent's.
    """
    prefix = iri + "#"
    rows = select(
        site,
        f"""SELECT DISTINCT ?part ?p ?o (SAMPLE(?l) AS ?label) WHERE {{
              {{ {sparql_iri(iri)} ?p0 ?part }} UNION {{ {sparql_iri(iri)} ?p0 ?mid . ?mid ?p1 ?part
                FILTER (STRSTARTS(STR(?mid), {_literal(prefix)})) }}
              FILTER (isIRI(?part) && STRSTARTS(STR(?part), {_literal(prefix)}))
              ?part ?p ?o .
              OPTIONAL {{ ?o rdfs:label ?l }}
            }} GROUP BY ?part ?p ?o LIMIT 3000""",
    )
    grouped: dict[str, list[dict[str, Term]]] = {}
    for row in rows:
        part = row["part"].value
        if any(part[len(prefix) :].startswith(skip) for skip in skip_prefixes):
            continue
        grouped.setdefault(part, []).append(row)
    out = []
    for part, part_rows in sorted(grouped.items(), key=lambda item: _natural(item[0])):
        statements = _statements(part_rows)
        labels = [v.value for s in statements if s.prop.endswith("#label") for v, _ in s.values]
        out.append(Part(part, labels[0] if labels else "#" + part[len(prefix) :], statements))
    return out


def _natural(text: str) -> tuple:
    """Sort key that puts role-2 before role-10."""
    import re

    return tuple(int(piece) if piece.isdigit() else piece for piece in re.split(r"(\d+)", text))


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class RunFigure:
    """A count that says what a run did (entities made, links by outcome)."""

    label: str
    count: int
    href: str | None = None


@dataclass
class Run:
    """A build run recorded in a graph (resolution, linking): its statements and what it made."""

    iri: str
    label: str
    statements: list[Statement]
    figures: list[RunFigure]

    @property
    def fragment(self) -> str:
        return self.iri.rsplit("#", 1)[-1]


def run_figures(site: Site, run: str, run_types: list[str]) -> list[RunFigure]:
    """What a corpus run produced: entities per class for resolution, decisions per outcome for linking."""
    figures: list[RunFigure] = []
    if str(KG.Resolution) in run_types:
        rows = select(
            site,
            f"""SELECT ?t (COUNT(?x) AS ?n) WHERE {{
                  VALUES ?t {{ kg:Person kg:Organization kg:Place kg:Event kg:ReportedEvent }}
                  ?x a ?t ; prov:wasGeneratedBy {sparql_iri(run)} }} GROUP BY ?t ORDER BY ?t""",
        )
        browse = {Kind.PERSON: "people", Kind.ORGANIZATION: "organisations", Kind.PLACE: "places", Kind.EVENT: "events",
                  "ReportedEvent": "events"}
        for row in rows:
            name = row["t"].value.rsplit("#", 1)[-1]
            label = {"ReportedEvent": "reported events", Kind.EVENT: "named events"}.get(name, name.lower())
            figures.append(RunFigure(label, int(row["n"].value), f"/browse/{browse[name]}"))
    if str(KG.Linking) in run_types:
        rows = select(
            site,
            f"""SELECT ?outcome (COUNT(?x) AS ?n) WHERE {{
                  ?x a kg:WikidataLink ; prov:wasGeneratedBy {sparql_iri(run)} ; kg:linkOutcome ?outcome
                }} GROUP BY ?outcome ORDER BY ?outcome""",
        )
        for row in rows:
            outcome = {"Linked": "linked", "NotLinked": "left unlinked"}.get(
                row["outcome"].value.rsplit("#", 1)[-1], row["outcome"].value
            )
            figures.append(RunFigure(f"entities {outcome}", int(row["n"].value)))
        corrected = select(
            site,
            f"""SELECT (COUNT(?x) AS ?n) WHERE {{ ?x a kg:TypeCorrection ; prov:wasGeneratedBy {sparql_iri(run)} }}""",
        )
        if corrected and int(corrected[0]["n"].value):
            figures.append(RunFigure("class corrections", int(corrected[0]["n"].value)))
    return figures
