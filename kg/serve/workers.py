"""Workers (`kg serve --worker-processes`): SPARQL evaluated in long-lived processes, so a runaway query can be stopped.

pyoxigraph has no query timeout and a thread cannot be killed, but a process can. The server keeps a
pool of worker processes, each with the store open read-only, and sends each job over a pipe; the
answer comes back as bytes Oxigraph has already serialised (a head, chunks of body, an end mark), so
the server never touches a row. A worker that runs past the timeout is killed and replaced; the time
a job waits for a free worker is not counted against it (see `WorkerPool.run`).

Updates go to one more process that opens the store read-write only for the length of an update, so
a `kg build` can write the store between updates (and an update meets a clear 503 while one does).

Readers and writers share the store on disk: RocksDB lets a read-only handle open beside a writer and
sees the writes committed when it opened (whole transactions: a build writes each batch of articles
in one). The pool watches the store's files and tells workers when it changed; a worker opens a new
handle in the background and swaps it in between queries, so new data shows up within about a second
and no query waits for it (after an update made through the server, the next query waits: a client
reads its own writes). No answer comes from a view older than one an answer has already come from: a
worker behind the newest view served opens a newer one before it answers.

The worker's own program is kg/serve/worker.py, run by path.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import worker
from .worker import CONFIG, END, HEAD, HEADER, READY, Job, View, covers, frame, newest, store_signature

__all__ = [
    "Answer",
    "Job",
    "QueryTimeoutError",
    "StoreWatch",
    "Updater",
    "WorkerError",
    "WorkerPool",
    "WorkersBusyError",
    "timeout_message",
    "worker_config",
]

#: How often the pool looks at the store's files for changes (seconds).
WATCH_EVERY = 0.5


@dataclass
class Answer:
    """A worker's answer: status, headers and the body, whole (`body`) or still arriving (`chunks`)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | None = None
    chunks: Iterator[bytes] | None = None


class QueryTimeoutError(Exception):
    """A job ran longer than the timeout; its worker was killed."""


def timeout_message(timeout: float) -> str:
    """What a client is told when its query ran past the timeout (by either pool)."""
    return (
        f"the query ran longer than this server's timeout of {timeout:g} s and was stopped; "
        "make it more selective (LIMIT, more specific patterns) or ask for a longer --timeout"
    )


class WorkersBusyError(Exception):
    """No worker became free before the timeout."""


class WorkerError(RuntimeError):
    """A worker died or could not start."""


# -- the server's side --------------------------------------------------------------------------


class _Process:
    """One worker process as the server sees it: a pipe in, a pipe out, a buffer of what came back."""

    def __init__(self, config: dict) -> None:
        script = str(Path(worker.__file__).resolve())
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
        self.view: View | None = None  # the view of the store its last answer came from
        self.send(frame(CONFIG, pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL)))

    def ready(self, deadline: float) -> None:
        kind, payload = self.read(deadline)
        problem = pickle.loads(payload) if kind == READY else f"unexpected {kind!r}"
        if problem:
            self.kill()
            raise WorkerError(problem)

    def send(self, data: bytes) -> None:
        try:
            worker.write_all(self.wfd, data)
        except OSError as exc:
            raise WorkerError(f"worker {self.proc.pid} is gone: {exc}") from None

    def read(self, deadline: float) -> tuple[bytes, bytes]:
        """The next frame, or QueryTimeoutError at the deadline, or WorkerError if the worker died."""
        buffer = self.buffer
        while True:
            if len(buffer) >= HEADER.size:
                kind, size = HEADER.unpack_from(buffer)
                end = HEADER.size + size
                if len(buffer) >= end:
                    payload = bytes(buffer[HEADER.size : end])
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
        status, headers, self.view = pickle.loads(payload)
        body: list[bytes] = []
        while len(self.buffer) >= HEADER.size:
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


def worker_config(
    store: Path, max_rows: int, memory_quads: int, base: str | None, prefixes: dict[str, str] | None
) -> dict[str, object]:
    """What a query worker needs to open the store and write answers, for both ways of serving."""
    return {
        "store": str(store),
        "max_rows": max_rows,
        "memory_quads": memory_quads,
        "base": base,
        "prefixes": prefixes or {},
    }


class StoreWatch:
    """What both ways of serving do about the store changing under them (a `kg build` while serving): look at
    its files every WATCH_EVERY seconds and bump `generation` when they changed, so that the next query
    reopens it; and run updates in the update process, after which every query must see their result. The
    pool sets `store`, `generation`, `required`, `updater`, `_signature` and `_closed`."""

    store: Path
    generation: int
    required: int
    updater: Updater
    _signature: object
    _closed: bool

    def _watch(self) -> None:
        while not self._closed:
            time.sleep(WATCH_EVERY)
            self.check_store()

    def check_store(self) -> None:
        signature = store_signature(self.store)
        if signature != self._signature:
            self._signature = signature
            self.generation += 1

    def update(self, text: str, timeout: float) -> Answer:
        """Run a SPARQL Update in the update worker, one at a time; later queries see its result."""
        return self.updater.run(text, timeout, self.generation, self.required, self._updated)

    def _updated(self) -> None:
        """An update made here succeeded: the next query must see it (read your writes)."""
        self.check_store()
        self.generation += 1
        self.required = self.generation


class WorkerPool(StoreWatch):
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
        self.config = worker_config(self.store, max_rows, memory_quads, base, prefixes)
        self.generation = 0  # bumped when the store's files change
        self.required = 0  # the version every query must see (bumped by updates made here)
        self.served: View | None = None  # the newest view an answer has come from (see `run`)
        self._signature = store_signature(self.store)
        self._idle: list[_Process] = []
        self._cond = threading.Condition()
        self._closed = False
        self.updater = Updater(self.config)
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

    # -- workers in and out ---------------------------------------------------------------------

    def _take(self, deadline: float) -> _Process:
        """An idle worker that is alive; a worker found dead while idle (killed from outside, or by
        the kernel for memory) is replaced and the wait goes on, so no job is handed to it."""
        while True:
            with self._cond:
                while not self._idle:
                    remaining = deadline - time.monotonic()
                    if self._closed:
                        raise WorkerError("the server is stopping")
                    if remaining <= 0:
                        raise WorkersBusyError
                    self._cond.wait(remaining)
                # The worker with the newest view: the one least likely to have to open a newer one.
                best = max(range(len(self._idle)), key=lambda i: _recency(self._idle[i].view))
                process = self._idle.pop(best)
            if process.alive():
                return process
            self._replace(process)

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
            pause = 0.5
            while not self._closed:  # never give up a place: a pool that shrank would stay small
                fresh = _Process({**self.config, "mode": "query"})
                try:
                    fresh.ready(time.monotonic() + 60)
                except (WorkerError, QueryTimeoutError):
                    fresh.kill()
                    time.sleep(pause)
                    pause = min(pause * 2, 5.0)
                    continue
                self._give_back(fresh)
                return

        threading.Thread(target=spawn, daemon=True, name="kg-worker-spawn").start()

    # -- running jobs ---------------------------------------------------------------------------

    def run(self, job: Job, timeout: float, wait: float | None = None) -> Answer:
        """Answer a query job; QueryTimeoutError if it ran longer than `timeout`, WorkersBusyError if
        no worker was free within `wait` (the timeout unless given).

        Every answer comes from a view of the store at least as new as any answer before it: the
        workers open new views at their own moments, and were each left to its own, a client whose
        requests went to one worker and then another would see the store go back and forth while a
        build writes. So the job carries the newest view served so far; a worker behind it opens a
        newer one first (the idle worker with the newest view is chosen, so that this is rare).

        The time a job waits for a worker is not part of its run time: a worker is killed only for a
        job that ran the whole timeout itself. Were the wait counted, a worker slowed for a moment (a
        new one, answering from disk while it copies the store into memory) would be handed jobs with
        only a sliver of their time left, run past it, be killed, and its replacement would meet the
        same queue: the pool would stay in that loop for as long as the load lasted.
        """
        wait_until = time.monotonic() + (timeout if wait is None else wait)
        for attempt in range(2):
            process = self._take(wait_until)
            try:
                process.send(job.wire(self.generation, self.required, self.served))
                break
            except WorkerError:  # it died after the check, before the job reached it: ask another
                self._replace(process)
                if attempt:
                    raise
        deadline = time.monotonic() + timeout
        try:
            status, headers, body, done = process.answer(deadline)
        except BaseException:
            self._replace(process)
            raise
        self._saw(process.view)
        if done:
            self._give_back(process)
            return Answer(status, headers, body=b"".join(body))
        return Answer(status, headers, chunks=_Stream(self, process, body, deadline))

    def _saw(self, view: View | None) -> None:
        """An answer is about to go out from `view`: later answers must not come from older ones."""
        with self._cond:
            if not covers(self.served, view):
                self.served = newest(self.served, view)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        for process in idle:
            process.close()
        self.updater.close()


class Updater:
    """The update worker: a process that opens the store read-write for the length of one update, one
    update at a time (so a `kg build` can write the store between updates). Shared by both ways of serving."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._process: _Process | None = None

    def run(
        self, text: str, timeout: float, generation: int, required: int, succeeded: Callable[[], None]
    ) -> Answer:
        """The update's answer; `succeeded` is called (under the lock) when it changed the store."""
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise WorkersBusyError(f"another update kept the store for {timeout:g} s; try again shortly")
        try:
            if self._process is None or not self._process.alive():
                self._process = _Process({**self.config, "mode": "update"})
                self._process.ready(deadline)
            process = self._process
            try:
                process.send(Job(text, update=True).wire(generation, required))
                status, headers, body, done = process.answer(deadline)
                while not done:
                    kind, payload = process.read(deadline)
                    done = kind == END
                    if not done:
                        body.append(payload)
            except BaseException:
                process.kill()
                self._process = None
                raise
            if status < 300:
                succeeded()
            return Answer(status, headers, body=b"".join(body))
        finally:
            self._lock.release()

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
            self._process = None


def _recency(view: View | None) -> float:
    return -1.0 if view is None else view[1]


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
