"""Merge: one node per real-world event, from the event mentions of every article.

`merge_events` is a pure function of the stored event mentions (`EventRecord`s, read back by
`read_event_records`), the corpus entities of `kg.corpus.resolve.resolve_corpus` and the event taxonomy.
It works in three steps:

1. Within an article, mentions of compatible types (a defection is a kind of flight) whose dates
   agree and whose places do not clash are one event: news articles retell their story.
2. Across articles, two events merge when their types are compatible, their dates agree (an
   undated report is taken to be at most `kg:undatedWindowDays` older than its article) and they
   share a participant (entity or group), a place or a context. Statements and other types with
   `kg:identifiedBy` must share that role's value (the same speaker).
3. Articles that already share an event tell one story: in such articles, the one event of a
   type (say, the only surgery each mentions) is the same event when dates agree and places do
   not clash, even without a shared argument. Anaphoric mentions ("the defection") join this way.

What is left without any participant or place is not an event we can stand behind and is
dropped. The result is deterministic: the same stored mentions give the same events and IRIs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..article.events import PARTICIPANT_ROLES, PLACE_ROLES, ROLES, Taxonomy
from ..article.read import Article
from ..model import (
    DEMONYM,
    MONTH_DAY,
    Entity,
    EventRecord,
    Extraction,
    Filler,
    Kind,
    Point,
    ReportedEvent,
    RoleValue,
    TimeValue,
)
from ..names import group_name
from ..namespaces import Iris

# -- clusters --------------------------------------------------------------------------------------

_DAY = timedelta(days=1)


def _intersect(a: tuple[date, date] | None, b: tuple[date, date] | None) -> tuple[date, date] | bool | None:
    """The intersection of two closed day ranges (None is unbounded); False when they do not meet."""
    if a is None:
        return b
    if b is None:
        return a
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo <= hi else False


def _month_day_in(md: tuple[int, int], span: tuple[date, date]) -> list[date]:
    """The days with that month and day inside a range (at most a few; ranges here are short or absent)."""
    out = []
    for year in range(span[0].year, min(span[1].year, span[0].year + 50) + 1):
        try:
            d = date(year, *md)
        except ValueError:
            continue
        if span[0] <= d <= span[1]:
            out.append(d)
    return out


@dataclass
class _Cluster:
    """Event mentions believed to report one event, with what they say together."""

    records: list[EventRecord]
    types: set[str]
    keys: dict[str, set[str]]  # role -> keys (entity IRIs, "group:<name>")
    categories: dict[tuple[str, str], set[str]]  # (place role, category) -> place keys
    explicit: tuple[date, date] | None
    month_days: set[tuple[int, int]]
    window: tuple[date, date] | None
    articles: set[str]
    anchored: bool = field(default=False)

    def span(self) -> tuple[date, date] | bool | None:
        return _intersect(self.explicit, self.window)

    def participant_keys(self) -> set[str]:
        return {k for r in PARTICIPANT_ROLES for k in self.keys.get(r, ())}

    def place_keys(self) -> set[str]:
        return {k for r in PLACE_ROLES for k in self.keys.get(r, ())}

    def context_keys(self) -> set[str]:
        return set(self.keys.get("context", ()))


class _Merger:
    def __init__(self, records: Sequence[EventRecord], entities: Sequence[Entity], taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.entity_of: dict[str, Entity] = {m: e for e in entities for m in e.mentions}
        self.records = sorted(
            (r for r in records if r.type in taxonomy.types), key=lambda r: (r.digest, r.begin, r.iri)
        )

    # -- one record's contribution -------------------------------------------------------------------

    def key(self, f: Filler) -> str | None:
        if f.kind == "group":
            return f"group:{f.text}"
        if f.kind == "entity":
            e = self.entity_of.get(f.value)
            return e.iri if e is not None else None
        return None

    def category(self, key: str) -> str:
        e = self._entity_by_iri.get(key)
        if e is None:
            return "group"
        return e.place_category or e.kind

    def single(self, r: EventRecord) -> _Cluster:
        keys: dict[str, set[str]] = defaultdict(set)
        categories: dict[tuple[str, str], set[str]] = defaultdict(set)
        for f in r.fillers:
            k = self.key(f)
            if k is None:
                continue
            keys[f.role].add(k)
            if f.role in PLACE_ROLES and not f.inferred:
                categories[(f.role, self.category(k))].add(k)
        explicit, month_days, window = None, set(), None
        if r.time is not None:
            if r.time.month_day is not None:
                month_days.add(r.time.month_day)
            elif r.time.earliest is not None and r.time.latest is not None:
                explicit = (r.time.earliest, r.time.latest)
        if explicit is None and not month_days and r.published is not None:
            days = self.taxonomy.types[r.type].window_days
            window = (r.published - timedelta(days=days), r.published)
        return _Cluster([r], {r.type}, keys, categories, explicit, month_days, window, {r.digest})

    # -- compatibility -------------------------------------------------------------------------------

    def compatible(self, a: _Cluster, b: _Cluster, *, places: bool = True) -> bool:
        if not all(self.taxonomy.compatible(x, y) for x in a.types for y in b.types):
            return False
        for t in a.types | b.types:
            role = self.taxonomy.types[t].identified_by
            if role is not None and not (a.keys.get(role, set()) & b.keys.get(role, set())):
                return False
        explicit = _intersect(a.explicit, b.explicit)
        if explicit is False:
            return False
        window = _intersect(a.window, b.window)
        if window is False:
            return False
        span = _intersect(explicit, window)  # type: ignore[arg-type]
        if span is False:
            return False
        month_days = a.month_days | b.month_days
        if len(month_days) > 1:
            return False
        if month_days and span is not None and not _month_day_in(next(iter(month_days)), span):  # type: ignore[arg-type]
            return False
        if places:
            for slot, keys in a.categories.items():
                other = b.categories.get(slot)
                if other and not (keys & other):
                    return False  # two different cities as the place of one event
        return True

    @staticmethod
    def overlap(a: _Cluster, b: _Cluster) -> int:
        return (
            len(a.participant_keys() & b.participant_keys())
            + len(a.place_keys() & b.place_keys())
            + len(a.context_keys() & b.context_keys())
        )

    @staticmethod
    def join(a: _Cluster, b: _Cluster) -> _Cluster:
        keys = defaultdict(set, {r: set(v) for r, v in a.keys.items()})
        for r, v in b.keys.items():
            keys[r] |= v
        categories = defaultdict(set, {s: set(v) for s, v in a.categories.items()})
        for s, v in b.categories.items():
            categories[s] |= v
        explicit = _intersect(a.explicit, b.explicit)
        window = _intersect(a.window, b.window)
        return _Cluster(
            records=a.records + b.records,
            types=a.types | b.types,
            keys=keys,
            categories=categories,
            explicit=explicit if explicit is not False else None,  # type: ignore[arg-type]
            month_days=a.month_days | b.month_days,
            window=window if window is not False else None,  # type: ignore[arg-type]
            articles=a.articles | b.articles,
            anchored=a.anchored or b.anchored,
        )

    # -- the three steps -----------------------------------------------------------------------------

    def within_articles(self) -> list[_Cluster]:
        clusters: list[_Cluster] = []
        by_article: dict[str, list[EventRecord]] = defaultdict(list)
        for r in self.records:
            by_article[r.digest].append(r)
        for digest in sorted(by_article):
            local: list[_Cluster] = []
            for r in by_article[digest]:
                one = self.single(r)
                for i, c in enumerate(local):
                    if self.compatible(c, one):
                        local[i] = self.join(c, one)
                        break
                else:
                    local.append(one)
            clusters.extend(local)
        return clusters

    def across_articles(self, clusters: list[_Cluster]) -> list[_Cluster]:
        """Merge clusters that share an argument, strongest overlaps first."""
        alive: dict[int, _Cluster] = dict(enumerate(clusters))
        index: dict[tuple[str, str], set[int]] = defaultdict(set)
        for i, c in alive.items():
            family = self.taxonomy.family(next(iter(c.types)))
            for k in c.participant_keys() | c.place_keys() | c.context_keys():
                index[(family, k)].add(i)
        pairs = set()
        for members in index.values():
            ordered = sorted(members)
            for x, i in enumerate(ordered):
                for j in ordered[x + 1 :]:
                    if not (alive[i].articles & alive[j].articles):
                        pairs.add((i, j))
        ranked = sorted(pairs, key=lambda p: (-self.overlap(alive[p[0]], alive[p[1]]), p))
        parent = {i: i for i in alive}

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for i, j in ranked:
            ri, rj = find(i), find(j)
            if ri == rj or alive[ri].articles & alive[rj].articles:
                continue
            a, b = alive[ri], alive[rj]
            if self.overlap(a, b) and self.compatible(a, b, places=False):
                keep, drop = min(ri, rj), max(ri, rj)
                alive[keep] = self.join(a, b)
                alive[keep].anchored = True
                parent[drop] = keep
                del alive[drop]
        return [alive[i] for i in sorted(alive)]

    def by_story(self, clusters: list[_Cluster]) -> list[_Cluster]:
        """Articles that share an anchored event tell one story: their one event of a type is one event."""
        stories = [
            c.articles
            for c in clusters
            if len(c.articles) > 1
            and c.anchored
            and not any(self.taxonomy.types[t].reports_content or self.taxonomy.types[t].identified_by for t in c.types)
        ]
        changed = True
        while changed:
            changed = False
            by_family: dict[str, list[int]] = defaultdict(list)
            for i, c in enumerate(clusters):
                by_family[self.taxonomy.family(next(iter(c.types)))].append(i)
            for members in by_family.values():
                per_article: dict[str, int] = defaultdict(int)
                for i in members:
                    for d in clusters[i].articles:
                        per_article[d] += 1
                for x, i in enumerate(members):
                    a = clusters[i]
                    if any(
                        self.taxonomy.types[t].reports_content or self.taxonomy.types[t].identified_by for t in a.types
                    ):
                        continue
                    for j in members[x + 1 :]:
                        b = clusters[j]
                        if a.articles & b.articles:
                            continue
                        if any(per_article[d] != 1 for d in a.articles | b.articles):
                            continue
                        if not any(s & a.articles and s & b.articles for s in stories):
                            continue
                        if self.compatible(a, b):
                            clusters[i] = self.join(a, b)
                            clusters[i].anchored = a.anchored or b.anchored or bool(self.overlap(a, b))
                            del clusters[j]
                            changed = True
                            break
                    if changed:
                        break
                if changed:
                    break
        return clusters

    def run(self, entities: Sequence[Entity]) -> list[_Cluster]:
        self._entity_by_iri = {e.iri: e for e in entities}
        clusters = self.within_articles()
        clusters = self.across_articles(clusters)
        return self.by_story(clusters)


# -- the reported events -----------------------------------------------------------------------------


def _time_of(cluster: _Cluster) -> TimeValue | None:
    """The most precise time all the cluster's dated reports agree on."""
    explicit = cluster.explicit
    if cluster.month_days:
        md = next(iter(cluster.month_days))
        span = cluster.span()
        if span:
            days = _month_day_in(md, span)  # type: ignore[arg-type]
            if len(days) == 1:
                return TimeValue(Point.of_day(days[0]))
        if explicit is None:
            return TimeValue(Point(MONTH_DAY, None, *md))
    if explicit is None:
        return None
    for r in sorted(cluster.records, key=lambda r: r.iri):
        if r.time is not None and (r.time.earliest, r.time.latest) == explicit:
            return r.time
    lo, hi = explicit
    return TimeValue(Point.of_day(lo)) if lo == hi else TimeValue(Point.of_day(lo), Point.of_day(hi))


def _noisy_or(values: Iterable[float]) -> float:
    miss = 1.0
    for v in values:
        miss *= 1.0 - v
    return float(Decimal(str(round(min(0.99, 1.0 - miss), 2))))


def merge_events(
    records: Iterable[EventRecord], entities: Sequence[Entity], taxonomy: Taxonomy, iris: Iris
) -> list[ReportedEvent]:
    """One reported event per real-world event, each pointing to the mentions that report it."""
    return mint_events(event_drafts(records, entities, taxonomy), taxonomy, iris)


@dataclass(frozen=True)
class EventDraft:
    """A reported event before it has an IRI (and before the events it reports are known by theirs)."""

    type: str
    time: TimeValue | None
    roles: tuple[RoleValue, ...]
    mentions: tuple[str, ...]  # its event mentions, sorted
    articles: int
    confidence: float
    reports: tuple[str, ...]  # the event mentions its mentions report, sorted


def event_drafts(records: Iterable[EventRecord], entities: Sequence[Entity], taxonomy: Taxonomy) -> list[EventDraft]:
    """The three steps of merging, and what each merged event says; events without a named participant or place
    are dropped. Records that share no article and no argument (`event_components`) can be drafted apart."""
    merger = _Merger(list(records), entities, taxonomy)
    clusters = merger.run(entities)
    entity_by_iri = {e.iri: e for e in entities}
    drafts = []
    for c in clusters:
        roles = _roles(c, merger, entity_by_iri)
        if not any(r.role in PARTICIPANT_ROLES | PLACE_ROLES for r in roles):
            continue  # nothing named took part: not an event we can stand behind
        per_article: dict[str, float] = defaultdict(float)
        for r in c.records:
            per_article[r.digest] = max(per_article[r.digest], r.confidence)
        drafts.append(
            EventDraft(
                type=taxonomy.most_specific(c.types),
                time=_time_of(c),
                roles=roles,
                mentions=tuple(sorted(r.iri for r in c.records)),
                articles=len(c.articles),
                confidence=_noisy_or(per_article.values()),
                reports=tuple(sorted({m for r in c.records for m in r.reports})),
            )
        )
    return drafts


def event_components(
    records: Iterable[EventRecord], entities: Sequence[Entity], taxonomy: Taxonomy
) -> list[list[EventRecord]]:
    """The records split into groups that merging never joins across: records of one article are one group,
    and so are records with an argument in common (an entity or a group, within a type family). Every step
    of merging looks only within such a group, so drafting each apart gives the events of drafting all at once.
    """
    entity_of = {m: e.iri for e in entities for m in e.mentions}
    single_rooted = all(
        len([a for a in t.ancestors if taxonomy.types[a].depth == 1]) <= 1 for t in taxonomy.types.values()
    )
    kept = [r for r in records if r.type in taxonomy.types]
    parent = list(range(len(kept)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, str], int] = {}
    for i, r in enumerate(kept):
        family = taxonomy.family(r.type) if single_rooted else ""
        slots = [("article", r.digest)]
        for f in r.fillers:
            k = f"group:{f.text}" if f.kind == "group" else entity_of.get(f.value) if f.kind == "entity" else None
            if k is not None:
                slots.append((family, k))
        for slot in slots:
            j = first.setdefault(slot, i)
            a, b = find(i), find(j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[EventRecord]] = defaultdict(list)
    for i, r in enumerate(kept):
        groups[find(i)].append(r)
    return list(groups.values())


def mint_events(drafts: Iterable[EventDraft], taxonomy: Taxonomy, iris: Iris) -> list[ReportedEvent]:
    """Each drafted event's IRI, in one order over the whole corpus (same mentions, same IRIs), and the events
    it reports."""

    def main_name(etype: str, roles: tuple[RoleValue, ...]) -> str:
        """What the event is best known by: its speaker for a statement, else its place, else its agent."""
        first = taxonomy.types[etype].identified_by
        order = ([first] if first else []) + ["place", "path", "destination", "origin", "agent", "patient", "recipient"]
        ranked = sorted(
            (r for r in roles if r.role in order), key=lambda r: (order.index(r.role), -r.articles, r.label)
        )
        return ranked[0].label if ranked else "event"

    keyed = sorted(
        drafts, key=lambda d: (d.type, str(d.time) if d.time else "", main_name(d.type, d.roles), d.mentions)
    )
    taken: set[str] = set()
    mention_event: dict[str, str] = {}
    out: list[tuple[ReportedEvent, EventDraft]] = []
    for d in keyed:
        t = taxonomy.types[d.type]
        name = main_name(d.type, d.roles)
        key = f"{d.time or 'undated'} {name}"
        iri = iris.reported_event(t.name, key)
        n = 2
        while iri in taken:
            iri = iris.reported_event(t.name, f"{key} {n}")
            n += 1
        taken.add(iri)
        label = ", ".join(x for x in (t.label, str(d.time) if d.time else "", name) if x)
        event = ReportedEvent(
            iri=iri,
            type=d.type,
            label=label,
            time=d.time,
            roles=d.roles,
            mentions=d.mentions,
            articles=d.articles,
            confidence=d.confidence,
        )
        for m in event.mentions:
            mention_event[m] = iri
        out.append((event, d))
    events = []
    for event, d in out:
        reported = sorted({mention_event[m] for m in d.reports if m in mention_event} - {event.iri})
        events.append(ReportedEvent(**{**event.__dict__, "reports": tuple(reported)}))
    return events


def _roles(c: _Cluster, merger: _Merger, entity_by_iri: dict[str, Entity]) -> tuple[RoleValue, ...]:
    support: dict[tuple[str, str, bool], set[str]] = defaultdict(set)
    inferred_only: dict[tuple[str, str, bool], bool] = {}
    labels: dict[tuple[str, str, bool], str] = {}
    for r in c.records:
        for f in r.fillers:
            if f.role == "time":
                continue
            if f.kind == "phrase":
                slot = (f.role, " ".join(f.text.split()), True)
                labels[slot] = slot[1]
            elif f.kind == "group":
                slot = (f.role, f.text, True)
                labels[slot] = f.text
            else:
                k = merger.key(f)
                if k is None:
                    continue
                slot = (f.role, k, False)
                labels[slot] = entity_by_iri[k].label
            support[slot].add(r.digest)
            inferred_only[slot] = inferred_only.get(slot, True) and f.inferred
    values = [
        RoleValue(
            role, value, literal, labels[(role, value, literal)], len(digests), inferred_only[(role, value, literal)]
        )
        for (role, value, literal), digests in support.items()
    ]
    return tuple(sorted(values, key=lambda v: (ROLES.index(v.role), -v.articles, v.label, v.value)))


def event_record(fields: dict, times: dict[str, TimeValue]) -> EventRecord:
    """An EventRecord from its fields; its time is that of its first time filler (fillers in role order)."""
    fillers = tuple(sorted(set(fields["fillers"]), key=lambda f: (ROLES.index(f.role), f.value)))
    time = next((times[f.value] for f in fillers if f.kind == "time" and f.value in times), None)
    return EventRecord(**{**fields, "fillers": fillers, "reports": tuple(sorted(fields["reports"])), "time": time})


def event_records(article: Article, extraction: Extraction, iris: Iris) -> list[EventRecord]:
    """The records `read_event_records` would read back once this article is stored.

    A build that writes every article itself keeps these as it goes, and reads nothing back.
    """
    digest = article.digest
    published = article.published
    if isinstance(published, datetime):
        published = published.date()  # the date as written, in its own time zone
    values: dict[str, tuple[str, str]] = {}
    for m in extraction.mentions:
        if m.label == DEMONYM:  # to events the group it names, though it also names its country
            values[iris.mention(digest, m.begin, m.end)] = ("group", group_name(m.text))
            continue
        values[iris.mention(digest, m.begin, m.end)] = ("group" if m.kind == Kind.GROUP else "entity", m.name)
    times: dict[str, TimeValue] = {}
    for t in extraction.times:
        iri = iris.mention(digest, t.begin, t.end)
        values[iri] = ("time", t.text)
        if t.value is not None:
            times[iri] = t.value
    for e in extraction.events:
        for arg in e.arguments:
            if arg.kind == "phrase":
                values[iris.mention(digest, arg.begin, arg.end)] = ("phrase", arg.text)
    records = []
    for e in extraction.events:
        fillers = []
        for arg in e.arguments:
            value = iris.mention(digest, arg.begin, arg.end)
            if value in values:
                kind, text = values[value]
                fillers.append(Filler(arg.role, value, kind, text, arg.inferred))
        fields = {
            "iri": iris.event_mention(digest, e.begin, e.end),
            "digest": digest,
            "type": e.type,
            "begin": e.begin,
            "confidence": float(Decimal(f"{e.confidence:.2f}")),
            "published": published,
            "anaphoric": e.anaphoric,
            "fillers": fillers,
            "reports": [iris.event_mention(digest, b, end) for b, end in e.reports],
        }
        records.append(event_record(fields, times))
    return records
