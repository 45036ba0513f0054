"""The model: the kinds of things newskg finds, and the plain records its stages hand each other.

Every stage reads and writes these records and nothing else of another stage's: extraction makes
candidates, mentions and an `Extraction` per article; the store gives mention and event records
back; the corpus stage turns them into entities and reported events, which the RDF layer writes.
Keeping them here, below every stage, is what lets each stage import only downward.

`Kind` is a string enum: a kind compares equal to its name ("Person"), which is also its class
in the ontology (kg:Person), so records built from stored strings and from code agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .article.events import EventMention
    from .article.timex import TimeExpression, TimeValue


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
}

#: The NER label a mention of each kind gets when none of its own spans says (kind decided otherwise).
KIND_LABEL: dict[Kind, str] = {
    Kind.PERSON: "PERSON",
    Kind.ORGANIZATION: "ORG",
    Kind.PLACE: "GPE",
    Kind.EVENT: "EVENT",
    Kind.GROUP: "NORP",
}


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
