"""How `kg serve` holds up against what broke it (issue 17): crash-shaped queries, idle and half-sent
connections, a 10 MB request line, a burst of timeouts with a worker killed under load, a writer changing
the store under readers, characters XML cannot carry, and the logs updates leave.

    .venv/bin/python bench/serve_robustness.py [--store DIR] [--clients 16] [--timeout 1]

Without --store it builds seeds/ into a temporary folder first (about ten seconds). Every server runs
on a free loopback port over a copy of the store and is stopped at the end; every load loop is bounded
in count and in time (the whole run takes about two minutes). Prints one line per figure.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection, HTTPException
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from serving import (  # noqa: E402
    Server,
    ask,
    ask_until,
    copy_store,
    counts_while_a_writer_adds,
    crash_shapes,
    http,
    query,
    running_server,
)

TOKEN = "bench-token"
CHEAP = "SELECT (COUNT(*) AS ?n) WHERE { ?p a kg:Person }"
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
MEDIUM = "SELECT (COUNT(*) AS ?n) WHERE { ?m nif:anchorOf ?x . ?n nif:anchorOf ?y FILTER(STRLEN(?x) = STRLEN(?y)) }"


def crash_figures(server: Server) -> None:
    before = server.workers()
    statuses: dict[int, int] = {}
    started = time.monotonic()
    for text in crash_shapes().values():
        reply = http(
            server.sparql, method="POST", data=text.encode(), headers={"Content-Type": "application/sparql-query"}
        )
        statuses[reply.status] = statuses.get(reply.status, 0) + 1
    took = time.monotonic() - started
    died = len(before - server.workers())
    print(f"crash shapes: {len(crash_shapes())} queries -> {statuses} in {took:.2f} s; workers died: {died}")


def hostile_connections(server: Server, count: int) -> list[socket.socket]:
    host, port = server.address
    socks = []
    for n in range(count):
        sock = socket.create_connection((host, port), timeout=5)
        if n % 3 == 1:
            sock.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
        elif n % 3 == 2:
            sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n")
            sock.sendall(b"Content-Length: 1000\r\n\r\nSELECT")
        socks.append(sock)
    return socks


def slow_connection_figures(server: Server) -> None:
    host, port = server.address
    for count in (6, 16, 32):
        socks = hostile_connections(server, count)
        time.sleep(0.3)
        took, failed = [], 0
        deadline = time.monotonic() + 60
        try:
            for _ in range(100):
                if time.monotonic() > deadline:
                    break
                started = time.monotonic()
                connection = HTTPConnection(host, port, timeout=10)
                try:
                    failed += ask(connection, CHEAP) != 200
                except (OSError, HTTPException):
                    failed += 1
                finally:
                    connection.close()
                took.append(time.monotonic() - started)
        finally:
            for sock in socks:
                sock.close()
        p99 = statistics.quantiles(took, n=100)[98]
        print(
            f"{count} idle/half-sent connections open: {len(took)} cheap queries, p50 {statistics.median(took) * 1000:.1f} ms, "
            f"p99 {p99 * 1000:.1f} ms, max {max(took) * 1000:.1f} ms, failed {failed}"
        )


def limit_figures(server: Server) -> None:
    host, port = server.address
    line = b"GET /sparql?query=" + b"x" * 10_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, port), timeout=30) as sock:
        started = time.monotonic()

        def send() -> None:
            with contextlib.suppress(OSError):
                sock.sendall(line)

        threading.Thread(target=send, daemon=True).start()
        try:
            answer = sock.recv(100)
        except OSError as exc:
            answer = repr(exc).encode()
        took = time.monotonic() - started
    status_line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
    print(f"10 MB GET: {status_line} after {took * 1000:.0f} ms")
    reply = http(server.sparql, params={"query": CHEAP}, headers={f"X-Pad-{i}": "y" * 1000 for i in range(80)})
    print(f"80 kB of headers: {reply.status}")


def overload_figures(store: Path, clients: int, timeout: float) -> None:
    with running_server(store, "--query-workers", "2", "--timeout", str(timeout)) as server:
        host, port = server.address
        done: list[float] = []
        refused: list[float] = []
        stop = threading.Event()
        workers: set[int] = set()

        def client() -> None:
            ask_until(
                stop, (host, port), MEDIUM, lambda status: (done if status == 200 else refused).append(time.monotonic()), 30
            )

        def watch() -> None:
            while not stop.is_set():
                workers.update(server.workers())
                time.sleep(0.2)

        def rate(series: list[float], start: float, end: float) -> float:
            return sum(1 for t in list(series) if start <= t < end) / (end - start)

        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        threads.append(threading.Thread(target=watch, daemon=True))
        for thread in threads:
            thread.start()
        try:
            time.sleep(1.0)
            start = time.monotonic()
            time.sleep(3.0)
            before = rate(done, start, time.monotonic())
            fault = time.monotonic()
            burst = [threading.Thread(target=query, args=(server, EXPENSIVE), daemon=True) for _ in range(4)]
            for thread in burst:
                thread.start()
            time.sleep(0.2)
            os.kill(sorted(server.workers())[0], signal.SIGKILL)
            for thread in burst:
                thread.join(timeout=30)
            over = time.monotonic()
            seconds, recovered = [], None
            while time.monotonic() - over < 30:
                time.sleep(1.0)
                now = time.monotonic()
                seconds.append(rate(done, now - 1, now))
                if recovered is None and seconds[-1] >= 0.8 * before:
                    recovered = now - over
                if recovered is not None and now - over >= recovered + 4:
                    break
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        total = sum(1 for t in done if fault <= t) + sum(1 for t in refused if fault <= t)
        shed = sum(1 for t in refused if fault <= t) / max(1, total)
        after = ", ".join(f"{r:.1f}" for r in seconds)
        shown = f"{recovered:.0f} s" if recovered is not None else "not within 30 s"
        print(
            f"overload ({clients} clients, --timeout {timeout:g}, 4 timeouts + 1 worker killed): {before:.1f} queries/s before; "
            f"back to 80% {shown} after the burst ended ({over - fault:.1f} s); per second after it: {after}; "
            f"503 from the fault on: {shed:.0%}; worker processes seen (polled every 0.2 s): {len(workers)}, of which 2 + 5 for the faults"
        )


def monotonic_figures(store: Path) -> None:
    with running_server(store, "--query-workers", "2") as server:
        seen = counts_while_a_writer_adds(server, store, batches=40, timeout=30)
    answers = sum(len(c) for c in seen.values())
    backwards = sum(1 for c in seen.values() for a, b in itertools.pairwise(c) if b < a)
    versions = len({n for c in seen.values() for n in c})
    print(f"writer under 4 readers: {answers} answers, {versions} versions seen, {backwards} times a count went back")


def update_figures(store: Path) -> None:
    with running_server(store, "--update-token", TOKEN) as server:
        for n in range(20):
            done = http(
                server.sparql,
                method="POST",
                data=f"INSERT DATA {{ GRAPH <urn:logs> {{ <urn:s> <urn:p> {n} }} }}".encode(),
                headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
            )
            assert done.status == 204, done.text
        old = [p for p in store.iterdir() if p.name.startswith("LOG.old")]
        print(
            f"20 updates: {len(old)} LOG.old files beside the store ({sum(p.stat().st_size for p in old) // 1024} kB)"
        )
        http(
            server.sparql,
            method="POST",
            data=rb'INSERT DATA { GRAPH <urn:nul> { <urn:nul:s> <urn:nul:p> "a\u0000b" } }',
            headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
        )
        text = "SELECT ?o WHERE { GRAPH <urn:nul> { ?s ?p ?o } }"
        as_xml = query(server, text, accept="application/sparql-results+xml")
        as_json = query(server, text)
        print(f"a literal holding U+0000: XML results {as_xml.status}, JSON results {as_json.status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, help="a built store (default: build seeds/ into a temporary folder)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=1.0, help="the server's --timeout in the overload run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kg-robust-") as tmp:
        work = Path(tmp)
        template = args.store
        if template is None:
            template = work / "seeds-store"
            subprocess.run(
                [sys.executable, "-m", "kg", "build", str(ROOT / "seeds"), "--store", str(template), "-q"],
                check=True,
                cwd=ROOT,
            )
        with running_server(copy_store(template, work / "main"), "--query-workers", "2", "--timeout", "5") as server:
            crash_figures(server)
            slow_connection_figures(server)
            limit_figures(server)
        overload_figures(copy_store(template, work / "overload"), args.clients, args.timeout)
        monotonic_figures(copy_store(template, work / "writer"))
        update_figures(copy_store(template, work / "updates"))


if __name__ == "__main__":
    main()
