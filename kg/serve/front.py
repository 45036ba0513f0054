"""The front's connections: a thread serves a request only once its head has arrived whole.

gunicorn's threaded worker hands a readable connection to a thread, which then reads the request line
and headers with blocking reads and no time limit: a client that sends half a head and stops (a
half-open connection, a slowloris) holds that thread until it goes away, and as many such clients as
there are threads stop the whole server. A new connection that has sent nothing yet holds a thread
for five seconds too. And gunicorn reads an unlimited request line quadratically (each read copies
and searches all that came before it), so a 10 MB GET is refused only after minutes.

Here a thread reads only what is already waiting on the socket, without blocking. An incomplete
request goes back to the main loop's poller, which holds no thread, until more of it arrives: its head,
and its body when the head gives its length (up to `MAX_BUFFERED_BODY`). The head must be whole within
`HEAD_TIMEOUT` of its first byte and the body then arrive at `MIN_BODY_RATE` on average (else 408); the
request line must be at most `MAX_REQUEST_LINE` bytes (else 414) and the headers at most `MAX_HEADERS`
bytes (else 431), both refused as soon as the bytes received cross the limit, in time linear in what
was read. A body the front does not gather (chunked, larger, or awaiting `100 Continue`) is read by the
application with every wait for it bounded (`BODY_IDLE`, and the same average rate after
`BODY_GRACE` seconds), so a trickling body cannot hold a thread for long either (408).

Closing a connection lingers without blocking: gunicorn closes in its main loop, reading for up to
two seconds what the client still sends, and during that the loop accepts nobody; here the poller
drains it instead.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
import time
from functools import partial

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import _DEFER, TConn, ThreadWorker

from .heads import (
    BODY_GRACE,
    BODY_IDLE,
    FIRST_BYTES,
    HEAD_TIMEOUT,
    LINGER_CLOSE,
    MAX_BUFFERED_BODY,
    MAX_HEADERS,
    MAX_REQUEST_LINE,
    MIN_BODY_RATE,
    Head,
    HeadError,
    SlowRequestError,
    head_timeout,
)

__all__ = [
    "HEAD_TIMEOUT",
    "MAX_BUFFERED_BODY",
    "MAX_HEADERS",
    "MAX_REQUEST_LINE",
    "FrontWorker",
    "Head",
    "HeadError",
    "SlowRequestError",
    "TimedUnreader",
]

class TimedUnreader(SocketUnreader):
    """gunicorn's socket reader, with every wait for more of a body bounded (see the module doc)."""

    def begin(self) -> None:
        """A request starts: its body's clock starts."""
        self.started = time.monotonic()
        self.received = 0

    def chunk(self, size_hint: int | None = None) -> bytes:
        now = time.monotonic()
        started = getattr(self, "started", now)
        deadline = min(now + BODY_IDLE, started + BODY_GRACE + getattr(self, "received", 0) / MIN_BODY_RATE)
        wait = deadline - now
        poller = select.poll()  # not select(): a busy front has descriptors past FD_SETSIZE
        poller.register(self.sock, select.POLLIN)
        if wait <= 0 or not poller.poll(wait * 1000):
            raise SlowRequestError(
                f"the request's body stopped arriving or came slower than {MIN_BODY_RATE // 1024} kB/s"
            )
        data = super().chunk(size_hint)
        self.received = getattr(self, "received", 0) + len(data)
        return data


READY, WAIT, CLOSED = "ready", "wait", "closed"


class FrontWorker(ThreadWorker):
    """The front's gunicorn worker: heads read whole, within limits and time, before a thread serves them."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._lingering: list[tuple[float, socket.socket]] = []

    # -- in a thread ---------------------------------------------------------------------------

    def handle(self, conn: TConn) -> object:
        if not conn.initialized:
            if not conn.data_ready and not conn.wait_for_data(FIRST_BYTES):
                return _DEFER  # nothing sent yet: the poller waits for it, not a thread
            try:
                conn.init()
            except OSError:
                return False
            conn.parser.unreader = TimedUnreader(conn.sock)
        try:
            state = self._gather(conn)
        except HeadError as error:
            self._refuse(conn.sock, error)
            return False
        if state == WAIT:
            return _DEFER
        if state == CLOSED:
            return False
        conn.parser.unreader.begin()
        return ThreadWorker.handle(self, conn)

    def _gather(self, conn: TConn) -> str:
        """Read what waits on the socket into the head; READY when it is whole (and put back for
        gunicorn's parser), WAIT for more, CLOSED if the client went away."""
        unreader = conn.parser.unreader
        head: Head | None = getattr(conn, "kg_head", None)
        if head is None:
            head = Head(unreader.take_buffered())  # what the last request's read brought along
            conn.kg_head = head
        sock = conn.sock
        sock.setblocking(False)
        try:
            while not head.complete:
                try:
                    data = sock.recv(1 << 16)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError:
                    return CLOSED
                if not data:
                    return CLOSED  # gone before its head was whole: nothing to answer
                head.add(data)
        finally:
            with contextlib.suppress(OSError):
                sock.setblocking(True)
        if head.complete:
            conn.kg_head = None
            unreader.unread(bytes(head.data))
            return READY
        if not head.data:
            return WAIT  # an idle kept-alive connection: the keep-alive timeout applies
        if time.monotonic() > head.deadline:
            raise head_timeout()
        return WAIT

    def _refuse(self, sock: socket.socket, error: HeadError) -> None:
        with contextlib.suppress(OSError):
            sock.setblocking(False)
            sock.send(error.response())  # small: fits the socket's buffer, never waits

    # -- in the main loop ----------------------------------------------------------------------

    def finish_request(self, conn: TConn, fs: object) -> None:
        try:
            result = fs.result() if not fs.cancelled() else False  # type: ignore[attr-defined]
        except Exception:
            result = False
        if result is not _DEFER and not result:
            self.nr_conns -= 1
            self._linger(conn.sock)
            return
        super().finish_request(conn, fs)
        head: Head | None = getattr(conn, "kg_head", None)
        if result is _DEFER and head is not None and head.data:
            conn.timeout = head.deadline  # a request under way gets its own time, not keep-alive's

    def murder_pending(self) -> None:
        """Close pending connections past their time (the deque is not sorted: heads under way have
        their own deadline); a head under way is told 408 first."""
        now = time.monotonic()
        for conn in [c for c in self.pending_conns if c.timeout <= now]:
            self.pending_conns.remove(conn)
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            self.nr_conns -= 1
            head: Head | None = getattr(conn, "kg_head", None)
            if head is not None and head.data:
                self._refuse(conn.sock, head_timeout())
            self._linger(conn.sock)
        self._end_lingering(now)

    def _linger(self, sock: socket.socket) -> None:
        """Close after the client has stopped sending, or after LINGER_CLOSE: never in this loop's time."""
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            self.poller.register(sock, selectors.EVENT_READ, partial(self._drain, sock))
        except (OSError, KeyError, ValueError):
            with contextlib.suppress(OSError):
                sock.close()
            return
        self._lingering.append((time.monotonic() + LINGER_CLOSE, sock))

    def _drain(self, sock: socket.socket, _fileobj: object = None) -> None:
        for _ in range(16):
            try:
                data = sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._cut(sock)
                return

    def _cut(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(sock)
        with contextlib.suppress(OSError):
            sock.close()

    def _end_lingering(self, now: float) -> None:
        keep = []
        for deadline, sock in self._lingering:
            if sock.fileno() < 0:
                continue  # drained and closed already
            if deadline <= now:
                self._cut(sock)
            else:
                keep.append((deadline, sock))
        self._lingering = keep
