"""Serve: the store as a SPARQL endpoint, a query page and a page for every entity and article.

`create_app` builds the Flask application (pages) with the SPARQL 1.1 Protocol handler in front of
it (/sparql, /update). By default (`threads_shared`), `serve` runs it in kg.serve.supervisor: one
serving process whose threads share one copy of the store, replaced when a query runs past the timeout
(which is what makes the timeout real: pyoxigraph cannot cancel a query). With `kg serve
--worker-processes`, it runs under gunicorn instead, and queries are evaluated by Oxigraph in worker
processes (kg.serve.workers), each with its copy, a worker killed at the timeout.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from ..namespaces import PREFIXES, Iris
from ..settings import Settings, service_allow_list
from ..store.store import StoreError
from . import description
from .sparql import Policy, SparqlProtocol
from .workers import WorkerError, WorkerPool

if TYPE_CHECKING:
    from gunicorn.app.base import BaseApplication

    from .shared import SharedPool

__all__ = ["Site", "create_app", "serve"]


@dataclass
class Site:
    """What the pages and the protocol share: the settings, the minted IRIs and the workers."""

    settings: Settings
    iris: Iris
    pool: WorkerPool | SharedPool
    policy: Policy

    def describe(self, endpoint: str, fmt: str) -> tuple[str, bytes]:
        turtle = description.service_turtle(
            endpoint,
            corpus_graph=self.iris.corpus_graph,
            updates=bool(self.policy.update_token),
            federation=bool(self.policy.service_allow),
            timeout=self.policy.timeout,
            max_rows=self.settings.max_rows,
            union=self.policy.union_default,
        )
        return description.render(turtle, fmt)


def worker_count(settings: Settings) -> int:
    """Query workers: as set, else one per core (at least two, so one long query blocks nobody)."""
    return settings.query_workers or max(2, os.cpu_count() or 2)


#: Bytes a quad takes in a copy of the store in memory (measured: 541 MB for 1.04M quads, 1,930 MB for 5.04M).
BYTES_PER_QUAD = 520


def memory_budget(settings: Settings, copies: int) -> int:
    """The most quads a store may hold for the server to copy it into memory: `--memory-quads` when set, else
    what `copies` copies fit in a quarter of the machine's memory (or of the cgroup's limit, in a container).

    A copy answers joins three to six times faster than RocksDB on disk. One shared copy can afford what a
    copy per worker cannot: on 24 GiB, 12M quads for one copy, 6M each for two workers."""
    if settings.memory_quads is not None:
        return settings.memory_quads
    return machine_memory() // 4 // BYTES_PER_QUAD // max(1, copies)


#: cgroup v2's memory limit for this process's group ("max": none), as a container sets it.
CGROUP_MEMORY = Path("/sys/fs/cgroup/memory.max")


def machine_memory(cgroup: Path = CGROUP_MEMORY) -> int:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit when that is lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = cgroup.read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def thread_count(settings: Settings) -> int:
    """Request threads in front of the query workers: two per worker and two more (a request in flight
    holds a thread while its worker evaluates; the rest serve pages and waiting clients)."""
    return max(6, 2 * worker_count(settings) + 2)


def create_app(settings: Settings, *, pool: WorkerPool | SharedPool | None = None) -> Flask:
    """The web application over the store in `settings.store` (which must exist)."""
    store = Path(settings.store)
    if pool is None:
        if not (store / "CURRENT").is_file():
            raise StoreError(f"no store at {store} (build one with 'kg build')")
        try:
            pool = WorkerPool(
                store,
                size=worker_count(settings),
                max_rows=settings.max_rows,
                memory_quads=memory_budget(settings, worker_count(settings)),
                base=settings.base,
                prefixes=PREFIXES,
            )
        except WorkerError as exc:
            raise StoreError(str(exc)) from None
    policy = Policy(
        timeout=settings.timeout,
        max_request_bytes=settings.max_request_bytes,
        update_token=settings.update_token or None,
        service_allow=service_allow_list(settings),
        union_default=settings.default_graph != "standard",
    )
    site = Site(settings, Iris(settings.base), pool, policy)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["newskg"] = site
    from .pages import pages

    app.register_blueprint(pages)
    app.wsgi_app = SparqlProtocol(app.wsgi_app, pool, policy, site.describe)  # type: ignore[method-assign]
    return app


def close_app(app: Flask) -> None:
    """Stop the app's worker processes."""
    site: Site = app.extensions["newskg"]
    site.pool.close()


def serve(settings: Settings, *, ready: Callable[[str], None] | None = None, threads: int | None = None) -> None:
    """Run the endpoint until interrupted (Ctrl-C or SIGTERM); `ready` gets the URL.

    By default, kg.serve.supervisor runs the serving process and replaces it. With worker processes, one
    gunicorn process (gthread: a thread per request in flight, taking a request only once it has arrived
    whole (kg.serve.front)) fronts the query workers; the queries themselves run in the worker processes,
    so one front process is enough and keeps one pool, one update lock and one view of the store. Runs in
    the main thread (gunicorn's master process, or the supervisor, handles the signals).
    """
    store = Path(settings.store)
    if not (store / "CURRENT").is_file():
        raise StoreError(f"no store at {store} (build one with 'kg build')")
    if settings.threads_shared:
        from .supervisor import serve_shared

        serve_shared(settings, ready)
        return
    if settings.port:
        _check_address(settings.host, settings.port)
    try:
        _gunicorn(settings, ready, threads).run()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise StoreError(f"the server stopped with exit code {stop.code} (see the messages above)") from None


def _check_address(host: str, port: int) -> None:
    """Fail at once, in one line, if the address is taken (gunicorn would retry for five seconds, then log)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc} (another server? choose another --port)"
            ) from None


def _gunicorn(settings: Settings, ready: Callable[[str], None] | None, threads: int | None) -> BaseApplication:
    """gunicorn's master process, set up from our settings; its worker loads the app."""
    from gunicorn.app.base import BaseApplication

    from .front import FrontWorker

    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    options: dict[str, object] = {
        "bind": f"{host}:{settings.port}",
        "workers": 1,  # the front; the queries run in the pool's processes
        # gthread, reading heads whole before a thread takes them (kg.serve.front)
        "worker_class": FrontWorker,
        "threads": threads or thread_count(settings),
        "timeout": max(60, int(settings.timeout) + 30),  # the front's heartbeat, not the query timeout
        "graceful_timeout": 5,  # requests in flight get this long to finish on SIGTERM
        "keepalive": 75,  # seconds an idle keep-alive connection stays open (as nginx)
        "limit_request_line": 0,  # gunicorn's own cap is 8 kB; kg.serve.front enforces ours (414)
        "loglevel": "warning",
        "post_worker_init": _announce(ready),
        "worker_exit": _stop_pool,
    }

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for name, value in options.items():
                self.cfg.set(name, value)
            if "control_socket_disable" in self.cfg.settings:
                self.cfg.set("control_socket_disable", True)  # no shared control socket under $HOME

        def load(self) -> Flask:
            return create_app(settings)

    return Application()


def _announce(ready: Callable[[str], None] | None) -> Callable[[object], None]:
    """A post_worker_init hook: tell `ready` the URL once the first worker can answer."""

    def hook(worker: object) -> None:
        if ready is None or getattr(worker, "age", 1) != 1:
            return
        address = worker.sockets[0].getsockname()  # type: ignore[attr-defined]
        host = address[0] if ":" not in address[0] else f"[{address[0]}]"
        ready(f"http://{host}:{address[1]}/")
        sys.stdout.flush()

    return hook


def _stop_pool(server: object, worker: object) -> None:
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        close_app(app)
