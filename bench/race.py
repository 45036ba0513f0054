"""A race: `kg serve` against the same pyoxigraph in memory behind the thinnest HTTP server, 4 clients each.

The question of issue 20: what does everything `kg serve` puts around Oxigraph (the HTTP server, the protocol
handler, what makes the timeout real, the row cap) cost in throughput and memory? `kg` is `kg serve` as it comes
(one serving process whose threads share one copy), `kg-workers` is `kg serve --worker-processes` (gunicorn in front
of worker processes with a copy each): `--servers kg,kg-workers,ref` races all three, turn by turn. The reference is
Oxigraph alone, as a server: one process (started by this script, in the same process tree) that copies the store
into memory and answers GET /sparql?query=... from threads of the standard library's HTTP/1.1 server
(`http.server.ThreadingHTTPServer`, keep-alive), serialising with Oxigraph as `kg serve` does: no timeout, no
limits, no checks.

Query kinds (every answer checked against the answer computed in process before the race; a wrong or failed
answer is counted, never timed):

- lookup: an entity's label, its mentions (LIMIT 10), an article's headline and date, an ASK (random IRIs);
- aggregate: the GROUP BY analyses an analyst runs (entities by type, most mentioned people, articles per day);
- join: the co-mentions of one entity (its articles, every other entity mentioned in them, counted);
- construct: one entity's neighbourhood as Turtle (its triples and its mentions' triples).

For each kind, the servers take turns in pairs (kg then reference, reference then kg, ... `--rounds` pairs),
`--seconds` per turn, with `--clients` client processes on keep-alive connections asking as fast as they are
answered. The figures are throughput (answers/s), the median of the turns, and kg / reference twice: the
ratio of each pair of turns and their median (the headline: the two turns of a pair are seconds apart, so a
burst of other work on a shared machine moves one pair, where it moves one server's median), then the ratio of
the two medians. Many short pairs (`--rounds 6 --seconds 4`) follow the machine's load more finely than a few
long ones. Memory: the proportional set size (PSS:
pages shared between processes counted once, split between them) of each server's whole process tree, summed,
after the race; RSS too.

    python bench/race.py --triples 1000000 --workdir /tmp/kg-race        # about 7 minutes, and the build once
    python bench/race.py --workdir /tmp/kg-race --kinds lookup,aggregate --rounds 0 --latency 2000   # latency only
    python bench/race.py --triples 5000000 --workdir /tmp/kg-race5m --kinds join   # kg from disk (> --memory-quads)

On a shared machine, read only the ratios: both servers run in the same minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from endpoint import LOOKUPS, log, make_store, seed_quads  # noqa: E402

from kg.namespaces import PREFIXES, Iris  # noqa: E402
from kg.serve import memory_budget, worker_count  # noqa: E402
from kg.settings import Settings  # noqa: E402

KG = "https://w3id.org/newskg/ontology#"
AGGREGATES = {
    "entities-by-type": "SELECT ?type (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e a ?type } GROUP BY ?type ORDER BY ?type",
    "most-mentioned-people": (ROOT / "queries" / "most-mentioned-people.rq").read_text(encoding="utf-8"),
    "articles-per-day": """SELECT ?day (COUNT(?a) AS ?articles) WHERE {
  ?a a kg:Article ; schema:datePublished ?date . BIND (SUBSTR(STR(?date), 1, 10) AS ?day)
} GROUP BY ?day ORDER BY ?day""",
}
JOIN = """SELECT ?other (COUNT(DISTINCT ?article) AS ?n) WHERE {{
  <{entity}> gaf:denotedBy/nif:referenceContext ?article .
  ?other gaf:denotedBy/nif:referenceContext ?article .
  FILTER (?other != <{entity}>)
}} GROUP BY ?other ORDER BY DESC(?n) ?other LIMIT 20"""
CONSTRUCT = """CONSTRUCT {{ <{entity}> ?p ?o . ?m ?mp ?mo }} WHERE {{
  {{ <{entity}> ?p ?o }} UNION {{ <{entity}> gaf:denotedBy ?m . ?m ?mp ?mo }}
}}"""
KINDS = ("lookup", "aggregate", "join", "construct")
ACCEPT = {"construct": "text/turtle"}


# -- the reference server ------------------------------------------------------------------------------------


def reference_main(store_path: str, port_file: str) -> None:
    """Oxigraph in memory behind the standard library's threaded HTTP/1.1 server (a child of the benchmark)."""
    disk = ox.Store.read_only(store_path)
    store = ox.Store()
    store.bulk_load(disk.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
    del disk
    base = Iris().base

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            text = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["query"][0]
            result = store.query(text, use_default_graph_as_union=True, prefixes=PREFIXES, base_iri=base)
            if isinstance(result, ox.QueryTriples):
                body, ctype = ox.serialize(result, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES), "text/turtle"
            else:
                body = result.serialize(format=ox.QueryResultsFormat.JSON)
                ctype = "application/sparql-results+json"
            # one write, no Nagle: a head and a body sent apart wait 40 ms for the client's delayed ACK
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
            self.wfile.write(head.encode() + body)

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


def start_reference(store: Path, work: Path) -> tuple[subprocess.Popen, str]:
    port_file = work / "reference.port"
    port_file.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, __file__, "--_reference", str(store), str(port_file)], cwd=ROOT)
    while not port_file.is_file() or not port_file.read_text():
        if process.poll() is not None:
            raise SystemExit("the reference server stopped")
        time.sleep(0.2)
    return process, f"http://127.0.0.1:{port_file.read_text()}/"


def start_kg(store: Path, extra: list[str]) -> tuple[subprocess.Popen, str]:
    args = [sys.executable, "-m", "kg", "serve", "--store", str(store), "--port", "0", "--timeout", "600", *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        if "is serving" in line:
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
            return process, line.split(" at ", 1)[1].split(" ", 1)[0]
    raise SystemExit("kg serve did not start")


def wait_for_memory(url: str, workers: int, timeout: float = 600) -> bool:
    """Until every worker of kg serve answers from its copy in memory (two rounds in a row)."""
    busy = "/sparql?query=" + urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    parts = urllib.parse.urlsplit(url)
    connections = [http.client.HTTPConnection(parts.hostname, parts.port, timeout=600) for _ in range(workers)]
    deadline, in_a_row = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        for connection in connections:
            connection.request("GET", busy)
        views = []
        for connection in connections:
            response = connection.getresponse()
            response.read()
            views.append(response.getheader("X-Newskg-Store"))
        in_a_row = in_a_row + 1 if all(v == "memory" for v in views) else 0
        if in_a_row == 2:
            return True
        time.sleep(1)
    return False


# -- memory ------------------------------------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
    return found


def memory_of(pid: int) -> dict[str, float]:
    """PSS and RSS of a process and all its descendants, in MB."""
    pss = rss = 0
    processes = tree(pid)
    for each in processes:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Rss:"):
                    rss += int(line.split()[1])
    return {"pss_mb": pss / 1024, "rss_mb": rss / 1024, "processes": len(processes)}


# -- answers -------------------------------------------------------------------------------------------------


def canonical(body: bytes, kind: str) -> object:
    """An answer in a form that compares equal whatever the server's row order or prefixes."""
    if kind == "construct":
        triples = [q.triple for q in ox.parse(body, format=ox.RdfFormat.TURTLE)]
        return sorted(str(t) for t in triples)
    result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    names = [v.value for v in result.variables]
    return sorted(tuple(str(row[n]) if row[n] is not None else "" for n in names) for row in result)


def expected_answers(store: ox.Store, texts: list[str], kind: str) -> dict[str, object]:
    out = {}
    for text in texts:
        result = store.query(text, use_default_graph_as_union=True, prefixes=PREFIXES, base_iri=Iris().base)
        if isinstance(result, ox.QueryTriples):
            body = ox.serialize(result, format=ox.RdfFormat.TURTLE)
        else:
            body = result.serialize(format=ox.QueryResultsFormat.JSON)
        out[text] = canonical(body, kind)
    return out


def client_main(
    url: str, kind: str, texts: list[str], expected: dict[str, object], seconds: float, start_at: float, queue: object
) -> None:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    accept = ACCEPT.get(kind, "application/sparql-results+json")
    known: dict[str, set[str]] = {}
    done = errors = wrong = 0
    latencies = []

    def ask(text: str) -> tuple[int, bytes]:
        nonlocal connection
        target = "/sparql?query=" + urllib.parse.quote(text)
        try:
            connection.request("GET", target, headers={"Accept": accept})
            response = connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            connection.close()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
            connection.request("GET", target, headers={"Accept": accept})
            response = connection.getresponse()
        return response.status, response.read()

    ask(texts[0])
    while time.time() < start_at:
        time.sleep(0.001)
    stop, i = start_at + seconds, 0
    while time.time() < stop:
        text = texts[i % len(texts)]
        i += 1
        started = time.perf_counter()
        try:
            status, body = ask(text)
        except (OSError, http.client.HTTPException):
            errors += 1
            continue
        if time.time() > stop:
            break  # finished after the whistle: not counted
        latencies.append(time.perf_counter() - started)
        if status != 200:
            errors += 1
            continue
        digest = hashlib.sha1(body).hexdigest()
        seen = known.setdefault(text, set())
        if digest not in seen:
            if canonical(body, kind) != expected[text]:
                wrong += 1
                continue
            seen.add(digest)
        done += 1
    queue.put((done, errors, wrong, latencies))  # type: ignore[attr-defined]


def turn(url: str, kind: str, texts: list[str], expected: dict, clients: int, seconds: float) -> dict:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    start_at = time.time() + 1.5
    shares = [texts[i::clients] or texts for i in range(clients)]
    processes = [
        multiprocessing.Process(target=client_main, args=(url, kind, shares[i], expected, seconds, start_at, queue))
        for i in range(clients)
    ]
    for p in processes:
        p.start()
    results = [queue.get(timeout=seconds + 600) for _ in processes]
    for p in processes:
        p.join(timeout=10)
    latencies = sorted(x for *_, lat in results for x in lat)
    return {
        "answers": sum(r[0] for r in results),
        "errors": sum(r[1] for r in results),
        "wrong": sum(r[2] for r in results),
        "qps": sum(r[0] for r in results) / seconds,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
    }


def alternating_latency(urls: dict[str, str], kind: str, texts: list[str], expected: dict, count: int) -> dict:
    """One client, one keep-alive connection per server, request by request in turn (A B A B ...): the latency
    of each server on the same machine in the same milliseconds, which a shared machine's noise cannot favour."""
    accept = ACCEPT.get(kind, "application/sparql-results+json")
    connections = {}
    for name, url in urls.items():
        parts = urllib.parse.urlsplit(url)
        connections[name] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    times: dict[str, list[float]] = {name: [] for name in urls}
    wrong = 0
    for i in range(count):
        text = texts[i % len(texts)]
        target = "/sparql?query=" + urllib.parse.quote(text)
        order = list(urls) if i % 2 == 0 else list(urls)[::-1]
        for name in order:
            started = time.perf_counter()
            connections[name].request("GET", target, headers={"Accept": accept})
            response = connections[name].getresponse()
            body = response.read()
            times[name].append(time.perf_counter() - started)
            if i < len(texts) and canonical(body, kind) != expected[text]:
                wrong += 1
        time.sleep(0.0005)  # a client that does something with the answer before it asks again
    return {
        name: {
            "p50_ms": 1000 * statistics.median(values),
            "p90_ms": 1000 * sorted(values)[int(0.9 * len(values))],
            "wrong": wrong,
        }
        for name, values in times.items()
    }


# -- the race ----------------------------------------------------------------------------------------------


def workload(store: ox.Store, kinds: list[str], seed: int = 11) -> dict[str, list[str]]:
    rng = random.Random(seed)
    union = {"use_default_graph_as_union": True}
    entities = [
        r["e"].value
        for r in store.query(
            f"SELECT DISTINCT ?e WHERE {{ ?e a ?t FILTER(?t IN (<{KG}Person>, <{KG}Organization>, <{KG}Place>)) }}",
            **union,
        )
    ]
    articles = [r["a"].value for r in store.query(f"SELECT ?a WHERE {{ ?a a <{KG}Article> }}", **union)]
    texts: dict[str, list[str]] = {}
    for kind in kinds:
        if kind == "lookup":
            texts[kind] = [
                t.format(entity=rng.choice(entities), article=rng.choice(articles))
                for _ in range(100)
                for t in LOOKUPS.values()
            ]
        elif kind == "aggregate":
            texts[kind] = list(AGGREGATES.values())
        elif kind == "join":
            texts[kind] = [JOIN.format(entity=rng.choice(entities)) for _ in range(60)]
        elif kind == "construct":
            texts[kind] = [CONSTRUCT.format(entity=rng.choice(entities)) for _ in range(100)]
        rng.shuffle(texts[kind])
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--triples", type=int, default=1_000_000, help="at least this many quads (default 1M)")
    parser.add_argument("--variants", type=int, default=50, help="entity variants the copies share (default 50)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"query kinds to race (default {','.join(KINDS)})")
    parser.add_argument(
        "--servers", default="kg,ref", help="kg, kg-workers (--worker-processes), ref, in turn order (default kg,ref)"
    )
    parser.add_argument("--rounds", type=int, default=6, help="pairs of turns per kind (default 6)")
    parser.add_argument("--seconds", type=float, default=4, help="length of a turn (default 4 s)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    parser.add_argument(
        "--latency", type=int, default=0, help="also time this many requests of each kind, one client, A B A B"
    )
    parser.add_argument("--kg-args", default="", help="more arguments for kg serve (e.g. '--query-workers 3')")
    parser.add_argument("--workdir", type=Path, help="the store is built here once and reused (required)")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--_reference", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._reference:
        reference_main(*args._reference)
        return

    if args.workdir is None:
        parser.error("--workdir is required")
    kinds = [k for k in args.kinds.split(",") if k]
    servers = [s for s in args.servers.split(",") if s]
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    store_path = work / f"store-{args.triples}"
    if not (store_path / "CURRENT").is_file():
        log("building the seeds with kg build")
        seeds = seed_quads(work)
        log(f"replicating {len(seeds):,} seed quads to {args.triples:,}")
        make_store(store_path, seeds, args.triples, args.variants, Iris())
    disk = ox.Store.read_only(str(store_path))
    size = len(disk)
    log(f"store: {size:,} quads at {store_path}; the expected answers, in process")
    memory = ox.Store()
    memory.bulk_load(disk.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
    del disk
    texts = workload(memory, kinds)
    expected = {kind: expected_answers(memory, texts[kind], kind) for kind in kinds}
    del memory
    load_before = os.getloadavg()[0]

    running: dict[str, tuple[subprocess.Popen, str]] = {}
    try:
        for name in servers:
            log(f"starting {name}")
            if name == "ref":
                running[name] = start_reference(store_path, work)
            else:
                workers = ["--worker-processes"] if name == "kg-workers" else []
                running[name] = start_kg(store_path, extra=args.kg_args.split() + workers)
        extra = args.kg_args.split()
        given = int(extra[extra.index("--memory-quads") + 1]) if "--memory-quads" in extra else None
        for name, (_, url) in running.items():
            if name != "ref":
                settings = Settings(memory_quads=given)
                memory_quads = memory_budget(settings, worker_count(settings) if name == "kg-workers" else 1)
                # past --memory-quads the workers answer from disk: nothing to wait for
                in_memory = size <= memory_quads and wait_for_memory(url, 4)
                log(
                    f"{name}: its workers answer from {'memory' if in_memory else 'disk (the store is too big to copy)'}"
                )
            else:
                turn(url, kinds[0], texts[kinds[0]][:4], expected[kinds[0]], 1, 0.5)
        results: dict[str, dict[str, list[dict]]] = {kind: {name: [] for name in servers} for kind in kinds}
        for kind in kinds:
            for round_ in range(args.rounds):
                order = servers if round_ % 2 == 0 else servers[::-1]  # A B, B A: a drift favours no one
                for name in order:
                    outcome = turn(running[name][1], kind, texts[kind], expected[kind], args.clients, args.seconds)
                    results[kind][name].append(outcome)
                    log(
                        f"{kind:<10} {name:<12} {outcome['qps']:8.1f}/s  p50 {outcome['p50_ms'] or 0:7.2f} ms"
                        f"  errors {outcome['errors']}  wrong {outcome['wrong']}"
                    )
        memory_use = {name: memory_of(process.pid) for name, (process, _) in running.items()}
        latency = {}
        if args.latency:
            urls = {name: url for name, (_, url) in running.items()}
            for kind in kinds:
                latency[kind] = alternating_latency(urls, kind, texts[kind], expected[kind], args.latency)
                log(
                    f"{kind}: one client, request by request: "
                    + ", ".join(
                        f"{n} p50 {v['p50_ms']:.3f} ms p90 {v['p90_ms']:.3f} ms" for n, v in latency[kind].items()
                    )
                )
    finally:
        for process, _ in running.values():
            process.send_signal(signal.SIGTERM)
        for process, _ in running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    load_after = os.getloadavg()[0]

    reference = "ref" if "ref" in servers else servers[-1]
    print(
        f"\nrace: {size:,} quads, {args.clients} clients, {args.rounds} turns of {args.seconds:g} s per server and kind"
    )
    print(f"load average {load_before:.2f} before, {load_after:.2f} after\n")
    header = "| kind | " + " | ".join(f"{s} answers/s" for s in servers) + " | "
    header += " | ".join(
        f"{s} / {reference}: pairs, median of pairs, ratio of medians" for s in servers if s != reference
    )
    header += " | errors | wrong |"
    print(header)
    print("|---" * (2 * len(servers) + 2) + "|")
    figures: dict[str, object] = {"quads": size, "clients": args.clients, "kinds": {}, "memory": memory_use}
    for kind in kinds if args.rounds else []:
        medians = {name: statistics.median(r["qps"] for r in results[kind][name]) for name in servers}
        ratios = {
            name: [a["qps"] / b["qps"] for a, b in zip(results[kind][name], results[kind][reference], strict=True)]
            for name in servers
            if name != reference
        }
        errors = sum(r["errors"] for name in servers for r in results[kind][name])
        wrong = sum(r["wrong"] for name in servers for r in results[kind][name])
        cells = [f"{medians[n]:,.1f}" for n in servers]
        cells += [
            f"{', '.join(f'{x:.2f}' for x in ratios[n])}; **{statistics.median(ratios[n]):.2f}**; "
            f"{medians[n] / medians[reference]:.2f}"
            for n in ratios
        ]
        print(f"| {kind} | " + " | ".join(cells) + f" | {errors} | {wrong} |")
        figures["kinds"][kind] = {  # type: ignore[index]
            "medians": medians,
            "turn_ratios": ratios,
            "median_of_pairs": {n: statistics.median(r) for n, r in ratios.items()},
            "errors": errors,
            "wrong": wrong,
        }
    print()
    for name, use in memory_use.items():
        print(f"memory {name}: PSS {use['pss_mb']:,.0f} MB, RSS {use['rss_mb']:,.0f} MB ({use['processes']} processes)")
    if reference in memory_use:
        for name in servers:
            if name != reference:
                pss = memory_use[name]["pss_mb"] / memory_use[reference]["pss_mb"]
                rss = memory_use[name]["rss_mb"] / memory_use[reference]["rss_mb"]
                print(f"memory {name} / {reference}: PSS {pss:.2f}, RSS {rss:.2f}")
    for kind, by_server in latency.items():
        cells = ", ".join(f"{n}: p50 {v['p50_ms']:.3f} ms, p90 {v['p90_ms']:.3f} ms" for n, v in by_server.items())
        print(f"latency, one client, request by request, {kind}: {cells}")
    figures["latency"] = latency
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"results": results, **figures}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
