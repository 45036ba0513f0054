"""Scale-out benchmark: `kg build --engine dask --workers N` against `kg build --jobs N`, in the same run.

What it measures, on real news text read from ``../shared/corpora`` (never copied into the repository):

1. Throughput: the first ``--articles`` distinct articles of ``--corpus`` built into a fresh store by
   (A) the one-machine build, ``kg build INPUT --jobs J`` and (B) the cluster build, ``kg build --engine dask
   --workers W`` on a LocalCluster started by the build (its start-up counted). Each runs as a whole process,
   timed from outside, in pairs that alternate their order (A B, B A, ...); the verdict is the median of the
   pairs' ratios (articles/s of B over A; target >= 0.9).
2. From the cluster build (it reports them): wall seconds per stage (plan, extract, load, records, the corpus
   stage's steps), the workers' summed task seconds, each worker's peak RSS, the shards' size and the shuffle's
   size (the records exchanged between workers by the corpus stage), and whether the two stores hold the same
   graph (every statement, build times aside).
3. A projection for 10 and 100 workers from those per-stage costs: what runs on the workers divides by their
   number; what runs on the driver does not (see bench/README.md).

Run by hand from the repository root (not part of the test suite)::

    python bench/scale.py --articles 600 --repeat 2          # about ten minutes on 2 shared cores
    python bench/scale.py --articles 2000 --json bench/out/scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPORA = {
    "bbc": SHARED / "corpora" / "bbc" / "bbc_articles.jsonl",
    "reuters": SHARED / "corpora" / "reuters21578" / "reuters21578.jsonl",
}
RESULT = "@@scale-result "
TARGET = 0.9
MIB = 1 << 20


def records(corpus: str):
    with CORPORA[corpus].open(encoding="utf-8") as stream:
        for line in stream:
            if not line.strip():
                continue
            r = json.loads(line)
            if corpus == "bbc":
                yield {"id": r["id"], "title": r.get("title"), "text": r["text"]}
            elif (r.get("body") or "").strip():
                yield {"id": str(r["newid"]), "title": r.get("title") or None, "date": r.get("date"), "text": r["body"]}


def write_corpus(corpus: str, count: int, path: Path) -> int:
    """The first `count` distinct articles as JSON Lines (repeated texts left out, as bench/build.py does)."""
    seen: set[str] = set()
    with path.open("w", encoding="utf-8") as out:
        for r in records(corpus):
            if len(seen) == count:
                break
            if r["text"] not in seen:
                seen.add(r["text"])
                out.write(json.dumps(r, ensure_ascii=False) + "\n")
    if len(seen) < count:
        sys.exit(f"{corpus} has only {len(seen)} distinct articles")
    return len(seen)


def _child(args: argparse.Namespace) -> None:
    """The cluster build, in a process of its own; prints what it measured."""
    from kg.cluster import dask_build
    from kg.settings import load_settings

    settings = load_settings().with_overrides(store=Path(args.store))
    report = dask_build([args.input], settings, workers=args.workers, dashboard=False, keep_shards=False)
    out = {
        "added": report.build.added,
        "errors": len(report.build.errors),
        "conforms": report.build.validation.conforms if report.build.validation else None,
        "entities": report.build.entities,
        "events": report.build.events,
        "partitions": report.partitions,
        "stages": report.stages,
        "overlapped": report.overlapped,
        "task_seconds": report.task_seconds,
        "peak_rss_mib": {str(k): v / MIB for k, v in report.peak_rss.items()},
        "shard_mib": report.shard_bytes / MIB,
        "shuffle_mib": getattr(report, "shuffle_bytes", 0) / MIB,
    }
    print(RESULT + json.dumps(out), flush=True)


def run(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0,):
        sys.exit(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def statements(path: str, since: datetime) -> set:
    import pyoxigraph as ox

    store = ox.Store.read_only(path)
    out = set()
    for q in store:
        o = q.object
        text = str(o)
        if isinstance(o, ox.Literal) and o.datatype.value.endswith("#dateTime"):
            try:
                when = datetime.fromisoformat(o.value)
                if when.tzinfo is not None and when >= since:
                    text = "BUILD-TIME"
            except ValueError:
                pass
        out.add((str(q.subject), str(q.predicate), text, str(q.graph_name)))
    return out


#: Stages whose work runs on the workers: it divides by their number (the rest is the driver's, serial).
PARALLEL = {"extract"}


def project(
    stages: dict[str, float], task_seconds: float, articles: int, startup: float, overlapped: dict[str, float]
) -> dict[str, Any]:
    """Wall seconds for N articles on W workers, from this run's costs per article: the partitions' summed task
    seconds divide by W; every other stage (load, the corpus steps, even those that run on the workers) is
    counted as the driver's, serial, and so is the driver's work done while the partitions ran (the early load:
    hidden behind few workers, it bounds many): an upper bound that shows where the curve bends."""
    serial = (sum(v for k, v in stages.items() if k not in PARALLEL) + sum(overlapped.values())) / articles
    work = task_seconds / articles
    table = {
        f"{n} articles, {w} workers": startup + n * serial + n * work / w
        for n in (articles, 100_000, 1_000_000)
        for w in (2, 10, 100)
    }
    return {"serial_s_per_article": serial, "worker_s_per_article": work, "startup_s": startup, "wall_s": table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="bbc")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="Pairs of runs (default 1).")
    parser.add_argument("--json", type=Path, help="Also write every figure here.")
    parser.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        _child(args)
        return
    if not CORPORA[args.corpus].is_file():
        sys.exit(f"corpus not found: {CORPORA[args.corpus]} (the benchmark reads ../shared/corpora)")
    kg = str(Path(sys.executable).parent / "kg")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT).stdout
    with tempfile.TemporaryDirectory(prefix="kg-scale-") as tmp:
        corpus = Path(tmp) / f"{args.corpus}{args.articles}.jsonl"
        n = write_corpus(args.corpus, args.articles, corpus)
        print(
            f"# {n} {args.corpus} articles; commit {commit.strip()}; jobs {args.jobs}, workers {args.workers}",
            file=sys.stderr,
        )
        pairs: list[dict[str, Any]] = []
        for i in range(args.repeat):
            since = datetime.now(UTC) - timedelta(seconds=1)
            a_store, b_store = f"{tmp}/a{i}", f"{tmp}/b{i}"
            local = [kg, "build", str(corpus), "--store", a_store, "--jobs", str(args.jobs), "-q"]
            cluster = [
                sys.executable,
                __file__,
                "--_child",
                "--input",
                str(corpus),
                "--store",
                b_store,
                "--workers",
                str(args.workers),
            ]
            order = [("local", local), ("dask", cluster)]
            if i % 2:
                order.reverse()
            seconds: dict[str, float] = {}
            detail: dict[str, Any] = {}
            for name, command in order:
                print(f"# pair {i + 1}: {name} ...", file=sys.stderr, flush=True)
                seconds[name], stdout = run(command)
                if name == "dask":
                    detail = json.loads(next(x for x in stdout.splitlines() if x.startswith(RESULT))[len(RESULT) :])
                print(f"#   {seconds[name]:.1f}s", file=sys.stderr, flush=True)
            same = statements(a_store, since) == statements(b_store, since)
            pairs.append(
                {
                    "local_s": seconds["local"],
                    "dask_s": seconds["dask"],
                    "ratio": seconds["local"] / seconds["dask"],
                    "same_graph": same,
                    **detail,
                }
            )
    ratio = statistics.median(p["ratio"] for p in pairs)
    last = pairs[-1]
    driver_known = sum(last["stages"].values())
    startup = max(0.0, last["dask_s"] - driver_known)
    projection = project(last["stages"], last["task_seconds"], n, startup, last.get("overlapped") or {})
    print(f"\narticles: {n} ({args.corpus}); pairs: {len(pairs)}")
    for i, p in enumerate(pairs, start=1):
        print(
            f"pair {i}: kg build --jobs {args.jobs} {p['local_s']:.1f}s, --engine dask --workers {args.workers} "
            f"{p['dask_s']:.1f}s, throughput ratio dask/local {p['ratio']:.2f}, same graph: {p['same_graph']}"
        )
    print(f"median throughput ratio (dask/local): {ratio:.2f} (target >= {TARGET})")
    print(
        f"partitions: {last['partitions']}; entities {last['entities']}, events {last['events']}; "
        f"conforms: {last['conforms']}"
    )
    print(
        "stages (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in last["stages"].items())
        + f"; start-up and the rest {startup:.1f}"
    )
    overlapped = last.get("overlapped") or {}
    if overlapped:
        print(
            "driver's work while the partitions ran (inside extract): "
            + ", ".join(f"{k} {v:.1f}s" for k, v in overlapped.items())
        )
    print(f"workers' task seconds (summed): {last['task_seconds']:.1f}")
    print("worker peak RSS (MiB): " + ", ".join(f"{v:.0f}" for v in last["peak_rss_mib"].values()))
    print(f"shards: {last['shard_mib']:.1f} MiB; shuffle: {last['shuffle_mib']:.2f} MiB")
    print(
        f"per article: {projection['worker_s_per_article'] * 1000:.1f} ms of worker time (divides by the workers), "
        f"{projection['serial_s_per_article'] * 1000:.1f} ms on the driver (does not); start-up {startup:.1f}s"
    )
    for label, seconds in projection["wall_s"].items():
        print(f"projection: {label}: {seconds / 60:.1f} min")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "articles": n,
                    "corpus": args.corpus,
                    "commit": commit.strip(),
                    "pairs": pairs,
                    "median_ratio": ratio,
                    "startup_s": startup,
                    "projection": projection,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    os.environ.setdefault("TQDM_DISABLE", "1")
    main()
