"""Workers: SPARQL evaluated in long-lived processes, so that a query that runs too long can be stopped.

pyoxigraph has no query timeout and a thread cannot be killed, but a process can. The server keeps a
pool of worker processes, each with the store open read-only, and sends each job over a pipe; the
answer comes back as bytes Oxigraph has already serialised (a head, chunks of body, an end mark), so
the server never touches a row. A worker that runs past the timeout is killed and replaced.

Updates go to one more process that opens the store read-write only for the length of an update, so
a `kg build` can write the store between updates (and an update meets a clear 503 while one does).

Readers and writers share the store on disk: RocksDB lets a read-only handle open beside a writer and
sees the writes committed when it opened (whole transactions: a build writes each batch of articles
in one). The pool watches the store's files and tells workers when it changed; a worker opens a new
handle in the background and swaps it in between queries, so new data shows up within about a second
and no query waits for it (after an update made through the server, the next query waits: a client
reads its own writes).

This file is also the worker's program: it is run by path (not imported as part of ``kg``), so a
worker starts with nothing but the standard library and pyoxigraph loaded.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# -- the wire: frames of a kind byte, a 4-byte length and a payload -------------------------------

_HEADER = struct.Struct(">cI")
CONFIG, JOB, HEAD, DATA, END, READY = b"C", b"J", b"H", b"D", b"E", b"R"
#: Body bytes a worker gathers before it sends them (and commits to a status).
CHUNK = 1 << 16
#: How often the pool looks at the store's files for changes (seconds).
WATCH_EVERY = 0.5
#: A worker opens a new handle on a changed store at most this often (seconds) unless told to.
REOPEN_EVERY = 1.0
#: Seconds a store must stay unchanged before a worker copies it into memory.
SETTLE = 2.0


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


@dataclass(frozen=True)
class Job:
    """One query or update for a worker: the text, the dataset and the formats the client accepts."""

    text: str
    results_format: str | None = "json"  # for SELECT and ASK; None: the client accepts none
    graph_format: str | None = "turtle"  # for CONSTRUCT and DESCRIBE
    union: bool = True  # the default graph is the union of all graphs
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    update: bool = False
    results_type: str | None = None  # the media type to answer with, when the client named an alias
    graph_type: str | None = None
    generation: int = 0  # the newest version of the store the pool knows of
    required: int = 0  # the oldest version this job may see (after an update: read your writes)

    def wire(self, generation: int, required: int) -> bytes:
        """The job as a frame; plain values only, so the worker never imports `kg` to read it."""
        values = (
            self.text,
            self.results_format,
            self.graph_format,
            self.union,
            self.default_graphs,
            self.named_graphs,
            self.update,
            self.results_type,
            self.graph_type,
            generation,
            required,
        )
        return frame(JOB, pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))


@dataclass
class Answer:
    """A worker's answer: status, headers and the body, whole (`body`) or still arriving (`chunks`)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | None = None
    chunks: Iterator[bytes] | None = None


class QueryTimeoutError(Exception):
    """A job ran longer than the timeout; its worker was killed."""


class WorkersBusyError(Exception):
    """No worker became free before the timeout."""


class WorkerError(RuntimeError):
    """A worker died or could not start."""


# -- the worker process -------------------------------------------------------------------------

RESULTS_FORMATS = ("json", "xml", "csv", "tsv")
GRAPH_FORMATS = ("turtle", "ntriples", "nquads", "rdfxml", "jsonld", "trig", "n3")


def _store_error(exc: BaseException) -> bool:
    """True when an error comes from the files under the store (a compaction raced a reader)."""
    text = str(exc)
    return any(mark in text for mark in ("IO error", "No such file", "Corruption", "While open"))


class _Output:
    """Frames to the server: the head is held back until a chunk is full or the answer ends."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.extra: list[tuple[str, str]] = []  # headers every answer carries
        self.head: bytes | None = None
        self.sent_head = False
        self.parts: list[bytes] = []
        self.size = 0

    def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.head = frame(HEAD, pickle.dumps((status, headers + self.extra), protocol=pickle.HIGHEST_PROTOCOL))

    def write(self, data: bytes) -> int:
        if data:
            self.parts.append(bytes(data))
            self.size += len(data)
            if self.size >= CHUNK:
                self._send()
        return len(data)

    def flush(self) -> None:
        pass

    def _send(self, end: bool = False) -> None:
        out = []
        if not self.sent_head:
            assert self.head is not None
            out.append(self.head)
            self.sent_head = True
        if self.parts:
            body = b"".join(self.parts)
            out.append(_HEADER.pack(DATA, len(body)))
            out.append(body)
            self.parts, self.size = [], 0
        if end:
            out.append(frame(END))
        _write_all(self.fd, b"".join(out))

    def finish(self) -> None:
        self._send(end=True)

    def discard(self) -> None:
        """Forget a body not yet sent (an error came before the first chunk)."""
        self.parts, self.size, self.head = [], 0, None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _RowLimitError(Exception):
    pass


class _CountingBuffer:
    """Collects TSV results and stops the serialiser (and so the evaluation) after `limit` rows."""

    def __init__(self, limit: int) -> None:
        self.limit = limit + 1  # the header line
        self.parts: list[bytes] = []
        self.lines = 0

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.lines += data.count(b"\n")
        if self.lines > self.limit:
            raise _RowLimitError
        return len(data)

    def flush(self) -> None:
        pass

    def value(self) -> tuple[bytes, bool]:
        data = b"".join(self.parts)
        if self.lines <= self.limit:
            return data, False
        end = -1
        for _ in range(self.limit):
            end = data.index(b"\n", end + 1)
        return data[: end + 1], True


class _Handle:
    """The worker's view of the store: read-only on disk, or a copy in memory, renewed when the store changes.

    A changed store is opened again in the background and swapped in between jobs (whole transactions only:
    RocksDB shows a read-only handle what was committed when it opened). When the store holds at most
    `memory_quads` quads and has been quiet for a moment, the worker also copies it into an in-memory Oxigraph
    store, in the background, and answers from that: the same engine, several times faster on joins than
    reading RocksDB. Until the copy is ready, and right after a change, it answers from disk.
    """

    def __init__(self, path: str, memory_quads: int = 0) -> None:
        self.path = path
        self.memory_quads = memory_quads
        self.disk = self._open()
        self.store = self.disk
        self.in_memory = False
        self.generation = 0
        self.opened_at = self.changed_at = time.monotonic() - SETTLE
        self._next: tuple[object, int] | None = None
        self._opening: threading.Thread | None = None
        self._copy: tuple[object, int] | None = None
        self._copying: threading.Thread | None = None
        self._too_big: int | None = None  # the generation found too big to copy
        self._copy_later()

    def _open(self) -> object:
        import pyoxigraph as ox

        for attempt in range(20):
            try:
                return ox.Store.read_only(self.path)
            except (OSError, RuntimeError) as exc:  # a writer was swapping files as we opened
                if attempt == 19 or not _store_error(exc):
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _open_later(self, generation: int) -> None:
        def run() -> None:
            try:
                self._next = (self._open(), generation)
            except (OSError, RuntimeError):
                self._next = None

        self._opening = threading.Thread(target=run, daemon=True, name="kg-reopen")
        self._opening.start()

    def _copy_later(self) -> None:
        """Copy the disk view into memory in the background, if it is small enough and not done yet."""
        if not self.memory_quads or self.in_memory or self._copying is not None or self._too_big == self.generation:
            return
        disk, generation = self.disk, self.generation

        def run() -> None:
            import pyoxigraph as ox

            try:
                if len(disk) > self.memory_quads:  # type: ignore[arg-type]
                    self._too_big = generation
                    return
                copy = ox.Store()
                copy.bulk_load(disk.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)  # type: ignore[attr-defined]
                self._copy = (copy, generation)
            except (OSError, RuntimeError, MemoryError, SyntaxError):
                self._copy = None  # stay on disk

        self._copying = threading.Thread(target=run, daemon=True, name="kg-memory-copy")
        self._copying.start()

    def _use_disk(self, disk: object, generation: int) -> None:
        self.disk = self.store = disk
        self.in_memory = False  # the copy in memory is of an older version: let it go
        self.generation = generation
        self.opened_at = self.changed_at = time.monotonic()

    def current(self, generation: int, required: int) -> object:
        """The store to use for a job: fresh if the job requires it, else the newest ready, memory first."""
        if self._opening is not None and not self._opening.is_alive():
            self._opening = None
            if self._next is not None:
                self._use_disk(*self._next)
                self._next = None
        if self._copying is not None and not self._copying.is_alive():
            self._copying = None
            if self._copy is not None and self._copy[1] == self.generation:
                self.store, self.in_memory = self._copy[0], True
            self._copy = None
        if required > self.generation:
            if self._opening is not None:
                self._opening.join()
                self._opening = None
                if self._next is not None and self._next[1] >= required:
                    self._use_disk(*self._next)
                    self._next = None
                    return self.store
            self.reopen(generation)
        elif generation > self.generation:
            if self._opening is None and time.monotonic() - self.opened_at >= REOPEN_EVERY:
                self._open_later(generation)
        elif self._opening is None and time.monotonic() - self.changed_at >= SETTLE:
            self._copy_later()  # the store is quiet and this view is up to date
        return self.store

    def reopen(self, generation: int | None = None) -> None:
        self.store = self.disk = None
        self._use_disk(self._open(), self.generation if generation is None else generation)


def _ox_formats() -> tuple[dict[str, object], dict[str, object]]:
    import pyoxigraph as ox

    results = {
        "json": ox.QueryResultsFormat.JSON,
        "xml": ox.QueryResultsFormat.XML,
        "csv": ox.QueryResultsFormat.CSV,
        "tsv": ox.QueryResultsFormat.TSV,
    }
    graphs = {
        "turtle": ox.RdfFormat.TURTLE,
        "ntriples": ox.RdfFormat.N_TRIPLES,
        "nquads": ox.RdfFormat.N_QUADS,
        "rdfxml": ox.RdfFormat.RDF_XML,
        "jsonld": ox.RdfFormat.JSON_LD,
        "trig": ox.RdfFormat.TRIG,
        "n3": ox.RdfFormat.N3,
    }
    return results, graphs


class _Worker:
    """The loop of one worker process: read a job, answer it, repeat until the pipe closes."""

    def __init__(self, config: dict) -> None:
        import pyoxigraph as ox

        self.ox = ox
        self.config = config
        self.path = config["store"]
        self.mode = config["mode"]
        self.max_rows = int(config.get("max_rows") or 0)
        self.base = config.get("base")
        self.prefixes = dict(config.get("prefixes") or {})
        self.results_formats, self.graph_formats = _ox_formats()
        self.media = {name: fmt.media_type for name, fmt in {**self.results_formats, **self.graph_formats}.items()}
        self.handle = _Handle(self.path, int(config.get("memory_quads") or 0)) if self.mode == "query" else None

    # replies -------------------------------------------------------------------------------

    def error(self, out: _Output, status: int, message: str, extra: list[tuple[str, str]] | None = None) -> None:
        out.discard()
        out.start(status, [("Content-Type", "text/plain; charset=utf-8"), *(extra or [])])
        out.write(message.encode("utf-8") + b"\n")
        out.finish()

    def answer(self, job: Job, out: _Output) -> None:
        if job.update:
            self.run_update(job, out)
            return
        assert self.handle is not None
        for attempt in range(2):
            store = self.handle.current(job.generation, job.required)
            # where the answer came from: a diagnostic for operators and benchmarks
            out.extra = [("X-Newskg-Store", "memory" if self.handle.in_memory else "disk")]
            try:
                self.run_query(store, job, out)
                return
            except (OSError, RuntimeError) as exc:
                if out.sent_head:
                    raise
                if attempt == 0 and _store_error(exc):
                    self.handle.reopen()  # a file was compacted away under us: look again
                    continue
                if isinstance(exc, OSError) and not _store_error(exc):
                    self.error(out, 502, f"a remote SPARQL service failed: {exc}")
                elif _store_error(exc):
                    self.error(out, 503, f"the store could not be read: {exc}", [("Retry-After", "1")])
                else:
                    self.error(out, 400, f"the query cannot be evaluated: {exc}")
                return

    def run_query(self, store: object, job: Job, out: _Output) -> None:
        ox = self.ox
        kwargs: dict[str, object] = {"base_iri": self.base, "prefixes": self.prefixes}
        if job.default_graphs is not None or job.named_graphs is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or ()]
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or ()]
        elif job.union:
            kwargs["use_default_graph_as_union"] = True
        try:
            result = store.query(job.text, **kwargs)  # type: ignore[attr-defined]
        except SyntaxError as exc:
            self.error(out, 400, f"SPARQL syntax error: {exc}")
            return
        if isinstance(result, ox.QueryTriples):
            self.send_graph(result, job, out)
        elif job.results_format is None:
            kind = "a boolean" if isinstance(result, ox.QueryBoolean) else "a table of results"
            self.error(out, 406, f"this query gives {kind}; the Accept header allows none of its formats")
        elif isinstance(result, ox.QueryBoolean):
            body = result.serialize(format=self.results_formats[job.results_format])
            self.send(out, job.results_type or self.media[job.results_format], body)
        else:
            self.send_solutions(result, job.results_format, job.results_type or self.media[job.results_format], out)

    def send(self, out: _Output, ctype: str, body: bytes, extra: list[tuple[str, str]] | None = None) -> None:
        out.start(200, [("Content-Type", ctype), *(extra or [])])
        out.write(body)
        out.finish()

    def send_solutions(self, result: object, fmt: str, ctype: str, out: _Output) -> None:
        ox = self.ox
        target = self.results_formats[fmt]
        if not self.max_rows:
            out.start(200, [("Content-Type", ctype)])
            result.serialize(out, format=target)  # type: ignore[attr-defined]
            out.finish()
            return
        # Oxigraph writes TSV one line per row: count lines, stop the evaluation past the limit,
        # then let Oxigraph turn the rows kept into the format asked for.
        buffer = _CountingBuffer(self.max_rows)
        with contextlib.suppress(_RowLimitError):
            result.serialize(buffer, format=ox.QueryResultsFormat.TSV)  # type: ignore[attr-defined]
        tsv, truncated = buffer.value()
        extra = [("X-SPARQL-MaxRows", str(self.max_rows))] if truncated else []
        if fmt == "tsv":
            self.send(out, ctype, tsv, extra)
            return
        rows = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
        out.start(200, [("Content-Type", ctype), *extra])
        rows.serialize(out, format=target)  # type: ignore[union-attr]
        out.finish()

    def send_graph(self, triples: object, job: Job, out: _Output) -> None:
        fmt = job.graph_format
        if fmt is None:
            self.error(out, 406, "this query gives a graph; the Accept header allows none of its formats")
            return
        ctype = job.graph_type or self.media[fmt]
        limit = self.max_rows
        state = {"truncated": False}

        def capped() -> Iterator[object]:
            for index, triple in enumerate(triples):  # type: ignore[call-overload]
                if index == limit:
                    state["truncated"] = True
                    return
                yield triple

        source = capped() if limit else triples
        if limit:
            # The head waits for the count: the triples are gathered, then written.
            kept = list(source)
            extra = [("X-SPARQL-MaxRows", str(limit))] if state["truncated"] else []
            out.start(200, [("Content-Type", ctype), *extra])
            self.ox.serialize(kept, out, format=self.graph_formats[fmt], prefixes=self.prefixes)
        else:
            out.start(200, [("Content-Type", ctype)])
            self.ox.serialize(source, out, format=self.graph_formats[fmt], prefixes=self.prefixes)
        out.finish()

    def run_update(self, job: Job, out: _Output) -> None:
        ox = self.ox
        try:
            store = ox.Store(self.path)
        except (OSError, RuntimeError) as exc:
            if "lock" in str(exc).lower():
                self.error(
                    out,
                    503,
                    "the store is being written by another process (a `kg build`?); "
                    f"the update was not applied, try again when it has finished ({exc})",
                    [("Retry-After", "5")],
                )
            else:
                self.error(out, 503, f"the store cannot be opened for writing: {exc}", [("Retry-After", "5")])
            return
        failure: tuple[int, str] | None = None
        try:
            store.update(job.text, base_iri=self.base, prefixes=self.prefixes)
            store.flush()
        except SyntaxError as exc:
            failure = (400, f"SPARQL Update syntax error: {exc}")
        except OSError as exc:
            failure = (500 if _store_error(exc) else 502, f"the update failed, nothing was changed: {exc}")
        except RuntimeError as exc:
            failure = (400, f"the update failed, nothing was changed: {exc}")
        del store  # close the store and let go of its lock before answering: a build may be waiting for it
        if failure is not None:
            self.error(out, *failure)
            return
        out.start(204, [])
        out.finish()


def _read_exact(fd: int, buffer: bytearray, size: int) -> bool:
    while len(buffer) < size:
        data = os.read(fd, max(1 << 16, size - len(buffer)))
        if not data:
            return False
        buffer += data
    return True


def _read_frame(fd: int, buffer: bytearray) -> tuple[bytes, bytes] | None:
    if not _read_exact(fd, buffer, _HEADER.size):
        return None
    kind, size = _HEADER.unpack_from(buffer)
    if not _read_exact(fd, buffer, _HEADER.size + size):
        return None
    payload = bytes(buffer[_HEADER.size : _HEADER.size + size])
    del buffer[: _HEADER.size + size]
    return kind, payload


def child_main() -> None:
    """The worker process: read its settings, announce readiness, answer jobs until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops us
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints go to stderr, never into the frames
    buffer = bytearray()
    first = _read_frame(0, buffer)
    if first is None:
        return
    try:
        worker = _Worker(pickle.loads(first[1]))
    except Exception as exc:  # the store cannot be opened: say why and stop
        _write_all(reply_fd, frame(READY, pickle.dumps(f"{type(exc).__name__}: {exc}")))
        return
    _write_all(reply_fd, frame(READY, pickle.dumps(None)))
    while True:
        got = _read_frame(0, buffer)
        if got is None:
            return
        kind, payload = got
        if kind != JOB:
            continue
        job = Job(*pickle.loads(payload))
        out = _Output(reply_fd)
        try:
            worker.answer(job, out)
        except Exception as exc:  # keep serving; tell the server what happened
            if out.sent_head:
                return  # the answer is cut short; the server sees the pipe close
            worker.error(out, 500, f"the query failed: {type(exc).__name__}: {exc}")


# -- the server's side --------------------------------------------------------------------------


class _Process:
    """One worker process as the server sees it: a pipe in, a pipe out, a buffer of what came back."""

    def __init__(self, config: dict) -> None:
        script = str(Path(__file__).resolve())
        code = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='kg_worker')"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.wfd = self.proc.stdin.fileno()
        self.rfd = self.proc.stdout.fileno()
        self.poller = select.poll()
        self.poller.register(self.rfd, select.POLLIN)
        self.buffer = bytearray()
        self.send(frame(CONFIG, pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)))

    def ready(self, deadline: float) -> None:
        kind, payload = self.read(deadline)
        problem = pickle.loads(payload) if kind == READY else f"unexpected {kind!r}"
        if problem:
            self.kill()
            raise WorkerError(problem)

    def send(self, data: bytes) -> None:
        try:
            _write_all(self.wfd, data)
        except OSError as exc:
            raise WorkerError(f"worker {self.proc.pid} is gone: {exc}") from None

    def read(self, deadline: float) -> tuple[bytes, bytes]:
        """The next frame, or QueryTimeoutError at the deadline, or WorkerError if the worker died."""
        buffer = self.buffer
        while True:
            if len(buffer) >= _HEADER.size:
                kind, size = _HEADER.unpack_from(buffer)
                end = _HEADER.size + size
                if len(buffer) >= end:
                    payload = bytes(buffer[_HEADER.size : end])
                    del buffer[:end]
                    return kind, payload
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self.poller.poll(remaining * 1000):
                if time.monotonic() >= deadline:
                    raise QueryTimeoutError
                continue
            data = os.read(self.rfd, 1 << 18)
            if not data:
                raise WorkerError(f"worker {self.proc.pid} stopped (exit code {self.proc.poll()})")
            buffer += data

    def answer(self, deadline: float) -> tuple[int, list[tuple[str, str]], list[bytes], bool]:
        """The head of an answer and whatever body came with it; done is True if it is complete."""
        kind, payload = self.read(deadline)
        if kind != HEAD:
            raise WorkerError(f"worker {self.proc.pid} sent {kind!r} before a head")
        status, headers = pickle.loads(payload)
        body: list[bytes] = []
        while len(self.buffer) >= _HEADER.size:
            kind, payload = self.read(deadline)
            if kind == END:
                return status, headers, body, True
            body.append(payload)
        return status, headers, body, False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()  # type: ignore[union-attr]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()  # type: ignore[union-attr]
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
        with contextlib.suppress(OSError):
            self.proc.stdout.close()  # type: ignore[union-attr]


def store_signature(path: Path) -> tuple:
    """What changes when a writer commits: the write-ahead logs, the manifest, CURRENT."""
    entries = []
    try:
        with os.scandir(path) as scan:
            for entry in scan:
                name = entry.name
                if name.endswith(".log") or name.startswith("MANIFEST") or name == "CURRENT":
                    st = entry.stat()
                    entries.append((name, st.st_size, st.st_mtime_ns))
    except OSError:
        return ()
    entries.sort()
    return tuple(entries)


class WorkerPool:
    """Query workers (read-only) and one update worker; jobs in, answers out, with a timeout each."""

    def __init__(
        self,
        store: Path,
        *,
        size: int,
        max_rows: int,
        memory_quads: int = 0,
        base: str | None = None,
        prefixes: dict[str, str] | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        self.store = Path(store)
        self.size = size
        self.config = {
            "store": str(self.store),
            "max_rows": max_rows,
            "memory_quads": memory_quads,
            "base": base,
            "prefixes": prefixes or {},
        }
        self.generation = 0  # bumped when the store's files change
        self.required = 0  # the version every query must see (bumped by updates made here)
        self._signature = store_signature(self.store)
        self._idle: list[_Process] = []
        self._cond = threading.Condition()
        self._closed = False
        self._update_lock = threading.Lock()
        self._updater: _Process | None = None
        self.respawns = 0
        started = [_Process({**self.config, "mode": "query"}) for _ in range(size)]
        deadline = time.monotonic() + start_timeout
        try:
            for process in started:
                process.ready(deadline)
        except (WorkerError, QueryTimeoutError) as exc:
            for process in started:
                process.kill()
            raise WorkerError(f"the query workers could not open the store at {self.store}: {exc}") from None
        self._idle.extend(started)
        self._watcher = threading.Thread(target=self._watch, daemon=True, name="kg-store-watcher")
        self._watcher.start()

    # -- the store changing under us ------------------------------------------------------------

    def _watch(self) -> None:
        while not self._closed:
            time.sleep(WATCH_EVERY)
            self.check_store()

    def check_store(self) -> None:
        signature = store_signature(self.store)
        if signature != self._signature:
            self._signature = signature
            self.generation += 1

    # -- workers in and out ---------------------------------------------------------------------

    def _take(self, deadline: float) -> _Process:
        with self._cond:
            while not self._idle:
                remaining = deadline - time.monotonic()
                if self._closed:
                    raise WorkerError("the server is stopping")
                if remaining <= 0:
                    raise WorkersBusyError
                self._cond.wait(remaining)
            return self._idle.pop()

    def _give_back(self, process: _Process) -> None:
        with self._cond:
            if self._closed:
                process.close()
                return
            self._idle.append(process)
            self._cond.notify()

    def _replace(self, process: _Process) -> None:
        """Kill a worker and start another in the background (the caller need not wait for it)."""
        process.kill()
        self.respawns += 1

        def spawn() -> None:
            for _ in range(3):
                if self._closed:
                    return
                fresh = _Process({**self.config, "mode": "query"})
                try:
                    fresh.ready(time.monotonic() + 60)
                except (WorkerError, QueryTimeoutError):
                    fresh.kill()
                    time.sleep(0.5)
                    continue
                self._give_back(fresh)
                return

        threading.Thread(target=spawn, daemon=True, name="kg-worker-spawn").start()

    # -- running jobs ---------------------------------------------------------------------------

    def run(self, job: Job, timeout: float) -> Answer:
        """Answer a query job; QueryTimeoutError or WorkersBusyError if it could not finish in time."""
        deadline = time.monotonic() + timeout
        process = self._take(deadline)
        try:
            process.send(job.wire(self.generation, self.required))
            status, headers, body, done = process.answer(deadline)
        except BaseException:
            self._replace(process)
            raise
        if done:
            self._give_back(process)
            return Answer(status, headers, body=b"".join(body))
        return Answer(status, headers, chunks=_Stream(self, process, body, deadline))

    def update(self, text: str, timeout: float) -> Answer:
        """Run a SPARQL Update in the update worker, one at a time; later queries see its result."""
        deadline = time.monotonic() + timeout
        if not self._update_lock.acquire(timeout=timeout):
            raise WorkersBusyError
        try:
            if self._updater is None or not self._updater.alive():
                self._updater = _Process({**self.config, "mode": "update"})
                self._updater.ready(deadline)
            process = self._updater
            try:
                process.send(Job(text, update=True).wire(self.generation, self.required))
                status, headers, body, done = process.answer(deadline)
                while not done:
                    kind, payload = process.read(deadline)
                    done = kind == END
                    if not done:
                        body.append(payload)
            except BaseException:
                process.kill()
                self._updater = None
                raise
            if status < 300:
                self.check_store()
                self.generation += 1
                self.required = self.generation
            return Answer(status, headers, body=b"".join(body))
        finally:
            self._update_lock.release()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for process in idle:
            process.close()
        if self._updater is not None:
            self._updater.close()
            self._updater = None


class _Stream:
    """The rest of a long answer, chunk by chunk; the worker goes back to the pool at the end mark.

    Closed early (the client went away) or past the deadline, the worker is killed and replaced:
    that is what stops the work.
    """

    def __init__(self, pool: WorkerPool, process: _Process, first: list[bytes], deadline: float) -> None:
        self.pool = pool
        self.process: _Process | None = process
        self.pending = list(first)
        self.deadline = deadline

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> bytes:
        if self.pending:
            return self.pending.pop(0)
        process = self.process
        if process is None:
            raise StopIteration
        try:
            kind, payload = process.read(self.deadline)
        except BaseException:
            self.close()
            raise
        if kind == END:
            self.process = None
            self.pool._give_back(process)
            raise StopIteration
        return payload

    def close(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            self.pool._replace(process)


if __name__ == "kg_worker":
    child_main()
