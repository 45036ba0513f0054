"""`kg serve` never loses an answer it could give and never hangs: what a hostile or unlucky client does
stays with that client.

Each test starts the real server on a free loopback port over a copy of the seed store and drives it
with plain sockets and http.client: queries shaped to crash the engine, connections that send nothing
or half a request, a request line of 10 MB, a burst of queries that time out while a worker is killed,
a writer changing the store under sixteen readers. All loops are bounded in count and in time. The
tests that start a server run against both ways of serving: one process whose threads share one copy of
the store (the default, `--threads-shared`, where "a worker" is that serving process, replaced by its
supervisor), and gunicorn in front of worker processes (`--worker-processes`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import statistics
import threading
import time
import xml.etree.ElementTree as ET
from http.client import HTTPConnection
from pathlib import Path

import pytest
from serving import (
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

from kg.serve.front import HEAD_TIMEOUT, MAX_HEADERS, MAX_REQUEST_LINE, Head, HeadError
from kg.serve.worker import KEEP_INFO_LOGS

TOKEN = "robust-token"
CHEAP = "SELECT (COUNT(*) AS ?n) WHERE { ?p a kg:Person }"
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
#: About a tenth of a second on the seed store in memory, a quarter on disk: a tenth of the timeout
#: in the test below, so that a job handed to a worker with little of its time left runs past it.
MEDIUM = "SELECT (COUNT(*) AS ?n) WHERE { ?m nif:anchorOf ?x . ?n nif:anchorOf ?y FILTER(STRLEN(?x) = STRLEN(?y)) }"


MODES = {"workers": ("--worker-processes",), "threads-shared": ("--threads-shared",)}


@pytest.fixture(scope="module", params=list(MODES))
def server(built_seeds, tmp_path_factory, request):
    store = copy_store(built_seeds, tmp_path_factory.mktemp("robust") / "kg")
    args = ("--query-workers", "2", "--timeout", "5", "--update-token", TOKEN, *MODES[request.param])
    with running_server(store, *args) as running:
        yield running


def update(server: Server, text: str) -> None:
    done = http(
        server.sparql,
        method="POST",
        data=text.encode(),
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
    )
    assert done.status == 204, done.text


# -- queries that would crash the engine -------------------------------------------------------------


def test_queries_shaped_to_crash_the_engine_answer_400_naming_the_limit_and_no_worker_dies(server):
    before = server.workers()
    shapes = crash_shapes()
    assert len(shapes) >= 25
    for name, text in shapes.items():
        reply = http(
            server.sparql, method="POST", data=text.encode(), headers={"Content-Type": "application/sparql-query"}
        )
        assert reply.status == 400, (name, reply.status, reply.text[:200])
        assert "limit" in reply.text and "crash" in reply.text, (name, reply.text)
    by_get = http(server.sparql, params={"query": shapes["nested STR("]})
    assert by_get.status == 400
    assert server.workers() == before, "no worker died or was replaced"
    assert query(server, CHEAP).status == 200


# -- connections that send nothing, or half a request -----------------------------------------------


def test_idle_and_half_sent_connections_do_not_stop_other_clients(server):
    host, port = server.address
    hostile: list[socket.socket] = []
    try:
        for n in range(32):
            sock = socket.create_connection((host, port), timeout=5)
            if n % 3 == 1:  # the request line and part of the headers, then nothing
                sock.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\n")
            elif n % 3 == 2:  # a whole head announcing a body that never comes
                sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n")
                sock.sendall(b"Content-Length: 1000\r\n\r\nSELECT")
            hostile.append(sock)  # n % 3 == 0: connected, silent
        time.sleep(0.3)
        took = []
        for _ in range(60):
            started = time.monotonic()
            connection = HTTPConnection(host, port, timeout=10)  # a new connection each time: no thread kept
            try:
                assert ask(connection, CHEAP) == 200
            finally:
                connection.close()
            took.append(time.monotonic() - started)
    finally:
        for sock in hostile:
            sock.close()
    p99 = statistics.quantiles(took, n=100)[98]
    assert p99 < 1.0, f"p99 {p99:.3f} s with 32 idle or half-sent connections open"


def test_a_request_line_over_the_limit_is_refused_at_once_with_414(server):
    host, port = server.address
    line = b"GET /sparql?query=" + b"x" * 10_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection((host, port), timeout=10) as sock:
        started = time.monotonic()

        def send() -> None:
            with contextlib.suppress(OSError):  # the server stops reading once it has said no
                sock.sendall(line)

        threading.Thread(target=send, daemon=True).start()
        answer = sock.recv(200)
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 414"), answer
    assert took < 2, f"the 414 took {took:.1f} s"
    just_under = "SELECT * WHERE { ?s ?p ?o } LIMIT 1 #" + "x" * (MAX_REQUEST_LINE // 4)
    assert http(server.sparql, params={"query": just_under}).status == 200, "a long GET under the limit is served"


def test_a_head_is_read_in_linear_time_and_refused_as_soon_as_it_crosses_a_limit():
    head = Head(b"GET /sparql?query=")
    started = time.monotonic()
    with pytest.raises(HeadError) as refused:
        for _ in range(10_000_000 // 8192):  # a 10 MB request line, as a socket gives it
            head.add(b"x" * 8192)
    assert refused.value.status == 414 and len(head.data) <= MAX_REQUEST_LINE + 8192
    assert time.monotonic() - started < 1
    headers = Head(b"GET / HTTP/1.1\r\n")
    with pytest.raises(HeadError) as refused:
        for n in range(200):
            headers.add(f"X-Pad-{n}: {'y' * 1000}\r\n".encode())
    assert refused.value.status == 431


def test_a_body_of_known_length_is_gathered_with_its_head_and_others_are_left_to_the_application():
    post = b"POST /sparql HTTP/1.1\r\nContent-Type: application/sparql-query\r\nContent-Length: 10\r\n\r\n"
    head = Head(post + b"ASK")
    assert not head.complete and head.deadline == pytest.approx(head.started + HEAD_TIMEOUT + 3 / (64 << 10))
    head.add(b" { } ")
    assert not head.complete
    head.add(b"  ")
    assert head.complete
    assert Head(b"GET /sparql HTTP/1.1\r\nHost: x\r\n\r\n").complete
    for waits in (b"Expect: 100-continue", b"Transfer-Encoding: chunked"):
        assert Head(post.replace(b"\r\n\r\n", b"\r\n" + waits + b"\r\n\r\n")).complete


def test_headers_over_the_limit_are_refused_with_431(server):
    reply = http(server.sparql, params={"query": CHEAP}, headers={f"X-Pad-{i}": "y" * 1000 for i in range(80)})
    assert reply.status == 431 and str(MAX_HEADERS) in reply.text
    assert http(server.sparql, params={"query": CHEAP}).status == 200


# -- workers that die or time out --------------------------------------------------------------------


def test_a_worker_killed_while_idle_costs_no_client_an_answer(server):
    worker = sorted(server.workers())[0]
    os.kill(worker, signal.SIGKILL)
    time.sleep(0.3)
    statuses: list[int] = []

    def two() -> None:  # two at once: both workers are taken, the dead one too
        for _ in range(3):
            statuses.append(query(server, CHEAP).status)

    clients = [threading.Thread(target=two) for _ in range(4)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=30)
    assert statuses == [200] * 12


@pytest.mark.parametrize("mode_args", list(MODES.values()), ids=list(MODES))
def test_throughput_comes_back_after_a_burst_of_timeouts_and_a_killed_worker(built_seeds, tmp_path, mode_args):
    """16 clients ask queries of a tenth of the timeout; four queries that run past the timeout come
    in at once and a worker is killed. Within 30 s (in practice a few) the pool answers as many again."""
    store = copy_store(built_seeds, tmp_path / "kg")
    with running_server(store, "--query-workers", "2", "--timeout", "1", *mode_args) as running:
        host, port = running.address
        done: list[float] = []
        failed: list[int] = []
        stop = threading.Event()

        def record(status: int) -> None:
            if status == 200:
                done.append(time.monotonic())
            else:
                failed.append(status)

        def client() -> None:
            ask_until(stop, (host, port), MEDIUM, record)

        def expensive() -> None:
            # with one shared copy, the killed "worker" is the serving process: the requests it was answering
            # go with it, and their clients see the connection close
            with contextlib.suppress(OSError):
                query(running, EXPENSIVE)

        def rate(start: float, end: float) -> float:
            return sum(1 for t in list(done) if start <= t < end) / (end - start)

        workers: set[int] = set()

        def watch() -> None:
            while not stop.is_set():
                workers.update(running.workers())
                time.sleep(0.2)

        clients = [threading.Thread(target=client, daemon=True) for _ in range(16)]
        clients.append(threading.Thread(target=watch, daemon=True))
        for thread in clients:
            thread.start()
        try:
            time.sleep(1.0)  # warm: workers copy the store into memory
            started = time.monotonic()
            time.sleep(2.0)
            before = rate(started, time.monotonic())
            burst = [threading.Thread(target=expensive, daemon=True) for _ in range(4)]
            for thread in burst:
                thread.start()
            time.sleep(0.2)
            os.kill(sorted(running.workers())[0], signal.SIGKILL)
            for thread in burst:
                thread.join(timeout=15)
            fault_over = time.monotonic()
            recovered_after = None
            while time.monotonic() - fault_over < 30:
                time.sleep(1.0)
                now = time.monotonic()
                if rate(now - 1.0, now) >= 0.8 * before:
                    recovered_after = now - fault_over
                    break
            print(f"{before:.1f} queries/s before, as many again {recovered_after} s after the fault")
        finally:
            stop.set()
            for thread in clients:
                thread.join(timeout=15)
    # The pool answered before the fault (how fast depends on what else the machine runs: the suite runs
    # a test file per core), and came back to 80% of that rate after it.
    assert before > 0.5, f"only {before:.1f} queries/s before the fault"
    assert recovered_after is not None, f"throughput stayed under 80% of {before:.1f}/s for 30 s"
    # Two workers, four killed for their timeouts, one killed from outside: no other was killed for
    # a job it was handed too late (two to spare, for a query slowed past the timeout by the machine).
    assert len(workers) <= 2 + 5 + 2, f"{len(workers)} worker processes: the pool killed in a loop"


# -- what a client sees while the store changes ------------------------------------------------------


@pytest.mark.parametrize("mode_args", list(MODES.values()), ids=list(MODES))
def test_a_client_never_sees_the_store_go_back_while_a_writer_adds_to_it(built_seeds, tmp_path, mode_args):
    """A writer commits a batch of 50 triples every 50 ms or so; each of four clients asks again and again how many there
    are. The two workers open new views at their own moments, but no client ever sees fewer than it
    saw before."""
    store = copy_store(built_seeds, tmp_path / "kg")
    with running_server(store, "--query-workers", "2", *mode_args) as running:
        seen = counts_while_a_writer_adds(running, store, batches=30, changes=3)
    for n, counts in seen.items():
        assert len(set(counts)) > 3, f"client {n} saw the store change: {sorted(set(counts))}"
        backwards = [(a, b) for a, b in itertools.pairwise(counts) if b < a]
        assert not backwards, f"client {n} saw the count go back: {backwards[:5]}"


# -- characters XML cannot carry, and RocksDB's logs -------------------------------------------------


def test_an_answer_holding_a_character_xml_cannot_carry_is_refused_as_xml_and_sent_in_other_formats(server):
    update(server, r'INSERT DATA { GRAPH <urn:nul> { <urn:nul:s> <urn:nul:p> "a\u0000b\u0001c" } }')
    select = "SELECT ?o WHERE { GRAPH <urn:nul> { ?s ?p ?o } }"
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <urn:nul> { ?s ?p ?o } }"
    for text, media in ((select, "application/sparql-results+xml"), (construct, "application/rdf+xml")):
        refused = query(server, text, accept=media)
        assert refused.status == 406, (media, refused.status, refused.body[:200])
        assert "U+0000" in refused.text and "XML" in refused.text
    as_json = query(server, select)
    assert json.loads(as_json.body)["results"]["bindings"][0]["o"]["value"] == "a\x00b\x01c"
    assert query(server, construct, accept="application/n-triples").status == 200
    tidy = query(server, "SELECT ?p WHERE { ?p a kg:Person } LIMIT 3", accept="application/sparql-results+xml")
    assert tidy.status == 200 and ET.fromstring(tidy.body) is not None


def test_updates_leave_a_bounded_number_of_rocksdb_logs(server):
    store = Path(server.process.args[server.process.args.index("--store") + 1])
    for n in range(KEEP_INFO_LOGS + 5):
        update(server, f"INSERT DATA {{ GRAPH <urn:logs> {{ <urn:s> <urn:p> {n} }} }}")
    old = [path.name for path in store.iterdir() if path.name.startswith("LOG.old")]
    assert len(old) <= KEEP_INFO_LOGS, old
