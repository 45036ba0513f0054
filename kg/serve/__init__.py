"""Serve: the store as a SPARQL endpoint, a query page and a page for every entity and article.

`create_app` builds the Flask application (pages) with the SPARQL 1.1 Protocol handler in front of
it (/sparql, /update); `serve` runs it under waitress, a production WSGI server. Queries are
evaluated by Oxigraph in worker processes (kg.serve.workers), which is what makes the timeout real.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from ..namespaces import PREFIXES, Iris
from ..settings import Settings, service_allow_list
from ..store import StoreError
from . import description
from .sparql import Policy, SparqlProtocol
from .workers import WorkerError, WorkerPool

__all__ = ["Site", "create_app", "serve"]


@dataclass
class Site:
    """What the pages and the protocol share: the settings, the minted IRIs and the workers."""

    settings: Settings
    iris: Iris
    pool: WorkerPool
    policy: Policy

    def describe(self, endpoint: str, fmt: str) -> tuple[str, bytes]:
        turtle = description.service_turtle(
            endpoint,
            corpus_graph=self.iris.corpus_graph,
            updates=bool(self.policy.update_token),
            federation=bool(self.policy.service_allow),
            timeout=self.policy.timeout,
            max_rows=self.settings.max_rows,
        )
        return description.render(turtle, fmt)


def worker_count(settings: Settings) -> int:
    """Query workers: as set, else one per core (at least two, so one long query blocks nobody)."""
    return settings.query_workers or max(2, os.cpu_count() or 2)


def create_app(settings: Settings, *, pool: WorkerPool | None = None) -> Flask:
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
                memory_quads=settings.memory_quads,
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
    """Run the endpoint under waitress until interrupted (Ctrl-C or SIGTERM); `ready` gets the URL."""
    from waitress.server import create_server

    app = create_app(settings)
    site: Site = app.extensions["newskg"]
    server = create_server(
        app,
        host=settings.host,
        port=settings.port,
        threads=threads or max(6, 2 * site.pool.size + 2),
        max_request_body_size=settings.max_request_bytes,
        channel_timeout=max(120, int(settings.timeout) + 30),
        ident="newskg",
        clear_untrusted_proxy_headers=True,
    )
    # waitress warns at every request that waits for a thread; the timeout and the 503s already tell of overload
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    try:
        if ready is not None:
            ready(f"http://{host}:{server.effective_port}/")  # type: ignore[union-attr]
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        close_app(app)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
