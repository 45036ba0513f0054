"""Link: each resolved entity to a Wikidata item, or explicitly to none, with a confidence and the why.

The stage after corpus-wide resolution. For every entity (a `LinkQuery`: its class, label, every
surface form, the articles it is in) candidates come from the configured sources (local indexes,
then the live API for what they leave unlinked) and are scored on

- name: how the entity's names match the item's label and aliases (normalised; acronyms; every
  surface form, the label weighing most);
- type: our class against the item's (from P31); a class the name's only candidates contradict
  is a sign spaCy was wrong, and a confident link corrects it (a village tagged PERSON is a Place);
- popularity: a prior from sitelinks (or, for the shared tables, an estimate);
- context: what else the same articles name. A place whose country is named there, a person
  whose party, or a country whose cities are, gains; a place in another country loses. What is
  written with the name counts most: the office's title before a person's surname ("President
  Hallam" is a holder of the office) and the state or country after a place's name and a comma
  ("Dunmore, Ohio": its namesakes elsewhere lose).

score = name x type x (0.5 + 0.5 x support), support = 1 - (1 - popularity)(1 - context);
confidence = score x share, share = score^4 / sum of the candidates' score^4 (an ambiguous name
shares its weight). Below the threshold the entity is not linked: a wrong link is worse than none.

Every weight is a named constant at the top of this module. Then entities linked to the same item
are merged (`merge_linked`), and `kg.rdf.links` writes the decision into the corpus graph:
owl:sameAs, a reified link with confidence, source and runners-up, or an explicit "not linked"; the
type correction; description, country and coordinates.
"""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from ..article.demonyms import country_of
from ..article.mention_rules import REGION_WORDS
from ..model import Entity, Kind
from ..names import OFFICE_TITLES, a_national_body, initials, office_title
from ..namespaces import Iris
from ..wikidata.index import ALIAS, DERIVED, FORM_NAMES, INITIALS, LABEL, NameMatch
from ..wikidata.items import KINDS, OTHER, Item, SourceInfo
from ..wikidata.names import is_acronym, key, person_variant, short_key, tokens
from ..wikidata.sources import CandidateSource, Sources, open_sources

if TYPE_CHECKING:
    from ..settings import Settings


_DIGEST = re.compile(r"/article/([0-9a-f]{64})#")

#: How much a name match is worth, by how the name belongs to the item. A person's name without the item's middle
#: names or initials ("Peter Hallam" for "Peter Q. Hallam") is worth little: common names are shared by many
#: people, and only a famous item keeps such a link.
MATCH_QUALITY = {LABEL: 1.0, ALIAS: 0.92, DERIVED: 0.7, INITIALS: 0.6}
#: A one-word alias ("Continental", "Kennedy") names many things; a person's surname most of all.
ONE_WORD_ALIAS = 0.85
ONE_WORD_PERSON_ALIAS = 0.7
#: A place in a country the articles never name (or a country they never name, when a rival's is named).
COUNTRY_DISAGREES = 0.9
#: An alias of three letters or fewer ("UN", "AK") is worth at most this much (more when written the same).
SHORT_ALIAS = 0.75
EXACT_SHORT_ALIAS = 0.85
#: Type compatibility: our class against the item's, plainly and when the name's only candidates
#: are of the other class (spaCy's labels on lone names are often wrong).
TYPE_FIT = {
    frozenset({Kind.PLACE, Kind.ORGANIZATION}): (0.6, 0.9),
    frozenset({Kind.PERSON, Kind.PLACE}): (0.35, 0.85),
    frozenset({Kind.PERSON, Kind.ORGANIZATION}): (0.35, 0.8),
    frozenset({Kind.EVENT, Kind.PERSON}): (0.35, 0.7),
    frozenset({Kind.EVENT, Kind.ORGANIZATION}): (0.35, 0.7),
    frozenset({Kind.EVENT, Kind.PLACE}): (0.35, 0.7),
}
#: A team named after its place ("Portugal beat Norway") is not the place, nor the university or company of
#: that name ("Iowa" in "the Iowa versus Kansas State game"): only a team's items fit.
TEAM_AS_PLACE = 0.1
#: P31 classes of sports teams and clubs, and the words that describe one when an item has no classes.
TEAM_CLASSES = frozenset({"Q476028", "Q847017", "Q12973014", "Q4438121"})
_TEAM_DESCRIPTION = re.compile(r"(?i)\b(?:team|club|franchise|squad|f\.c\.)(?!\w)")
#: How a team's item is often labelled when its description is empty: "Liverpool F.C.", "Iowa Hawkeyes
#: football".
_TEAM_LABEL = re.compile(r"(?i)\b(?:a?\.?f\.?c\.?|football|basketball|baseball|hockey|rugby|club|team)$")
#: A team's item named after its place ("Liverpool F.C." for "Liverpool" in a match report): nearly as good
#: as the name itself, since the report says a team is meant.
TEAM_OF_PLACE_NAME = 0.9
UNKNOWN_TYPE = 0.7
OTHER_TYPE = 0.2
SHARPNESS = 4
#: The confidence share weighs each candidate by its prior odds of being meant, 40 ** popularity: the
#: popularity prior is log-scaled from 5 sitelinks (0) to 200 (1), so this undoes the log (200 / 5 =
#: 40) and London (Q84) is not halved by London, Ontario.
POPULARITY_ODDS_BASE = 40.0
#: A company's name without its legal form ("General Motors Corp" -> "General Motors") is nearly as good.
#: "Co" and "Company" stay: "General Electric Company" (GEC) is not General Electric.
LEGAL_FORM_WEIGHT = 0.95
LEGAL_FORMS = frozenset({"corp", "corporation", "inc", "incorporated", "ltd", "limited", "plc", "llc"})
#: The company words that stay on a name (see above), and that end a firm's "and Co".
CO_FORMS = frozenset({"co", "company"})
#: Legal forms written before the name ("NV Hallam", "AB Dunmore").
LEADING_LEGAL_FORMS = frozenset({"nv", "ab", "oy"})
#: How much each of an entity's names counts as a search form: its label; another name of several words;
#: another one-word name, an acronym a little more than a plain word.
FORM_WEIGHT_LABEL = 1.0
FORM_WEIGHT_MULTIWORD = 0.9
FORM_WEIGHT_ACRONYM = 0.85
FORM_WEIGHT_WORD = 0.8
#: An acronym whose letters the entity's label spells out ("MCR" of "Marlowe Cable and Radio Co"): the
#: article says what it stands for, so an item known by the acronym and not by that name is someone else's.
SPELLED_ACRONYM = 0.6
#: A name derived from an item's (a surname from a full name) counts this much of the name it comes from.
DERIVED_NAME = 0.92
#: A surname alone after an office's title ("President Hallam") matching a holder of that office: a one-word
#: name (ONE_WORD_ALIAS) that the title narrows to the people the description says held the office.
TITLED_SURNAME = 0.85
TITLED_HOW = "surname after the title"
TITLE_SEARCH_LIMIT = 50
#: Word search when no name matched: the share of words an item's name must share, and what a full
#: share is worth as a name score.
FUZZY_MIN_SHARE = 0.5
FUZZY_WEIGHT = 0.7
#: A pair of classes missing from TYPE_FIT fits this much (plain, and when the name has no other candidates).
TYPE_FIT_DEFAULT = (0.35, 0.7)
#: A candidate of our own class with a name score of at least this makes other classes' candidates fit plainly.
SAME_KIND_NAME = 0.75
#: Context evidence, combined as independent chances (1 - product of 1 - each): the item's country is named
#: in the same articles, or elsewhere in the corpus; places in it are named; a related item is named; a name
#: of the articles appears in its description (at most two count); a place linked in the same articles has
#: its kind of place (a sibling: "county in Vermont", "province of Argentina"; see `sibling_key`).
CONTEXT_COUNTRY_SHARED = 0.5
CONTEXT_COUNTRY_IN_CORPUS = 0.2
CONTEXT_CONTAINS_NAMED_PLACES = 0.4
CONTEXT_RELATED = 0.5
CONTEXT_DESCRIPTION = 0.3
CONTEXT_DESCRIPTION_MAX = 2
CONTEXT_SIBLING = 0.8
#: A person's description names the office whose title the articles write before the name ("Sen. Marlowe").
CONTEXT_TITLE = 0.5
#: A place's description names the state or country the articles write after its name ("Dunmore, Ohio"): as
#: strong as a sibling, since the text says where the place is.
CONTEXT_REGION = 0.8
#: The penalty of a namesake place whose description does not name that state or country when another's does.
REGION_ELSEWHERE = 0.6
#: The penalty of a namesake place without such a sibling when another has one.
SIBLING_ELSEWHERE = 0.8
#: score = name x type x (SUPPORT_FLOOR + (1 - SUPPORT_FLOOR) x support): an unknown item keeps half its score.
SUPPORT_FLOOR = 0.5
#: A national team's name: an exact name (at least this name score) of a country.
NATIONAL_NAME = 0.99


# -- inputs and outputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkQuery:
    """One entity to link: what it is called, what it is, where it appears."""

    iri: str
    kind: str
    label: str
    alt_labels: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    team: bool = False  # a place name standing for its sports team: never the place itself
    titles: tuple[str, ...] = ()  # offices' titles written before a person's name ("President")
    regions: tuple[str, ...] = ()  # states or countries written after a place's name and a comma ("Ohio")


@dataclass(frozen=True)
class LinkConfig:
    threshold: float = 0.6
    runners_up: int = 3
    context_articles: int = 50
    fuzzy: bool = True


@dataclass(frozen=True)
class Scored:
    """A candidate item with its score and the evidence for it."""

    item: Item
    source: SourceInfo
    score: float
    name: float
    type: float
    popularity: float
    context: float
    matched: str
    how: str
    evidence: tuple[str, ...] = ()

    @property
    def qid(self) -> str:
        return self.item.qid


@dataclass(frozen=True)
class LinkDecision:
    """What linking decided for one entity."""

    iri: str
    kind: str
    qid: str | None
    confidence: float
    candidates: tuple[Scored, ...] = ()
    corrected_kind: str | None = None
    reason: str = ""
    replaces: tuple[str, ...] = ()

    @property
    def linked(self) -> bool:
        return self.qid is not None

    @property
    def best(self) -> Scored | None:
        return self.candidates[0] if self.candidates else None

    @property
    def item(self) -> Item | None:
        return self.candidates[0].item if self.linked else None

    @property
    def source(self) -> SourceInfo | None:
        return self.candidates[0].source if self.linked else None

    @property
    def runners_up(self) -> tuple[Scored, ...]:
        return self.candidates[1:] if self.linked else self.candidates

    @property
    def final_kind(self) -> str:
        return self.corrected_kind or self.kind


# -- queries from resolved entities ------------------------------------------------------------


def article_of(mention_iri: str) -> str | None:
    """The article hash in a mention IRI (<base>article/<sha256>#char=b,e)."""
    m = _DIGEST.search(mention_iri)
    return m.group(1) if m else None


def queries_from_entities(entities: Iterable[Entity]) -> list[LinkQuery]:
    """One query per entity: its label, every other surface form, the articles it is mentioned in."""
    out = []
    for e in entities:
        digests = tuple(sorted({d for m in e.mentions if (d := article_of(m))}))
        out.append(
            LinkQuery(
                e.iri, e.kind, e.label, tuple(e.alt_labels), digests, team=e.team, titles=e.titles, regions=e.regions
            )
        )
    return out


# -- candidates --------------------------------------------------------------------------------


@dataclass
class _Form:
    name: str
    weight: float
    is_label: bool
    company: str = ""  # how a company's name was written otherwise ("without its legal form"): only an organisation


def _forms(q: LinkQuery) -> list[_Form]:
    forms: dict[str, _Form] = {}
    for name, is_label in [(q.label, True), *((a, False) for a in q.alt_labels)]:
        k = key(name)
        if not k:
            continue
        if is_label:
            weight = FORM_WEIGHT_LABEL
        elif len(k.split()) > 1:
            weight = FORM_WEIGHT_MULTIWORD
        else:
            weight = FORM_WEIGHT_ACRONYM if is_acronym(name) else FORM_WEIGHT_WORD
            if is_acronym(name) and _spells(q.label, k):
                weight *= SPELLED_ACRONYM  # the label says what it stands for: an item known only by it is a guess
        if k not in forms or weight > forms[k].weight:
            forms[k] = _Form(name, weight, is_label)
        if q.kind in (Kind.ORGANIZATION, ""):
            for other, how in company_names(name):
                if key(other) and key(other) not in forms:
                    forms[key(other)] = _Form(other, weight * LEGAL_FORM_WEIGHT, is_label, company=how)
    return list(forms.values())


def _spells(long: str, acronym_key: str) -> bool:
    """Whether a name of several words, its legal form aside, has the acronym's letters as its initials
    ("Marlowe Cable and Radio Co" spells "MCR")."""
    letters = acronym_key.replace(" ", "")
    ws = long.replace(",", " ").split()
    while len(ws) > 2 and ws[-1].rstrip(".").casefold() in LEGAL_FORMS | CO_FORMS:
        if initials(" ".join(ws)) == letters:
            return True  # "General Electric Company": GEC
        ws = ws[:-1]
    return len(ws) > 1 and initials(" ".join(ws)) == letters


def without_legal_form(name: str) -> str | None:
    """The name without trailing legal forms ("Merck and Co Inc" -> "Merck"), or None when it has none."""
    ws = name.replace(",", " ").split()
    end = len(ws)
    while end > 1 and ws[end - 1].rstrip(".").casefold() in LEGAL_FORMS:
        end -= 1
    return " ".join(ws[:end]) if 0 < end < len(ws) else None


def company_names(name: str) -> list[tuple[str, str]]:
    """Other ways a company's name is written, each with how: with another legal form ("Hallam Inc":
    Hallam Corporation); without its legal forms, at the end or the start ("Hallam Inc", "NV Hallam":
    Hallam); with "&" for "and" ("Hale and Dunmore": Hale & Dunmore); without the "and Co" of a firm
    ("Hale and Co": Hale; "Co" after a name alone stays: see `LEGAL_FORM_WEIGHT`)."""
    out: dict[str, str] = {}
    bare = without_legal_form(name) or name
    if bare != name and bare.split()[-1].rstrip(".").casefold() not in CO_FORMS:
        for form in sorted(LEGAL_FORMS):
            if key(other := f"{bare} {form.capitalize()}") != key(name):
                out[other] = "with another legal form"
    ws = bare.split()
    if len(ws) > 1 and ws[0].rstrip(".").casefold() in LEADING_LEGAL_FORMS:
        bare = " ".join(ws[1:])
    if bare != name:
        out[bare] = "without its legal form"
    ws = bare.split()
    if len(ws) > 2 and ws[-2].casefold() in {"and", "&"} and ws[-1].rstrip(".").casefold() in CO_FORMS:
        out.setdefault(" ".join(ws[:-2]), "without the firm's 'and Co'")
    if " and " in f" {bare} ":
        out.setdefault(re.sub(r"\band\b", "&", bare), "with '&' for 'and'")
    return list(out.items())


def _lookup_keys(q: LinkQuery, forms: list[_Form]) -> list[tuple[str, _Form, bool]]:
    """(key, form, derived) to look up: each form's key, and for people the key without middle names."""
    out = []
    for f in forms:
        k = key(f.name)
        out.append((k, f, False))
        if q.kind in (Kind.PERSON, ""):
            v = person_variant(f.name)
            if v and v != k:
                out.append((v, f, True))
    return out


@dataclass
class _Cand:
    match: NameMatch
    name: float
    matched: str
    how: str
    via_label: bool
    company: bool = False

    @property
    def strong(self) -> bool:
        """The entity's label is the item's label, or a multi-word alias: enough to doubt spaCy's type."""
        return self.via_label and (self.match.form == LABEL or (self.match.form == ALIAS and " " in key(self.matched)))


def _capitals(name: str) -> bool:
    """Written in capitals ("US", "the U.S."; a leading "the" aside)."""
    letters = [c for c in re.sub(r"^(?:the|The|THE)\s+", "", name.strip()) if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _written_alike(name: str, k: str, item: Item) -> bool:
    """For a short name: the item has a name of that key written with capitals as ours is ("Us" is not "US")."""
    return any(_capitals(n) == _capitals(name) for n in item.names if key(n) == k)


def _name_score(form: _Form, k: str, match: NameMatch, derived: bool, towns: frozenset[str] = frozenset()) -> float:
    """How well the name matches the item. `towns`: the countries of the places labelled with the name itself,
    whose presence makes a region's alias only an alias ("Hiroshima" is the city, not its prefecture)."""
    if short_key(k) and match.form in (LABEL, ALIAS) and not _written_alike(form.name, k, match.item):
        return 0.0  # "Us" (the magazine) never matches the United States' "US"
    if match.form == ALIAS and k == key(match.item.label) + "s":
        return 0.0  # "the two Koreas" are two states, not the region Korea whose alias the plural is
    quality = MATCH_QUALITY[match.form]
    if match.form == ALIAS and _a_region_by_its_name(k, match.item) and not towns.intersection(match.item.countries):
        quality = MATCH_QUALITY[LABEL]
    elif match.form == ALIAS and " " not in k:
        quality = min(quality, ONE_WORD_PERSON_ALIAS if match.item.kind == Kind.PERSON else ONE_WORD_ALIAS)
    if derived:
        quality *= DERIVED_NAME
    if match.form != LABEL and short_key(k):
        # "us" is the key of "U.S." and of "US"; written exactly as the alias it counts more.
        quality = min(quality, EXACT_SHORT_ALIAS if form.name in match.item.aliases else SHORT_ALIAS)
    return form.weight * quality


def _a_region_by_its_name(k: str, item: Item) -> bool:
    """ "Dunmore" for the place labelled "Dunmore Province": the region noun of the label says only what kind
    of place it is, so the alias is the label's own name and matches as well as the label does (unless the region
    is named after a town of its own country, which the bare name means: `_name_score`)."""
    if item.kind != Kind.PLACE:
        return False
    label = key(item.label)
    return label.startswith(f"{k} ") and label[len(k) + 1 :] in _REGION_KEYS


_REGION_KEYS = frozenset(key(noun) for noun in REGION_WORDS)


def _countries_of_places_labelled(matches: Iterable[NameMatch]) -> frozenset[str]:
    """The countries of the places whose label is the name itself, among one name's matches."""
    return frozenset(
        country
        for match in matches
        if match.form == LABEL and match.item.kind == Kind.PLACE
        for country in match.item.countries
    )


def _similarity(name: str, item: Item) -> float:
    mine = tokens(name)
    if not mine:
        return 0.0
    best = 0.0
    for other in item.names:
        theirs = tokens(other)
        if theirs:
            best = max(best, len(mine & theirs) / len(mine | theirs))
    return best


def _add_teams_named_after(q: LinkQuery, sources: Sequence[CandidateSource], cands: dict[str, _Cand]) -> None:
    """A place's name that stands for a team ("Liverpool" in a match report): the teams whose label is that
    name and more ("Liverpool F.C.", "Iowa Hawkeyes football") are candidates too (the metonymy)."""
    prefix = q.label.casefold() + " "
    for source in sources:
        for match in source.search(q.label, limit=30):
            item = match.item
            if item.qid not in cands and item.label.casefold().startswith(prefix) and is_a_team(item):
                how = f"a team named after {q.label!r}"
                cands[item.qid] = _Cand(match, TEAM_OF_PLACE_NAME, item.label, how, True)


#: Kin whose description names someone else's office ("daughter of the 7th president"): no holder of it.
_KIN = re.compile(
    r"\b(?:daughter|son|wife|husband|mother|father|brother|sister|widow|widower|child|grandson|granddaughter|"
    r"grandchild|niece|nephew|spouse|partner|cousin)\b"
)


def _names_a_region(item: Item, regions: Sequence[str]) -> str | None:
    """The first of the regions (keys) the item's description names ("city in Hale County, Ohio"), or None."""
    grams = _description_ngrams(item.description)
    return next((r for r in regions if r in grams), None)


def _offices(q: LinkQuery) -> list[str]:
    """The offices (keys of OFFICE_TITLES) of the titles written before a person's name."""
    return [o for t in q.titles if (o := office_title(t)) is not None] if q.kind == Kind.PERSON else []


def _holds_the_office(item: Item, offices: Sequence[str]) -> str | None:
    """The first of the offices whose words the item's description uses ("7th president of ..."), or None; not
    an office the description gives a relative ("daughter of the 7th president")."""
    text = item.description.casefold()
    kin = _KIN.search(text)
    for office in offices:
        for word in OFFICE_TITLES[office]:
            found = re.search(rf"\b{re.escape(word)}", text)
            if found and not (kin and kin.start() < found.start()):
                return office
    return None


def _add_holders_of_the_title(q: LinkQuery, sources: Sequence[CandidateSource], cands: dict[str, _Cand]) -> None:
    """ "President Hallam", with no full name in the article: a surname alone after an office's title is one of
    the people of that surname whose description names the office. Each is a candidate with a surname's name
    score; popularity and the confidence share then decide, so two presidents of one surname link neither."""
    surname = key(q.label)
    offices = _offices(q)
    if " " in surname or not surname or not offices:
        return
    for source in sources:
        for match in source.search(q.label, limit=TITLE_SEARCH_LIMIT):
            item = match.item
            if item.kind != Kind.PERSON or item.qid in cands:
                continue
            if not any(key(name).split()[-1:] == [surname] for name in item.names):
                continue
            office = _holds_the_office(item, offices)
            if office is not None:
                how = f"{TITLED_HOW} {office!r}"
                cands[item.qid] = _Cand(match, TITLED_SURNAME, q.label, how, True)


def gather_candidates(
    queries: Sequence[LinkQuery], sources: Sequence[CandidateSource], config: LinkConfig, *, remote: bool = False
) -> list[dict[str, _Cand]]:
    """Candidates per query, from every source, exact names first, words (FTS) when nothing matched.

    A remote source (the live API: one request per name) is asked about each entity's label only.
    """
    plans = []
    wanted: dict[str, str] = {}
    for q in queries:
        forms = _forms(q)
        keys = [(key(forms[0].name), forms[0], False)] if remote and forms else _lookup_keys(q, forms)
        plans.append(keys)
        for k, f, _ in keys:
            wanted.setdefault(k, f.name)
    found: list[dict[str, list[NameMatch]]] = [source.find(wanted) for source in sources]
    out: list[dict[str, _Cand]] = []
    for q, keys in zip(queries, plans, strict=True):
        cands: dict[str, _Cand] = {}
        for k, form, derived in keys:
            matches = [match for hits in found for match in hits.get(k, ())]
            towns = _countries_of_places_labelled(matches)
            for match in matches:
                score = _name_score(form, k, match, derived, towns)
                old = cands.get(match.item.qid)
                if old is None or score > old.name:
                    how = FORM_NAMES[match.form] + (" (without middle names)" if derived else "")
                    how += f" ({form.company})" if form.company else ""
                    cands[match.item.qid] = _Cand(match, score, form.name, how, form.is_label, bool(form.company))
        if q.team:
            _add_teams_named_after(q, sources, cands)
        if q.titles:
            _add_holders_of_the_title(q, sources, cands)
        if config.fuzzy and not cands and key(q.label):
            for source in sources:
                for match in source.search(q.label):
                    k = key(q.label)
                    if short_key(k) and not _written_alike(q.label, k, match.item):
                        continue  # as for exact names: "Us" is not "US"
                    sim = _similarity(q.label, match.item)
                    if sim >= FUZZY_MIN_SHARE and match.item.qid not in cands:
                        score = FUZZY_WEIGHT * sim
                        cands[match.item.qid] = _Cand(match, score, q.label, f"words ({sim:.0%} shared)", True)
        out.append(cands)
    return out


# -- scoring -----------------------------------------------------------------------------------


def type_fit(ours: str, theirs: str | None, soft: bool) -> float:
    """How well an item's class fits ours; `ours` empty means any of our classes (a lookup with no type)."""
    if theirs == OTHER:
        return OTHER_TYPE
    if not ours:
        return 1.0
    if theirs is None:
        return UNKNOWN_TYPE
    if theirs == ours:
        return 1.0
    plain, softened = TYPE_FIT.get(frozenset({ours, theirs}), TYPE_FIT_DEFAULT)
    return softened if soft else plain


@dataclass
class LinkContext:
    """What the rest of the corpus says around one entity: linked items, their countries, names."""

    qids: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    corpus_counts: Counter[str] = field(default_factory=Counter)
    own_countries: frozenset[str] = frozenset()
    names: set[str] = field(default_factory=set)
    labels: dict[str, str] = field(default_factory=dict)
    named_countries: set[str] = field(default_factory=set)  # countries its articles name (linked)
    place_descriptions: dict[str, str] = field(default_factory=dict)  # sibling_key -> a place linked there

    def in_corpus(self, country: str) -> bool:
        """Named by a linked entity somewhere in the corpus, not counting the entity being scored."""
        return self.corpus_counts.get(country, 0) > (country in self.own_countries)


def forget_descriptions() -> None:
    """Drop the memoised description n-grams (one linking run's speed-up; they grow with the candidates seen)."""
    _description_ngrams.cache_clear()


@lru_cache(maxsize=100_000)
def _description_ngrams(description: str, longest: int = 5) -> frozenset[str]:
    """Every run of up to five words of a description's key: what a context name must equal to be in it."""
    parts = key(description).split()
    return frozenset(" ".join(parts[i : i + n]) for n in range(1, longest + 1) for i in range(len(parts) - n + 1))


def sibling_key(description: str) -> str:
    """What kind of place a description says, up to its first comma ("county in Vermont" of "county in
    Vermont, United States" and of "county in Vermont, USA"): Wikidata writes the rest many ways.
    Empty for a description of one word, which says too little."""
    head = description.split(",", 1)[0].strip().casefold()
    return head if len(head.split()) >= 2 else ""


def _sibling_of(item: Item, ctx: LinkContext) -> str | None:
    """Another place linked in the same articles that is the same kind of place as this one, if any."""
    if item.kind != Kind.PLACE or not (kind_of_place := sibling_key(item.description)):
        return None
    sibling = ctx.place_descriptions.get(kind_of_place)
    return sibling if sibling != item.qid else None


def _context_score(
    item: Item, ctx: LinkContext | None, sibling: str | None = None
) -> tuple[float, float, list[str], bool]:
    """(context in [0,1], penalty factor, evidence, whether its country is named in the same articles).
    `sibling`: a place of the same kind linked in the same articles, given only when other places answer to the
    name too, so that it chooses between them (it never makes a lone weak candidate a link: "MD" after a
    doctor's name is no state)."""
    if ctx is None:
        return 0.0, 1.0, [], False
    found: list[float] = []
    evidence: list[str] = []

    def name(qid: str) -> str:
        return f"{ctx.labels[qid]} ({qid})" if qid in ctx.labels else qid

    countries = [c for c in item.countries if c != item.qid]
    shared = [c for c in countries if c in ctx.countries]
    if shared:
        found.append(CONTEXT_COUNTRY_SHARED)
        evidence.append(f"its country {name(shared[0])} is named in the same articles")
    elif any(ctx.in_corpus(c) for c in countries):
        found.append(CONTEXT_COUNTRY_IN_CORPUS)
        evidence.append("its country is named elsewhere in the corpus")
    if item.qid in ctx.countries:
        found.append(CONTEXT_CONTAINS_NAMED_PLACES)
        evidence.append("places in it are named in the same articles")
    related = [r for r in item.related if r in ctx.qids]
    if related:
        found.append(CONTEXT_RELATED)
        evidence.append(f"related item {name(related[0])} is named in the same articles")
    if sibling is not None:
        found.append(CONTEXT_SIBLING)
        evidence.append(f"{name(sibling)}, named in the same articles, is also a {sibling_key(item.description)!r}")
    if item.description and ctx.names:
        overlap = sorted(_description_ngrams(item.description) & ctx.names)
        if overlap:
            found += [CONTEXT_DESCRIPTION] * min(CONTEXT_DESCRIPTION_MAX, len(overlap))
            evidence.append(f"its description names {', '.join(repr(o) for o in overlap[:2])}")
    penalty = 1.0
    if countries and ctx.countries and not any(c in ctx.countries or ctx.in_corpus(c) for c in countries):
        # A place in a country the articles never name (a country itself is never penalised).
        penalty = COUNTRY_DISAGREES
        evidence.append(f"its country {name(countries[0])} is not one the articles name")
    rest = 1.0
    for x in found:
        rest *= 1.0 - x
    return 1.0 - rest, penalty, evidence, bool(shared)


def score_candidates(q: LinkQuery, cands: dict[str, _Cand], ctx: LinkContext | None) -> list[Scored]:
    """Each candidate's score (name x type x support x penalty; see the module doc), best first."""
    same_kind = any(c.match.item.kind == q.kind and c.name >= SAME_KIND_NAME for c in cands.values())
    acronym = is_acronym(q.label)
    namesakes = sum(c.match.item.kind == Kind.PLACE and c.name >= SAME_KIND_NAME for c in cands.values()) > 1
    siblings = {
        qid: _sibling_of(c.match.item, ctx) if namesakes and ctx is not None else None for qid, c in cands.items()
    }
    contexts = {qid: _context_score(c.match.item, ctx, siblings[qid]) for qid, c in cands.items()}
    # When a namesake place has a sibling in the same articles, the namesakes without one lose.
    with_sibling = {qid for qid, sibling in siblings.items() if sibling is not None}
    # When some candidate's country agrees with the articles, a rival country they never name loses too.
    agreeing = any(agree for _, _, _, agree in contexts.values())
    offices = _offices(q)
    regions = [key(r) for r in q.regions] if q.kind in (Kind.PLACE, "") else []
    in_region = {
        qid: region
        for qid, c in cands.items()
        if regions and c.match.item.kind == Kind.PLACE and (region := _names_a_region(c.match.item, regions))
    }
    scored = []
    for qid, c in cands.items():
        item = c.match.item
        soft = not same_kind and c.strong and not acronym
        if c.company and item.kind != Kind.ORGANIZATION:
            fit = OTHER_TYPE  # "Lancaster corp" is a company, whatever else is called Lancaster
        elif q.team and not is_a_team(item):
            fit = TEAM_AS_PLACE
        elif not q.team and c.match.form != LABEL and len(c.matched.split()) == 1 and is_a_team(item):
            # a team's one-word nickname outside a match report ("Jazz" in an oil-price story) is not
            # the team; its full name ("Manchester City") is
            fit = OTHER_TYPE
        else:
            fit = type_fit(q.kind, item.kind, soft)
        context, penalty, evidence, _ = contexts[qid]
        if offices and item.kind == Kind.PERSON and (office := _holds_the_office(item, offices)) is not None:
            context = 1.0 - (1.0 - context) * (1.0 - CONTEXT_TITLE)
            evidence = [*evidence, f"its description names the office of the title {office!r} before the name"]
        if qid in in_region:
            context = 1.0 - (1.0 - context) * (1.0 - CONTEXT_REGION)
            evidence = [*evidence, f"its description names {in_region[qid]!r}, written after the name"]
        elif in_region and item.kind == Kind.PLACE:
            penalty *= REGION_ELSEWHERE
            evidence = [*evidence, "a namesake is in the state or country written after the name"]
        rival = agreeing and penalty == 1.0 and ctx is not None and item.qid in item.countries
        if rival and not any(x in ctx.countries or ctx.in_corpus(x) for x in item.countries):  # type: ignore[union-attr]
            penalty = COUNTRY_DISAGREES
            evidence = [*evidence, "a rival in a country the articles name is more likely"]
        if with_sibling and qid not in with_sibling and item.kind == Kind.PLACE and c.name >= SAME_KIND_NAME:
            penalty *= SIBLING_ELSEWHERE
            evidence = [*evidence, "a namesake is the kind of place the articles name"]
        support = 1.0 - (1.0 - item.popularity) * (1.0 - context)
        score = c.name * fit * (SUPPORT_FLOOR + (1 - SUPPORT_FLOOR) * support) * penalty
        scored.append(
            Scored(
                item,
                c.match.source,
                round(score, 4),
                round(c.name, 4),
                round(fit, 4),
                item.popularity,
                round(context, 4),
                c.matched,
                c.how,
                tuple(evidence),
            )
        )
    scored.sort(key=lambda s: (-s.score, -s.item.popularity, s.item.number))
    return scored


def is_a_team(item: Item) -> bool:
    """A sports team or club, by its classes or, for items without classes, its description or label."""
    return (
        bool(TEAM_CLASSES.intersection(item.classes))
        or bool(_TEAM_DESCRIPTION.search(item.description))
        or bool(_TEAM_LABEL.search(item.label))
    )


def _national_team(q: LinkQuery, scored: list[Scored]) -> bool:
    """A team named like a country: every sport has one, and an index cannot tell which the article means."""
    return q.team and any(
        s.item.kind == Kind.PLACE and s.item.qid in s.item.countries and s.name >= NATIONAL_NAME for s in scored
    )


def decide_one(q: LinkQuery, scored: list[Scored], config: LinkConfig) -> LinkDecision:
    """The decision for one entity from its scored candidates: the best one's confidence (its share of
    the weight), linked when over the threshold; no link otherwise, with the reason."""
    keep = scored[: config.runners_up + 1]
    if not scored:
        return LinkDecision(q.iri, q.kind, None, 0.0, (), None, "no candidate in the sources")
    if _national_team(q, scored):
        why = "a national team: one per sport, and nothing says which sport's team it is"
        return LinkDecision(q.iri, q.kind, None, 0.0, tuple(keep), None, why)
    best = scored[0]
    holders = [s for s in scored if s.how.startswith(TITLED_HOW)]
    if best in holders and len(holders) > 1:
        names = ", ".join(f"{s.item.label} ({s.qid})" for s in holders[:3])
        why = f"{len(holders)} holders of the office its title names share the surname: {names}"
        return LinkDecision(q.iri, q.kind, None, 0.0, tuple(keep), None, why)
    weights = [s.score**SHARPNESS * POPULARITY_ODDS_BASE**s.item.popularity for s in scored]
    share = weights[0] / sum(weights) if sum(weights) > 0 else 0.0
    confidence = round(best.score * share, 3)
    label = f"{best.item.label} ({best.qid})"
    if confidence < config.threshold:
        why = f"best candidate {label} has confidence {confidence:.2f}, below the threshold {config.threshold:.2f}"
        if share < 0.75 and len(scored) > 1:
            why += f"; the name is shared with {scored[1].item.label} ({scored[1].qid})"
        return LinkDecision(q.iri, q.kind, None, confidence, tuple(keep), None, why)
    corrected = best.item.kind if q.kind and best.item.kind in KINDS and best.item.kind != q.kind else None
    parts = [f"{best.how} {best.matched!r}", f"popularity {best.popularity:.2f}"]
    if best.item.kind:
        parts.append(f"type {best.item.kind.lower()}" + (f" (spaCy said {q.kind.lower()})" if corrected else ""))
    parts += list(best.evidence)
    if share < 0.99 and len(scored) > 1:
        parts.append(f"ahead of {scored[1].item.label} ({scored[1].qid}, {scored[1].score:.2f})")
    return LinkDecision(q.iri, q.kind, best.qid, confidence, tuple(keep), corrected, "; ".join(parts))


def _article_groups(queries: Sequence[LinkQuery], config: LinkConfig) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(queries):
        for d in q.articles[: config.context_articles]:
            groups[d].append(i)
    return groups


def article_contexts(
    queries: Sequence[LinkQuery],
    anchors: dict[int, Item],
    explicit: list[list[Item]],
    config: LinkConfig,
) -> list[LinkContext]:
    """Each query's context: items confidently linked in its articles (itself left out), their countries."""
    groups = _article_groups(queries, config)
    corpus_counts = Counter(c for item in anchors.values() for c in set(item.countries))
    labels = {item.qid: item.label for item in anchors.values()}
    names_by_article = {d: {key(queries[i].label) for i in idx} for d, idx in groups.items()}
    out = []
    for i, q in enumerate(queries):
        own = frozenset(anchors[i].countries) if i in anchors else frozenset()
        ctx = LinkContext(corpus_counts=corpus_counts, own_countries=own, labels=labels)
        neighbours: set[int] = set()
        for d in q.articles[: config.context_articles]:
            neighbours.update(groups[d])
            ctx.names.update(names_by_article[d])
        neighbours.discard(i)
        items = [anchors[j] for j in neighbours if j in anchors] + explicit[i]
        own_key = key(q.label)
        ctx.names.discard(own_key)
        ctx.names.update(key(n) for n in q.context)
        ctx.names = {n for n in ctx.names if len(n) >= 4}
        for item in items:
            ctx.qids.add(item.qid)
            ctx.countries.update(item.countries)
            ctx.labels.setdefault(item.qid, item.label)
            if item.qid in item.countries:
                ctx.named_countries.add(item.qid)
            if item.kind == Kind.PLACE and sibling_key(item.description):
                ctx.place_descriptions.setdefault(sibling_key(item.description), item.qid)
        out.append(ctx)
    return out


def _explicit_context(queries: Sequence[LinkQuery], sources: Sequence[CandidateSource]) -> list[list[Item]]:
    """Items for context names given with a query (`kg wikidata lookup --context`): their best exact match."""
    if not any(q.context for q in queries):
        return [[] for _ in queries]
    wanted = {key(n): n for q in queries for n in q.context if key(n)}
    found = [s.find(wanted) for s in sources]
    out = []
    for q in queries:
        items = []
        for n in q.context:
            hits = [m for f in found for m in f.get(key(n), ()) if m.form in (LABEL, ALIAS) and m.item.kind != OTHER]
            if hits:
                items.append(max(hits, key=lambda m: (m.form == LABEL, m.item.popularity)).item)
        out.append(items)
    return out


def link(
    queries: Sequence[LinkQuery],
    sources: Sequence[CandidateSource],
    config: LinkConfig | None = None,
    *,
    fallback: Sequence[CandidateSource] = (),
) -> list[LinkDecision]:
    """A decision per query, in order: link each to one item or to none, from the context of all.

    Two rounds: first each entity on its own (name, type, popularity); the confident links of that
    round are the context of the second (countries, related items, names in descriptions). Fallback
    sources (the live API) are asked only about entities the others leave unlinked.
    """
    config = config or LinkConfig()
    cands = gather_candidates(queries, sources, config)
    explicit = _explicit_context(queries, sources)
    first = [decide_one(q, score_candidates(q, c, None), config) for q, c in zip(queries, cands, strict=True)]
    if fallback:
        missing = [i for i, d in enumerate(first) if not d.linked]
        extra = gather_candidates([queries[i] for i in missing], fallback, config, remote=True)
        for i, more in zip(missing, extra, strict=True):
            for qid, c in more.items():
                if qid not in cands[i] or c.name > cands[i][qid].name:
                    cands[i][qid] = c
            first[i] = decide_one(queries[i], score_candidates(queries[i], cands[i], None), config)
    anchors = {i: d.item for i, d in enumerate(first) if d.item is not None}
    contexts = article_contexts(queries, anchors, explicit, config)
    return [
        national_body(q, [*sources, *fallback], ctx) or decide_one(q, score_candidates(q, c, ctx), config)
        for q, c, ctx in zip(queries, cands, contexts, strict=True)
    ]


#: The confidence of the national-body rule's link: it is a rule, not a score, and it is right when its premise is.
NATIONAL_BODY_CONFIDENCE = 0.9


def _country_named(name: str, sources: Sequence[CandidateSource]) -> str | None:
    """The country a nationality word or a country's own name stands for ("British", "U.S."), or None."""
    if (country := country_of(name)) is not None:
        return country.qid
    k = key(name)
    found = {
        m.item.qid
        for source in sources
        for m in source.find({k: name}).get(k, ())
        if m.form in (LABEL, ALIAS) and m.item.kind == Kind.PLACE and m.item.qid in m.item.countries
    }
    return found.pop() if len(found) == 1 else None


def national_body(q: LinkQuery, sources: Sequence[CandidateSource], ctx: LinkContext) -> LinkDecision | None:
    """The decision for a bare "Navy" or "Treasury": the one such body of the one country the entity's articles
    name, or no link at all (never the academy or team that "Navy" is also an alias of); for "British Treasury" the
    one of the country its name says. None for any other name, and for a name before the body that is no
    country's ("Salvation Army")."""
    body_and_prefix = a_national_body(q.label) if q.kind in (Kind.ORGANIZATION, "") else None
    if body_and_prefix is None:
        return None
    body, prefix = body_and_prefix
    if prefix:
        named = _country_named(prefix, sources)
        if named is None:
            return None
        whose = f"the country its name says, {prefix}"
    elif len(ctx.named_countries) != 1:
        why = f"a bare {q.label!r}: its articles name {len(ctx.named_countries)} countries, so whose is not clear"
        return LinkDecision(q.iri, q.kind, None, 0.0, (), None, why)
    else:
        (named,) = ctx.named_countries
        whose = "the one country its articles name"
    found: dict[str, tuple[Item, SourceInfo]] = {}
    for source in sources:
        for match in source.search(body, limit=50):
            item = match.item
            label = key(item.label)
            if item.kind == Kind.ORGANIZATION and label.endswith(" " + body) and named in item.countries:
                found.setdefault(item.qid, (item, match.source))
    country = ctx.labels.get(named, prefix or named)
    if len(found) != 1 and prefix:
        return None  # "U.S. Navy" is then linked by its name as any other
    if len(found) != 1:
        why = f"{q.label!r}: the index holds {len(found)} such bodies of {country}"
        return LinkDecision(q.iri, q.kind, None, 0.0, (), None, why)
    ((item, source),) = found.values()
    scored = Scored(item, source, 1.0, 1.0, 1.0, item.popularity, 1.0, q.label, "national body")
    why = f"the {body} of {country}, {whose}"
    return LinkDecision(q.iri, q.kind, item.qid, NATIONAL_BODY_CONFIDENCE, (scored,), None, why)


def rank(query: LinkQuery, sources: Sequence[CandidateSource], config: LinkConfig | None = None) -> list[Scored]:
    """Every candidate for one name, scored and ranked (what `kg wikidata lookup` shows)."""
    config = config or LinkConfig()
    cands = gather_candidates([query], sources, config)[0]
    explicit = _explicit_context([query], sources)
    ctx = article_contexts([query], {}, explicit, config)[0] if query.context else None
    return score_candidates(query, cands, ctx)


# -- merging and type correction ---------------------------------------------------------------


def _articles(mentions: Iterable[str]) -> int:
    return len({d for m in mentions if (d := article_of(m))})


def merge_linked(
    entities: Sequence[Entity], decisions: Sequence[LinkDecision], iris: Iris
) -> tuple[list[Entity], list[LinkDecision]]:
    """Entities linked to the same item become one; corrected classes move an entity to its class.

    The merged entity keeps the IRI and label of the member with the most mentions (ties: the
    smallest IRI), every member's mentions and names; its decision is the most confident one and
    records the IRIs it replaces. An entity whose class changed gets an IRI under its new class.
    Same input, same output.
    """
    by_iri = {d.iri: d for d in decisions}
    groups: dict[str, list[Entity]] = defaultdict(list)
    alone: list[Entity] = []
    for e in entities:
        d = by_iri[e.iri]
        (groups[d.qid].append(e) if d.qid else alone.append(e))
    merged: list[tuple[Entity, LinkDecision]] = [(e, by_iri[e.iri]) for e in alone]
    for members in groups.values():
        members = sorted(members, key=lambda e: (-len(e.mentions), e.iri))
        head = members[0]
        decision = max((by_iri[e.iri] for e in members), key=lambda d: (d.confidence, d.iri == head.iri))
        if len(members) == 1:
            merged.append((head, decision))
            continue
        item = decision.item
        kind = item.kind if item is not None and item.kind in KINDS else head.kind
        decision = replace(decision, kind=head.kind, corrected_kind=kind if kind != head.kind else None)
        mentions = tuple(sorted({m for e in members for m in e.mentions}))
        names = {n for e in members for n in (e.label, *e.alt_labels)}
        categories = Counter()
        for e in members:
            if e.place_category:
                categories[e.place_category] += len(e.mentions)
        entity = replace(
            head,
            kind=kind,
            alt_labels=tuple(sorted(names - {head.label})),
            mentions=mentions,
            articles=_articles(mentions),
            place_category=max(categories, key=lambda c: (categories[c], c)) if categories else head.place_category,
        )
        others = tuple(e.iri for e in members[1:])
        reason = decision.reason + f"; merged with {len(others)} other node(s) linked to the same item"
        merged.append((entity, replace(decision, iri=head.iri, replaces=others, reason=reason)))
    return _reclass(merged, iris)


def _reclass(pairs: list[tuple[Entity, LinkDecision]], iris: Iris) -> tuple[list[Entity], list[LinkDecision]]:
    taken = {e.iri for e, d in pairs if (d.corrected_kind or e.kind) == e.kind}
    entities, decisions = [], []
    for e, d in sorted(pairs, key=lambda p: p[0].iri):
        kind = d.corrected_kind or e.kind
        if kind != e.kind:
            iri = iris.entity(kind, e.label)
            n = 2
            while iri in taken:
                iri = iris.entity(kind, f"{e.label} {n}")
                n += 1
            taken.add(iri)
            category = None
            if kind == Kind.PLACE:
                category = e.place_category
            d = replace(d, iri=iri, replaces=(*d.replaces, e.iri))
            e = replace(e, iri=iri, kind=kind, place_category=category)
        if e.kind != Kind.PLACE and e.place_category:
            e = replace(e, place_category=None)
        entities.append(e)
        decisions.append(d)
    order = sorted(range(len(entities)), key=lambda i: (entities[i].kind, entities[i].iri))
    return [entities[i] for i in order], [decisions[i] for i in order]


# -- RDF ---------------------------------------------------------------------------------------


@dataclass
class LinkResult:
    """Linking of a whole corpus: the entities after merging and correction, a decision for each."""

    entities: list[Entity]
    decisions: dict[str, LinkDecision]
    sources: tuple[SourceInfo, ...]
    config: LinkConfig
    time: datetime
    seconds: float = 0.0
    queried: int = 0

    def counts(self) -> dict[str, int]:
        decisions = self.decisions.values()
        return {
            "entities": self.queried,
            "linked": sum(d.linked for d in decisions),
            "not linked": sum(not d.linked for d in decisions),
            "merged away": self.queried - len(self.entities),
            "class corrected": sum(d.corrected_kind is not None for d in decisions),
        }

    def summary(self) -> str:
        c = self.counts()
        per = 1000 * self.seconds / max(1, self.queried)
        return (
            f"linking: {c['linked']:,} linked, {c['not linked']:,} not linked, {c['merged away']:,} merged away, "
            f"{c['class corrected']:,} class(es) corrected, in {self.seconds:.2f}s ({per:.2f} ms per entity)"
        )


def link_entities(
    entities: Sequence[Entity], sources: Sources, iris: Iris, config: LinkConfig | None = None
) -> LinkResult:
    """Link resolved entities, merge those that share an item, move corrected ones to their class."""
    started = time.perf_counter()
    config = config or LinkConfig()
    decisions = link(queries_from_entities(entities), sources.local, config, fallback=sources.fallback)
    used = tuple(dict.fromkeys(s.info for s in sources.all))
    return link_result(entities, decisions, iris, used, config, started)


def link_result(
    entities: Sequence[Entity],
    decisions: Sequence[LinkDecision],
    iris: Iris,
    sources: tuple[SourceInfo, ...],
    config: LinkConfig,
    started: float,
) -> LinkResult:
    """The result of linking `entities` with these decisions, wherever they were made (here, or on a
    cluster's workers): entities that share an item merged, corrected ones moved to their class."""
    final, final_decisions = merge_linked(entities, decisions, iris)
    return LinkResult(
        entities=final,
        decisions={d.iri: d for d in final_decisions},
        sources=sources,
        config=config,
        time=datetime.now(UTC).replace(microsecond=0),
        seconds=time.perf_counter() - started,
        queried=len(entities),
    )


def config_from(settings: Settings) -> LinkConfig:
    return LinkConfig(threshold=settings.link_threshold)


def link_corpus(
    entities: Sequence[Entity], settings: Settings, iris: Iris, *, sources: Sources | None = None
) -> LinkResult:
    """`link_entities` with the sources and threshold the settings name (what `kg build` calls)."""
    if sources is not None:
        return link_entities(entities, sources, iris, config_from(settings))
    with open_sources(settings) as opened:
        return link_entities(entities, opened, iris, config_from(settings))
