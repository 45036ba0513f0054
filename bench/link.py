"""Linking benchmark: time per entity, and precision/recall of NER + linking on entity-linking benchmarks.

What it measures (read from ``../shared``; nothing is copied into the repository):

1. Speed. The entities of the first ``--articles`` BBC articles (read, spaCy, extraction, corpus
   resolution, as the build makes them) are linked with (a) the bundled starter index and (b) a
   larger index built, in a temporary folder, from every table of ``../shared/wikidata`` (the
   ODbL dr5hn tables included). Reported: milliseconds per entity (a fresh index connection, then
   warm), and linking time against raw spaCy time on the same articles (the build's target is
   build/raw throughput >= 0.8, so linking should cost a few per cent of spaCy at most).
2. Accuracy. Each benchmark of ``../shared/benchmarks/entity-linking`` (News-Fair v1 without
   coreference, Reuters-128, KORE50, RSS-500, Spotlight) is read as a corpus of articles, run
   through newskg's NER and resolution, and linked with each index. Reported per benchmark:
   NER span recall (gold QID mentions whose exact span newskg found), end-to-end precision,
   recall and F1 of (span, QID) pairs, linking precision on the gold spans newskg found (NER
   errors aside), and how many gold QIDs the index holds at all (recall's ceiling).
   The benchmarks measure: none of their entities or answers goes into an index, a rule or a test.

Run by hand from the repository root (not part of the test suite)::

    python bench/link.py                       # 300 BBC articles + all benchmarks, both indexes (~3 min)
    python bench/link.py --articles 100 --benchmarks kore50,reuters-128 --json bench/out/link.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.article.extract import extract_all, load_pipeline  # noqa: E402
from kg.article.read import Article, article_from_text  # noqa: E402
from kg.corpus.link import LinkConfig, article_of, link_entities  # noqa: E402
from kg.corpus.resolve import resolve_corpus  # noqa: E402
from kg.model import Entity, MentionRecord  # noqa: E402
from kg.namespaces import Iris  # noqa: E402
from kg.settings import choose_model  # noqa: E402
from kg.wikidata.index import LocalIndex, build_index  # noqa: E402
from kg.wikidata.sources import Sources  # noqa: E402
from kg.wikidata.starter import starter_index_path  # noqa: E402

SHARED = ROOT.parent / "shared"
BBC = SHARED / "corpora" / "bbc" / "bbc_articles.jsonl"
BENCHMARKS = SHARED / "benchmarks" / "entity-linking"
#: Benchmarks whose annotation is exhaustive: a linked mention the gold does not know is a false positive.
EXHAUSTIVE = {"news-fair-no-coref", "news-fair", "reuters-128", "kore50"}
DEFAULT_BENCHMARKS = "news-fair-no-coref,reuters-128,kore50,rss-500,spotlight"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- corpora ------------------------------------------------------------------------------------------------------


def bbc_articles(n: int) -> list[Article]:
    seen: set[str] = set()
    out = []
    with BBC.open(encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            text = record["text"]
            if text in seen:
                continue
            seen.add(text)
            out.append(article_from_text(text, f"bbc/{record['id']}", title=record.get("title")))
            if len(out) == n:
                break
    return out


def entities_of(nlp, articles: list[Article], iris: Iris) -> tuple[list[Entity], float, float]:
    """Entities as the build makes them; also raw spaCy seconds and extraction seconds over the same bodies."""
    bodies = [a.text[a.body_start :] for a in articles]
    started = time.perf_counter()
    for _ in nlp.pipe(bodies, batch_size=32):
        pass
    raw = time.perf_counter() - started
    started = time.perf_counter()
    records = []
    for article, extraction in extract_all(nlp, articles):
        for m in extraction.mentions:
            records.append(
                MentionRecord(
                    article.digest, iris.mention(article.digest, m.begin, m.end), m.text, m.name, m.kind, m.label
                )
            )
    entities = resolve_corpus(records, iris)
    return entities, raw, time.perf_counter() - started


# -- speed --------------------------------------------------------------------------------------------------------


@dataclass
class Speed:
    index: str
    entities: int
    cold_ms: float
    warm_ms: float
    raw_spacy_s: float
    linking_s: float
    linked: int

    @property
    def share_of_spacy(self) -> float:
        return self.linking_s / self.raw_spacy_s


def time_linking(entities: list[Entity], index: Path, iris: Iris, raw: float, repeats: int = 5) -> Speed:
    timings = []
    linked = 0
    cold = 0.0
    for i in range(repeats + 1):
        started = time.perf_counter()
        with Sources(local=[LocalIndex(index)]) as sources:
            if i == 0:
                result = link_entities(entities, sources, iris, LinkConfig())
                cold = time.perf_counter() - started
                linked = sum(d.linked for d in result.decisions.values())
                continue
            link_entities(entities, sources, iris, LinkConfig())  # warm the connection's caches
            started = time.perf_counter()
            link_entities(entities, sources, iris, LinkConfig())
            timings.append(time.perf_counter() - started)
    warm = statistics.median(timings)
    return Speed(index.name, len(entities), 1000 * cold / len(entities), 1000 * warm / len(entities), raw, cold, linked)


# -- accuracy -----------------------------------------------------------------------------------------------------


@dataclass
class Accuracy:
    benchmark: str
    index: str
    docs: int
    gold: int
    ner_found: int
    predicted: int
    true_positives: int
    false_positives: int
    on_gold_spans: int
    correct_on_gold_spans: int
    gold_in_index: int
    exhaustive: bool
    notes: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        total = self.true_positives + self.false_positives
        return self.true_positives / total if total else None

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None

    @property
    def linking_precision(self) -> float | None:
        return self.correct_on_gold_spans / self.on_gold_spans if self.on_gold_spans else None


def read_benchmark(name: str) -> list[dict[str, Any]]:
    path = BENCHMARKS / f"{name}.benchmark.jsonl"
    with path.open(encoding="utf-8") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def predictions(nlp, docs: list[dict[str, Any]], iris: Iris) -> tuple[dict[str, dict], list[Entity]]:
    """Run newskg's reader, NER and resolution over the benchmark's texts, as one corpus."""
    articles = {}
    for doc in docs:
        article = article_from_text(doc["text"], f"benchmark/{doc['id']}")
        articles[article.digest] = (article, doc)
    entities, _, _ = entities_of(nlp, [a for a, _ in articles.values()], iris)
    return {d: doc for d, (_, doc) in articles.items()}, entities


def score(name: str, docs_by_digest: dict[str, dict], entities: list[Entity], index: Path, iris: Iris) -> Accuracy:
    with Sources(local=[LocalIndex(index)]) as sources:
        result = link_entities(entities, sources, iris, LinkConfig())
        holder = sources.local[0]
        gold_qids = {
            label["entity_id"]
            for doc in docs_by_digest.values()
            for label in doc["labels"]
            if label["entity_id"].startswith("Q")
        }
        in_index = {q for q in gold_qids if holder.item(q) is not None}
    predicted: dict[tuple[str, int, int], str | None] = {}
    for e in result.entities:
        qid = result.decisions[e.iri].qid
        for m in e.mentions:
            digest = article_of(m)
            b, e_ = m.rsplit("#char=", 1)[1].split(",")
            predicted[(digest, int(b), int(e_))] = qid
    gold: dict[tuple[str, int, int], str] = {}
    ignore: list[tuple[str, int, int]] = []
    for digest, doc in docs_by_digest.items():
        for label in doc["labels"]:
            span = (digest, label["span"][0], label["span"][1])
            if label.get("optional") or label["entity_id"] == "<NO_MAPPING>":
                ignore.append(span)
            else:
                gold[span] = label["entity_id"]

    def inside(span: tuple[str, int, int]) -> bool:
        b, e_ = docs_by_digest[span[0]]["evaluation_span"]
        return b <= span[1] and span[2] <= e_

    def overlaps_ignored(span: tuple[str, int, int]) -> bool:
        return any(i[0] == span[0] and i[1] < span[2] and span[1] < i[2] for i in ignore)

    gold_q = {s: q for s, q in gold.items() if q.startswith("Q")}
    tp = fp = on_gold = correct_on_gold = 0
    for span, qid in predicted.items():
        if qid is None or not inside(span):
            continue
        truth = gold.get(span)
        if truth is not None:
            on_gold += 1
            correct_on_gold += truth == qid
        if truth == qid:
            tp += 1
        elif truth is not None or (name in EXHAUSTIVE and not overlaps_ignored(span)):
            fp += 1
    ner_found = sum(1 for s in gold_q if s in predicted)
    return Accuracy(
        name,
        index.name,
        len(docs_by_digest),
        len(gold_q),
        ner_found,
        sum(1 for q in predicted.values() if q),
        tp,
        fp,
        on_gold,
        correct_on_gold,
        len(in_index) if gold_qids else 0,
        name in EXHAUSTIVE,
        [f"{len(in_index)}/{len(gold_qids)} distinct gold QIDs in the index"],
    )


# -- main ---------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="BBC articles whose entities are timed")
    parser.add_argument("--benchmarks", default=DEFAULT_BENCHMARKS, help="comma-separated benchmark names, or ''")
    parser.add_argument("--skip-large", action="store_true", help="only the starter index")
    parser.add_argument("--model", default=None)
    parser.add_argument("--json", type=Path, help="also write every figure as JSON")
    args = parser.parse_args()
    if not BBC.is_file() or not BENCHMARKS.is_dir():
        log(f"../shared is missing ({SHARED}): nothing to measure")
        return 2
    iris = Iris()
    out: dict[str, Any] = {"speed": [], "accuracy": []}
    with tempfile.TemporaryDirectory(prefix="kg-bench-link-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        starter = starter_index_path(work / "cache")
        out["starter_build_s"] = time.perf_counter() - started
        indexes = [starter]
        if not args.skip_large:
            started = time.perf_counter()
            large = work / "shared-all.sqlite"
            report = build_index([SHARED / "wikidata"], large, name="shared-all")
            out["large_build_s"] = time.perf_counter() - started
            out["large_items"] = report.items
            indexes.append(large)
        log(
            f"indexes ready: starter in {out['starter_build_s']:.1f}s"
            + (
                f", all shared tables ({out['large_items']:,} items) in {out['large_build_s']:.1f}s"
                if len(indexes) > 1
                else ""
            )
        )
        nlp = load_pipeline(choose_model(args.model))
        for _ in nlp.pipe(["Warm-up text about Seoul and the United Nations."] * 8):
            pass
        articles = bbc_articles(args.articles)
        entities, raw, _ = entities_of(nlp, articles, iris)
        log(f"{len(articles)} BBC articles: {len(entities):,} entities; raw spaCy {raw:.1f}s")
        for index in indexes:
            speed = time_linking(entities, index, iris, raw)
            out["speed"].append({**speed.__dict__, "share_of_spacy": speed.share_of_spacy})
            log(
                f"  {index.name}: {speed.cold_ms:.3f} ms/entity cold, {speed.warm_ms:.3f} warm; "
                f"{speed.linked:,} linked; linking = {100 * speed.share_of_spacy:.2f}% of raw spaCy time"
            )
        for name in [b for b in args.benchmarks.split(",") if b]:
            docs = read_benchmark(name)
            by_digest, bench_entities = predictions(nlp, docs, iris)
            for index in indexes:
                acc = score(name, by_digest, bench_entities, index, iris)
                out["accuracy"].append(
                    {
                        **acc.__dict__,
                        "precision": acc.precision,
                        "recall": acc.recall,
                        "f1": acc.f1,
                        "linking_precision": acc.linking_precision,
                    }
                )
                log(
                    f"  {name} / {index.name}: P={_pct(acc.precision)} R={_pct(acc.recall)} "
                    f"linking precision on found spans={_pct(acc.linking_precision)}"
                )
    print_tables(out)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
    return 0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def print_tables(out: dict[str, Any]) -> None:
    print("\nLinking speed (entities of BBC articles; linking time vs raw spaCy on the same articles)")
    print(
        f"{'index':<34} {'entities':>8} {'ms/entity cold':>15} {'ms/entity warm':>15} {'linked':>7} {'% of spaCy':>10}"
    )
    for s in out["speed"]:
        print(
            f"{s['index']:<34} {s['entities']:>8,} {s['cold_ms']:>15.3f} {s['warm_ms']:>15.3f} {s['linked']:>7,} "
            f"{100 * s['share_of_spacy']:>9.2f}%"
        )
    print("\nNER + linking against entity-linking benchmarks (spans exact, QIDs exact)")
    print(
        f"{'benchmark':<20} {'index':<34} {'gold':>5} {'NER found':>9} {'linked':>6} {'P':>6} {'R':>6} {'F1':>6} "
        f"{'link P':>7}  index holds"
    )
    groups: dict[str, list[dict]] = defaultdict(list)
    for a in out["accuracy"]:
        groups[a["benchmark"]].append(a)
    for rows in groups.values():
        for a in rows:
            precision = _pct(a["precision"]) if a["exhaustive"] else "n/a"
            print(
                f"{a['benchmark']:<20} {a['index']:<34} {a['gold']:>5} {_pct(a['ner_found'] / a['gold'] if a['gold'] else None):>9} "
                f"{a['predicted']:>6} {precision:>6} {_pct(a['recall']):>6} "
                f"{(_pct(a['f1']) if a['exhaustive'] else 'n/a'):>6} {_pct(a['linking_precision']):>7}  {a['notes'][0]}"
            )
    print(
        "\nP, F1: only for exhaustively annotated benchmarks. 'link P': precision of the QIDs on the gold spans newskg's"
    )
    print("NER found (NER errors aside). 'NER found': share of gold QID mentions whose exact span newskg extracted.")


if __name__ == "__main__":
    raise SystemExit(main())
