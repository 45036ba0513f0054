"""Mentions within one article: which spans name the same thing, and by what name.

`resolve_article` runs with extraction (pure, per article): acronyms defined in the text ("United
Nations Command (UNC)"), spelling variants (U.N./UN), a surname alone after the full name, a company's
short name after its full name ("Marlowe" after "Marlowe Bank of Canada"), "the North" for North Korea,
a surname tagged as an organisation that is the person named in full. The corpus stage
(kg.corpus.resolve) then joins the articles' names into entities.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ..model import KIND_LABEL, KIND_ORDER, LABEL_KIND, TEAM, Candidate, Kind, Mention
from ..names import (
    DIRECTIONS,
    clean_name,
    display,
    identity_key,
    initials,
    is_acronym,
    long_form_start,
    name_key,
    person_key,
    words,
)
from .mention_rules import head_word_label

_DEFINITION = re.compile(r"\(\s*([A-Z][A-Za-z&.]{1,9})\s*\)")


# -- within one article ----------------------------------------------------------------------


class Groups:
    """Union-find over candidate indexes."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _definitions(cands: list[Candidate]) -> dict[str, Candidate]:
    """Acronym key -> the entity that defines it just before "(ACR)": "United Nations Command (UNC)"."""
    found: dict[str, Candidate] = {}
    for acr in cands:
        key = name_key(acr.text)
        if acr.kind == Kind.GROUP or not is_acronym(acr.text) or key in found:
            continue
        for c in cands:
            if c.kind == Kind.GROUP or is_acronym(c.text) or not (0 <= acr.begin - c.end <= 3):
                continue
            if long_form_start(acr.text, c.text) is not None:
                found[key] = c
                break
    return found


@dataclass
class Joining:
    """One article's candidates as the joining rules see them: sorted, keyed, grouped as they go."""

    cands: list[Candidate]
    text: str | None
    defined: dict[str, Candidate]  # acronym key -> the long form the article defines it by
    keys: list[str]  # each candidate's identity key (an acronym's is its long form's)
    groups: Groups

    @property
    def entities(self) -> list[int]:
        """Indexes of the candidates that can be entities (not nationality or other groups)."""
        return [i for i, c in enumerate(self.cands) if c.kind != Kind.GROUP]

    def members(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.cands)):
            out[self.groups.find(i)].append(i)
        return out


def _name(c: Candidate) -> str:
    """The name a candidate stands for: its text, or the name without what it was written with ("Mr Shorten")."""
    return c.refers_to or c.text


def _same_name(art: Joining) -> None:
    """Mentions with the same identity key are one thing ("U.N." and "UN"; an acronym and its long form), and
    so are a person's full names but for middle initials ("Donald J. Trump", "Donald Trump")."""
    first_with_key: dict[tuple[bool, str], int] = {}
    first_person: dict[str, int] = {}
    for i, c in enumerate(art.cands):
        slot = (c.kind == Kind.GROUP, art.keys[i])
        if slot in first_with_key:
            art.groups.union(first_with_key[slot], i)
        else:
            first_with_key[slot] = i
        if c.kind == Kind.PERSON and len(words(_name(c))) >= 2:
            first = first_person.setdefault(person_key(_name(c)), i)
            art.groups.union(first, i)


def _name_part_joins_its_person(art: Joining) -> None:
    """A surname or given name alone joins the one full name it belongs to ("Carroll", "Lee"), also when
    spaCy called it an organisation or a place ("Ford" in an obituary of Gerald Ford), unless the article
    names an organisation or place with that word in full ("Ford Motor Co"), or the word stands where a
    place stands ("in Washington")."""
    cands, groups, keys, entity_idx = art.cands, art.groups, art.keys, art.entities
    people: dict[str, set[int]] = defaultdict(set)
    for root, idx in art.members().items():
        if cands[root].kind == Kind.GROUP:
            continue
        votes = Counter(cands[i].kind for i in idx)
        for i in idx:
            parts = words(_name(cands[i]))
            if votes[Kind.PERSON] and cands[i].kind == Kind.PERSON and len(parts) >= 2:
                people[parts[0]].add(root)
                people[parts[-1]].add(root)
    in_full = {
        w
        for j in entity_idx
        if cands[j].kind in {Kind.ORGANIZATION, Kind.PLACE} and len(words(cands[j].text)) > 1
        for w in words(cands[j].text)
    }
    for i in entity_idx:
        c = cands[i]
        parts = words(_name(c))
        if len(parts) != 1 or c.ner_label not in {"PERSON", "ORG", "GPE"}:
            continue
        # Case matters: "UN" is not the "Un" of Kim Jong Un.
        owners = {groups.find(r) for r in people.get(parts[0], ())}
        if len(owners) != 1:
            continue
        if c.ner_label != "PERSON" and parts[0] in in_full:
            continue
        if c.ner_label == "GPE" and any(
            _after_a_locative(art.text, cands[j].begin) for j in entity_idx if keys[j] == keys[i]
        ):
            continue  # one "in Washington" makes every "Washington" of the article the place
        groups.union(owners.pop(), i)


def _leading_acronym_joins_its_organisation(art: Joining) -> None:
    """ "the UN said" in an article about the United Nations Command: a bare acronym that only begins the
    name of one organisation of the article, which never names the acronym's own long form, is that one."""
    cands, groups, entity_idx = art.cands, art.groups, art.entities
    named = [cands[j] for j in entity_idx]
    for i in entity_idx:
        c = cands[i]
        if c.kind != Kind.ORGANIZATION or not is_acronym(c.text) or name_key(c.text) in art.defined:
            continue
        found, spelled = _owners_of_a_leading_acronym(c.text, named)
        owners = {groups.find(entity_idx[n]) for n in found}
        if len(owners) == 1 and not spelled:
            groups.union(owners.pop(), i)


#: Words that make a name of several words a company's or institution's, whose first word alone is its short
#: name in business news ("Marlowe Bank of Canada" ... "Marlowe said").
COMPANY_WORDS = frozenset(
    {
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "co",
        "company",
        "ltd",
        "limited",
        "plc",
        "llc",
        "ag",
        "sa",
        "nv",
        "gmbh",
        "bank",
        "group",
        "industries",
        "holdings",
        "airlines",
        "airways",
        "textiles",
        "stores",
        "motors",
    }
)


def _own_words(parts: list[str]) -> list[str]:
    """The words of a company's name before its first company word ("Hallam Dunmore Inc": Hallam, Dunmore);
    none when it has no company word after its first word."""
    for n, w in enumerate(parts[1:], start=1):
        if w.casefold() in COMPANY_WORDS:
            return parts[:n]
    return []


def _short_name_joins_its_company(art: Joining) -> None:
    """ "Marlowe Bank of Canada said ... Marlowe added": a one-word organisation that is a word of one
    company's name before its company word, and a word of no other name there, is that company's short name;
    the link is then decided on the full name, not on whatever else is called Marlowe. So is the second name
    of a company named after two ("Hallam Dunmore Inc ... a merger of Hallam and Dunmore")."""
    cands, groups, entity_idx = art.cands, art.groups, art.entities
    companies: dict[str, set[int]] = defaultdict(set)  # word -> the companies whose own name holds it
    holders: dict[str, set[int]] = defaultdict(set)  # word -> every name of several words that holds it
    for j in entity_idx:
        parts = words(cands[j].text)
        if len(parts) < 2:
            continue
        for w in parts:
            holders[w].add(groups.find(j))
        if cands[j].kind == Kind.ORGANIZATION:
            for w in _own_words(parts):
                companies[w].add(groups.find(j))
    for i in entity_idx:
        c = cands[i]
        parts = words(c.text)
        if len(parts) != 1 or c.kind != Kind.ORGANIZATION or is_acronym(c.text):
            continue
        owners = {groups.find(r) for r in companies.get(parts[0], ())}
        if len(owners) == 1 and {groups.find(r) for r in holders[parts[0]]} == owners:
            groups.union(owners.pop(), i)


def _direction_joins_its_place(art: Joining) -> None:
    """ "the North" is North Korea when the article names exactly one such place."""
    cands, groups, keys, entity_idx = art.cands, art.groups, art.keys, art.entities
    places: dict[str, set[int]] = defaultdict(set)
    for i in entity_idx:
        parts = keys[i].split()
        if cands[i].label == "GPE" and len(parts) >= 2 and parts[0] in DIRECTIONS:
            places[parts[0]].add(groups.find(i))
    for i in entity_idx:
        if cands[i].kind == Kind.PLACE and keys[i] in DIRECTIONS:
            owners = {groups.find(r) for r in places.get(keys[i], ())}
            if len(owners) == 1:
                groups.union(owners.pop(), i)


#: How an article's mentions come to name one thing, applied in this order (later rules see what the
#: earlier ones joined: a surname finds its person among the names already joined).
JOIN_RULES: tuple[Callable[[Joining], None], ...] = (
    _same_name,
    _name_part_joins_its_person,
    _leading_acronym_joins_its_organisation,
    _short_name_joins_its_company,
    _direction_joins_its_place,
)


def _key(c: Candidate, defined: dict[str, Candidate]) -> str:
    """A candidate's identity key; an acronym the article defines takes its long form's."""
    key = name_key(c.refers_to or c.text)
    if key in defined and is_acronym(c.text):
        return name_key(defined[key].text)
    return identity_key(c.refers_to or c.text)


def resolve_article(cands: list[Candidate], text: str | None = None) -> list[Mention]:
    """Name every candidate after what it refers to within the article; drop headline noise."""
    cands = sorted(cands, key=lambda c: (c.begin, c.end))
    defined = _definitions(cands) if text is None else _definitions_with_text(cands, text)
    art = Joining(cands, text, defined, [_key(c, defined) for c in cands], Groups(len(cands)))
    for rule in JOIN_RULES:
        rule(art)
    mentions: list[Mention] = []
    for idx in art.members().values():
        if all(cands[i].in_headline for i in idx):
            continue  # headline fragments: only what the body confirms is kept
        kind = _group_kind([cands[i] for i in idx], defined)
        name = _group_name([cands[i] for i in idx], defined)
        team = kind == Kind.ORGANIZATION and any(cands[i].label == TEAM for i in idx)
        for i in idx:
            c = cands[i]
            # one sense per report: "Uruguay" that plays a match once is the team throughout
            own = c.label if LABEL_KIND.get(c.label) == kind else _default_label(kind, idx, cands)
            label = TEAM if team else own
            title = c.title if kind == Kind.PERSON else None
            region = c.region if kind == Kind.PLACE else None
            mentions.append(Mention(c.begin, c.end, c.text, label, c.ner_label, kind, name, c.sentence, title, region))
    return sorted(mentions, key=lambda m: (m.begin, m.end))


def _owners_of_a_leading_acronym(acronym: str, cands: list[Candidate]) -> tuple[set[int], bool]:
    """Organisations whose name begins with the acronym or its long form ("UN Command", "United Nations
    Command" for "UN"), by index; and whether some name is exactly that long form ("United Nations")."""
    k = name_key(acronym)
    owners: set[int] = set()
    spelled = False
    for n, c in enumerate(cands):
        ws = words(c.text)
        if c.kind != Kind.ORGANIZATION or len(ws) < 2:
            continue
        for end in range(1, len(ws)):
            head = " ".join(ws[:end])
            if name_key(head) == k or (end > 1 and initials(head) == k and not is_acronym(ws[0])):
                owners.add(n)
                break
        if initials(c.text) == k and not any(is_acronym(w) for w in ws):
            spelled = True  # the article names the acronym's own long form: the acronym may mean that
    return owners, spelled


_LOCATIVE_BEFORE = re.compile(r"\b(?:in|at|from|to|near|into|across|outside|inside)\s+(?:the\s+)?$", re.I)


def _after_a_locative(text: str | None, begin: int) -> bool:
    """ "in Washington": the word stands where a place stands (True when the text is unknown: no guessing)."""
    return text is None or bool(_LOCATIVE_BEFORE.search(text[max(0, begin - 20) : begin]))


def _default_label(kind: str, idx: list[int], cands: list[Candidate]) -> str:
    labels = Counter(cands[i].label for i in idx if LABEL_KIND.get(cands[i].label) == kind)
    return labels.most_common(1)[0][0] if labels else KIND_LABEL[kind]


def _weight(c: Candidate) -> float:
    if is_acronym(c.text):
        return 0.5
    return 2.0 if len(c.text.split()) > 1 else 1.0


def _group_kind(group: list[Candidate], defined: dict[str, Candidate]) -> str:
    if group[0].kind == Kind.GROUP:
        return Kind.GROUP
    if any(c.label == TEAM for c in group) and not any(c.kind == Kind.PERSON for c in group):
        # A name that plays a match once in a report is its team in every sentence of it ("Uruguay have been
        # the surprise", "against Uruguay"): the match report is about the teams, not the countries.
        return Kind.ORGANIZATION
    votes: Counter[str] = Counter()
    for c in group:
        votes[c.kind] += _weight(c)
        long = defined.get(name_key(c.text)) if is_acronym(c.text) else None
        if long is not None:
            votes[long.kind] += 2.0
    return max(votes, key=lambda k: (votes[k], -KIND_ORDER.index(k)))


def _group_name(group: list[Candidate], defined: dict[str, Candidate]) -> str:
    forms: Counter[str] = Counter()
    for c in group:
        forms[clean_name(c.refers_to or c.text)] += 1
        long = defined.get(name_key(c.text)) if is_acronym(c.text) else None
        if long is not None:
            forms[clean_name(long.text)] += 1
    best = max(
        forms,
        key=lambda f: (not is_acronym(f), not f.isupper(), len(words(f)), forms[f], len(f), f),
    )
    return display(best)


def _definitions_with_text(cands: list[Candidate], text: str) -> dict[str, Candidate]:
    """Definitions whose long form is an entity, and ones written in lower case ("demilitarized zone (DMZ)")."""
    found = _definitions(cands)
    for m in _DEFINITION.finditer(text):
        acr = m.group(1)
        key = name_key(acr)
        if key in found or not is_acronym(acr):
            continue
        window = text[max(0, m.start() - 80) : m.start()].rstrip()
        window = re.split(r"[.;:!?()\n\"“”]", window)[-1]
        start = long_form_start(acr, window)
        if start is None:
            continue
        long = window[start:].strip()
        users = [c for c in cands if name_key(c.text) == key]
        if not users or len(long.split()) < 2:
            continue
        begin = m.start() - len(window) + start
        named = next(
            (
                c
                for c in cands
                if c.kind != Kind.GROUP and 0 <= m.start() - c.end <= 3 and name_key(c.text) == name_key(long)
            ),
            None,
        )
        if named is not None:  # spaCy found the long form but not "(MDL)": the long form keeps its own kind
            found[key] = named
            continue
        phrase = " ".join(w if w[:1].isupper() else w.capitalize() for w in long.split())
        # no entity there to take a kind from: the long form's head word, else the acronym's kind
        label = head_word_label(phrase) or users[0].label
        found[key] = Candidate(
            begin, begin + len(long), phrase, label, users[0].ner_label, LABEL_KIND[label], users[0].sentence
        )
    return found
