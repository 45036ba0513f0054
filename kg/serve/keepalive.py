"""Keep-alive: a connection stays with the thread that answered it for a moment, for its next request.

gunicorn's threaded worker hands a kept-alive connection back to its main thread after every response,
and the next request on it goes from the main thread's poller to a pool thread again: two hand-offs
between threads per request, about 0.2 ms of a 1 ms round trip on a 2-core machine. A client that asks
question after question (a script, a notebook loop, a crawler of entity pages) sends its next request
within milliseconds, so the thread that answered waits a little for it on the connection itself. It
stops waiting as soon as another connection needs a thread, so no one waits behind an idle client.
"""

from __future__ import annotations

import select
import threading

from gunicorn.workers.gthread import ThreadWorker

#: Seconds a thread waits on its connection for the next request before handing it back.
LINGER = 0.1
#: How often a waiting thread looks whether another connection needs it (seconds).
GLANCE = 0.002


class KeepAliveWorker(ThreadWorker):
    """gunicorn's gthread worker, with a thread keeping a busy connection for its next request."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._queued = 0  # requests handed to the thread pool and not yet picked up
        self._queued_lock = threading.Lock()

    def enqueue_req(self, conn: object) -> None:
        with self._queued_lock:
            self._queued += 1
        super().enqueue_req(conn)

    def handle(self, conn: object) -> object:
        with self._queued_lock:
            self._queued -= 1
        keep = self.serve_one(conn)
        while keep is True and self.alive and self._next_request_arrives(conn):
            keep = self.serve_one(conn)
        return keep

    def serve_one(self, conn: object) -> object:
        """One request on the connection (kg.serve.front reads its head first)."""
        return super().handle(conn)

    def _next_request_arrives(self, conn: object) -> bool:
        """True when the connection has its next request within LINGER and no other needs this thread."""
        try:
            if conn.parser.unreader.buf.getvalue():  # type: ignore[attr-defined]
                return True  # already read ahead with the last request's body
            poller = select.poll()
            poller.register(conn.sock, select.POLLIN)  # type: ignore[attr-defined]
        except (AttributeError, OSError, ValueError):
            return False
        for _ in range(round(LINGER / GLANCE)):
            if self._queued:
                return False
            try:
                if poller.poll(GLANCE * 1000):
                    return True
            except OSError:
                return False
        return False
