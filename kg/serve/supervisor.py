"""`kg serve`, as it comes: one serving process with one copy of the store, and a supervisor that replaces it.

A thread cannot be stopped in the middle of an Oxigraph evaluation (pyoxigraph 0.5 has no cancellation), so the
timeout is made real the way the worker pool makes it real, by ending a process, but the process is the whole
server: the supervisor (this module's `serve_shared`, in the `kg serve` process) owns the listening socket and
starts a serving process (`child_main`: kg.serve.shared's pool behind kg.serve.threaded's server, pages and
protocol in the same threads) that inherits it. When a query runs past the timeout, its client gets the 503 at
once and the serving process asks to be replaced; the supervisor starts a fresh one, which opens the store and
copies it into memory while the old one goes on answering, then tells the new one to accept and the old one to
stop: the old one finishes the requests it is answering (for up to `REPLACE_GRACE` seconds) and is killed, and
with it the runaway evaluations. Memory is two copies for that minute, one otherwise; a serving process that dies
is replaced at once (then the new one answers from disk until its copy is made, as a new worker does).

The messages between them are lines: the supervisor writes the settings (pickled) and then `go` or `stop` on the
child's stdin; the child writes `serving` (the store is open), `memory` (its copy is made, or will not be),
`recycle` (a query ran past the timeout) or `failed <why>` on a pipe of its own.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..settings import Settings
from ..store.store import StoreError

__all__ = ["child_main", "serve_shared", "shared_threads"]

#: Seconds a replaced serving process gets to finish the requests it is answering before it is killed.
REPLACE_GRACE = 10.0
#: Seconds the whole server gives requests in flight when it is stopped (SIGTERM, Ctrl-C), as gunicorn did.
STOP_GRACE = 5.0
#: Seconds a replacement may take to copy the store into memory before it takes over anyway (from disk).
COPY_LIMIT = 600.0
#: Seconds the first serving process may take to open the store.
START_LIMIT = 120.0


def shared_threads(settings: Settings) -> int:
    """Evaluator threads: as set with --query-workers, else two per core and at least four.

    Threads share the one copy, so more of them cost no memory; at 1M quads on two cores, eight aggregates
    took 0.70 s on one thread, 0.44 s on two and 0.34 s on four (Oxigraph lets go of the GIL)."""
    return settings.query_workers or max(4, 2 * (os.cpu_count() or 2))


class _SignalledError(Exception):
    """SIGTERM or SIGINT reached the supervisor."""


class _Child:
    """A serving process as the supervisor sees it: its control lines in, its messages out."""

    def __init__(self, settings: Settings, listener: socket.socket, *, go_when_serving: bool) -> None:
        read_end, write_end = os.pipe()
        kg_root = str(Path(__file__).resolve().parent.parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (kg_root, env.get("PYTHONPATH", "")) if p)
        code = "import sys; from kg.serve.supervisor import child_main; child_main(int(sys.argv[1]), int(sys.argv[2]))"
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(listener.fileno()), str(write_end)],
            stdin=subprocess.PIPE,
            pass_fds=(listener.fileno(), write_end),
            env=env,
        )
        os.close(write_end)
        self.fd = read_end
        self.buffer = b""
        self.state = "starting"
        self.started = time.monotonic()
        self.go_when_serving = go_when_serving
        self.stop_by: float | None = None
        self.reason = ""
        self.tell_bytes(pickle.dumps(settings, protocol=pickle.HIGHEST_PROTOCOL))

    def tell_bytes(self, data: bytes) -> None:
        with contextlib.suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def tell(self, word: str) -> None:
        self.tell_bytes(word.encode() + b"\n")

    def messages(self) -> list[str]:
        """What the child said since last asked; ["exited"] at the end of its pipe."""
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            data = b""
        if not data:
            return ["exited"]
        self.buffer += data
        *lines, self.buffer = self.buffer.split(b"\n")
        return [line.decode("utf-8", "replace") for line in lines]

    def stop(self, grace: float) -> None:
        self.tell("stop")
        self.stop_by = time.monotonic() + grace + 2

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise OSError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (another server? choose another --port)"
        ) from None
    listener.listen(1024)
    listener.set_inheritable(True)
    return listener


def serve_shared(settings: Settings, ready: Callable[[str], None] | None = None) -> None:
    """Run the server until SIGTERM or Ctrl-C: one serving process at a time, replaced past a timeout."""
    listener = _listen(settings.host, settings.port)
    address = listener.getsockname()
    host = address[0] if ":" not in address[0] else f"[{address[0]}]"
    url = f"http://{host}:{address[1]}/"

    def stop_signal(signum: int, frame: object) -> None:
        raise _SignalledError

    previous = {sig: signal.signal(sig, stop_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    current = _Child(settings, listener, go_when_serving=True)
    pending: _Child | None = None
    leaving: list[_Child] = []
    announced = False
    retry_at: float | None = None  # a replacement failed: when to try again
    try:
        while True:
            now = time.monotonic()
            if not announced and current.state == "starting" and now - current.started > START_LIMIT:
                raise StoreError(f"the server did not open the store within {START_LIMIT:g} s")
            if retry_at is not None and now >= retry_at and pending is None:
                retry_at = None
                pending = _Child(settings, listener, go_when_serving=False)
            if pending is not None and pending.state == "serving" and now - pending.started > COPY_LIMIT:
                pending.state = "memory"  # its copy is taking too long: take over from disk
            if pending is not None and pending.state == "memory":
                pending.tell("go")
                current.stop(REPLACE_GRACE)
                leaving.append(current)
                current, pending = pending, None
            for child in list(leaving):
                if child.proc.poll() is not None or (child.stop_by is not None and now > child.stop_by):
                    child.kill()  # the runaway evaluations end with it
                    leaving.remove(child)
            children = {c.fd: c for c in (current, pending, *leaving) if c is not None}
            readable, _, _ = select.select(list(children), [], [], 0.5)
            for fd in readable:
                child = children[fd]
                for message in child.messages():
                    word, _, rest = message.partition(" ")
                    if word == "serving":
                        child.state = "serving"
                        if child.go_when_serving:
                            child.tell("go")
                            if not announced and ready is not None:
                                ready(url)
                                sys.stdout.flush()
                            announced = True
                    elif word == "memory" and child.state == "serving":
                        child.state = "memory"
                    elif word == "recycle" and child is current and pending is None and retry_at is None:
                        pending = _Child(settings, listener, go_when_serving=False)
                    elif word == "failed":
                        child.reason = rest
                    elif word == "exited":
                        child.kill()
                        if child in leaving:
                            leaving.remove(child)
                        elif child is pending:
                            print(f"kg serve: a replacement server failed: {child.reason}", file=sys.stderr)
                            pending, retry_at = None, time.monotonic() + 5
                        elif child is current:
                            if not announced:
                                raise StoreError(child.reason or "the server stopped before it could answer")
                            print("kg serve: the serving process stopped; starting another", file=sys.stderr)
                            if pending is not None:  # the replacement takes over at once, from disk if need be
                                pending.go_when_serving = True
                                if pending.state != "starting":
                                    pending.tell("go")
                                current, pending = pending, None
                            else:
                                current = _Child(settings, listener, go_when_serving=True)
    except _SignalledError:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        everyone = [c for c in (current, pending, *leaving) if c is not None]
        for child in everyone:
            child.tell("stop")
        deadline = time.monotonic() + STOP_GRACE + 2
        for child in everyone:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            child.kill()
        listener.close()


# -- the serving process ---------------------------------------------------------------------------------


def child_main(listen_fd: int, message_fd: int) -> None:
    """A serving process: the shared pool and the app behind the threaded server, on the inherited socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the supervisor decides
    control = sys.stdin.buffer
    settings: Settings = pickle.load(control)
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock, contextlib.suppress(OSError):
            os.write(message_fd, (line.replace("\n", " ") + "\n").encode())

    asked = threading.Event()

    def recycle() -> None:
        if not asked.is_set():
            asked.set()
            say("recycle")

    from ..namespaces import PREFIXES
    from . import create_app, memory_budget
    from .shared import SharedPool
    from .sparql import SparqlProtocol
    from .threaded import ThreadedServer
    from .workers import WorkerError

    try:
        pool = SharedPool(
            Path(settings.store),
            size=shared_threads(settings),
            max_rows=settings.max_rows,
            memory_quads=memory_budget(settings, 1),
            base=settings.base,
            prefixes=PREFIXES,
            on_timeout=recycle,
        )
    except WorkerError as exc:
        say(f"failed {exc}")
        os._exit(1)
    app = create_app(settings, pool=pool)
    listener = socket.socket(fileno=listen_fd)
    protocol = app.wsgi_app
    assert isinstance(protocol, SparqlProtocol)
    server = ThreadedServer(app, listener, quick=protocol.quick)  # plain queries skip the WSGI environ
    say("serving")

    def watch_copy() -> None:
        while not pool.settled():
            time.sleep(0.25)
        say("memory")

    threading.Thread(target=watch_copy, daemon=True, name="kg-copy-watch").start()
    grace = STOP_GRACE
    for line in iter(control.readline, b""):
        word = line.strip().decode()
        if word == "go":
            threading.Thread(target=server.serve_forever, daemon=True, name="kg-accept").start()
        elif word == "stop":
            grace = REPLACE_GRACE if asked.is_set() else STOP_GRACE
            break
    server.stop(grace)  # the supervisor's pipe closed (it is gone) or it said stop
    pool.close()
    os._exit(0)
