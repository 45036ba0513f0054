"""Which Wikidata classes (P31 values) count as people, organisations, places and events.

The dump indexer keeps an item when one of its P31 ("instance of") classes is in the filter, and
sorts it into our class by the first such P31. The default filter lists common classes directly;
`ClassFilter.with_subclasses` widens it with every subclass (P279, transitively) found in a dump,
and `ClassFilter.from_file` reads a filter of your own (lines of `QID<TAB>Person|Organization|...`).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..model import Kind
from .items import KINDS

#: Common classes of the things news names, by our class. Wikidata QIDs with their English labels.
DEFAULT_CLASSES: dict[str, dict[str, str]] = {
    Kind.PERSON: {"Q5": "human"},
    Kind.ORGANIZATION: {
        "Q43229": "organization",
        "Q4830453": "business",
        "Q783794": "company",
        "Q891723": "public company",
        "Q6881511": "enterprise",
        "Q7278": "political party",
        "Q7210356": "political organization",
        "Q11032": "newspaper",
        "Q41298": "magazine",
        "Q1002697": "periodical literature",
        "Q1616075": "television station",
        "Q14350": "radio station",
        "Q15265344": "broadcaster",
        "Q192283": "news agency",
        "Q484652": "international organization",
        "Q245065": "intergovernmental organization",
        "Q327333": "government agency",
        "Q2659904": "government organization",
        "Q3918": "university",
        "Q875538": "public university",
        "Q2385804": "educational institution",
        "Q163740": "nonprofit organization",
        "Q176799": "military unit",
        "Q8473": "military",
        "Q476028": "association football club",
        "Q847017": "sports club",
        "Q12973014": "sports team",
        "Q4438121": "sports organization",
        "Q215380": "musical group",
        "Q16917": "hospital",
        "Q33506": "museum",
    },
    Kind.PLACE: {
        "Q6256": "country",
        "Q3624078": "sovereign state",
        "Q7275": "state",
        "Q515": "city",
        "Q1549591": "big city",
        "Q1637706": "city with millions of inhabitants",
        "Q5119": "capital",
        "Q486972": "human settlement",
        "Q532": "village",
        "Q3957": "town",
        "Q15284": "municipality",
        "Q1093829": "city of the United States",
        "Q35657": "state of the United States",
        "Q10864048": "first-level administrative country subdivision",
        "Q13220204": "second-level administrative country subdivision",
        "Q56061": "administrative territorial entity",
        "Q747074": "comune of Italy",
        "Q484170": "commune of France",
        "Q262166": "municipality of Germany",
        "Q82794": "geographic region",
        "Q5107": "continent",
        "Q23442": "island",
        "Q8502": "mountain",
        "Q4022": "river",
        "Q23397": "lake",
        "Q165": "sea",
        "Q9430": "ocean",
        "Q2221906": "geographic location",
        "Q17334923": "location",
        "Q41176": "building",
        "Q13226383": "facility",
        "Q1248784": "airport",
        "Q12280": "bridge",
        "Q483110": "stadium",
        "Q16560": "palace",
    },
    Kind.EVENT: {
        "Q1656682": "event",
        "Q1190554": "occurrence",
        "Q198": "war",
        "Q178561": "battle",
        "Q180684": "conflict",
        "Q350604": "armed conflict",
        "Q645883": "military operation",
        "Q124734": "rebellion",
        "Q10931": "revolution",
        "Q2223653": "terrorist attack",
        "Q3199915": "massacre",
        "Q3839081": "disaster",
        "Q8065": "natural disaster",
        "Q7944": "earthquake",
        "Q40231": "election",
        "Q13406554": "sports competition",
        "Q27020041": "sports season",
        "Q18608583": "recurring sporting event",
        "Q5389": "Olympic Games",
        "Q132241": "festival",
    },
}


class ClassFilterError(ValueError):
    """A class filter file cannot be read."""


@dataclass(frozen=True)
class ClassFilter:
    """P31 class -> our class; items with none of these classes are left out of an index."""

    classes: Mapping[str, str]
    description: str = "default classes"

    @classmethod
    def default(cls) -> ClassFilter:
        return cls({q: kind for kind, table in DEFAULT_CLASSES.items() for q in table})

    @classmethod
    def from_file(cls, path: Path) -> ClassFilter:
        """Lines of `QID<TAB>class` (class one of Person, Organization, Place, Event); '#' starts a comment."""
        classes: dict[str, str] = {}
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ClassFilterError(f"cannot read class filter {path}: {exc}") from None
        for lineno, line in enumerate(lines, start=1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            parts = text.split()
            if len(parts) < 2 or not parts[0].startswith("Q") or not parts[0][1:].isdigit() or parts[1] not in KINDS:
                raise ClassFilterError(f"{path}:{lineno}: expected 'QID<TAB>{'|'.join(KINDS)}', got {line!r}")
            classes[parts[0]] = parts[1]
        if not classes:
            raise ClassFilterError(f"{path}: no classes")
        return cls(classes, f"classes from {path.name}")

    def kind_of(self, p31: Iterable[str]) -> str | None:
        """Our class for an item with these P31 values (the first one we know), or None to leave it out."""
        for qid in p31:
            kind = self.classes.get(qid)
            if kind is not None:
                return kind
        return None

    def with_subclasses(self, subclass_of: Mapping[str, Iterable[str]]) -> ClassFilter:
        """The filter widened with every subclass of its classes (P279 edges child -> parents).

        A class under several of our roots takes the kind of the nearest root (ties: Person,
        Organization, Place, Event), so "university hospital" stays with whatever it is closest to.
        """
        children: dict[str, list[str]] = defaultdict(list)
        for child, parents in subclass_of.items():
            for parent in parents:
                children[parent].append(child)
        best: dict[str, tuple[int, int, str]] = {}
        for q, kind in self.classes.items():
            best[q] = (0, KINDS.index(kind), kind)
        queue = deque(sorted(self.classes, key=lambda q: best[q]))
        while queue:
            q = queue.popleft()
            depth, order, kind = best[q]
            for child in sorted(children.get(q, ())):
                candidate = (depth + 1, order, kind)
                if child not in best or candidate < best[child]:
                    best[child] = candidate
                    queue.append(child)
        expanded = {q: kind for q, (_, _, kind) in best.items()}
        return ClassFilter(expanded, f"{self.description} and their {len(expanded) - len(self.classes)} subclasses")
