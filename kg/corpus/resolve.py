"""Resolution across the corpus: one node per real-world thing, from every article's named mentions.

Each article's mentions arrive already resolved within the article (kg.article.mentions); here the
names of all articles are joined: the same name of the same kind, a person's full name with and
without middle initials, an acronym spelled out in another article, long forms one acronym defines.
The IRIs are deterministic: the same mentions give the same entities and IRIs.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..article.demonyms import country_of
from ..article.mention_rules import REGION_WORDS
from ..article.mentions import Groups
from ..model import KIND_ORDER, TEAM, Entity, Kind, MentionRecord
from ..names import (
    STOP_INITIALS,
    a_national_body,
    clean_name,
    identity_key,
    initials,
    is_acronym,
    name_key,
    person_key,
    words,
)
from ..namespaces import Iris, slug


@dataclass(slots=True)
class LocalName:
    """The mentions of one name in one article, kept small: a large corpus holds tens of thousands."""

    digest: str
    name: str
    kind: str
    article: str  # the article's IRI, of which each mention IRI is a fragment
    anchor_counts: tuple[str | int, ...]  # text, count, text, count, ...: smaller than a dict
    label_counts: tuple[str | int, ...]  # NER label, count, ...
    fragments: str  # the mentions' fragment identifiers ("char=4,9"), space-separated
    titles: tuple[str, ...] = ()  # the offices' titles written before its mentions ("President"), each once
    regions: tuple[str, ...] = ()  # the states or countries written after its mentions ("Ohio"), each once

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
                if long_cf[i] in STOP_INITIALS:
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
        self._locals: dict[tuple[str, str], LocalName] = {}
        self._articles: dict[str, str] = {}  # one string per article IRI, shared by its names

    def add(self, records: Iterable[MentionRecord]) -> None:
        for r in records:
            if r.kind == Kind.GROUP:
                continue
            article, _, fragment = r.iri.partition("#")
            if not fragment or " " in fragment:
                raise ValueError(f"not a mention IRI (an article IRI and a fragment): {r.iri!r}")
            article = self._articles.setdefault(article, article)
            text = r.name if r.text == r.name else r.text
            label = sys.intern(str(r.label))
            local = self._locals.get((r.digest, r.name))
            if local is None:
                self._locals[(r.digest, r.name)] = LocalName(
                    r.digest,
                    r.name,
                    sys.intern(str(r.kind)),
                    article,
                    (text, 1),
                    (label, 1),
                    fragment,
                    (r.title,) if r.title else (),
                    (r.region,) if r.region else (),
                )
                continue
            if article is not local.article:
                raise ValueError(f"mention {r.iri!r} is not in the article of the other mentions of {r.name!r}")
            local.anchor_counts = _counted(local.anchor_counts, text)
            local.label_counts = _counted(local.label_counts, label)
            local.fragments = f"{local.fragments} {fragment}"
            if r.title and r.title not in local.titles:
                local.titles = (*local.titles, r.title)
            if r.region and r.region not in local.regions:
                local.regions = (*local.regions, r.region)

    def drop(self, digests: set[str]) -> None:
        """Forget the mentions of these articles (their graphs were superseded)."""
        self._locals = {k: v for k, v in self._locals.items() if k[0] not in digests}
        self._articles = {v.article: v.article for v in self._locals.values()}

    def locals(self) -> list[LocalName]:
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


def _resolve_locals(locals_: list[LocalName], iris: Iris) -> list[Entity]:
    groups = name_groups(locals_)
    clusters: dict[int, list[LocalName]] = defaultdict(list)
    for i, loc in enumerate(locals_):
        clusters[groups.find(i)].append(loc)
    return _mint(list(clusters.values()), iris)


def name_groups(locals_: Sequence[LocalName], visits: Iterable[int] | None = None) -> Groups:
    """Which names are one thing: union-find over `locals_` by the corpus rules (same name, same full name,
    acronyms spelled out, acronyms defined elsewhere).

    Two rules depend on what earlier names already joined, so the order they look at names in matters:
    `visits` is that order, as indexes into `locals_` (each name and article once, by article then name;
    default: `locals_` in order, which corpus resolution sorts so). A cluster build (kg.cluster) passes one
    node per distinct name, its mentions merged, with `visits` naming each node once per article it
    occurs in: the same unions happen in the same order, so the groups are the same.
    """
    order = list(range(len(locals_))) if visits is None else list(visits)
    groups = Groups(len(locals_))

    def join_on(slots: dict[tuple, int], slot: tuple, i: int) -> None:
        if slot in slots:
            groups.union(slots[slot], i)
        else:
            slots[slot] = i

    exact: dict[tuple, int] = {}
    for i, loc in enumerate(locals_):
        key = identity_key(loc.name)
        within = scope(loc.name, loc.digest)
        join_on(exact, ("name", loc.kind, key, within), i)
        if len(key.split()) > 1:
            join_on(exact, ("multiword", key, within), i)
        if loc.kind == Kind.PERSON and len(key.split()) > 1:
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


def scope(name: str, digest: str) -> str:
    """Where a name is one thing: a bare "Navy" or "Treasury" is its own article's country's (the link stage says
    which, and merges the articles whose country is the same), so it joins no other article's; any other name is
    one thing across the corpus (scope "")."""
    body = a_national_body(name)
    return digest if body is not None and not body[1] else ""


def visited(name: str) -> bool:
    """Whether `name_groups` looks at a name in its order-dependent rules (acronyms: most names are not)."""
    ws = words(name)
    return is_acronym(name) or (len(ws) > 1 and any(is_acronym(w) for w in ws))


def _join_long_forms_of_one_acronym(locals_: Sequence[LocalName], groups: Groups) -> None:
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


def _mint(clusters: list[list[LocalName]], iris: Iris) -> list[Entity]:
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
    titles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def entity(self, iri: str) -> Entity:
        return Entity(
            iri,
            self.kind,
            self.label,
            self.alt_labels,
            self.mentions,
            self.articles,
            self.place_category,
            self.team,
            self.titles,
            self.regions,
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


def _region_less(anchor: str, name: str) -> bool:
    """ "Queens" for "Queens County": the name is the anchor and a region word."""
    ws = words(name)
    return len(ws) > 1 and ws[-1] in REGION_WORDS and name_key(" ".join(ws[:-1])) == name_key(anchor)


def draft(members: Sequence[LocalName]) -> Draft:
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
        # a nationality word names the country's people, not the country; "Queens" in "Kings and Queens
        # counties" is the county's name without its region word, and the borough's name: no
        # alternative label either
        anchors.update(clean_name(a) for a in loc.anchors if country_of(a) is None and not _region_less(a, loc.name))
    kind = max(votes, key=lambda k: (votes[k], -KIND_ORDER.index(k)))
    # a full name of several words first ("United Nations Command", not "UNC"); among the rest the
    # most frequent as written ("US" over a one-off "Us")
    label = max(names, key=lambda f: (len(words(f)) > 1, names[f], not is_acronym(f), len(f), f))
    place = None
    if kind == Kind.PLACE:
        fine = Counter({k: v for k, v in labels.items() if k in {"GPE", "LOC", "FAC"}})
        place = max(fine, key=lambda k: (fine[k], k)) if fine else "LOC"
    team = kind == Kind.ORGANIZATION and 2 * labels.get(TEAM, 0) > sum(labels.values())
    mentions = tuple(sorted(m for loc in members for m in loc.mentions))
    alt = tuple(sorted((anchors | set(names)) - {label}))
    articles = len({loc.digest for loc in members})
    titles = tuple(sorted({t for loc in members for t in loc.titles})) if kind == Kind.PERSON else ()
    regions = tuple(sorted({r for loc in members for r in loc.regions})) if kind == Kind.PLACE else ()
    return Draft(kind, label, mentions, alt, articles, place, team, titles, regions)
