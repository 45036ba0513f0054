"""Events: who did what to whom, where and when, read from trigger words and the dependency parse.

The event taxonomy and its trigger lexicon are data (ontology/events.ttl, plus any Turtle file the
`event_lexicon` setting names), read once by `load_taxonomy`. `extract_events` is a pure function
of a parsed article body, its resolved mentions and its resolved time expressions: it finds the
trigger words ("defected", "surgery", "fire at"), leaves out what did not happen or is not one
event (negated, hypothetical, generic, aggregate, headline), and fills roles from the parse with
the article's own mentions: agent, patient, recipient, place, origin, destination, path, time,
instrument, context. Merging the mentions of one real-world event across articles is `kg.corpus.merge`.

Precision comes first: a wrong event is worse than a missing one. A statement needs a named
speaker; an event needs a named argument, a place, a date, or a definite reference ("the
defection") that other reports can anchor.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy
from spacy import symbols as spacy_symbols
from spacy.attrs import LEMMA, LOWER, POS
from spacy.strings import hash_string

from ..model import Argument, EventMention, Kind, Mention, TimeExpression
from ..namespaces import KG

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

#: Roles, in the order they are written; each is a sem:RoleType in the ontology (kg:AgentRole...).
ROLES = ("agent", "patient", "recipient", "place", "origin", "destination", "path", "time", "instrument", "context")
ROLE_IRI = {name: str(KG[f"{name.capitalize()}Role"]) for name in ROLES}
ROLE_OF_IRI = {iri: name for name, iri in ROLE_IRI.items()}
PARTICIPANT_ROLES = frozenset({"agent", "patient", "recipient"})
PLACE_ROLES = frozenset({"place", "origin", "destination", "path"})

ROOT_TYPE = str(KG.ReportedEvent)
DEFAULT_WINDOW_DAYS = 14

#: Governors under which an event is not asserted to have happened: tried to flee, requested a
#: meeting, prevent violations, accused of kidnapping, is going to die.
NON_FACTIVE = frozenset(
    {
        "try", "attempt", "want", "plan", "seek", "hope", "threaten", "intend", "aim", "prepare", "refuse", "fail",
        "expect", "propose", "request", "urge", "ask", "entice", "prevent", "avoid", "deny", "allege", "consider",
        "vow", "pledge", "promise", "demand", "wish", "fear", "plot", "accuse", "claim", "need", "require", "go",
        "risk", "would-be", "call", "suspect", "rumor", "rumour", "dream", "imagine", "deter", "stop", "forbid",
        "ban", "oppose", "reject", "block", "discuss", "debate", "investigate", "probe", "speculate",
    }
)  # fmt: skip
MODALS = frozenset(
    {"could", "would", "might", "may", "should", "must", "will", "shall", "can", "'d", "'ll", "wo", "ca"}
)
#: Noun triggers carried by a verb: "opened fire" (the subject acts), "underwent surgery" (the subject undergoes).
LIGHT_VERBS_AGENT = frozenset(
    {"make", "carry", "conduct", "launch", "stage", "open", "hold", "perform", "mount", "begin", "start", "exchange"}
)
LIGHT_VERBS_PATIENT = frozenset({"undergo", "have", "receive", "suffer", "get"})
#: Prepositions that attach a place, and the role they give it.
PLACE_PREPOSITIONS = {
    "at": "place", "in": "place", "near": "place", "on": "place", "within": "place", "inside": "place",
    "outside": "place", "around": "place", "to": "destination", "into": "destination", "toward": "destination",
    "towards": "destination", "onto": "destination", "from": "origin", "across": "path", "through": "path",
    "over": "path", "along": "path",
}  # fmt: skip
#: Prepositions that give a date the event's time; "since 1953", "until May" relate to it but are not it.
TIME_PREPOSITIONS = frozenset({"on", "in", "at", "during", "from", "between", "of", "around", "about", None})
GENERIC_DETERMINERS = frozenset({"all", "any", "every", "each", "most", "many", "such", "no", "some", "more"})
NON_FACTUAL_MODIFIERS = frozenset(
    {"future", "possible", "potential", "similar", "further", "alleged", "planned", "proposed", "attempted", "failed"}
)
NON_FACTUAL_ADVERBS = frozenset({"allegedly", "supposedly", "purportedly", "possibly", "perhaps", "maybe", "probably"})
AGGREGATE_WORDS = frozenset({"thousands", "hundreds", "dozens", "millions", "many", "most", "several", "numerous"})
#: A count from which on is a statistic, not one event: "two surgeries" is an event, "56,000 deaths" is not.
STATISTIC = 10
DEFINITE = frozenset({"the", "this", "that", "these", "those"})
RELATIVE_PRONOUNS = frozenset({"who", "that", "which", "whom"})
#: A dateline at the start of a body: "SEOUL, South Korea —", "LONDON (Reuters) -".
_DATELINE = re.compile(r"\A\s*[A-Z][A-Z.'’ -]{2,}(?:,\s*[A-Z][\w.'’ -]*?)?\s*(?:\([^)]{1,30}\)\s*)?[—–-]{1,2}\s")
#: Organisations that are also sites: a hospital, a university, an airport, an embassy.
_FACILITY = re.compile(
    r"(?i)\b(?:hospital|medical cent(?:er|re)|clinic|infirmary|university|college|school|airport|air base|"
    r"base|embassy|consulate|prison|jail|station|port|stadium|arena|museum|palace|temple|church|mosque|cathedral)\b"
)
_NOUNS = frozenset({"NOUN", "PROPN"})
_VERBS = frozenset({"VERB", "AUX"})


class LexiconError(ValueError):
    """The event lexicon cannot be read: a missing file, bad Turtle, or a malformed trigger pattern."""


# -- the taxonomy and its lexicon (data) ----------------------------------------------------


@dataclass(frozen=True)
class Trigger:
    """One lexicon entry: a word, and the conditions under which it reports an event of a type."""

    word: str
    type: str
    entry: str
    pos: str | None = None
    children: frozenset[str] = frozenset()
    child_deps: frozenset[str] = frozenset()
    heads: frozenset[str] = frozenset()
    own_deps: frozenset[str] = frozenset()
    without: frozenset[str] = frozenset()
    without_deps: frozenset[str] = frozenset()

    @property
    def specificity(self) -> int:
        return bool(self.pos) + bool(self.children or self.child_deps) + bool(self.heads or self.own_deps)

    def matches(self, tok: Token) -> bool:
        if self.pos is not None and tok.pos_ != self.pos:
            return False
        if (self.children or self.child_deps) and not any(
            c.lemma_.lower() in self.children or c.lower_ in self.children or c.dep_ in self.child_deps
            for c in tok.children
        ):
            return False
        head = tok.head
        if (self.heads or self.own_deps) and not (
            (head is not tok and head.lemma_.lower() in self.heads) or tok.dep_ in self.own_deps
        ):
            return False
        return not any(c.lemma_.lower() in self.without or c.dep_ in self.without_deps for c in tok.children)


def parse_trigger(entry: str, type_iri: str) -> Trigger:
    """A trigger from its written form: WORD[.POS] [>a|b|:dep] [<c|d|:dep] [!e|f|:dep]."""
    parts = entry.split()
    if not parts:
        raise LexiconError(f"empty trigger pattern for {type_iri}")
    word, _, pos = parts[0].partition(".")
    if pos and pos not in {"VERB", "NOUN"}:
        raise LexiconError(f"trigger pattern {entry!r} of {type_iri}: part of speech must be VERB or NOUN, not {pos!r}")
    if not word or any(c in word for c in "<>!|:"):
        raise LexiconError(f"trigger pattern {entry!r} of {type_iri}: it must start with a word")
    fields: dict[str, tuple[set[str], set[str]]] = {">": (set(), set()), "<": (set(), set()), "!": (set(), set())}
    for part in parts[1:]:
        kind, rest = part[:1], part[1:]
        if kind not in fields or not rest:
            raise LexiconError(
                f"trigger pattern {entry!r} of {type_iri}: {part!r} must be >dependents, <heads or !excluded, "
                "with words or :labels joined by |"
            )
        for item in rest.split("|"):
            if not item or item == ":":
                raise LexiconError(f"trigger pattern {entry!r} of {type_iri}: empty alternative in {part!r}")
            (fields[kind][1] if item.startswith(":") else fields[kind][0]).add(item.lstrip(":").lower())
    return Trigger(
        word=word.lower(),
        type=type_iri,
        entry=entry,
        pos=pos or None,
        children=frozenset(fields[">"][0]),
        child_deps=frozenset(fields[">"][1]),
        heads=frozenset(fields["<"][0]),
        own_deps=frozenset(fields["<"][1]),
        without=frozenset(fields["!"][0]),
        without_deps=frozenset(fields["!"][1]),
    )


@dataclass(frozen=True)
class EventType:
    """An event type of the taxonomy, with what the lexicon says about its roles and merging."""

    iri: str
    label: str
    ancestors: frozenset[str]
    depth: int
    of_role: str = "patient"
    possessive_role: str = "agent"
    object_role: str = "patient"
    subject_role: str = "agent"
    identified_by: str | None = None
    window_days: int = DEFAULT_WINDOW_DAYS
    reports_content: bool = False
    place_from: str | None = None

    @property
    def name(self) -> str:
        return self.iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Taxonomy:
    """Event types (by IRI), the triggers indexed by word, and instrument nouns."""

    types: dict[str, EventType]
    triggers: dict[str, tuple[Trigger, ...]]
    instruments: frozenset[str] = frozenset()
    sources: tuple[str, ...] = field(default=())

    @property
    def word_hashes(self) -> numpy.ndarray:
        """spaCy's hashes of the trigger words, to find candidate tokens in a doc's arrays at C speed."""
        cached = self.__dict__.get("_word_hashes")
        if cached is None:
            cached = numpy.array(sorted({hash_string(w) for w in self.triggers}), dtype="uint64")
            object.__setattr__(self, "_word_hashes", cached)
        return cached

    def compatible(self, a: str, b: str) -> bool:
        """Types that can describe one event: the same, or one a kind of the other (defection, flight)."""
        return a in self.types[b].ancestors or b in self.types[a].ancestors

    def most_specific(self, types: Iterable[str]) -> str:
        return max(types, key=lambda t: (self.types[t].depth, t))

    def family(self, iri: str) -> str:
        """The top-level type under kg:ReportedEvent that `iri` belongs to."""
        t = self.types[iri]
        tops = [a for a in t.ancestors if self.types[a].depth == 1]
        return tops[0] if tops else iri

    def match(self, tok: Token) -> Trigger | None:
        """The most specific lexicon entry the token satisfies, if any."""
        found: list[Trigger] = []
        lemma = tok.lemma_.lower()
        # The lemma, then the word as written: in this order, not a set's (strings iterate in the process's
        # hash-seed order), since of two equally specific triggers the first is kept: the same text must give
        # the same graph in every process (kg build, its spaCy workers, a cluster's workers).
        for key in dict.fromkeys((lemma, tok.lower_)):
            found.extend(self.triggers.get(key, ()))
        best = None
        for trig in found:
            if trig.matches(tok) and (
                best is None
                or (trig.specificity, self.types[trig.type].depth) > (best.specificity, self.types[best.type].depth)
            ):
                best = trig
        return best


def _taxonomy_from_graph(graph, sources: tuple[str, ...]) -> Taxonomy:
    from rdflib import RDFS, Literal, URIRef

    parents: dict[str, set[str]] = {}
    for s, _, o in graph.triples((None, RDFS.subClassOf, None)):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            parents.setdefault(str(s), set()).add(str(o))
    if ROOT_TYPE not in {str(s) for s in graph.subjects()}:
        raise LexiconError(f"no {ROOT_TYPE} in the event ontology ({', '.join(sources)})")

    def ancestors(iri: str, seen: frozenset[str] = frozenset()) -> set[str] | None:
        if iri == ROOT_TYPE:
            return {iri}
        out: set[str] | None = None
        for p in parents.get(iri, ()):
            if p in seen:
                continue
            up = ancestors(p, seen | {iri})
            if up is not None:
                out = (out or set()) | up
        return None if out is None else out | {iri}

    def value(node: URIRef, prop: str) -> object | None:
        got = graph.value(node, KG[prop])
        return got.toPython() if isinstance(got, Literal) else (str(got) if got is not None else None)

    def role(node: URIRef, prop: str, default: str | None) -> str | None:
        got = value(node, prop)
        if got is None:
            return default
        if got not in ROLE_OF_IRI:
            raise LexiconError(f"{node}: kg:{prop} must be one of {', '.join(sorted(ROLE_OF_IRI))}, not {got}")
        return ROLE_OF_IRI[got]  # type: ignore[index]

    types: dict[str, EventType] = {}
    candidates = {str(s) for s in graph.subjects(RDFS.subClassOf, None)} | {ROOT_TYPE}
    for iri in sorted(candidates):
        up = ancestors(iri)
        if up is None:
            continue
        node = URIRef(iri)
        label = graph.value(node, RDFS.label)
        window = value(node, "undatedWindowDays")
        types[iri] = EventType(
            iri=iri,
            label=str(label) if label is not None else iri.rsplit("#", 1)[-1],
            ancestors=frozenset(up),
            depth=len(up) - 1,
            of_role=role(node, "ofRole", "patient") or "patient",
            possessive_role=role(node, "possessiveRole", "agent") or "agent",
            object_role=role(node, "objectRole", "patient") or "patient",
            subject_role=role(node, "subjectRole", "agent") or "agent",
            identified_by=role(node, "identifiedBy", None),
            window_days=int(window) if window is not None else DEFAULT_WINDOW_DAYS,  # type: ignore[call-overload]
            reports_content=bool(value(node, "reportsContent")),
            place_from=value(node, "placeFromDestinationOf"),  # type: ignore[arg-type]
        )
    for t in types.values():
        if t.place_from is not None and t.place_from not in types:
            raise LexiconError(f"{t.iri}: kg:placeFromDestinationOf names {t.place_from}, which is not an event type")

    triggers: dict[str, list[Trigger]] = {}
    for iri in types:
        node = URIRef(iri)
        for prop in ("triggerLemma", "triggerPattern"):
            for lit in graph.objects(node, KG[prop]):
                text = str(lit).strip()
                if prop == "triggerLemma" and (not text or " " in text):
                    raise LexiconError(
                        f"{iri}: kg:triggerLemma {text!r} must be one word (use kg:triggerPattern for conditions)"
                    )
                trig = parse_trigger(text, iri)
                triggers.setdefault(trig.word, []).append(trig)
    instruments = frozenset(str(o).lower() for t in types for o in graph.objects(URIRef(t), KG.instrumentLemma))
    return Taxonomy(
        types=types,
        triggers={w: tuple(sorted(ts, key=lambda t: (t.type, t.entry))) for w, ts in sorted(triggers.items())},
        instruments=instruments,
        sources=sources,
    )


#: A taxonomy with no event types: extraction reads no events (the `events` setting turned off).
NO_EVENTS = Taxonomy(types={}, triggers={})


@lru_cache(maxsize=8)
def load_taxonomy(extra: tuple[str, ...] = ()) -> Taxonomy:
    """The event taxonomy from newskg's ontology files plus the extra Turtle files given (users' lexicons)."""
    from rdflib import Graph

    from ..resources import ontology_files

    graph = Graph()
    paths = [str(p) for p in ontology_files()] + list(extra)
    for path in paths:
        if not Path(path).is_file():
            raise LexiconError(f"event lexicon not found: {path}")
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises many kinds; the user needs the file and the reason
            raise LexiconError(f"event lexicon {path} is not valid Turtle: {exc}") from None
    return _taxonomy_from_graph(graph, tuple(paths))


def taxonomy_for(events: bool, lexicon: str | None = None) -> Taxonomy:
    """The taxonomy a build reads events with: none when events are off, else newskg's plus the user's lexicon file."""
    if not events:
        return NO_EVENTS
    return load_taxonomy((str(Path(lexicon).expanduser()),) if lexicon else ())


# -- what extraction yields -----------------------------------------------------------------


# -- extraction -----------------------------------------------------------------------------


class _Article:
    """Token-level indexes of one parsed body: which mention or time covers which token."""

    def __init__(
        self,
        doc: Doc,
        offset: int,
        mentions: Sequence[Mention],
        times: Sequence[TimeExpression],
        taxonomy: Taxonomy,
    ) -> None:
        self.doc = doc
        self.offset = offset
        self.taxonomy = taxonomy
        self.mention_at: dict[int, Mention] = {}
        for m in mentions:
            span = doc.char_span(m.begin - offset, m.end - offset, alignment_mode="expand")
            if span is not None:
                for i in range(span.start, span.end):
                    self.mention_at.setdefault(i, m)
        self.event_tokens = {i: m for i, m in self.mention_at.items() if m.kind == Kind.EVENT}
        self.time_roots: list[tuple[Token, TimeExpression]] = []
        for t in times:
            if t.value is None:
                continue
            span = doc.char_span(t.begin - offset, t.end - offset, alignment_mode="expand")
            if span is not None:
                self.time_roots.append((span.root, t))
        self.triggers: dict[int, Trigger] = {}
        self.reporting: set[int] = set()
        #: Names of places the article names as countries, cities or states ("the North" is North Korea).
        self.gpe_names = {m.name for m in mentions if m.label == "GPE"}
        dateline = _DATELINE.match(doc[: min(len(doc), 12)].text)
        self.dateline_end = dateline.end() if dateline else 0

    def mention(self, tok: Token) -> Mention | None:
        if tok.idx < self.dateline_end:
            return None  # "SEOUL, South Korea —": where the story was filed, not part of any sentence
        return self.mention_at.get(tok.i)

    def is_government(self, m: Mention) -> bool:
        """A place that can act: a country, city or state ("North Korea has accused", "Seoul said")."""
        return m.kind == Kind.PLACE and (m.label == "GPE" or m.name in self.gpe_names)

    def is_site(self, m: Mention) -> bool:
        """A mention that can be where something happens: a place, or an organisation named after its site."""
        return m.kind == Kind.PLACE or (m.kind == Kind.ORGANIZATION and bool(_FACILITY.search(m.name)))


def _is_nominal(tok: Token) -> bool:
    return tok.pos_ in _NOUNS


def _governor(tok: Token) -> Token | None:
    """The verb that carries a noun trigger (opened fire, underwent surgery, requested a meeting)."""
    if tok.dep_ in {"dobj", "nsubjpass", "attr", "nsubj", "oprd"} and tok.head.pos_ in _VERBS:
        return tok.head
    if tok.dep_ == "pobj" and tok.head.dep_ == "prep" and tok.head.head.pos_ in _VERBS:
        return tok.head.head
    return None


def _non_factive(tok: Token) -> bool:
    """The word is a non-factive governor, by its lemma or its form (the lemmatizer reads "hoped" as "hop")."""
    form = tok.lower_
    candidates = {tok.lemma_.lower(), form, form[:-1], form[:-2], form[:-3], form[:-3] + "e", form[:-2] + "e"}
    return not NON_FACTIVE.isdisjoint(candidates)


def _negated(tok: Token) -> bool:
    return any(c.dep_ == "neg" or (c.dep_ in {"aux", "auxpass"} and c.lower_ in MODALS) for c in tok.children)


CHAIN_DEPS = frozenset({"xcomp", "ccomp", "dobj", "pobj", "prep", "pcomp", "acomp", "conj", "attr", "oprd"})


def _not_factual(tok: Token, nominal: bool, reporting: set[int]) -> bool:
    """Negated, hypothetical or wished-for: 'didn't exchange fire', 'tried to flee', 'requested a meeting',
    'claims ... enticing North Koreans to defect'. What a reporting verb reports ('said the North
    violated') is kept: the statement is the source."""
    if _negated(tok) or any(c.dep_ == "advmod" and c.lower_ in NON_FACTUAL_ADVERBS for c in tok.children):
        return True
    if nominal:
        if any(c.dep_ == "det" and c.lower_ == "no" for c in tok.children):
            return True
        if any(c.dep_ == "amod" and c.lower_ in NON_FACTUAL_MODIFIERS for c in tok.children):
            return True
        gov = _governor(tok)
        carried = gov is not None and tok.dep_ in {"dobj", "nsubjpass", "attr", "oprd"}
        if carried and (_negated(gov) or _non_factive(gov)):  # type: ignore[arg-type]
            return True
    if any(c.dep_ == "dobj" and c.lower_ in {"nothing", "none"} for c in tok.children):
        return True
    t = tok
    for _ in range(8):
        infinitive = t.dep_ in {"relcl", "acl"} and any(c.dep_ == "aux" and c.lower_ == "to" for c in t.children)
        if (t.dep_ not in CHAIN_DEPS and not infinitive) or t.head is t:
            break
        dep, t = t.dep_, t.head
        if _non_factive(t):
            return True
        if t.i in reporting:
            break
        if dep == "xcomp" and _negated(t):
            return True  # "is not going to die"
        if any(c.dep_ == "aux" and c.lower_ in MODALS for c in t.children):
            return True  # "may be linked to deaths", "would mean ... meeting"
    return False


def _generic(tok: Token) -> bool:
    """A noun trigger that names a kind of event, not one: 'defection attempts', 'all defections'."""
    if tok.dep_ == "compound":
        return True
    dets = {c.lower_ for c in tok.children if c.dep_ in {"det", "predet"}}
    if dets & GENERIC_DETERMINERS:
        return True
    if tok.tag_ in {"NNS", "NNPS"}:
        counted = any(c.dep_ in {"nummod", "poss"} for c in tok.children)
        if not counted and not (dets & DEFINITE):
            return True
    return False


def _definite(tok: Token) -> bool:
    return any((c.dep_ == "det" and c.lower_ in DEFINITE) or c.dep_ in {"poss", "nummod"} for c in tok.children)


def _aggregate(tok: Token) -> bool:
    """Counted in the dozens or thousands: a statistic, not one event ("30,000 have fled", "56,000 deaths")."""
    if tok.lower_ in AGGREGATE_WORDS:
        return True
    for c in tok.children:
        if c.dep_ == "nummod":
            digits = c.text.replace(",", "").replace(".", "")
            if (digits.isdigit() and int(digits) >= STATISTIC) or c.lower_ in AGGREGATE_WORDS:
                return True
        if c.dep_ in {"amod", "det", "quantmod"} and c.lower_ in AGGREGATE_WORDS:
            return True
    return False


class _Reader:
    """Reads the events of one article; one instance per article, discarded afterwards."""

    def __init__(self, art: _Article) -> None:
        self.art = art
        self.taxonomy = art.taxonomy
        self.offset = art.offset

    # -- fillers -----------------------------------------------------------------------------

    def _arg(self, role: str, m: Mention, inferred: bool = False) -> Argument:
        kind = {Kind.GROUP: "group", Kind.EVENT: "event"}.get(m.kind, "entity")
        return Argument(role, m.begin, m.end, kind, m.text, inferred)

    def _phrase(self, role: str, head: Token) -> Argument:
        last = head
        for c in head.children:
            if c.dep_ == "conj" and c.i > last.i:
                last = c
        start = head.left_edge
        doc = head.doc
        span = doc[start.i : last.i + 1]
        return Argument(role, self.offset + span.start_char, self.offset + span.end_char, "phrase", span.text)

    def _actors(self, head: Token, role: str, affiliation: bool, depth: int = 0) -> list[Argument]:
        """Entities and groups the noun phrase at `head` names, or (for agents) belongs to."""
        if head.pos_ == "PRON" or head.lower_ in RELATIVE_PRONOUNS:
            return []
        m = self.art.mention(head)
        if m is not None:
            out = self._named_at(m, role)
        elif (beside := self._named_beside(head)) is not None:
            return [self._arg(role, beside)]
        else:
            out = self._named_in_modifiers(head, role, affiliation, depth)
        return out + self._conjuncts(head, role)

    def _named_at(self, m: Mention, role: str) -> list[Argument]:
        """The mention at the head: a person, organisation or group; a place only as its government
        ("North Korea has accused", "Seoul said")."""
        if m.kind in {Kind.PERSON, Kind.ORGANIZATION, Kind.GROUP}:
            return [self._arg(role, m)]
        if m.kind == Kind.PLACE and role in PARTICIPANT_ROLES and (self.art.is_government(m) or m.ner_label == "ORG"):
            return [self._arg(role, m)]
        return []

    def _named_beside(self, head: Token) -> Mention | None:
        """ "Merck's head of research Peter Kim said", "Britain's watchdog, the FSA": the one named right there,
        a person in apposition or compound, an organisation in apposition."""
        named = [self.art.mention(c) for c in head.children if c.dep_ in {"appos", "compound"}]
        for kind in (Kind.PERSON, Kind.ORGANIZATION):
            found = [p for p in named if p is not None and p.kind == kind]
            if found and (kind == Kind.PERSON or any(c.dep_ == "appos" for c in head.children)):
                return found[0]
        return None

    def _named_in_modifiers(self, head: Token, role: str, affiliation: bool, depth: int) -> list[Argument]:
        """Who an unnamed noun belongs to: "North Korean soldiers", "North Korea's military"; for agents,
        "a UN Command helicopter", and (two levels at most) "soldiers of the North"."""
        out: list[Argument] = []
        for c in head.children:
            cm = self.art.mention(c)
            if cm is None or cm.kind == Kind.EVENT:
                continue
            if c.dep_ == "amod" and cm.kind == Kind.GROUP:
                out.append(self._arg(role, cm))  # North Korean soldiers
            elif c.dep_ == "poss" and (cm.kind != Kind.PLACE or self.art.is_government(cm)):
                out.append(self._arg(role, cm))  # North Korea's military
            elif (
                affiliation
                and c.dep_ in {"compound", "nmod", "amod"}
                and (cm.kind != Kind.PLACE or self.art.is_government(cm))
            ):
                out.append(self._arg(role, cm))  # a UN Command helicopter, a U.S. military helicopter
        if affiliation and not out and depth < 2:
            for p in head.children:
                if p.dep_ == "prep" and p.lower_ in {"of", "from", "for"}:
                    for o in p.children:
                        if o.dep_ == "pobj":
                            out.extend(self._actors(o, role, affiliation, depth + 1))
        return out

    def _conjuncts(self, head: Token, role: str) -> list[Argument]:
        """ "the US and South Korea": named conjuncts after the head share its role."""
        out = []
        for c in head.children:
            if c.dep_ == "conj" and c.i > head.i:
                cm = self.art.mention(c)
                if cm is not None and cm.kind in {Kind.PERSON, Kind.ORGANIZATION, Kind.GROUP}:
                    out.append(self._arg(role, cm))
        return out

    def _agent_slot(self, head: Token, role: str) -> tuple[list[Argument], bool]:
        """Fillers of an agent position; an instrument noun there ('a UN Command helicopter') is the
        instrument, and whoever it belongs to the agent. Second value: the agent is an aggregate."""
        if _aggregate(head):
            return [], True
        if head.lemma_.lower() in self.taxonomy.instruments and self.art.mention(head) is None:
            return [self._phrase("instrument", head), *self._actors(head, role, affiliation=True)], False
        return self._actors(head, role, affiliation=True), False

    def _speaker_in_apposition(self, verb: Token) -> Token | None:
        """ "..., Col. Chad G. Carroll, a spokesman for the U.N. command, told reporters": a name with an
        apposition right before a reporting verb is its speaker, however the parser attached it."""
        j = verb.i - 1
        doc = verb.doc
        while j >= 0 and doc[j].is_punct:
            j -= 1
        if j < 0:
            return None
        for k in range(j, max(-1, j - 20), -1):
            tok = doc[k]
            if tok.dep_ == "appos" and tok.right_edge.i == j:
                for candidate in (tok, tok.head):
                    m = self.art.mention(candidate)
                    if m is not None and m.kind in {Kind.PERSON, Kind.ORGANIZATION}:
                        return candidate
        return None

    # -- places ----------------------------------------------------------------------------------

    def _place_in(self, pobj: Token) -> Mention | None:
        """The place a prepositional object names, directly or one step down ('a hospital in Suwon')."""
        m = self.art.mention(pobj)
        if m is not None:
            return m if self.art.is_site(m) else None
        if pobj.pos_ not in _NOUNS:
            return None
        for p in pobj.children:
            if p.dep_ == "prep" and p.lower_ in {"in", "at", "near", "of"}:
                for o in p.children:
                    om = self.art.mention(o)
                    if o.dep_ == "pobj" and om is not None and self.art.is_site(om):
                        return om
        return None

    def _prep(self, prep: Token, etype: EventType, trigger: Token, nominal: bool) -> list[Argument]:
        p = prep.lower_
        out: list[Argument] = []
        for pobj in (c for c in prep.children if c.dep_ == "pobj"):
            targets = [pobj, *(c for c in pobj.children if c.dep_ == "conj")]
            for o in targets:
                m = self.art.mention(o)
                if trigger.lower_ == "according" and p == "to":
                    out += self._actors(o, "agent", affiliation=True)
                elif nominal and p == "of":
                    out += self._actors(o, etype.of_role, affiliation=etype.of_role == "agent")
                elif nominal and p == "by":
                    agents, _ = self._agent_slot(o, "agent")
                    out += agents
                elif p in PLACE_PREPOSITIONS and (place := self._place_in(o)) is not None:
                    out.append(self._arg(PLACE_PREPOSITIONS[p], place))
                elif m is not None and m.kind in {Kind.PERSON, Kind.ORGANIZATION, Kind.GROUP}:
                    if p in {"at", "on", "upon", "against"} and etype.of_role == "patient":
                        out.append(self._arg("patient", m))  # fire at X, attack on X
                    elif p == "to" and etype.object_role == "recipient":
                        out.append(self._arg("recipient", m))  # said to Reuters
                    elif p == "with" and m.kind != Kind.GROUP:
                        out.append(self._arg("patient", m))  # met with X
                elif p in {"with", "using"} and o.lemma_.lower() in self.taxonomy.instruments and m is None:
                    out.append(self._phrase("instrument", o))
        return out

    # -- subjects ----------------------------------------------------------------------------

    def _subject(self, verb: Token, depth: int = 0) -> tuple[Token | None, bool]:
        """The subject of a verb trigger and whether its clause is passive (shared and controlled subjects too)."""
        passive = any(c.dep_ in {"auxpass", "nsubjpass"} for c in verb.children)
        subjects = [c for c in verb.children if c.dep_ in {"nsubj", "nsubjpass"} and c.idx >= self.art.dateline_end]
        if subjects:
            c = min(subjects, key=lambda c: abs(verb.i - c.i))  # the nearest, when the parse offers two
            if c.lower_ in RELATIVE_PRONOUNS and verb.dep_ == "relcl":
                return verb.head, passive
            return c, passive
        if depth > 3 or verb.head is verb:
            return None, passive
        head = verb.head
        if verb.dep_ == "conj" and head.pos_ in _VERBS:
            subj, _ = self._subject(head, depth + 1)
            return subj, passive
        if verb.dep_ == "xcomp" and head.pos_ in _VERBS:
            if head.lemma_ != "use" and any(c.dep_ == "dobj" for c in head.children):
                return None, passive  # object control ("enticed X to defect"): no good subject
            subj, _ = self._subject(head, depth + 1)
            return subj, passive
        if verb.dep_ == "advcl" and verb.tag_ == "VBG" and head.pos_ in _VERBS:
            subj, _ = self._subject(head, depth + 1)
            return subj, passive
        if verb.dep_ == "pcomp" and head.dep_ == "prep" and head.head.pos_ in _VERBS:
            subj, _ = self._subject(head.head, depth + 1)
            return subj, passive
        if verb.dep_ in {"acl", "relcl"} and head.pos_ in _NOUNS:
            return head, passive or verb.tag_ == "VBN"
        return None, passive

    # -- time ----------------------------------------------------------------------------------

    def _time_governor(self, root: Token) -> tuple[Token | None, str | None]:
        """The verb or trigger a date hangs from, and the preposition between them."""
        t, prep = root, None
        for _ in range(6):
            h = t.head
            if h is t:
                return None, prep
            dep = t.dep_
            if dep == "pobj":
                prep = h.lower_
                t = h
                continue
            if dep == "prep" or dep in {"npadvmod", "tmod", "advmod", "obl"}:
                if h.pos_ in _VERBS or h.i in self.art.triggers:
                    return h, prep
                if dep == "prep" and h.pos_ in _NOUNS:
                    return None, prep  # "the time of ..."
                t = h
                continue
            if dep in {"compound", "nummod", "amod", "nmod", "poss", "appos"}:
                return (h, prep) if h.i in self.art.triggers else (None, prep)
            if dep == "conj":
                t = h
                continue
            return (h, prep) if h.pos_ in _VERBS else (None, prep)
        return None, prep

    def _times(self) -> list[tuple[Token | None, str | None, Token, TimeExpression]]:
        out = []
        for root, expression in self.art.time_roots:
            gov, prep = self._time_governor(root)
            out.append((gov, prep, root, expression))
        return out

    # -- one trigger -----------------------------------------------------------------------------

    def read(self, tok: Token, trig: Trigger, times, reporting_heads: set[int]) -> EventMention | None:
        etype = self.taxonomy.types[trig.type]
        nominal = _is_nominal(tok)
        if _not_factual(tok, nominal, reporting_heads) or (nominal and (_generic(tok) or _aggregate(tok))):
            return None
        gov = _governor(tok) if nominal else None
        found = self._nominal(tok, etype, gov) if nominal else self._verbal(tok, etype)
        if found.aggregate:
            return None
        args = found.args + self._context(tok, nominal)
        clause = {tok.i} | (
            {gov.i} if gov is not None and gov.lemma_.lower() in LIGHT_VERBS_AGENT | LIGHT_VERBS_PATIENT else set()
        )
        args += self._time(tok, clause, times, reporting_heads, fallback=not etype.reports_content)
        return self._mention(tok, trig, etype, nominal, args)

    def _verbal(self, tok: Token, etype: EventType) -> _Found:
        """The arguments of a verb trigger: its subject (or, passive, its object), then its children by
        their dependency (VERB_CHILDREN), and the instrument of "used X to fire"."""
        found = _Found()
        subj, passive = self._subject(tok)
        if etype.reports_content and not any(c.dep_ in {"nsubj", "nsubjpass"} for c in tok.children):
            subj = self._speaker_in_apposition(tok) or subj
        if subj is not None:
            if passive:
                found.aggregate = _aggregate(subj)
                found.args += self._actors(subj, etype.object_role, affiliation=False)
            else:
                agents, found.aggregate = self._agent_slot(subj, etype.subject_role)
                found.args += agents
        for c in tok.children:
            rule = VERB_CHILDREN.get(c.dep_)
            if rule is not None:
                rule(self, c, tok, etype, found)
        if tok.dep_ in {"xcomp", "advcl"} and tok.head.lemma_ == "use":
            for c in tok.head.children:
                if c.dep_ == "dobj":
                    found.args.append(self._phrase("instrument", c))  # used handguns and rifles to fire
        return found

    def _nominal(self, tok: Token, etype: EventType, gov: Token | None) -> _Found:
        """The arguments of a noun trigger: its children by their dependency (NOUN_CHILDREN), then those
        of the light verb that governs it ("carried out an attack": the subject is the agent)."""
        found = _Found()
        for c in tok.children:
            rule = NOUN_CHILDREN.get(c.dep_)
            if rule is not None:
                rule(self, c, tok, etype, found)
        if gov is None or tok.dep_ not in {"dobj", "nsubjpass"}:
            return found
        light = gov.lemma_.lower()
        if light not in LIGHT_VERBS_AGENT | LIGHT_VERBS_PATIENT:
            return found
        subj, _ = self._subject(gov)
        if subj is not None:
            if light in LIGHT_VERBS_AGENT:
                agents, found.aggregate = self._agent_slot(subj, "agent")
                found.args += agents
            else:
                found.args += self._actors(subj, "patient", affiliation=False)
        for c in gov.children:
            if c.dep_ == "prep":
                found.args += self._prep(c, etype, gov, nominal=False)
        return found

    def _context(self, tok: Token, nominal: bool) -> list[Argument]:
        """A named event in the trigger's object: 'violated the armistice that ended the Korean War'."""
        out = []
        events = self.art.event_tokens
        if not events:
            return out
        for c in tok.children:
            if c.dep_ in {"dobj", "prep", "pobj"} or (nominal and c.dep_ in {"compound", "nmod"}):
                # a subtree is a contiguous range of tokens (the parse is projective)
                for i in range(c.left_edge.i, min(c.right_edge.i + 1, tok.i + 16)):
                    if i in events:
                        out.append(self._arg("context", events[i]))
        return out

    def _time(self, tok: Token, clause: set[int], times, reporting_heads: set[int], fallback: bool) -> list[Argument]:
        """A resolved date of the trigger's own clause; else the one free date close by in its sentence."""
        own = [e for gov, prep, _, e in times if gov is not None and gov.i in clause and prep in TIME_PREPOSITIONS]
        if not own and fallback:
            sent = tok.sent
            free = [
                e
                for gov, prep, root, e in times
                if gov is not None
                and sent.start <= root.i < sent.end
                and gov.i not in self.art.triggers
                and gov.i not in reporting_heads
                and prep in TIME_PREPOSITIONS
                and _near(gov, tok)
            ]
            if len({str(e.value) for e in free}) == 1:
                own = free[:1]
        if not own:
            return []
        e = own[0]
        return [Argument("time", e.begin, e.end, "time", e.text)]

    def _mention(
        self, tok: Token, trig: Trigger, etype: EventType, nominal: bool, args: list[Argument]
    ) -> EventMention:
        unique: dict[tuple[str, int, int], Argument] = {}
        for a in args:
            unique.setdefault((a.role, a.begin, a.end), a)
        args = sorted(unique.values(), key=lambda a: (ROLES.index(a.role), a.begin))
        sent = tok.sent
        anaphoric = nominal and not args and _definite(tok)
        return EventMention(
            begin=self.offset + tok.idx,
            end=self.offset + tok.idx + len(tok.text),
            text=tok.text,
            type=etype.iri,
            entry=trig.entry,
            sentence=(self.offset + sent.start_char, self.offset + sent.end_char),
            confidence=confidence(args, nominal, anaphoric),
            arguments=tuple(args),
            anaphoric=anaphoric,
            nominal=nominal,
        )


def confidence(args: Sequence[Argument], nominal: bool, anaphoric: bool) -> float:
    """A ranking score from the evidence: a verb is surer than a noun; named participants, a place and a
    date add to it; inferred roles add little; an anaphoric mention on its own is weak."""
    if anaphoric:
        return 0.35
    named = [a for a in args if a.kind in {"entity", "group"} and a.role in PARTICIPANT_ROLES and not a.inferred]
    score = 0.5 + (0.1 if nominal else 0.15)
    score += min(0.3, 0.1 * len(named))
    score += 0.05 * any(a.role in PLACE_ROLES and not a.inferred for a in args)
    score += 0.05 * any(a.role == "time" for a in args)
    score += 0.02 * any(a.inferred for a in args)
    return round(min(score, 0.95), 2)


@dataclass
class _Found:
    """Arguments found so far for one trigger, and whether its agent is an aggregate (then no event)."""

    args: list[Argument] = field(default_factory=list)
    aggregate: bool = False


def _by_agent(r: _Reader, c: Token, trigger: Token, etype: EventType, found: _Found) -> None:
    """ "was shot by soldiers": the object of "by" is the agent."""
    for o in c.children:
        if o.dep_ == "pobj":
            agents, aggregate = r._agent_slot(o, "agent")
            found.args += agents
            found.aggregate = found.aggregate or aggregate


def _verb_object(r: _Reader, c: Token, trigger: Token, etype: EventType, found: _Found) -> None:
    """The direct (or dative) object: the type's object role, or an instrument noun no name stands on."""
    if c.lemma_.lower() in r.taxonomy.instruments and r.art.mention(c) is None:
        found.args.append(r._phrase("instrument", c))
    else:
        found.args += r._actors(c, etype.object_role, affiliation=False)


def _verb_prep(r: _Reader, c: Token, trigger: Token, etype: EventType, found: _Found) -> None:
    """A prepositional phrase of a verb: a place, a time, a role the preposition names."""
    found.args += r._prep(c, etype, trigger, nominal=False)


def _noun_possessor(r: _Reader, c: Token, trigger: Token, etype: EventType, found: _Found) -> None:
    """ "North Korea's attack": the possessor takes the type's possessive role."""
    found.args += r._actors(c, etype.possessive_role, affiliation=False)


def _noun_modifier(r: _Reader, c: Token, trigger: Token, etype: EventType, found: _Found) -> None:
    """ "the Panmunjom shooting": a site is the place; "a North Korean defection": a group the possessive
    role. An organisation or person before the noun may be agent or target ("the WTC attacks"): left out."""
    cm = r.art.mention(c)
    if cm is None:
        return
    if r.art.is_site(cm) and cm.kind == Kind.PLACE:
        found.args.append(r._arg("place", cm))
    elif cm.kind == Kind.GROUP:
        found.args.append(r._arg(etype.possessive_role, cm))


def _noun_prep(r: _Reader, c: Token, trigger: Token, etype: EventType, found: _Found) -> None:
    """A prepositional phrase of a noun trigger ("the attack on the base in March")."""
    found.args += r._prep(c, etype, trigger, nominal=True)


#: A child of a trigger, by its dependency label -> the rule that reads it (a verb trigger, a noun trigger).
ChildRule = Callable[[_Reader, "Token", "Token", EventType, _Found], None]
VERB_CHILDREN: dict[str, ChildRule] = {
    "agent": _by_agent,
    "dobj": _verb_object,
    "dative": _verb_object,
    "prep": _verb_prep,
}
NOUN_CHILDREN: dict[str, ChildRule] = {
    "poss": _noun_possessor,
    "amod": _noun_modifier,
    "compound": _noun_modifier,
    "nmod": _noun_modifier,
    "prep": _noun_prep,
}


def _near(gov: Token, trigger: Token) -> bool:
    """True when a date's verb is part of the trigger's clause: a few steps below it with no subject of its
    own ("shot ... on his way to cross the border on Nov. 13"), or the verb the trigger's clause modifies."""
    x = gov
    for _ in range(4):
        if x.i == trigger.i:
            return True
        if x.head is x or (x.pos_ in _VERBS and any(c.dep_ in {"nsubj", "nsubjpass"} for c in x.children)):
            break
        x = x.head
    x = trigger
    for _ in range(3):
        if x.head is x or x.dep_ not in {"advcl", "xcomp", "conj", "pcomp", "prep", "pobj", "dobj"}:
            return False
        x = x.head
        if x.i == gov.i:
            return True
    return False


def _subtree(tok: Token) -> range:
    """Token indexes of a subtree: a contiguous range, as spaCy's parses are projective."""
    return range(tok.left_edge.i, tok.right_edge.i + 1)


def _content(tok: Token) -> set[int]:
    """Token indexes of what a reporting trigger reports: its complement, or the clause 'according to' qualifies."""
    out: set[int] = set()
    for c in tok.children:
        if c.dep_ in {"ccomp", "parataxis"} or (c.dep_ == "prep" and c.lower_ in {"of", "about"}):
            out.update(_subtree(c))
    if (tok.lower_ == "according" or tok.dep_ == "parataxis") and tok.head is not tok:
        out.update(set(_subtree(tok.head)) - set(_subtree(tok)))
    return out


def _member(values: numpy.ndarray, sorted_words: numpy.ndarray) -> numpy.ndarray:
    """Which values are among the sorted words (a binary search per value, in C)."""
    if not len(sorted_words):
        return numpy.zeros(len(values), dtype=bool)
    at = numpy.minimum(numpy.searchsorted(sorted_words, values), len(sorted_words) - 1)
    return sorted_words[at] == values


def extract_events(
    doc: Doc,
    offset: int,
    mentions: Sequence[Mention],
    times: Sequence[TimeExpression],
    taxonomy: Taxonomy,
    skip: Iterable[tuple[int, int]] = (),
) -> list[EventMention]:
    """The events one parsed article body reports, with roles filled by the article's mentions.

    `offset` is where the body starts in the article text (every span returned is in article
    offsets); `skip` holds spans (headlines, credit lines) where no event is read.
    """
    skipped = list(skip)
    if not taxonomy.triggers or not len(doc):
        return []
    art = _Article(doc, offset, mentions, times, taxonomy)
    # Only words of the lexicon become Token objects: the rest is a vectorised look-up on hashes.
    attrs = doc.to_array([LEMMA, LOWER, POS])
    hits = numpy.nonzero(
        (_member(attrs[:, 0], taxonomy.word_hashes) | _member(attrs[:, 1], taxonomy.word_hashes))
        & ((attrs[:, 2] == spacy_symbols.VERB) | (attrs[:, 2] == spacy_symbols.NOUN))
    )[0]
    for i in hits:
        tok = doc[int(i)]
        trig = taxonomy.match(tok)
        if trig is None:
            continue
        begin = offset + tok.idx
        if any(b <= begin < e for b, e in skipped):
            continue
        art.triggers[tok.i] = trig
    if not art.triggers:
        return []
    reader = _Reader(art)
    times_attached = reader._times()
    reporting = {i for i, t in art.triggers.items() if taxonomy.types[t.type].reports_content}
    found: dict[int, EventMention] = {}
    for i, trig in art.triggers.items():
        event = reader.read(doc[i], trig, times_attached, reporting)
        if event is not None:
            found[i] = event
    found = _inherit_places(found, taxonomy)
    kept = {i: e for i, e in found.items() if _worth_keeping(e, taxonomy)}
    out = []
    for i, e in sorted(kept.items()):
        if taxonomy.types[e.type].reports_content:
            content = _content(doc[i])
            reported = tuple(sorted((k.begin, k.end) for j, k in kept.items() if j in content and j != i))
            if reported:
                e = EventMention(**{**e.__dict__, "reports": reported})
        out.append(e)
    return out


def _inherit_places(found: dict[int, EventMention], taxonomy: Taxonomy) -> dict[int, EventMention]:
    """An event without a place takes the one destination of the article's event of the type it names
    (kg:placeFromDestinationOf): flown to a hospital in Suwon, then operated on there."""
    out = dict(found)
    for i, e in found.items():
        source = taxonomy.types[e.type].place_from
        if source is None or e.fillers(*PLACE_ROLES):
            continue
        destinations = {
            (a.begin, a.end): a
            for other in found.values()
            if source in taxonomy.types[other.type].ancestors
            for a in other.fillers("destination")
        }
        names = {a.text for a in destinations.values()}
        if len(names) != 1:
            continue
        a = min(destinations.values(), key=lambda a: a.begin)
        args = tuple(
            sorted(
                [*e.arguments, Argument("place", a.begin, a.end, a.kind, a.text, inferred=True)],
                key=lambda x: (ROLES.index(x.role), x.begin),
            )
        )
        out[i] = EventMention(
            **{**e.__dict__, "arguments": args, "anaphoric": False, "confidence": confidence(args, e.nominal, False)}
        )
    return out


def _worth_keeping(e: EventMention, taxonomy: Taxonomy) -> bool:
    """Precision: an event needs something to stand on."""
    etype = taxonomy.types[e.type]
    named = [a for a in e.arguments if a.kind in {"entity", "group", "event"}]
    if etype.identified_by is not None and not e.fillers(etype.identified_by):
        return False  # "doctors said": a statement with no named speaker
    if etype.identified_by is not None and not any(a.role == etype.identified_by for a in named):
        return False
    if named or e.fillers(*PLACE_ROLES) or e.fillers("time"):
        return True
    return e.anaphoric
