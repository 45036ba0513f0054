"""Endpoint benchmark: `kg serve` over HTTP against in-process pyoxigraph and rdflib, on the same data.

The data: the seed corpus built by `kg build` (real extraction output), replicated with small changes until the
store holds at least ``--triples`` quads (1M by default). Copy k of an article gets its own IRIs and named graph;
its entities are shared with the other copies of the same "variant" (k mod ``--variants``), whose labels say which,
so entities span many articles as they do in a real corpus.

The workload, in one run:

- analytic queries (GROUP BY): the canned analyst queries in queries/ plus articles per day. Each runs
  ``--repeat`` times over HTTP (one client) and in-process (``Store.query(...).serialize(JSON)``, the same bytes the
  endpoint sends); the figure is the ratio of medians, HTTP / in-process. Target: <= 1.2.
- small lookups (an entity's label, its mentions, an article's headline and date, an ASK), with random IRIs: for
  ``--seconds`` with ``--clients`` concurrent clients (separate processes with keep-alive connections), queries/s
  and p50/p99 latency. Targets: >= 1,000 queries/s with 4 clients and p99 < 20 ms. The same lookups in-process on
  one thread are shown for reference.
- rdflib's in-memory engine on the same quads (a Dataset with the default graph as the union), in a subprocess:
  every analytic query between rounds of it over HTTP, so that both sides see the machine in the same minute; twice
  if it finishes (the faster counts), cut off after ``--rdflib-factor`` (25) times the HTTP rounds just before (then
  the ratio is a lower bound, shown with ">"); and ``--rdflib-lookups`` lookups. Target: pyoxigraph over HTTP >= 20x
  faster on the analytic queries.

Run by hand from the repository root (it is not part of the test suite)::

    python bench/endpoint.py                          # the acceptance run: 1M triples, about 10 minutes
    python bench/endpoint.py --triples 200000 --skip-rdflib --seconds 5   # a quick look
    python bench/endpoint.py --json bench/out/endpoint.json

Results depend on the machine and on what else runs on it (the load average is printed before and after).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg.namespaces import PREFIXES, Iris, sparql_prefixes  # noqa: E402
from kg.resources import query_files  # noqa: E402

ANALYTIC_TARGET = 1.2
LOOKUP_RATE_TARGET = 1000.0
LOOKUP_P99_TARGET_MS = 20.0
RDFLIB_TARGET = 20.0

ANALYTIC_EXTRA = {
    "articles-per-day": """SELECT ?day (COUNT(?a) AS ?articles) WHERE {
  ?a a kg:Article ; schema:datePublished ?date . BIND (SUBSTR(STR(?date), 1, 10) AS ?day)
} GROUP BY ?day ORDER BY ?day""",
}
LOOKUPS = {
    "label": "SELECT ?label WHERE {{ <{entity}> rdfs:label ?label }}",
    "mentions": "SELECT ?m ?article WHERE {{ <{entity}> gaf:denotedBy ?m . ?m nif:referenceContext ?article }} LIMIT 10",
    "headline": "SELECT ?title ?date WHERE {{ <{article}> rdfs:label ?title OPTIONAL {{ <{article}> schema:datePublished ?date }} }}",
    "is-person": "ASK {{ <{entity}> a kg:Person }}",
}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- the data --------------------------------------------------------------------------------------------


def seed_quads(work: Path) -> list[ox.Quad]:
    """The seed corpus through the real build (spaCy, resolution, RDF) into a store, then read back."""
    store = work / "seed-store"
    result = subprocess.run(
        [sys.executable, "-m", "kg", "build", str(ROOT / "seeds"), "--store", str(store), "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"kg build of the seeds failed:\n{result.stderr}")
    seed = ox.Store.read_only(str(store))
    quads = list(seed)
    del seed
    return quads


def replicate(quads: list[ox.Quad], copy: int, variants: int, iris: Iris) -> list[ox.Quad]:
    """Copy number `copy` of the seed graphs, with its own IRIs; its entities are those of its variant."""
    base = re.escape(iris.base)
    article = re.compile(rf"^({base}(?:graph/)?article/[0-9a-f]{{64}})")
    entity = re.compile(rf"^({base}(?:person|organization|place|event)/[^#]+)$")
    names = {PREFIXES["rdfs"] + "label", PREFIXES["skos"] + "altLabel"}
    variant = copy % variants
    cache: dict[object, object] = {}

    def term(t: object) -> object:
        got = cache.get(t)
        if got is None:
            got = t
            if isinstance(t, ox.NamedNode):
                value = entity.sub(rf"\1-v{variant}", article.sub(rf"\1-c{copy}", t.value))
                got = ox.NamedNode(value) if value != t.value else t
            cache[t] = got
        return got

    out = []
    for q in quads:
        obj = term(q.object)
        if q.predicate.value in names and isinstance(q.object, ox.Literal) and entity.match(q.subject.value):
            obj = ox.Literal(f"{q.object.value} ({variant})")
        graph = q.graph_name if isinstance(q.graph_name, ox.DefaultGraph) else term(q.graph_name)
        out.append(ox.Quad(term(q.subject), q.predicate, obj, graph))
    return out


def make_store(path: Path, seeds: list[ox.Quad], triples: int, variants: int, iris: Iris) -> list[ox.Quad]:
    """A store of at least `triples` quads, copy after copy; returns every quad written (for rdflib)."""
    store = ox.Store(str(path))
    written: list[ox.Quad] = []
    copy = 0
    while len(store) < triples:
        batch = [q for k in range(copy, copy + 20) for q in replicate(seeds, k, variants, iris)]
        store.bulk_extend(batch)
        written.extend(batch)
        copy += 20
    store.optimize()
    store.flush()
    del store
    return written


# -- in-process pyoxigraph ---------------------------------------------------------------------------------


def in_memory(store: ox.Store) -> ox.Store:
    """The same data in an in-memory Oxigraph store (what the server's workers answer from)."""
    copy = ox.Store()
    copy.bulk_load(store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
    return copy


def run_in_process(store: ox.Store, text: str) -> bytes:
    result = store.query(text, use_default_graph_as_union=True, prefixes=PREFIXES, base_iri=Iris().base)
    if isinstance(result, ox.QueryBoolean | ox.QuerySolutions):
        return result.serialize(format=ox.QueryResultsFormat.JSON)
    return ox.serialize(result, format=ox.RdfFormat.TURTLE)


def time_pairs(
    runs: dict[str, object], queries: dict[str, str], repeat: int, once: tuple[str, ...] = ()
) -> dict[str, dict[str, list[float]]]:
    """Each query by each runner, taking turns (A, B, A, B...), so all see the same machine.

    At least `repeat` rounds; quick queries get more (up to about 2 s of rounds, at most 50), since the noise of a
    shared machine is larger than they are. Runners named in `once` run in the first round only (a reference figure
    that would cost minutes to repeat).
    """
    times: dict[str, dict[str, list[float]]] = {who: {} for who in runs}
    for name, text in queries.items():
        started = time.perf_counter()
        for who, run in runs.items():
            if who not in once:
                run(text)  # warm caches
        one_round = time.perf_counter() - started
        rounds = max(repeat, min(50, int(2.0 / max(one_round, 1e-6))))
        for who in runs:
            times[who][name] = []
        for n in range(rounds):
            for who, run in runs.items():
                if who in once and n:
                    continue
                started = time.perf_counter()
                run(text)
                times[who][name].append(time.perf_counter() - started)
    return times


# -- HTTP ----------------------------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP connection to the endpoint, asking for JSON."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def query(self, text: str) -> bytes:
        target = "/sparql?query=" + urllib.parse.quote(text)
        headers = {"Accept": "application/sparql-results+json"}
        try:
            self.connection.request("GET", target, headers=headers)
            response = self.connection.getresponse()
        except http.client.RemoteDisconnected:  # the server closed an idle keep-alive connection: ask again
            self.connection.close()
            self.connection.request("GET", target, headers=headers)
            response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status}: {body[:300]!r}")
        self.view = response.getheader("X-Newskg-Store")
        return body


def wait_for_memory(url: str, clients: int, timeout: float = 300) -> bool:
    """Until every worker answers from its copy in memory (they copy the store when they start).

    The pool hands a request the worker that finished last, so the question must keep each worker busy long
    enough for the others to be asked too (a count of every quad, not an ASK), and every answer of two rounds in
    a row must come from memory.
    """
    connections = [Client(url) for _ in range(clients)]
    busy = "/sparql?query=" + urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while time.monotonic() < deadline:
        views = []
        for client in connections:  # several at once, so that every worker answers one
            client.connection.request("GET", busy, headers={"Accept": "application/sparql-results+json"})
        for client in connections:
            response = client.connection.getresponse()
            response.read()
            views.append(response.getheader("X-Newskg-Store"))
        in_a_row = in_a_row + 1 if all(view == "memory" for view in views) else 0
        if in_a_row == 2:
            return True
        time.sleep(1)
    return False


def lookup_client(url: str, texts: list[str], seconds: float, start_at: float, queue: multiprocessing.Queue) -> None:
    client = Client(url)
    latencies = []
    errors = 0
    client.query(texts[0])
    while time.time() < start_at:
        time.sleep(0.001)
    stop = start_at + seconds
    i = 0
    while time.time() < stop:
        text = texts[i % len(texts)]
        i += 1
        started = time.perf_counter()
        try:
            client.query(text)
        except Exception:  # counted, not fatal: the run reports errors
            errors += 1
            client = Client(url)
            continue
        latencies.append(time.perf_counter() - started)
    queue.put((latencies, errors))


def lookup_load(url: str, texts: list[str], clients: int, seconds: float) -> dict:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    start_at = time.time() + 1.0
    processes = [
        multiprocessing.Process(target=lookup_client, args=(url, texts[i::clients] or texts, seconds, start_at, queue))
        for i in range(clients)
    ]
    for p in processes:
        p.start()
    results = [queue.get(timeout=seconds + 120) for _ in processes]
    for p in processes:
        p.join(timeout=10)
    latencies = [x for lat, _ in results for x in lat]
    return {
        "clients": clients,
        "queries": len(latencies),
        "errors": sum(e for _, e in results),
        "qps": len(latencies) / seconds,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


def start_server(store: Path, workers: int | None) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", "0", "--timeout", "600"]
    if workers:
        args += ["--query-workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if "is serving" in line:
            return process, line.split(" at ", 1)[1].split(" ", 1)[0]
    raise SystemExit("kg serve did not start")


# -- rdflib --------------------------------------------------------------------------------------------------


def rdflib_child(nquads: str) -> None:
    """In a subprocess: load the quads into rdflib, then run queries sent on stdin (one JSON line each, with its
    time cap) and answer each with a JSON line, so the caller can time the endpoint just before and after."""
    from rdflib import Dataset

    started = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(nquads, format="nquads")
    print("@@ready " + json.dumps({"load_s": time.perf_counter() - started, "quads": len(dataset)}), flush=True)

    class CutError(Exception):
        pass

    def alarm(signum: int, frame: object) -> None:
        raise CutError

    signal.signal(signal.SIGALRM, alarm)
    for line in sys.stdin:
        name, text, cap = json.loads(line)
        signal.setitimer(signal.ITIMER_REAL, cap)
        started = time.perf_counter()
        answer: dict[str, object] = {"name": name, "cap": cap}
        try:
            result = dataset.query(text)
            result.serialize(format="json")
            answer["time"] = time.perf_counter() - started
        except CutError:
            answer["time"] = None
        except Exception as exc:  # rdflib's engine fails on some valid queries: say so, go on with the rest
            answer["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if "error" in answer:
            shown = f"failed, {answer['error']}"
        else:
            shown = f"cut at {cap:.0f} s" if answer["time"] is None else f"{answer['time']:.3f} s"
        print(f"rdflib {name}: {shown}", file=sys.stderr, flush=True)
        print("@@result " + json.dumps(answer), flush=True)


class Rdflib:
    """rdflib's engine in a subprocess holding the quads, asked one query at a time."""

    def __init__(self, work: Path, quads: list[ox.Quad], timeout: float = 1800) -> None:
        nquads = work / "data.nq"
        with nquads.open("wb") as stream:
            ox.serialize(quads, stream, format=ox.RdfFormat.N_QUADS)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--_rdflib", str(nquads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = json.loads(self._next("@@ready ", timeout))

    def _next(self, mark: str, timeout: float) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise SystemExit(f"the rdflib subprocess stopped (exit code {self.process.wait()})")
            if line.startswith(mark):
                return line[len(mark) :]
        raise SystemExit("the rdflib subprocess did not answer in time")

    def run(self, name: str, text: str, cap: float) -> dict:
        """{"time": seconds or None if cut at `cap`} or {"error": ...}."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps([name, sparql_prefixes() + text, cap]) + "\n")
        self.process.stdin.flush()
        return json.loads(self._next("@@result ", cap + 120))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.process.stdin.close()  # type: ignore[union-attr]
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def http_rounds(client: Client, text: str, seconds: float = 1.0, least: int = 3, most: int = 25) -> list[float]:
    """Times of `text` over HTTP: at least `least` runs, more while they take under `seconds` (at most `most`)."""
    times: list[float] = []
    began = time.perf_counter()
    while len(times) < least or (len(times) < most and time.perf_counter() - began < seconds):
        started = time.perf_counter()
        client.query(text)
        times.append(time.perf_counter() - started)
    return times


def rdflib_against_http(
    rdflib: Rdflib,
    client: Client,
    queries: dict[str, str],
    lookups: dict[str, str],
    factor: float,
    longest: float,
) -> dict:
    """rdflib runs each analytic query (twice if it finishes), between rounds of the same query over HTTP (3 or more
    before and after), so that both are timed on the machine as it is in that minute: a shared machine's speed drifts by a
    third or more between the phases of one run.

    rdflib gets `factor` times the HTTP median just before (at least 5 s, at most `longest`): a query it has not
    finished by then is more than `factor` times slower than those rounds, which is all the target needs to know.
    A query it finishes runs twice in a row, the second time with its caches warm as the HTTP rounds' are; the
    faster run is compared with the median of the rounds before and after.
    """
    out: dict = {"load_s": rdflib.ready["load_s"], "times": {}, "caps": {}, "errors": {}, "http_near": {}}
    for name, text in queries.items():
        before = http_rounds(client, text)
        cap = min(longest, max(5.0, factor * statistics.median(before)))
        answer = rdflib.run(name, text, cap)
        if answer.get("time") is not None:  # finished: a second run, warm as the rounds over HTTP are; the faster
            again = rdflib.run(name, text, cap)
            if again.get("time") is not None:
                answer["time"] = min(answer["time"], again["time"])
        after = http_rounds(client, text)
        out["caps"][name] = cap
        if "error" in answer:
            out["errors"][name] = answer["error"]
            continue
        out["times"][name] = answer["time"]
        out["http_near"][name] = statistics.median(before if answer["time"] is None else before + after)
    for name, text in lookups.items():
        answer = rdflib.run(name, text, 10.0)
        out["caps"][name] = 10.0
        if "error" not in answer:
            out["times"][name] = answer["time"]
    return out


# -- the run -----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000, help="at least this many quads (default 1M)")
    parser.add_argument("--variants", type=int, default=50, help="entity variants the copies share (default 50)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each analytic query (default 5)")
    parser.add_argument("--seconds", type=float, default=15, help="length of the lookup load (default 15 s)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent lookup clients (default 4)")
    parser.add_argument("--workers", type=int, default=None, help="kg serve --query-workers (default: its own)")
    parser.add_argument(
        "--rdflib-factor",
        type=float,
        default=25,
        help="an rdflib query is cut after this many times the endpoint's time for it (default 25)",
    )
    parser.add_argument("--rdflib-max", type=float, default=150, help="and after at most this many seconds (150)")
    parser.add_argument("--rdflib-lookups", type=int, default=20, help="lookups timed in rdflib (default 20)")
    parser.add_argument("--skip-rdflib", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--workdir", type=Path, help="keep the store and data here (default: a temporary folder)")
    parser.add_argument("--_rdflib", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._rdflib:
        rdflib_child(args._rdflib)
        return

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="kg-bench-endpoint-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        iris = Iris()
        log("building the seeds with kg build")
        seeds = seed_quads(work)
        log(f"replicating {len(seeds):,} seed quads to {args.triples:,}")
        store_path = work / "store"
        quads = make_store(store_path, seeds, args.triples, args.variants, iris)
        store = ox.Store.read_only(str(store_path))
        size = len(store)
        log(f"store: {size:,} quads ({len(quads) // len(seeds)} copies of the seeds) at {store_path}")

        rng = random.Random(7)
        entities = [
            r["e"].value
            for r in store.query(
                "SELECT DISTINCT ?e WHERE { ?e a ?t FILTER(?t IN (<https://w3id.org/newskg/ontology#Person>, <https://w3id.org/newskg/ontology#Organization>, <https://w3id.org/newskg/ontology#Place>)) }",
                use_default_graph_as_union=True,
            )
        ]
        articles = [
            r["a"].value
            for r in store.query(
                "SELECT ?a WHERE { ?a a <https://w3id.org/newskg/ontology#Article> }", use_default_graph_as_union=True
            )
        ]
        lookups = [
            template.format(entity=rng.choice(entities), article=rng.choice(articles))
            for _ in range(500)
            for template in LOOKUPS.values()
        ]
        rng.shuffle(lookups)
        analytic = {
            p.stem: p.read_text(encoding="utf-8") for p in query_files() if "GROUP BY" in p.read_text(encoding="utf-8")
        }
        analytic.pop("entity-profile", None)  # one entity's profile: a lookup, not an analysis
        analytic.update(ANALYTIC_EXTRA)

        rows = {
            name: len(json.loads(run_in_process(store, text))["results"]["bindings"]) for name, text in analytic.items()
        }
        log("in-process pyoxigraph: lookups on one thread")
        started = time.perf_counter()
        inproc_lookups = []
        while time.perf_counter() - started < min(args.seconds, 5):
            t = time.perf_counter()
            run_in_process(store, lookups[len(inproc_lookups) % len(lookups)])
            inproc_lookups.append(time.perf_counter() - t)
        inproc_rate = len(inproc_lookups) / (time.perf_counter() - started)

        log("in-process pyoxigraph: copying the store into memory")
        memory = in_memory(store)
        log("starting kg serve, waiting for its workers' copies in memory")
        server, url = start_server(store_path, args.workers)
        try:
            client = Client(url)
            if not wait_for_memory(url, 4):
                log("the workers did not copy the store into memory: HTTP answers come from disk")
            log("analytic queries: in-process (disk, memory) and over HTTP (one client), taking turns")
            runs = {
                "disk": lambda text: run_in_process(store, text),
                "memory": lambda text: run_in_process(memory, text),
                "http": client.query,
            }
            timed = time_pairs(runs, analytic, args.repeat, once=("disk",))
            inproc, in_memory_times, over_http = timed["disk"], timed["memory"], timed["http"]
            store = memory = None  # the in-process stores are not needed any more
            log(f"HTTP: lookups, {args.clients} concurrent clients for {args.seconds:g} s")
            load = lookup_load(url, lookups, args.clients, args.seconds)
            rdflib: dict = {}
            if not args.skip_rdflib:
                lookup_texts = {f"lookup-{i}": lookups[i] for i in range(args.rdflib_lookups)}
                log(f"rdflib: loading {len(quads):,} quads in a subprocess (the server idles meanwhile)")
                engine = Rdflib(work, quads)
                try:
                    log(
                        f"rdflib: each query (twice if it finishes) between rounds of it over HTTP; cut at {args.rdflib_factor:g}x"
                    )
                    rdflib = rdflib_against_http(
                        engine, client, analytic, lookup_texts, args.rdflib_factor, args.rdflib_max
                    )
                finally:
                    engine.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    load_after = os.getloadavg()[0]
    report(
        args,
        size,
        analytic,
        rows,
        inproc,
        in_memory_times,
        over_http,
        inproc_rate,
        inproc_lookups,
        load,
        rdflib,
        (load_before, load_after),
    )


def report(
    args, size, analytic, rows, inproc, in_memory_times, over_http, inproc_rate, inproc_lookups, load, rdflib, loads
) -> None:
    lines = [
        f"endpoint benchmark: {size:,} quads; load average {loads[0]:.2f} before, {loads[1]:.2f} after; "
        f"{os.cpu_count()} cores",
        "",
        f"analytic queries (median of {args.repeat} or more rounds, taking turns; ms). in-process: pyoxigraph on the "
        "RocksDB store (disk: one run, for reference) and on a copy in memory, what the server's workers answer from. "
        "rdflib: the faster of two runs in a row (one, if cut), between rounds over HTTP ('HTTP then': the median of "
        "the rounds before and after, or before alone for a run cut at factor x those), which rdflib/HTTP divides by",
        f"{'query':<30}{'rows':>6}{'disk':>9}{'memory':>9}{'HTTP':>9}{'HTTP/memory':>13}{'HTTP/disk':>11}"
        f"{'rdflib':>10}{'HTTP then':>11}{'rdflib/HTTP':>13}",
    ]
    figures: dict[str, object] = {"quads": size, "analytic": {}, "lookups": {}, "load_average": loads}
    worst = 0.0
    weakest = float("inf")
    cut = False
    for name in analytic:
        d = statistics.median(inproc[name]) * 1000
        a = statistics.median(in_memory_times[name]) * 1000
        h = statistics.median(over_http[name]) * 1000
        ratio = h / a
        worst = max(worst, ratio)
        r_text, rr_text, then_text = "-", "-", "-"
        r = rdflib.get("times", {}).get(name, "absent") if rdflib else "absent"
        near = rdflib.get("http_near", {}) if rdflib else {}
        then = near[name] * 1000 if name in near else h
        if name in near:
            then_text = f"{then:.1f}"
        if rdflib and name in rdflib.get("errors", {}):
            r_text, rr_text = "failed", "-"
        elif r != "absent":
            if r is None:
                cut = True
                cap = rdflib["caps"][name]
                speedup = cap * 1000 / then
                r_text, rr_text = f">{cap:.0f}s", f">{speedup:,.0f}x"
            else:
                speedup = r * 1000 / then
                r_text, rr_text = f"{r * 1000:,.0f}", f"{speedup:,.0f}x"
            weakest = min(weakest, speedup)
        lines.append(
            f"{name:<30}{rows[name]:>6}{d:>9.1f}{a:>9.1f}{h:>9.1f}{ratio:>13.2f}{h / d:>11.2f}{r_text:>10}"
            f"{then_text:>11}{rr_text:>13}"
        )
        figures["analytic"][name] = {
            "rows": rows[name],
            "in_process_disk_ms": d,
            "in_process_memory_ms": a,
            "http_ms": h,
            "ratio": ratio,
            "rdflib_s": r,
            "http_then_ms": then if name in near else None,
        }  # type: ignore[index]
    inproc_p99 = percentile(inproc_lookups, 99) * 1000
    lines += [
        "",
        "small lookups",
        f"  HTTP, {load['clients']} concurrent clients: {load['qps']:,.0f} queries/s, p50 {load['p50_ms']:.2f} ms, "
        f"p99 {load['p99_ms']:.2f} ms, {load['errors']} errors ({load['queries']:,} queries)",
        f"  in-process pyoxigraph, one thread: {inproc_rate:,.0f} queries/s, p50 "
        f"{percentile(inproc_lookups, 50) * 1000:.2f} ms, p99 {inproc_p99:.2f} ms",
    ]
    if rdflib:
        lookup_times = [t for n, t in rdflib["times"].items() if n.startswith("lookup-") and t is not None]
        if lookup_times:
            lines.append(
                f"  rdflib in-memory, one at a time: median {statistics.median(lookup_times) * 1000:,.1f} ms "
                f"over {len(lookup_times)} lookups (loading the data took {rdflib['load_s']:.0f} s)"
            )
    figures["lookups"] = {**load, "in_process_qps": inproc_rate, "in_process_p99_ms": inproc_p99}
    lines += [
        "",
        "against the targets",
        f"  analytic over HTTP / in-process in memory (worst): {worst:.2f} (target <= {ANALYTIC_TARGET}) "
        f"{'ok' if worst <= ANALYTIC_TARGET else 'MISSED'}",
        f"  lookups/s with {load['clients']} clients: {load['qps']:,.0f} / {LOOKUP_RATE_TARGET:,.0f} = "
        f"{load['qps'] / LOOKUP_RATE_TARGET:.2f} {'ok' if load['qps'] >= LOOKUP_RATE_TARGET else 'MISSED'}",
        f"  lookup p99: {load['p99_ms']:.2f} ms (target < {LOOKUP_P99_TARGET_MS:g} ms) "
        f"{'ok' if load['p99_ms'] < LOOKUP_P99_TARGET_MS else 'MISSED'}",
    ]
    if rdflib and weakest != float("inf"):
        bound = " (a lower bound: some rdflib queries were cut)" if cut else ""
        failed = sorted(rdflib.get("errors", {}))
        if failed:
            bound += f"; rdflib failed on {', '.join(failed)} (not counted)"
        lines.append(
            f"  analytic speed-up over rdflib (weakest): {weakest:,.0f}x (target >= {RDFLIB_TARGET:g}x){bound} "
            f"{'ok' if weakest >= RDFLIB_TARGET else 'MISSED'}"
        )
    figures["targets"] = {
        "analytic_worst_ratio": worst,
        "lookup_qps": load["qps"],
        "lookup_p99_ms": load["p99_ms"],
        "rdflib_weakest_speedup": weakest if weakest != float("inf") else None,
    }
    print("\n".join(lines))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
