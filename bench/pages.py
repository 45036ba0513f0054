"""Entity pages at 300 BBC articles: the first visit after a start (cold) and the next ones (warm), this
tree against a baseline commit, in the same run (issue 20, item 6: under 300 ms warm, under 1 s cold).

    .venv/bin/python bench/pages.py [--store DIR | --articles 300] [--baseline main] [--entities 5] [--rounds 2]

Without --store it builds the first --articles BBC stories into a temporary folder (about a minute).
The baseline is `git archive`d into a temporary folder and served by the same Python; both servers
serve copies of the same store. Rounds alternate baseline and this tree (A B A B), each a fresh
server: the busiest --entities entity pages (most mentions) are fetched once right after the server
says it is ready (cold: the workers may still be copying the store into memory), then --warm times
each (warm). "warm, uncached" adds a query string the cache has not seen, so it times the page being
made from the store, not the cache. On a shared machine only the ratios within one run mean much.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from serving import copy_store  # noqa: E402

BBC = ROOT.parent / "shared" / "corpora" / "bbc" / "bbc_articles.jsonl"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_store(work: Path, articles: int) -> Path:
    if not BBC.is_file():
        sys.exit(f"{BBC} is absent: pass --store")
    corpus = work / "bbc.jsonl"
    with BBC.open(encoding="utf-8") as source, corpus.open("w", encoding="utf-8") as out:
        out.writelines(itertools.islice(source, articles))
    store = work / "store"
    log(f"building {articles} BBC articles into {store} ...")
    subprocess.run(
        [sys.executable, "-m", "kg", "build", str(corpus), "--store", str(store), "-q", "-j", "1"],
        cwd=ROOT,
        check=True,
    )
    return store


def busiest(store: Path, count: int) -> list[str]:
    import pyoxigraph as ox

    from kg.namespaces import sparql_prefixes

    opened = ox.Store.read_only(str(store))
    rows = opened.query(
        sparql_prefixes() + f"SELECT ?x WHERE {{ ?x kg:mentionCount ?n }} ORDER BY DESC(?n) LIMIT {count}",
        use_default_graph_as_union=True,
    )
    found = [row[0].value for row in rows]
    del opened
    return found


def fetch(url: str) -> float:
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=120) as reply:
        reply.read()
        if reply.status != 200:
            raise RuntimeError(f"{url}: {reply.status}")
    return time.perf_counter() - started


@contextlib.contextmanager
def serving(tree: Path, store: Path) -> Iterator[str]:
    """`python -m kg serve` from `tree` (its own kg package first on the path), until the block ends."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    environment["PYTHONPATH"] = str(tree)
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--store", str(store), "--host", "127.0.0.1", "--port", "0"],
        cwd=tree,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    try:
        for line in process.stdout:
            if "is serving" in line:
                yield line.split(" at ", 1)[1].split(" ", 1)[0].rstrip("/")
                break
        else:
            raise RuntimeError(f"the server from {tree} did not start")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def one_round(tree: Path, store: Path, paths: list[str], warm: int, tag: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"cold": [], "warm": [], "warm, uncached": []}
    with serving(tree, store) as base:
        for path in paths:
            times["cold"].append(fetch(base + path))
        for path in paths:
            for _ in range(warm):
                times["warm"].append(fetch(base + path))
            for k in range(warm):
                times["warm, uncached"].append(fetch(f"{base}{path}?bench={tag}-{k}"))
    return times


def baseline_tree(work: Path, revision: str) -> Path:
    tree = work / "baseline"
    tree.mkdir()
    archive = subprocess.run(["git", "archive", revision], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="a built store (default: build --articles BBC stories)")
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--baseline", default="main", help="the commit to compare with (default: main)")
    parser.add_argument("--entities", type=int, default=5, help="how many of the busiest entity pages")
    parser.add_argument("--warm", type=int, default=5, help="warm fetches per page")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder:
        work = Path(folder)
        store = args.store or build_store(work, args.articles)
        base_iri = "https://data.newskg.example/"
        paths = ["/" + iri[len(base_iri) :] for iri in busiest(store, args.entities)]
        log(f"pages: {', '.join(paths)}")
        trees = {"baseline": baseline_tree(work, args.baseline), "this tree": ROOT}
        results: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
        for round_number in range(args.rounds):
            for name, tree in trees.items():
                copy = copy_store(store, work / f"copy-{round_number}-{name.replace(' ', '-')}")
                log(f"round {round_number + 1}: {name}")
                for kind, values in one_round(tree, copy, paths, args.warm, round_number).items():
                    results[name].setdefault(kind, []).extend(values)
                shutil.rmtree(copy, ignore_errors=True)
        print(f"entity pages, {len(paths)} busiest, {args.rounds} rounds (baseline {args.baseline}):")
        print(f"{'':18}{'baseline median':>16}{'max':>8}{'this tree median':>18}{'max':>8}{'ratio':>8}")
        for kind in ("cold", "warm", "warm, uncached"):
            old, new = results["baseline"][kind], results["this tree"][kind]
            ratio = statistics.median(new) / statistics.median(old)
            print(
                f"{kind:18}{1000 * statistics.median(old):>14.0f}ms{1000 * max(old):>6.0f}ms"
                f"{1000 * statistics.median(new):>16.0f}ms{1000 * max(new):>6.0f}ms{ratio:>8.2f}"
            )


if __name__ == "__main__":
    main()
