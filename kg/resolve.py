"""Resolution: which mentions name the same real-world thing, within an article and across the corpus.

Within an article (`resolve_article`, pure, runs with extraction): acronyms defined in the text,
spelling variants (U.N./UN), a surname alone, "the North" for North Korea.
Across the corpus (`resolve_corpus`, after all articles are extracted): one node per entity,
deterministic IRIs, every surface form kept.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .demonyms import country_of
from .mention_rules import DEMONYM, TEAM, head_word_label
from .namespaces import Iris, slug

_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}(?![A-Za-z])")
_LEADING_THE = re.compile(r"^(?:the|The|THE)\s+")
_POSSESSIVE_END = re.compile(r"(?:'s|'|’s|’)$")
_NON_WORD = re.compile(r"[^\w]+")
_DEFINITION = re.compile(r"\(\s*([A-Z][A-Za-z&.]{1,9})\s*\)")
_STOP_INITIALS = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "on", "in", "at", "&"})
DIRECTIONS = frozenset({"north", "south", "east", "west"})
_KIND_ORDER = ("Person", "Organization", "Place", "Event", "Group")

#: spaCy label -> our class. NORP is kept as a group attribute of articles, not an entity.
LABEL_KIND = {
    "PERSON": "Person",
    "ORG": "Organization",
    "GPE": "Place",
    "LOC": "Place",
    "FAC": "Place",
    "EVENT": "Event",
    "NORP": "Group",
    TEAM: "Organization",  # a place name standing for its sports team (kg.mention_rules)
    DEMONYM: "Place",  # a nationality word standing for its country ("Russian officials": Russia)
}


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
class MentionRecord:
    """A stored mention, as corpus resolution reads it back from the article graphs."""

    digest: str
    iri: str
    text: str
    name: str
    kind: str
    label: str


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


# -- names ---------------------------------------------------------------------------------


def forget_names() -> None:
    """Drop the memoised name keys: they speed up one resolution, and would otherwise grow with the corpus."""
    for memo in (clean_name, name_key, words, is_acronym, person_key, initials):
        memo.cache_clear()


@lru_cache(maxsize=1 << 16)
def clean_name(name: str) -> str:
    """The name as people would write it in a list: no leading "the", no possessive."""
    text = unicodedata.normalize("NFKC", name).strip()
    text = _POSSESSIVE_END.sub("", _LEADING_THE.sub("", text)).strip()
    return " ".join(text.split())


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """A comparison key: case, punctuation, "the", possessives and acronym dots don't matter."""
    text = clean_name(name).replace("’", "'")
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    return _NON_WORD.sub(" ", text).strip().casefold()


def identity_key(name: str) -> str:
    """`name_key`, except that a word of three letters or fewer keeps whether it is written in capitals:
    "US" (and "U.S.") is not "Us" the magazine, "UN" is not "Un"; "Nato" and "NATO" are still one."""
    key = name_key(name)
    if " " in key or len(key) > 3:
        return key
    letters = [c for c in name if c.isalpha()]
    return key if not letters or all(c.isupper() for c in letters) else f"{key}#mixed-case"


@lru_cache(maxsize=1 << 16)
def words(name: str) -> tuple[str, ...]:
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), clean_name(name))
    return tuple(w for w in _NON_WORD.split(text) if w)


@lru_cache(maxsize=1 << 16)
def is_acronym(word: str) -> bool:
    bare = word.replace(".", "")
    return 2 <= len(bare) <= 6 and bare.isalpha() and bare.isupper()


@lru_cache(maxsize=1 << 16)
def person_key(name: str) -> str:
    """Name key without middle initials: "Chad G. Carroll" and "Chad Carroll" are one person."""
    parts = name_key(name).split()
    if len(parts) > 2:
        parts = [parts[0], *[p for p in parts[1:-1] if len(p) > 1], parts[-1]]
    return " ".join(parts)


@lru_cache(maxsize=1 << 16)
def initials(name: str) -> str:
    """Acronym signature: first letters of words, all letters of acronym words ("UN Command" -> "unc")."""
    out = []
    for w in words(name):
        if is_acronym(w):
            out.append(w.casefold())
        elif w.casefold() not in _STOP_INITIALS:
            out.append(w[0].casefold())
    return "".join(out)


def long_form_start(short: str, long: str) -> int | None:
    """Schwartz & Hearst (2003): where in `long` the definition of acronym `short` starts, if it does."""
    s, text = short.casefold(), long.casefold()
    si, li = len(s) - 1, len(text) - 1
    while si >= 0:
        c = s[si]
        if not c.isalnum():
            si -= 1
            continue
        while li >= 0 and (text[li] != c or (si == 0 and li > 0 and text[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        li -= 1
        si -= 1
    start = li + 1
    if len(text[start:].split()) > min(len(s) + 5, 2 * len(s)):
        return None
    return start


def _display(name: str) -> str:
    """ "SEOUL" -> "Seoul": shouting is a typesetting choice, not part of the name."""
    if len(name) > 4 and name.isupper() and not is_acronym(name):
        return name.title()
    return name


def group_name(text: str) -> str:
    """The name of the group a nationality word names ("North Korean"), as a NORP mention of it is named."""
    return _display(clean_name(text))


# -- within one article ----------------------------------------------------------------------


class _Groups:
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
        if acr.kind == "Group" or not is_acronym(acr.text) or key in found:
            continue
        for c in cands:
            if c.kind == "Group" or is_acronym(c.text) or not (0 <= acr.begin - c.end <= 3):
                continue
            if long_form_start(acr.text, c.text) is not None:
                found[key] = c
                break
    return found


def resolve_article(cands: list[Candidate], text: str | None = None) -> list[Mention]:
    """Name every candidate after what it refers to within the article; drop headline noise."""
    cands = sorted(cands, key=lambda c: (c.begin, c.end))
    n = len(cands)
    groups = _Groups(n)
    defined = _definitions(cands) if text is None else _definitions_with_text(cands, text)
    entity_idx = [i for i, c in enumerate(cands) if c.kind != "Group"]

    keys: list[str] = []
    for c in cands:
        key = name_key(c.refers_to or c.text)
        if key in defined and is_acronym(c.text):
            key = name_key(defined[key].text)
        else:
            key = identity_key(c.refers_to or c.text)
        keys.append(key)

    first_with_key: dict[tuple[bool, str], int] = {}
    for i, c in enumerate(cands):
        slot = (c.kind == "Group", keys[i])
        if slot in first_with_key:
            groups.union(first_with_key[slot], i)
        else:
            first_with_key[slot] = i

    def members() -> dict[int, list[int]]:
        out: dict[int, list[int]] = defaultdict(list)
        for i in range(n):
            out[groups.find(i)].append(i)
        return out

    # A surname or given name alone joins the one full name it belongs to ("Carroll", "Lee").
    people: dict[str, set[int]] = defaultdict(set)
    for root, idx in members().items():
        if cands[root].kind == "Group":
            continue
        votes = Counter(cands[i].kind for i in idx)
        for i in idx:
            parts = words(cands[i].text)
            if votes["Person"] and cands[i].kind == "Person" and len(parts) >= 2:
                people[parts[0]].add(root)
                people[parts[-1]].add(root)
    # ...also when spaCy called it an organisation or a place ("Ford" in an obituary of Gerald Ford),
    # unless the article names an organisation or place with that word in full ("Ford Motor Co"), or
    # the word stands where a place stands ("in Washington").
    in_full = {
        w
        for j in entity_idx
        if cands[j].kind in {"Organization", "Place"} and len(words(cands[j].text)) > 1
        for w in words(cands[j].text)
    }
    for i in entity_idx:
        c = cands[i]
        parts = words(c.text)
        if len(parts) != 1 or c.ner_label not in {"PERSON", "ORG", "GPE"}:
            continue
        # Case matters: "UN" is not the "Un" of Kim Jong Un.
        owners = {groups.find(r) for r in people.get(parts[0], ())}
        if len(owners) != 1:
            continue
        if c.ner_label != "PERSON" and parts[0] in in_full:
            continue
        if c.ner_label == "GPE" and any(
            _after_a_locative(text, cands[j].begin) for j in entity_idx if keys[j] == keys[i]
        ):
            continue  # one "in Washington" makes every "Washington" of the article the place
        groups.union(owners.pop(), i)

    # "the UN said" in an article about the United Nations Command: a bare acronym that only begins the
    # name of one organisation of the article, which never names the acronym's own long form, is that one.
    named = [cands[j] for j in entity_idx]
    for i in entity_idx:
        c = cands[i]
        if c.kind != "Organization" or not is_acronym(c.text) or name_key(c.text) in defined:
            continue
        found, spelled = _owners_of_a_leading_acronym(c.text, named)
        owners = {groups.find(entity_idx[n]) for n in found}
        if len(owners) == 1 and not spelled:
            groups.union(owners.pop(), i)

    # "the North" is North Korea when the article names exactly one such place.
    places: dict[str, set[int]] = defaultdict(set)
    for i in entity_idx:
        parts = keys[i].split()
        if cands[i].label == "GPE" and len(parts) >= 2 and parts[0] in DIRECTIONS:
            places[parts[0]].add(groups.find(i))
    for i in entity_idx:
        c = cands[i]
        if c.kind == "Place" and keys[i] in DIRECTIONS:
            owners = {groups.find(r) for r in places.get(keys[i], ())}
            if len(owners) == 1:
                groups.union(owners.pop(), i)

    mentions: list[Mention] = []
    for idx in members().values():
        if all(cands[i].in_headline for i in idx):
            continue  # headline fragments: only what the body confirms is kept
        kind = _group_kind([cands[i] for i in idx], defined)
        name = _group_name([cands[i] for i in idx], defined)
        for i in idx:
            c = cands[i]
            label = c.label if LABEL_KIND.get(c.label) == kind else _default_label(kind, idx, cands)
            mentions.append(Mention(c.begin, c.end, c.text, label, c.ner_label, kind, name, c.sentence))
    return sorted(mentions, key=lambda m: (m.begin, m.end))


_KIND_LABEL = {"Person": "PERSON", "Organization": "ORG", "Place": "GPE", "Event": "EVENT", "Group": "NORP"}


def _owners_of_a_leading_acronym(acronym: str, cands: list[Candidate]) -> tuple[set[int], bool]:
    """Organisations whose name begins with the acronym or its long form ("UN Command", "United Nations
    Command" for "UN"), by index; and whether some name is exactly that long form ("United Nations")."""
    k = name_key(acronym)
    owners: set[int] = set()
    spelled = False
    for n, c in enumerate(cands):
        ws = words(c.text)
        if c.kind != "Organization" or len(ws) < 2:
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
    return labels.most_common(1)[0][0] if labels else _KIND_LABEL[kind]


def _weight(c: Candidate) -> float:
    if is_acronym(c.text):
        return 0.5
    return 2.0 if len(c.text.split()) > 1 else 1.0


def _group_kind(group: list[Candidate], defined: dict[str, Candidate]) -> str:
    if group[0].kind == "Group":
        return "Group"
    votes: Counter[str] = Counter()
    for c in group:
        votes[c.kind] += _weight(c)
        long = defined.get(name_key(c.text)) if is_acronym(c.text) else None
        if long is not None:
            votes[long.kind] += 2.0
    return max(votes, key=lambda k: (votes[k], -_KIND_ORDER.index(k)))


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
    return _display(best)


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
                if c.kind != "Group" and 0 <= m.start() - c.end <= 3 and name_key(c.text) == name_key(long)
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


# -- across the corpus -----------------------------------------------------------------------


@dataclass(slots=True)
class _Local:
    """The mentions of one name in one article, kept small: a large corpus holds tens of thousands."""

    digest: str
    name: str
    kind: str
    article: str  # the article's IRI, of which each mention IRI is a fragment
    anchor_counts: tuple[str | int, ...]  # text, count, text, count, ...: smaller than a dict
    label_counts: tuple[str | int, ...]  # NER label, count, ...
    fragments: str  # the mentions' fragment identifiers ("char=4,9"), space-separated

    @property
    def anchors(self) -> dict[str, int]:
        return dict(zip(self.anchor_counts[::2], self.anchor_counts[1::2], strict=True))  # type: ignore[arg-type]

    @property
    def labels(self) -> dict[str, int]:
        return dict(zip(self.label_counts[::2], self.label_counts[1::2], strict=True))  # type: ignore[arg-type]

    @property
    def mentions(self) -> list[str]:
        return [f"{self.article}#{f}" for f in self.fragments.split(" ")]


def _counted(counts: tuple[str | int, ...], key: str) -> tuple[str | int, ...]:
    """`counts` (key, count, key, count, ...) with one more of `key`."""
    for i in range(0, len(counts), 2):
        if counts[i] == key:
            return (*counts[: i + 1], counts[i + 1] + 1, *counts[i + 2 :])  # type: ignore[operator]
    return (*counts, key, 1)


def _expands_to(short: tuple[str, ...], long: tuple[str, ...]) -> bool:
    """True when the words of `short`, acronyms spelled out, are the words of `long`."""
    i = 0
    long_cf = [w.casefold() for w in long]
    for w in short:
        if is_acronym(w):
            letters = w.casefold()
            taken = 0
            while taken < len(letters) and i < len(long_cf):
                if long_cf[i] in _STOP_INITIALS:
                    i += 1
                    continue
                if long_cf[i][0] != letters[taken]:
                    return False
                taken += 1
                i += 1
            if taken < len(letters):
                return False
        else:
            if i >= len(long_cf) or long_cf[i] != w.casefold():
                return False
            i += 1
    return i == len(long_cf)


class CorpusMentions:
    """Every entity mention of the corpus, grouped by article and name as it arrives.

    A build adds each batch's mentions as it writes them, so corpus resolution needs no second
    pass over the store and holds one small record per name and article, not per mention.
    """

    def __init__(self) -> None:
        self._locals: dict[tuple[str, str], _Local] = {}
        self._articles: dict[str, str] = {}  # one string per article IRI, shared by its names

    def add(self, records: Iterable[MentionRecord]) -> None:
        for r in records:
            if r.kind == "Group":
                continue
            article, _, fragment = r.iri.partition("#")
            if not fragment or " " in fragment:
                raise ValueError(f"not a mention IRI (an article IRI and a fragment): {r.iri!r}")
            article = self._articles.setdefault(article, article)
            text = r.name if r.text == r.name else r.text
            label = sys.intern(r.label)
            local = self._locals.get((r.digest, r.name))
            if local is None:
                self._locals[(r.digest, r.name)] = _Local(
                    r.digest, r.name, sys.intern(r.kind), article, (text, 1), (label, 1), fragment
                )
                continue
            if article is not local.article:
                raise ValueError(f"mention {r.iri!r} is not in the article of the other mentions of {r.name!r}")
            local.anchor_counts = _counted(local.anchor_counts, text)
            local.label_counts = _counted(local.label_counts, label)
            local.fragments = f"{local.fragments} {fragment}"

    def drop(self, digests: set[str]) -> None:
        """Forget the mentions of these articles (their graphs were superseded)."""
        self._locals = {k: v for k, v in self._locals.items() if k[0] not in digests}
        self._articles = {v.article: v.article for v in self._locals.values()}

    def locals(self) -> list[_Local]:
        """The records, one per article and name, in the order resolution reads them."""
        return sorted(self._locals.values(), key=lambda x: (x.digest, x.name))

    def resolve(self, iris: Iris, *, consume: bool = False) -> list[Entity]:
        """The corpus's entities; `consume` empties this accumulator, so its memory serves what comes next."""
        locals_ = sorted(self._locals.values(), key=lambda x: (x.digest, x.name))
        if consume:
            self._locals, self._articles = {}, {}
        return _resolve_locals(locals_, iris)


def resolve_corpus(records: Iterable[MentionRecord], iris: Iris) -> list[Entity]:
    """One entity per real-world thing, from every stored mention; same input, same IRIs."""
    mentions = CorpusMentions()
    mentions.add(records)
    return mentions.resolve(iris)


def _resolve_locals(locals_: list[_Local], iris: Iris) -> list[Entity]:
    groups = name_groups(locals_)
    clusters: dict[int, list[_Local]] = defaultdict(list)
    for i, loc in enumerate(locals_):
        clusters[groups.find(i)].append(loc)
    return _mint(list(clusters.values()), iris)


def name_groups(locals_: Sequence[_Local], visits: Iterable[int] | None = None) -> _Groups:
    """Which names are one thing: union-find over `locals_` by the corpus rules (same name, same full name,
    acronyms spelled out, acronyms defined elsewhere).

    Two rules depend on what earlier names already joined, so the order they look at names in matters:
    `visits` is that order, as indexes into `locals_` (each name and article once, by article then name;
    default: `locals_` in order, which corpus resolution sorts so). A cluster build (kg.cluster) passes one
    node per distinct name, its mentions merged, with `visits` naming each node once per article it
    occurs in: the same unions happen in the same order, so the groups are the same.
    """
    order = list(range(len(locals_))) if visits is None else list(visits)
    groups = _Groups(len(locals_))

    def join_on(slots: dict[tuple, int], slot: tuple, i: int) -> None:
        if slot in slots:
            groups.union(slots[slot], i)
        else:
            slots[slot] = i

    exact: dict[tuple, int] = {}
    for i, loc in enumerate(locals_):
        key = identity_key(loc.name)
        join_on(exact, ("name", loc.kind, key), i)
        if len(key.split()) > 1:
            join_on(exact, ("multiword", key), i)
        if loc.kind == "Person" and len(key.split()) > 1:
            join_on(exact, ("person", person_key(loc.name)), i)

    # "UN Command" is "United Nations Command": acronym words spelled out by a full name.
    by_initials: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, loc in enumerate(locals_):
        ws = words(loc.name)
        if len(ws) > 1 and not any(is_acronym(w) for w in ws):
            by_initials[(loc.kind, initials(loc.name))].append(i)
    for i in order:
        loc = locals_[i]
        ws = words(loc.name)
        if len(ws) > 1 and any(is_acronym(w) for w in ws):
            targets = {
                groups.find(j)
                for j in by_initials.get((loc.kind, initials(loc.name)), ())
                if _expands_to(ws, words(locals_[j].name))
            }
            if len(targets) == 1:
                groups.union(targets.pop(), i)

    # A bare acronym joins the one entity it was defined for elsewhere in the corpus.
    aliases: dict[str, set[int]] = defaultdict(set)
    for i, loc in enumerate(locals_):
        for anchor in loc.anchors:
            if is_acronym(anchor) and name_key(anchor) != name_key(loc.name):
                aliases[name_key(anchor)].add(i)
        if len(words(loc.name)) > 1:
            aliases[initials(loc.name)].add(i)
    _join_long_forms_of_one_acronym(locals_, groups)
    for i in order:
        loc = locals_[i]
        if is_acronym(loc.name):
            roots = {groups.find(j) for j in aliases.get(name_key(loc.name), ()) if j != i}
            if len(roots) == 1:
                groups.union(roots.pop(), i)
    return groups


def visited(name: str) -> bool:
    """Whether `name_groups` looks at a name in its order-dependent rules (acronyms: most names are not)."""
    ws = words(name)
    return is_acronym(name) or (len(ws) > 1 and any(is_acronym(w) for w in ws))


def _join_long_forms_of_one_acronym(locals_: Sequence[_Local], groups: _Groups) -> None:
    """ "demilitarized zone (DMZ)" in one article and "Korean Demilitarized Zone (DMZ)" in another name one
    thing: long forms that articles define by the same acronym join when each shorter one ends every longer
    one (a leading modifier added, nothing else changed)."""
    defined: dict[str, list[int]] = defaultdict(list)
    for i, loc in enumerate(locals_):
        if len(words(loc.name)) > 1 and any(is_acronym(a) and name_key(a) != name_key(loc.name) for a in loc.anchors):
            for anchor in loc.anchors:
                if is_acronym(anchor):
                    defined[name_key(anchor)].append(i)
    for members in defined.values():
        forms = sorted({tuple(w.casefold() for w in words(locals_[i].name)) for i in members}, key=len)
        if len(forms) > 1 and all(longer[-len(forms[0]) :] == forms[0] for longer in forms[1:]):
            for i in members[1:]:
                groups.union(members[0], i)


def _mint(clusters: list[list[_Local]], iris: Iris) -> list[Entity]:
    drafts = [draft(members) for members in clusters]
    drafts.sort(key=lambda d: (d.kind, slug(d.label), d.label, d.mentions))
    found = mint_iris([(d.kind, d.label, d.mentions) for d in drafts], iris)
    return [d.entity(iri) for d, iri in zip(drafts, found, strict=True)]


@dataclass(frozen=True)
class Draft:
    """One cluster's entity before it has an IRI."""

    kind: str
    label: str
    mentions: tuple[str, ...]
    alt_labels: tuple[str, ...]
    articles: int
    place_category: str | None
    team: bool

    def entity(self, iri: str) -> Entity:
        return Entity(
            iri, self.kind, self.label, self.alt_labels, self.mentions, self.articles, self.place_category, self.team
        )


def mint_iris(keys: Sequence[tuple[str, str, object]], iris: Iris) -> list[str]:
    """Each entity's IRI, for (kind, label, tie-breaker) keys: its class and label, numbered ("Label 2") when
    one before it in (kind, slug, label, tie-breaker) order took the IRI. The tie-breaker is the entity's
    sorted mentions, or its first mention (two entities never share a mention, so both order alike)."""
    order = sorted(range(len(keys)), key=lambda i: (keys[i][0], slug(keys[i][1]), keys[i][1], keys[i][2]))
    taken: set[str] = set()
    out = [""] * len(keys)
    for i in order:
        kind, label, _ = keys[i]
        iri = iris.entity(kind, label)
        n = 2
        while iri in taken:
            iri = iris.entity(kind, f"{label} {n}")
            n += 1
        taken.add(iri)
        out[i] = iri
    return out


def draft(members: Sequence[_Local]) -> Draft:
    """The entity of one cluster of names, but its IRI."""
    votes: Counter[str] = Counter()
    names: Counter[str] = Counter()
    labels: Counter[str] = Counter()
    anchors: set[str] = set()
    for loc in members:
        for anchor, count in loc.anchors.items():
            # an acronym says little about the kind: the long form it stands for decides ("MDL" is the Line)
            votes[loc.kind] += count * (0.2 if is_acronym(anchor) else 1.0 + (len(anchor.split()) > 1))
        names[loc.name] += 1
        labels.update(loc.labels)
        # a nationality word names the country's people, not the country: no alternative label
        anchors.update(clean_name(a) for a in loc.anchors if country_of(a) is None)
    kind = max(votes, key=lambda k: (votes[k], -_KIND_ORDER.index(k)))
    # a full name of several words first ("United Nations Command", not "UNC"); among the rest the
    # most frequent as written ("US" over a one-off "Us")
    label = max(names, key=lambda f: (len(words(f)) > 1, names[f], not is_acronym(f), len(f), f))
    place = None
    if kind == "Place":
        fine = Counter({k: v for k, v in labels.items() if k in {"GPE", "LOC", "FAC"}})
        place = max(fine, key=lambda k: (fine[k], k)) if fine else "LOC"
    team = kind == "Organization" and 2 * labels.get(TEAM, 0) > sum(labels.values())
    mentions = tuple(sorted(m for loc in members for m in loc.mentions))
    alt = tuple(sorted((anchors | set(names)) - {label}))
    articles = len({loc.digest for loc in members})
    return Draft(kind, label, mentions, alt, articles, place, team)
