"""Helpers for tests of `kg serve`: a copy of a built store, the real server on a free loopback port."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from pathlib import Path

import pyoxigraph as ox

from kg.namespaces import sparql_prefixes

ROOT = Path(__file__).resolve().parent.parent


def ask(connection: HTTPConnection, text: str, accept: str = "application/sparql-results+json") -> int:
    """One query on a kept-alive connection; its status."""
    connection.request(
        "POST", "/sparql", body=text.encode(), headers={"Content-Type": "application/sparql-query", "Accept": accept}
    )
    response = connection.getresponse()
    response.read()
    return response.status


def ask_until(
    stop: threading.Event, address: tuple[str, int], text: str, record: Callable[[int], None], timeout: float = 10
) -> None:
    """One client: ask `text` again and again until `stop`, telling `record` each status; a connection the
    server dropped is opened again (a busy server may refuse, or a killed worker cut, a request)."""
    host, port = address
    connection = HTTPConnection(host, port, timeout=timeout)
    while not stop.is_set():
        try:
            status = ask(connection, text)
        except (OSError, HTTPException):
            connection.close()
            connection = HTTPConnection(host, port, timeout=timeout)
            continue
        record(status)
    connection.close()


def store_facts(path: Path) -> Callable[[str], list[dict[str, str]]]:
    """A SELECT runner over a store read directly (not through a server), with our prefixes and the union
    of its graphs: what tests check pages and answers against. Rows come as dicts of plain strings."""
    store = ox.Store.read_only(str(path))

    def select(text: str) -> list[dict[str, str]]:
        result = store.query(sparql_prefixes() + text, use_default_graph_as_union=True)
        names = [v.value for v in result.variables]
        return [{n: row[n].value for n in names if row[n] is not None} for row in result]

    return select


def copy_store(template: Path, destination: Path) -> Path:
    """A private copy of a closed store, to serve or to write to."""
    shutil.copytree(template, destination)
    return destination


@dataclass
class Server:
    """A running `kg serve`: its URL, its process and what it printed."""

    url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)
    store: Path | None = None
    threads_shared: bool = True  # one serving process with one shared copy (the default), or worker processes

    @property
    def sparql(self) -> str:
        return self.url + "sparql"

    @property
    def address(self) -> tuple[str, int]:
        """Host and port, for clients that open their own connections."""
        parts = urllib.parse.urlsplit(self.url)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    def workers(self) -> set[int]:
        """Process ids of the server's query and update workers (below gunicorn's master and worker), or
        of its serving processes with `--threads-shared` (below the supervisor)."""
        mark = b"child_main" if self.threads_shared else b"kg_worker"
        found, pending = set(), [self.process.pid]
        while pending:
            pid = pending.pop()
            try:
                tasks = list(Path(f"/proc/{pid}/task").iterdir())
                children = [int(c) for task in tasks for c in (task / "children").read_text().split()]
            except OSError:
                continue  # it has just exited
            pending.extend(children)
            for child in children:
                try:
                    if mark in Path(f"/proc/{child}/cmdline").read_bytes():
                        found.add(child)
                except OSError:
                    pass
        return found


@contextmanager
def running_server(
    store: Path, *args: str, env: dict[str, str] | None = None, start_timeout: float = 60
) -> Iterator[Server]:
    """`kg serve --store STORE --port 0 ARGS...` in a subprocess, stopped (SIGTERM) on exit."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--store", str(store), "--host", "127.0.0.1", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=environment,
    )
    assert process.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + start_timeout
    url = None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "is serving" in line:
            url = line.split(" at ", 1)[1].split(" ", 1)[0]
            break
    if url is None:
        process.kill()
        raise AssertionError("kg serve did not start:\n" + "".join(output) + (process.stdout.read() or ""))
    shared = "--worker-processes" not in args  # the default: one process sharing one copy
    server = Server(url, process, output, store=store, threads_shared=shared)
    try:
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        try:
            rest = process.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:  # a process the server started still holds its output open
            rest = "(the server's output stayed open after it stopped)\n"
        if rest:
            output.append(rest)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def http(
    url: str,
    *,
    method: str = "GET",
    params: dict[str, str | list[str]] | None = None,
    data: bytes | dict[str, str | list[str]] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> Reply:
    """One HTTP request with the standard library; any status comes back as a Reply, never raises."""
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    body = None
    headers = dict(headers or {})
    if isinstance(data, dict):
        body = urllib.parse.urlencode(data, doseq=True).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    elif data is not None:
        body = data
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Reply(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def query(server: Server, text: str, accept: str = "application/sparql-results+json", **params: str) -> Reply:
    return http(server.sparql, method="POST", data={"query": text, **params}, headers={"Accept": accept})


def crash_shapes() -> dict[str, str]:
    """Query texts of about 5 to 100 kB whose shape crashes pyoxigraph 0.5 (a segmentation fault of
    the process running it: the parser, optimiser or evaluator recursing past its stack), by name.

    Each is a few times past the point where it crashes (measured in a subprocess on an 8 MB stack).
    """

    def nest(n: int, open_: str, inner: str, close: str) -> str:
        return open_ * n + inner + close * n

    def chain(n: int, item: str, joiner: str) -> str:
        return joiner.join([item] * n)

    triple = "?s ?p ?o"
    return {
        "nested STR(": f"SELECT ?y WHERE {{ BIND({nest(1000, 'STR(', '?x', ')')} AS ?y) }}",
        "nested {}": f"SELECT * WHERE {nest(3000, '{', '', '}')}",
        "nested ( in FILTER": f"SELECT * WHERE {{ FILTER({nest(5000, '(', '1', ')')}) }}",
        "&& chain": f"SELECT * WHERE {{ {triple} FILTER({chain(10000, '?o', ' && ')}) }}",
        "|| chain": f"SELECT * WHERE {{ {triple} FILTER({chain(10000, '?o', ' || ')}) }}",
        "UNION chain": f"SELECT * WHERE {{ {chain(7000, '{ ?s ?p ?o }', ' UNION ')} }}",
        "path alternatives": f"SELECT * WHERE {{ ?s {chain(12000, '<urn:p>', '|')} ?o }}",
        "nested path (": f"SELECT * WHERE {{ ?s {nest(15000, '(', '<urn:p>', ')')} ?o }}",
        "nested inverse path": f"SELECT * WHERE {{ ?s {nest(15000, '^(', '<urn:p>', ')')} ?o }}",
        "nested path *": f"SELECT * WHERE {{ ?s {nest(15000, '(', '<urn:p>', ')*')} ?o }}",
        "+ chain": f"SELECT * WHERE {{ BIND({chain(20000, '1', ' + ')} AS ?x) }}",
        "- chain": f"SELECT * WHERE {{ BIND({chain(20000, '1', ' - ')} AS ?x) }}",
        "* chain": f"SELECT * WHERE {{ BIND({chain(20000, '1', ' * ')} AS ?x) }}",
        "! chain": f"SELECT * WHERE {{ FILTER({'!' * 10000}true) }}",
        "nested [": f"SELECT * WHERE {{ ?s <urn:p> {nest(5000, '[ <urn:p> ', '?o', ' ]')} }}",
        "nested collection": f"SELECT * WHERE {{ ?s <urn:p> {nest(5000, '( ', '?o', ' )')} }}",
        "nested OPTIONAL": f"SELECT * WHERE {{ {triple} {nest(3000, 'OPTIONAL { ?s ?p ?o ', '', '}')} }}",
        "nested subquery": f"SELECT * WHERE {nest(3000, '{ SELECT * WHERE ', '{ ?s ?p ?o }', ' }')}",
        "nested EXISTS": f"SELECT * WHERE {{ {triple} {nest(1000, 'FILTER EXISTS { ?s ?p ?o ', '', '}')} }}",
        "nested IF": f"SELECT * WHERE {{ BIND({nest(1000, 'IF(true, ', '1', ', 0)')} AS ?x) }}",
        "nested COALESCE": f"SELECT * WHERE {{ BIND({nest(1500, 'COALESCE(', '1', ')')} AS ?x) }}",
        "MINUS chain": f"SELECT * WHERE {{ {triple} {chain(10000, 'MINUS { ?s ?p ?o }', ' ')} }}",
        "OPTIONAL chain": f"SELECT * WHERE {{ {triple} {chain(10000, 'OPTIONAL { ?s ?p ?o }', ' ')} }}",
        "BIND chain": "SELECT * WHERE { " + " ".join(f"BIND({i} AS ?b{i})" for i in range(3000)) + " }",
        "FILTER chain": f"SELECT * WHERE {{ {triple} {chain(20000, 'FILTER(?o)', ' ')} }}",
        "nested GRAPH": f"SELECT * WHERE {nest(3000, '{ GRAPH ?g ', '{ ?s ?p ?o }', ' }')}",
    }


def counts_while_a_writer_adds(
    server: Server, store: Path, batches: int, *, clients: int = 4, timeout: float = 15, changes: int = 0
) -> dict[int, list[int]]:
    """What each of `clients` readers saw, in order, asking again and again how many triples the graph
    <urn:batches> holds, while this process writes `batches` batches of 50 straight into the served
    store, one commit every 50 ms or so. With `changes`, the writer goes on (up to ten times `batches`)
    until every reader has seen the count change that many times: a server opens new views at its own
    pace, slower on a loaded machine, and a reader that saw one change tells little about going back."""
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:batches> { ?s ?p ?o } }"
    target = "/sparql?" + urllib.parse.urlencode({"query": count})
    host, port = server.address
    stop = threading.Event()
    seen: dict[int, list[int]] = {n: [] for n in range(clients)}

    def reader(n: int) -> None:
        connection = HTTPConnection(host, port, timeout=timeout)
        while not stop.is_set():
            connection.request("GET", target, headers={"Accept": "application/json"})
            answer = json.loads(connection.getresponse().read())
            seen[n].append(int(answer["results"]["bindings"][0]["n"]["value"]))
        connection.close()

    readers = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(clients)]
    for thread in readers:
        thread.start()
    writer = ox.Store(str(store))
    try:
        graph = ox.NamedNode("urn:batches")
        for batch in range(10 * batches):
            if batch >= batches and all(len(set(seen[n])) > changes for n in seen):
                break
            writer.extend(
                ox.Quad(ox.NamedNode(f"urn:b{batch}-{i}"), ox.NamedNode("urn:p"), ox.Literal(i), graph)
                for i in range(50)
            )
            writer.flush()
            time.sleep(0.05)
        time.sleep(1.0)
    finally:
        del writer
        stop.set()
        for thread in readers:
            thread.join(timeout=timeout)
    return seen
