"""Events benchmark: what reading times and events costs per article, against spaCy's parse of it.

On the first ``--articles`` BBC articles (``../shared/corpora/bbc/bbc_articles.jsonl``), in one process:

1. raw spaCy: ``nlp.pipe(bodies)``, every doc consumed (the baseline);
2. for each parsed doc, untimed entity extraction (``candidates`` + ``resolve_article``), then timed:
   time expressions (``kg.article.timex.time_expressions``) and events (``kg.article.events.extract_events``).

Reports milliseconds per article for parsing and for times + events (wall clock, and CPU time of this
process, which a busy machine disturbs less), their ratio, and how many time expressions and events were read. The target: times + events cost a small fraction of parsing
(< 2 ms per article), so that a build with events stays within 0.8x of raw spaCy
(``bench/build.py`` measures the whole build with events on).

    python bench/events.py --articles 300
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BBC = ROOT.parent / "shared" / "corpora" / "bbc" / "bbc_articles.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--corpus", type=Path, default=BBC)
    parser.add_argument("--model", default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    if not args.corpus.is_file():
        print(f"corpus not found: {args.corpus} (../shared is needed for this benchmark)", file=sys.stderr)
        return 2

    sys.path.insert(0, str(ROOT))
    from kg.article.events import extract_events, load_taxonomy
    from kg.article.extract import _line_zones, candidates, load_pipeline
    from kg.article.mentions import resolve_article
    from kg.article.read import read_jsonl
    from kg.article.timex import time_expressions
    from kg.settings import choose_model

    with args.corpus.open(encoding="utf-8") as stream:
        articles = []
        for item in read_jsonl(stream, str(args.corpus), 5_000_000):
            if not hasattr(item, "text"):
                continue
            # BBC has no dates: give each article one, so relative dates resolve as in dated news
            articles.append(dataclasses.replace(item, published=datetime.date(2005, 3, 16)))
            if len(articles) >= args.articles:
                break
    nlp = load_pipeline(choose_model(args.model))
    taxonomy = load_taxonomy()
    bodies = [a.text[a.body_start :] for a in articles]
    list(nlp.pipe(bodies[:10]))  # warm-up

    started, cpu = time.perf_counter(), time.process_time()
    docs = list(nlp.pipe(bodies, batch_size=args.batch_size))
    parse_seconds, parse_cpu = time.perf_counter() - started, time.process_time() - cpu

    per_article = []
    per_article_cpu = []
    time_part = []
    n_times = n_events = 0
    for doc, article in zip(docs, articles, strict=True):
        mentions = resolve_article(list(candidates(doc, article)), article.text)
        zones = _line_zones(doc.text, article.body_start, article.title_span)
        t0, c0 = time.perf_counter(), time.process_time()
        times = time_expressions(doc, article.body_start, article.published, skip=[(b, e) for b, e, k in zones if k == "credit"])
        time_part.append(time.perf_counter() - t0)
        events = extract_events(doc, article.body_start, mentions, times, taxonomy, skip=[(b, e) for b, e, _ in zones])
        per_article.append(time.perf_counter() - t0)
        per_article_cpu.append(time.process_time() - c0)
        n_times += len(times)
        n_events += len(events)

    n = len(articles)
    tokens = sum(len(d) for d in docs)
    figures = {
        "load_average_1min": os.getloadavg()[0],
        "articles": n,
        "tokens": tokens,
        "parse_ms_per_article": 1000 * parse_seconds / n,
        "parse_cpu_ms_per_article": 1000 * parse_cpu / n,
        "events_cpu_ms_per_article_mean": 1000 * statistics.mean(per_article_cpu),
        "events_cpu_ms_per_article_median": 1000 * statistics.median(per_article_cpu),
        "events_ms_per_article_mean": 1000 * statistics.mean(per_article),
        "events_ms_per_article_median": 1000 * statistics.median(per_article),
        "events_ms_per_article_p95": 1000 * sorted(per_article)[int(0.95 * (n - 1))],
        "events_ms_per_article_max": 1000 * max(per_article),
        "of_which_times_ms_per_article_mean": 1000 * statistics.mean(time_part),
        "time_expressions": n_times,
        "event_mentions": n_events,
    }
    figures["events_over_parse"] = figures["events_ms_per_article_mean"] / figures["parse_ms_per_article"]
    figures["events_over_parse_cpu"] = figures["events_cpu_ms_per_article_mean"] / figures["parse_cpu_ms_per_article"]
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key.ljust(width)}  {value:,.3f}" if isinstance(value, float) else f"{key.ljust(width)}  {value:,}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
