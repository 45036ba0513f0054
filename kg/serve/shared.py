"""One copy of the store, shared by the query threads of one process (`kg serve`, the default way of serving).

The worker pool (kg.serve.workers) keeps a copy of the store in each worker process, so that a query past
the timeout can be stopped by killing its process: pyoxigraph 0.5 cannot cancel a query. That costs a copy
per worker (1.9x the memory of Oxigraph alone at 1M quads) and two pipe hops per request. Oxigraph lets go
of the GIL while it evaluates (measured at 1M quads, 8 aggregates: 0.70 s on one thread, 0.44 s on two,
0.34 s on four, on two cores), so threads of one process sharing one store evaluate side by side.

Here a query is evaluated in the thread that serves its request, over one `_Handle` (the same view of the
store, on disk and then in memory, that a worker process keeps), at most `size` at a time; the time a request
waits for its turn is not run time (as with the worker pool). A watchdog keeps the deadlines: past one, it
answers the client itself, at once, through the server's hook (kg.serve.threaded.early_answer: the 503 and a
closed connection), gives the evaluation's place to the next request, and calls `on_timeout`: the process is
to be replaced, which is what really stops the work (kg.serve.supervisor starts a fresh process with its own
copy, hands it the listening socket and kills this one once the new one answers from memory). Abandoned
evaluations burn a core until then, so no more than `size` places are given back: past that the pool shrinks
and clients wait, rather than the machine.

(Handing each query to an evaluator thread instead, and waiting for it with a timeout, cost 0.04 ms more CPU
per lookup at 1M quads, a fifth of what Oxigraph behind `http.server` spends on the whole request: two
thread switches and the GIL passed between them.)

Updates run in the same update process as with the worker pool (kg.serve.workers.Updater).
"""

from __future__ import annotations

import _thread
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .threaded import early_answer
from .worker import CHUNK, Job, PrefixedTurtle, _Handle, _Output, _Worker, store_signature
from .workers import (
    Answer,
    QueryTimeoutError,
    StoreWatch,
    Updater,
    WorkerError,
    WorkersBusyError,
    timeout_message,
    worker_config,
)

__all__ = ["SharedPool"]

#: The watchdog looks at the deadlines at least this often (seconds): the most a timeout is late by.
TICK = 0.1


class _Collected(_Output):
    """An answer gathered in memory: the head kept as values, the body as parts (nothing is sent early)."""

    def __init__(self) -> None:
        super().__init__(-1)
        self.status = 500
        self.headers: list[tuple[str, str]] = []

    def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.status, self.headers = status, headers + self.extra
        self.head = b""  # marks a head as given; nothing is framed

    def _send(self, end: bool = False) -> None:
        pass  # the parts stay where they are; the body is joined once, at the end

    def answer(self) -> Answer:
        if self.size >= CHUNK:  # as a worker's would be: sent on in chunks (the client sees no difference)
            return Answer(self.status, self.headers, chunks=iter(self.parts))
        return Answer(self.status, self.headers, body=b"".join(self.parts))


#: Where an answer came from (a diagnostic for operators and benchmarks), as a worker process says it.
_FROM_MEMORY = [("X-Newskg-Store", "memory")]
_FROM_DISK = [("X-Newskg-Store", "disk")]


class _SharedWorker(_Worker):
    """The worker's program run in threads: the one view of the store is chosen under a lock, for the
    versions of the store the pool knows of (a worker process reads them off each job's frame)."""

    def __init__(self, config: dict, versions: Callable[[], tuple[int, int]]) -> None:
        super().__init__(config)
        self.lock = threading.Lock()
        self.versions = versions
        # CONSTRUCT in Turtle evaluated and written in one call, the GIL let go throughout: each triple taken
        # back to Python made every thread of the server wait for the GIL (race.py, 4 clients: 1.41 and 1.07
        # times the CONSTRUCTs a second of the same server writing them from Python, 2.0 against 2.6 ms of CPU each)
        self.turtle = PrefixedTurtle(self.ox, self.prefixes)

    def pick(self, job: Job, out: _Output) -> object:
        generation, required = self.versions()
        handle = self.handle
        assert handle is not None
        if (
            handle.in_memory
            and generation == handle.generation >= required
            and handle._opening is None
            and handle._copying is None
        ):
            # The steady state (in memory, up to date, nothing under way): nothing to change, so no lock to
            # take; a swap by another thread replaces `store` in one assignment
            out.view = handle.view
            out.extra = _FROM_MEMORY
            return handle.store
        with self.lock:
            store = handle.current(generation, required)
            out.view = handle.view
            out.extra = _FROM_MEMORY if handle.in_memory else _FROM_DISK
            return store

    def reopen(self) -> None:
        with self.lock:
            super().reopen()


class _Running:
    """An evaluation under way: its deadline, and how to answer its client if it passes it."""

    __slots__ = ("answered", "claim", "deadline", "reply", "timeout")

    def __init__(self, timeout: float, reply: Callable[[int, list[tuple[str, str]], bytes], None] | None) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.reply = reply
        # Whoever takes `claim` first decides: the evaluation's thread when it finishes in time, else the
        # watchdog at the deadline. Locks of C, taken without waiting: nothing is shared between requests.
        self.claim = _thread.allocate_lock()
        self.answered = _thread.allocate_lock()  # released once the watchdog's answer is out
        self.answered.acquire()


class SharedPool(StoreWatch):
    """The worker pool's interface (`run`, `update`, `size`, `generation`, `close`) over one shared store."""

    def __init__(
        self,
        store: Path,
        *,
        size: int,
        max_rows: int,
        memory_quads: int = 0,
        base: str | None = None,
        prefixes: dict[str, str] | None = None,
        on_timeout: Callable[[], None] | None = None,
    ) -> None:
        self.store = Path(store)
        self.size = size
        self.config = worker_config(self.store, max_rows, memory_quads, base, prefixes)
        self.generation = 0  # bumped when the store's files change
        self.required = 0  # the version every query must see (bumped by updates made here)
        try:
            self.worker = _SharedWorker({**self.config, "mode": "query"}, lambda: (self.generation, self.required))
        except (OSError, RuntimeError) as exc:
            raise WorkerError(f"the store at {self.store} cannot be opened: {exc}") from None
        self.on_timeout = on_timeout
        self.abandoned = 0  # evaluations left running past the timeout
        self.updater = Updater(self.config)
        self._signature = store_signature(self.store)
        # Places for evaluations, as tokens in a queue of C (no lock in Python taken per request); the
        # watchdog sleeps on an event of its own (were it waiting on a condition the requests notify, each
        # request would wake it: a thread switch each)
        self._places: queue.SimpleQueue[object] = queue.SimpleQueue()
        for _ in range(size):
            self._places.put(object())
        self._stopping = threading.Event()
        self._running: set[_Running] = set()
        self._closed = False
        threading.Thread(target=self._watch, daemon=True, name="kg-store-watcher").start()
        threading.Thread(target=self._watchdog, daemon=True, name="kg-watchdog").start()

    @property
    def handle(self) -> _Handle:
        assert self.worker.handle is not None
        return self.worker.handle

    # -- the store ------------------------------------------------------------------------------

    def settled(self) -> bool:
        """The store is in memory, or will not be (too big, or --memory-quads 0): nothing more to wait for.

        Asking also swaps in a copy made in the background, as a query would."""
        with self.worker.lock:
            self.handle.current(self.generation, 0)
            return self.handle.settled

    # -- queries ----------------------------------------------------------------------------------

    def run(self, job: Job, timeout: float, wait: float | None = None) -> Answer:
        """Answer a query job in this thread; QueryTimeoutError past `timeout` of evaluation (the client has
        had its answer then), WorkersBusyError if no place was free within `wait` (the timeout unless given)."""
        if self._closed:
            raise WorkerError("the server is stopping")
        try:
            place = self._places.get(timeout=timeout if wait is None else wait)
        except queue.Empty:
            raise WorkersBusyError from None
        running = _Running(timeout, early_answer())
        self._running.add(running)
        out = _Collected()
        try:
            self.worker.answer(job, out)
        except Exception as exc:  # as a worker process does: say what happened, keep serving
            self.worker.error(out, 500, f"the query failed: {type(exc).__name__}: {exc}")
        if not running.claim.acquire(blocking=False):  # the watchdog was first: the client has its 503
            running.answered.acquire(timeout=5)  # once it is out: never two answers
            raise QueryTimeoutError
        self._running.discard(running)
        self._places.put(place)
        return out.answer()

    def _watchdog(self) -> None:
        """Answer the clients of evaluations past their deadline, give their places back, ask for a new process."""
        while not self._closed:
            now = time.monotonic()
            running_now = list(self._running)  # one operation under the GIL: no lock shared with requests
            late = [r for r in running_now if r.deadline <= now and r.claim.acquire(blocking=False)]
            if not late:
                soonest = min((r.deadline for r in running_now), default=now + TICK)
                self._stopping.wait(min(TICK, max(0.0, soonest - now)))
                continue
            for running in late:
                self._running.discard(running)
                self.abandoned += 1
                if self.abandoned <= self.size:
                    self._places.put(object())  # its place, while this process lasts
                if running.reply is not None:  # in a thread of its own: a client slow to read holds only that
                    threading.Thread(target=self._answer_late, args=(running,), daemon=True).start()
                else:  # no client to answer here (in-process use): the caller hears of it when the query ends
                    running.answered.release()
            if self.on_timeout is not None:
                self.on_timeout()

    @staticmethod
    def _answer_late(running: _Running) -> None:
        body = timeout_message(running.timeout).encode() + b"\n"
        try:
            assert running.reply is not None
            running.reply(503, [("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "1")], body)
        finally:
            running.answered.release()

    def close(self) -> None:
        self._closed = True
        self._stopping.set()
        self.updater.close()
