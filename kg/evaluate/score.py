"""Scoring newskg's mentions and links against gold, ELEVANT-style: pure functions of data.

The rules (the README's "How `kg evaluate` scores" says the same in prose):

- **Scope.** A gold label is *scored* when it names something newskg's kinds can hold: its types
  include Person, Organization, Geographic Entity or Event, or it has no known type and its text
  starts with a capital or a digit (a NIL name such as "Jane Roe"). Optional, coreference
  and descriptive labels, quantities, dates and concepts ("boss", "math", a film) are *neutral*:
  a prediction on them is neither rewarded nor penalised.
- **Only the evaluation span.** Predictions outside a document's evaluation span are ignored.
- **A final full stop** does not count in a span's bounds: a prediction that differs from a label
  only by a "." at its end is taken at the label's span. Benchmarks disagree on it ("U.S." at the
  end of a sentence, where one stop ends both; Reuters-128 writes both "U.S." and "U.S", "N.J").
- **Whitespace** at a label's ends does not count either: a label written with a space after it
  ("Acme and Co Inc ", three times in Reuters-128) is taken at its text.
- **NER, exact**: a prediction matches a scored label with the same begin and end. **Lenient**: a
  prediction matches a scored label it overlaps by a character. A prediction that matches no
  scored label but overlaps a neutral one is neutral; any other is a false positive (for a
  benchmark whose annotation is exhaustive; with `exhaustive=False` unmatched predictions are
  ignored and precision is not reported).
- **Alternatives.** A label with children ("Denver, Colorado" -> "Denver", "Colorado") is one
  choice: either the whole or its parts, whichever the predictions match better.
- **Linking**: a (span, QID) pair is right when a scored label has that exact span and that QID.
  A link on a NIL label, on a label with another QID or on a span no label has is wrong; a link
  on a NO_MAPPING label is neutral (there is no QID to check it against). Recall counts scored
  labels with a QID. **Disambiguation accuracy**: of the labels with a QID whose exact span newskg
  found, the share it linked to the right QID. **Coverage**: the share of distinct gold QIDs the
  configured indexes hold, and linking recall on the labels whose QID they hold.
- **Per kind**: a gold label belongs to each kind its types allow (a country is a Place and an
  Organization in ELEVANT's types); a prediction of kind K matches it when K is one of them.
- **Nationality mentions** ("Russian officials" -> Russia) are their own kind of mention, and
  benchmarks disagree on them (Reuters-128 leaves them out, News-Fair marks some as the country
  and some as the people), so they are scored apart by default: how many there are, and how many
  sit on a gold span with the same QID. `with_nationalities=True` scores them with the rest.
  **Modifier mentions** of a place ("U.S. officials", "the Texas courts") go with them, for the same
  reason: they say what a nationality word says, and benchmarks mark them or not as they please
  (Reuters-128 marks "London market" but not "U.S. officials"; News-Fair neither).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from ..model import Kind
from .gold import NO_MAPPING, NON_ENTITY_TYPES, GoldDocument, GoldLabel

KINDS = (Kind.PERSON, Kind.ORGANIZATION, Kind.PLACE, Kind.EVENT)


@dataclass(frozen=True)
class Predicted:
    """One mention newskg made, with its entity's kind and Wikidata link (None: not linked)."""

    document: str
    begin: int
    end: int
    kind: str
    qid: str | None = None
    nationality: bool = False  # a nationality word or a place's modifier ("U.S. officials"): scored apart


@dataclass
class Counts:
    """True positives, false positives and gold count; precision is None when nothing was predicted."""

    tp: int = 0
    fp: int = 0
    gold: int = 0
    found: int = 0  # gold labels matched (differs from tp only in lenient matching)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.gold += other.gold
        self.found += other.found

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "gold": self.gold,
            "found": self.found,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
        }


@dataclass
class Scores:
    """Every figure `kg evaluate` reports for one benchmark."""

    benchmark: str
    documents: int
    exhaustive: bool = True
    ner_exact: Counts = field(default_factory=Counts)
    ner_lenient: Counts = field(default_factory=Counts)
    linking: Counts = field(default_factory=Counts)
    ner_by_kind: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    linking_by_kind: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    disambiguation: Counts = field(default_factory=Counts)  # found = right QID, gold = QID labels found
    gold_qids: int = 0
    covered_qids: int = 0
    covered_linking: Counts = field(default_factory=Counts)
    nationalities: int = 0  # nationality mentions inside the evaluation spans (scored apart)
    nationalities_right: int = 0  # of those, on a gold span with the same QID
    with_nationalities: bool = False
    errors: list[dict[str, object]] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        return self.covered_qids / self.gold_qids if self.gold_qids else None

    @property
    def disambiguation_accuracy(self) -> float | None:
        return self.disambiguation.recall

    def as_dict(self) -> dict[str, object]:
        return {
            "benchmark": self.benchmark,
            "documents": self.documents,
            "exhaustive": self.exhaustive,
            "ner_exact": self.ner_exact.as_dict(),
            "ner_lenient": self.ner_lenient.as_dict(),
            "linking": self.linking.as_dict(),
            "ner_by_kind": {k: c.as_dict() for k, c in self.ner_by_kind.items()},
            "linking_by_kind": {k: c.as_dict() for k, c in self.linking_by_kind.items()},
            "disambiguation_accuracy": self.disambiguation_accuracy,
            "gold_qids": self.gold_qids,
            "covered_qids": self.covered_qids,
            "coverage": self.coverage,
            "linking_recall_on_covered": self.covered_linking.recall,
            "nationality_mentions": self.nationalities,
            "nationality_mentions_on_gold_qid": self.nationalities_right,
            "with_nationalities": self.with_nationalities,
            "errors": self.errors,
        }


def is_scored(label: GoldLabel, text: str) -> bool:
    """Whether a label is a named thing newskg's kinds can hold (else it is neutral)."""
    if label.optional or label.coref or label.desc or label.types & NON_ENTITY_TYPES:
        return False
    if label.kinds:
        return True
    if label.types:  # typed, but as a concept, work, product...: none of our kinds
        return False
    surface = text[label.begin : label.end].lstrip("\"'‘“(")
    return bool(surface) and (surface[0].isupper() or surface[0].isdigit())


def _trimmed(doc: GoldDocument) -> GoldDocument:
    """The document with its labels' spans cut to their text, without whitespace at either end."""

    def trim(lab: GoldLabel) -> GoldLabel:
        surface = doc.text[lab.begin : lab.end]
        begin = lab.begin + len(surface) - len(surface.lstrip())
        end = lab.end - (len(surface) - len(surface.rstrip()))
        return lab if (begin, end) == (lab.begin, lab.end) or begin >= end else replace(lab, begin=begin, end=end)

    return replace(doc, labels=tuple(trim(lab) for lab in doc.labels))


def _at_gold_stops(doc: GoldDocument, preds: list[Predicted]) -> list[Predicted]:
    """Predictions that differ from a label only by a final full stop, moved to the label's span."""
    spans = {(lab.begin, lab.end) for lab in doc.labels}

    def moved(p: Predicted) -> Predicted:
        if (p.begin, p.end) in spans:
            return p
        if doc.text[p.end - 1 : p.end] == "." and (p.begin, p.end - 1) in spans:
            return replace(p, end=p.end - 1)
        if doc.text[p.end : p.end + 1] == "." and (p.begin, p.end + 1) in spans:
            return replace(p, end=p.end + 1)
        return p

    return [moved(p) for p in preds]


def _choices(labels: Sequence[GoldLabel]) -> list[list[list[GoldLabel]]]:
    """Labels grouped into choices: each a list of alternatives (a parent alone, or its children)."""
    by_id = {label.id: label for label in labels}
    out: list[list[list[GoldLabel]]] = []
    for label in labels:
        if label.parent is not None and label.parent in by_id:
            continue  # scored with its parent
        kids = [by_id[c] for c in label.children if c in by_id]
        out.append([[label], kids] if kids else [[label]])
    return out


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(
    name: str,
    documents: Sequence[GoldDocument],
    predicted: Iterable[Predicted],
    covered: set[str] | None = None,
    *,
    exhaustive: bool = True,
    with_nationalities: bool = False,
    keep_errors: int = 10_000,
) -> Scores:
    """Score predictions against gold; `covered` is the set of gold QIDs the indexes hold (None: unknown)."""
    by_doc: dict[str, list[Predicted]] = {d.id: [] for d in documents}
    for p in predicted:
        if p.document in by_doc:
            by_doc[p.document].append(p)
    out = Scores(name, len(documents), exhaustive, with_nationalities=with_nationalities)
    qids: set[str] = set()
    for doc in map(_trimmed, documents):
        preds = _at_gold_stops(doc, [p for p in by_doc[doc.id] if doc.inside(p.begin, p.end)])
        if not with_nationalities:
            apart = [p for p in preds if p.nationality]
            out.nationalities += len(apart)
            gold_at = {(lab.begin, lab.end): lab.qid for lab in doc.labels}
            out.nationalities_right += sum(1 for p in apart if p.qid and gold_at.get((p.begin, p.end)) == p.qid)
            preds = [p for p in preds if not p.nationality]
        scored = {label.id for label in doc.labels if doc.inside(label.begin, label.end) and is_scored(label, doc.text)}
        _score_document(out, doc, preds, scored, covered, keep_errors)
        qids |= {label.qid for label in doc.labels if label.id in scored and label.qid}
    out.gold_qids = len(qids)
    out.covered_qids = len(qids & covered) if covered is not None else 0
    return out


def _score_document(
    out: Scores,
    doc: GoldDocument,
    preds: list[Predicted],
    scored: set[int],
    covered: set[str] | None,
    keep_errors: int,
) -> None:
    """Recall over the gold labels (one option of each choice), precision over the predictions."""
    exact = {(p.begin, p.end): p for p in preds}
    labels = [lab for lab in doc.labels if doc.inside(lab.begin, lab.end)]

    def note(error: str, span: tuple[int, int], **more: object) -> None:
        if len(out.errors) < keep_errors:
            text = doc.text[span[0] : span[1]]
            out.errors.append({"error": error, "document": doc.id, "span": list(span), "text": text, **more})

    for choice in _choices(labels):
        options = [o for o in ([lab for lab in option if lab.id in scored] for option in choice) if o]
        if not options:
            continue
        best = max(options, key=lambda o: (sum((lab.begin, lab.end) in exact for lab in o), -len(o)))
        for label in best:
            _recall_side(out, label, exact.get((label.begin, label.end)), preds, covered, note)
    for p in preds:
        _precision_side(out, p, labels, scored, note)


def _recall_side(
    out: Scores,
    label: GoldLabel,
    hit: Predicted | None,
    preds: list[Predicted],
    covered: set[str] | None,
    note: Callable[..., None],
) -> None:
    span = (label.begin, label.end)
    out.ner_exact.gold += 1
    out.ner_lenient.gold += 1
    out.ner_exact.found += hit is not None
    out.ner_lenient.found += any(_overlaps((p.begin, p.end), span) for p in preds)
    if hit is None:
        note("missed", span, gold=label.entity)
    for kind in label.kinds:
        out.ner_by_kind[kind].gold += 1
        out.ner_by_kind[kind].found += hit is not None and hit.kind in label.kinds
    if label.qid is None:
        if hit is not None and hit.qid and label.entity != NO_MAPPING:
            note("linked a NIL", span, predicted=hit.qid)
        return
    right = hit is not None and hit.qid == label.qid
    out.linking.gold += 1
    out.linking.found += right
    for kind in label.kinds:
        out.linking_by_kind[kind].gold += 1
        out.linking_by_kind[kind].found += right
    if hit is not None:
        out.disambiguation.gold += 1
        out.disambiguation.found += right
        if hit.qid and not right:
            note("wrong link", span, gold=label.qid, predicted=hit.qid)
        elif not hit.qid:
            note("not linked", span, gold=label.qid)
    if covered is not None and label.qid in covered:
        out.covered_linking.gold += 1
        out.covered_linking.found += right


def _precision_side(
    out: Scores, p: Predicted, labels: list[GoldLabel], scored: set[int], note: Callable[..., None]
) -> None:
    span = (p.begin, p.end)
    at = [lab for lab in labels if (lab.begin, lab.end) == span]
    at_scored = [lab for lab in at if lab.id in scored]
    near_scored = any(lab.id in scored and _overlaps(span, (lab.begin, lab.end)) for lab in labels)
    near_neutral = any(lab.id not in scored and _overlaps(span, (lab.begin, lab.end)) for lab in labels)
    judged = out.exhaustive or bool(at) or near_scored
    # NER, exact and lenient
    if at_scored:
        out.ner_exact.tp += 1
    elif judged and not at and not (near_neutral and not near_scored):
        out.ner_exact.fp += 1
        if not near_scored:
            note("spurious", span, kind=p.kind)
        else:  # on a gold name, but not its span ("Medical Group" for "Medical Group, Inc")
            gold = next(lab for lab in labels if lab.id in scored and _overlaps(span, (lab.begin, lab.end)))
            note("wrong span", span, kind=p.kind, gold_span=[gold.begin, gold.end])
    if near_scored:
        out.ner_lenient.tp += 1
    elif judged and not at and not near_neutral:
        out.ner_lenient.fp += 1
    # per kind: typed labels only
    if p.kind in out.ner_by_kind:
        typed = [lab for lab in at_scored if lab.kinds]
        if typed:
            if any(p.kind in lab.kinds for lab in typed):
                out.ner_by_kind[p.kind].tp += 1
            else:
                out.ner_by_kind[p.kind].fp += 1
        elif judged and not at and not near_neutral:
            out.ner_by_kind[p.kind].fp += 1
    # linking: judged against any label at the span, except optional and NO_MAPPING ones
    if not p.qid:
        return
    checkable = [lab for lab in at if not lab.optional and lab.entity != NO_MAPPING]
    if any(lab.qid == p.qid for lab in checkable):
        verdict = True
    elif checkable or (judged and not at and not (near_neutral and not near_scored)):
        verdict = False
        if not checkable:
            note("wrong link (no gold span)", span, predicted=p.qid)
    else:
        return
    out.linking.tp += verdict
    out.linking.fp += not verdict
    if p.kind in out.linking_by_kind:
        out.linking_by_kind[p.kind].tp += verdict
        out.linking_by_kind[p.kind].fp += not verdict
