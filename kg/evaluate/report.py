"""The evaluation as people read it: one table per benchmark, and the errors worth looking at."""

from __future__ import annotations

from collections import Counter

from .score import KINDS, Counts, Scores


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def _row(name: str, c: Counts, exhaustive: bool = True) -> str:
    precision = pct(c.precision) if exhaustive else "n/a"
    f1 = pct(c.f1) if exhaustive else "n/a"
    return f"  {name:<28} {precision:>6} {pct(c.recall):>6} {f1:>6}   {c.found:>5}/{c.gold:<5} {c.tp:>5} {c.fp:>5}"


def render(scores: Scores, *, errors: int = 0) -> str:
    """A terminal table of every figure; `errors` > 0 adds that many of the errors, most frequent kinds first."""
    s = scores
    head = f"{s.benchmark}: {s.documents} documents" + ("" if s.exhaustive else " (gold not exhaustive)")
    lines = [
        head,
        f"  {'':<28} {'P':>6} {'R':>6} {'F1':>6}   {'found/gold':>11} {'TP':>5} {'FP':>5}",
        _row("NER, exact spans", s.ner_exact, s.exhaustive),
        _row("NER, lenient (overlap)", s.ner_lenient, s.exhaustive),
        *[_row(f"  {k}", s.ner_by_kind[k], s.exhaustive) for k in KINDS if s.ner_by_kind[k].gold],
        _row("linking (span + QID)", s.linking, s.exhaustive),
        *[_row(f"  {k}", s.linking_by_kind[k], s.exhaustive) for k in KINDS if s.linking_by_kind[k].gold],
        f"  disambiguation accuracy      {pct(s.disambiguation_accuracy):>6}  "
        f"(right QID on {s.disambiguation.found} of {s.disambiguation.gold} QID mentions found)",
        f"  coverage                     {pct(s.coverage):>6}  "
        f"({s.covered_qids} of {s.gold_qids} distinct gold QIDs in the indexes)",
        f"  linking recall on covered    {pct(s.covered_linking.recall):>6}  "
        f"({s.covered_linking.found} of {s.covered_linking.gold} mentions of covered QIDs)",
    ]
    if not s.with_nationalities:
        n, right = s.nationalities, s.nationalities_right
        lines.append(f"  nationality, modifier        {n:>6}  (scored apart; {right} on a gold span, same QID)")
    if errors and s.errors:
        kinds = Counter(str(e["error"]) for e in s.errors)
        lines.append("  errors: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common()))
        for e in s.errors[:errors]:
            more = {k: v for k, v in e.items() if k not in {"error", "document", "span", "text"}}
            detail = " ".join(f"{k}={v}" for k, v in more.items())
            lines.append(f"    {e['error']:<26} {e['document']}:{e['span'][0]}-{e['span'][1]} {e['text']!r} {detail}")
    return "\n".join(lines)
