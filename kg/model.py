"""The model: the kinds of things newskg finds, and the plain records its stages hand each other.

Kinds; time values (a point on the calendar at some granularity, or an interval of two); what one
article yields (candidates, mentions, time expressions, event mentions with their arguments); what the
store gives back; what the corpus stage makes (entities, reported events).

Every stage reads and writes these records and nothing else of another stage's: extraction makes
candidates, mentions and an `Extraction` per article; the store gives mention and event records
back; the corpus stage turns them into entities and reported events, which the RDF layer writes.
Keeping them here, below every stage, is what lets each stage import only downward.

`Kind` is a string enum: a kind compares equal to its name ("Person"), which is also its class
in the ontology (kg:Person), so records built from stored strings and from code agree.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    """What a mention names. The order is the tie-break when evidence for two kinds weighs the same."""

    PERSON = "Person"
    ORGANIZATION = "Organization"
    PLACE = "Place"
    EVENT = "Event"
    #: People by nationality, religion or politics ("Russians", "Democrats"): mentioned, never an entity.
    GROUP = "Group"

    @property
    def is_entity(self) -> bool:
        """Whether things of this kind become entity nodes (groups are kept as mentions only)."""
        return self is not Kind.GROUP

    @property
    def segment(self) -> str:
        """The path segment of its entities' IRIs (<base>person/...)."""
        return self.value.lower()


#: Every kind, in tie-break order.
KIND_ORDER: tuple[Kind, ...] = tuple(Kind)
#: Kinds that become entity nodes, in tie-break order.
ENTITY_KINDS: tuple[Kind, ...] = tuple(k for k in Kind if k.is_entity)

#: Our own labels for spans that spaCy's scheme has no label for (set by kg.article.mention_rules).
#: A place name that stands for its sports team: an organisation that links to a team, never to the place.
TEAM = "TEAM"
#: A nationality word that stands for its country ("Russian officials": Russia; kg.article.demonyms).
DEMONYM = "DEMONYM"
#: A place's name used as a modifier of a common noun ("U.S. officials", "the Texas courts", "UK-made"):
#: still a mention of the place, of its own mention kind, as a nationality word is.
MODIFIER = "MODIFIER"

#: NER label -> our kind. NORP is kept as a group attribute of articles, not an entity.
LABEL_KIND: dict[str, Kind] = {
    "PERSON": Kind.PERSON,
    "ORG": Kind.ORGANIZATION,
    "GPE": Kind.PLACE,
    "LOC": Kind.PLACE,
    "FAC": Kind.PLACE,
    "EVENT": Kind.EVENT,
    "NORP": Kind.GROUP,
    TEAM: Kind.ORGANIZATION,
    DEMONYM: Kind.PLACE,
    MODIFIER: Kind.PLACE,
}

#: The NER label a mention of each kind gets when none of its own spans says (kind decided otherwise).
KIND_LABEL: dict[Kind, str] = {
    Kind.PERSON: "PERSON",
    Kind.ORGANIZATION: "ORG",
    Kind.PLACE: "GPE",
    Kind.EVENT: "EVENT",
    Kind.GROUP: "NORP",
}


# -- time ---------------------------------------------------------------------------------------------

#: A point's granularity, named after the XSD type that writes it.
DAY, MONTH, YEAR, MONTH_DAY = "date", "gYearMonth", "gYear", "gMonthDay"


@dataclass(frozen=True, order=True)
class Point:
    """A calendar position at some granularity: a day, a month, a year, or a day of a month in an unknown year."""

    granularity: str
    year: int | None = None
    month: int | None = None
    day: int | None = None

    @classmethod
    def of_day(cls, d: date) -> Point:
        return cls(DAY, d.year, d.month, d.day)

    @property
    def lexical(self) -> str:
        """The value as its XSD type writes it: 2017-11-13, 2017-11, 1953, --11-13."""
        if self.granularity == DAY:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.granularity == MONTH:
            return f"{self.year:04d}-{self.month:02d}"
        if self.granularity == YEAR:
            return f"{self.year:04d}"
        return f"--{self.month:02d}-{self.day:02d}"

    @property
    def first_day(self) -> date | None:
        if self.year is None:
            return None
        return date(self.year, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> date | None:
        if self.year is None:
            return None
        if self.granularity == YEAR:
            return date(self.year, 12, 31)
        if self.granularity == MONTH:
            return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])  # type: ignore[arg-type]
        return date(self.year, self.month, self.day)  # type: ignore[arg-type]


def point_from_lexical(lexical: str, granularity: str) -> Point:
    """A point from its XSD lexical form and granularity (date, gYearMonth, gYear, gMonthDay): `lexical` inverted."""
    if granularity == DAY:
        d = date.fromisoformat(lexical)
        return Point.of_day(d)
    if granularity == MONTH:
        y, m = lexical.split("-")
        return Point(MONTH, int(y), int(m))
    if granularity == YEAR:
        return Point(YEAR, int(lexical))
    if granularity == MONTH_DAY:
        m, d = lexical.lstrip("-").split("-")
        return Point(MONTH_DAY, None, int(m), int(d))
    raise ValueError(f"unknown granularity {granularity!r}")


@dataclass(frozen=True)
class TimeValue:
    """A resolved time: one point, or an interval from `begin` to `end` (both points, begin not after end)."""

    begin: Point
    end: Point | None = None

    @property
    def is_interval(self) -> bool:
        return self.end is not None

    @property
    def earliest(self) -> date | None:
        """The first day the value covers (None for a day of a month in an unknown year)."""
        return self.begin.first_day

    @property
    def latest(self) -> date | None:
        """The last day the value covers."""
        return (self.end or self.begin).last_day

    @property
    def month_day(self) -> tuple[int, int] | None:
        """(month, day) for a day whose year the text does not give."""
        if self.begin.granularity == MONTH_DAY and self.end is None:
            return self.begin.month, self.begin.day  # type: ignore[return-value]
        return None

    def __str__(self) -> str:
        return self.begin.lexical if self.end is None else f"{self.begin.lexical}/{self.end.lexical}"


@dataclass(frozen=True)
class TimeExpression:
    """A DATE or TIME span of an article, with its value when it could be resolved."""

    begin: int
    end: int
    text: str
    label: str
    sentence: tuple[int, int]
    value: TimeValue | None
    kind: str  # "point", "interval", "duration", "set" or "unresolved"
    anchored: bool  # True when the value depends on the publication date


# -- one article -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """A cleaned entity span, before we know what it refers to."""

    begin: int
    end: int
    text: str
    label: str
    ner_label: str
    kind: str
    sentence: tuple[int, int]
    in_headline: bool = False
    refers_to: str | None = None  # the name it stands for, when not its own text ("Iraqis": Iraq)
    title: str | None = None  # an office's title written right before a person's name ("President")
    region: str | None = None  # the state or country written after a place's name and a comma ("Ohio")


@dataclass(frozen=True)
class Mention:
    """A span of an article naming something, with the name it resolves to in that article."""

    begin: int
    end: int
    text: str
    label: str
    ner_label: str
    kind: str
    name: str
    sentence: tuple[int, int]
    title: str | None = None  # an office's title written right before a person's name ("President")
    region: str | None = None  # the state or country written after a place's name and a comma ("Ohio")


@dataclass(frozen=True)
class Argument:
    """A role filler: an entity, group or time mention of the article (or, for instruments, a phrase)."""

    role: str
    begin: int
    end: int
    kind: str  # "entity", "group", "event" (a named event, for context), "time" or "phrase"
    text: str
    inferred: bool = False


@dataclass(frozen=True)
class EventMention:
    """An event as one article reports it at one trigger word."""

    begin: int
    end: int
    text: str
    type: str
    entry: str
    sentence: tuple[int, int]
    confidence: float
    arguments: tuple[Argument, ...]
    reports: tuple[tuple[int, int], ...] = ()
    anaphoric: bool = False
    nominal: bool = False

    def fillers(self, *roles: str) -> list[Argument]:
        return [a for a in self.arguments if a.role in roles]


@dataclass(frozen=True)
class Extraction:
    """What one article yields: its resolved mentions, time expressions and events, and the sentences they stand in."""

    digest: str
    mentions: tuple[Mention, ...]
    sentences: tuple[tuple[int, int], ...]
    tokens: int
    times: tuple[TimeExpression, ...] = ()
    events: tuple[EventMention, ...] = ()


# -- read back from the store ---------------------------------------------------------------------


@dataclass(frozen=True)
class MentionRecord:
    """A stored mention, as corpus resolution reads it back from the article graphs."""

    digest: str
    iri: str
    text: str
    name: str
    kind: str
    label: str
    title: str | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Filler:
    """A stored role of an event mention: its role, the mention (or phrase) that fills it."""

    role: str
    value: str  # the IRI of the filling mention or phrase
    kind: str  # "entity", "group", "time" or "phrase"
    text: str  # the group's resolved name, or the anchor text
    inferred: bool = False


@dataclass(frozen=True, slots=True)
class EventRecord:
    """A stored event mention, as merging reads it back from the article graphs."""

    iri: str
    digest: str
    type: str
    begin: int
    confidence: float
    published: date | None = None
    anaphoric: bool = False
    time: TimeValue | None = None
    fillers: tuple[Filler, ...] = ()
    reports: tuple[str, ...] = ()


# -- the corpus ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entity:
    """One real-world thing across the corpus."""

    iri: str
    kind: str
    label: str
    alt_labels: tuple[str, ...]
    mentions: tuple[str, ...]
    articles: int
    place_category: str | None
    team: bool = False  # most of its mentions are a place name standing for its sports team
    titles: tuple[str, ...] = ()  # the offices' titles written before its mentions ("President"), sorted
    regions: tuple[str, ...] = ()  # the states or countries written after its mentions ("Ohio"), sorted


@dataclass(frozen=True)
class RoleValue:
    """A role of a reported event, with how many articles give it."""

    role: str
    value: str  # an entity IRI, or a group name / phrase text when `literal`
    literal: bool
    label: str
    articles: int
    inferred: bool = False


@dataclass(frozen=True)
class ReportedEvent:
    """One real-world event of the corpus."""

    iri: str
    type: str
    label: str
    time: TimeValue | None
    roles: tuple[RoleValue, ...]
    mentions: tuple[str, ...]
    articles: int
    confidence: float
    reports: tuple[str, ...] = ()

    def values(self, *roles: str) -> list[str]:
        return [r.value for r in self.roles if r.role in roles]
