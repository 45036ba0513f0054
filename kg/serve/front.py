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
import re
import select
import selectors
import socket
import time
from functools import partial
from http import HTTPStatus

from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers.gthread import _DEFER, TConn, ThreadWorker

#: Seconds a request's head (request line and headers) may take to arrive, from its first byte.
HEAD_TIMEOUT = 10.0
#: Longest request line (method, target, version) in bytes. Longer queries are POSTed.
MAX_REQUEST_LINE = 1 << 20
#: Largest headers, in bytes, all together.
MAX_HEADERS = 64 << 10
#: Largest body gathered before a thread takes the request (a SPARQL query or update is far smaller).
MAX_BUFFERED_BODY = 16 << 20
#: Seconds a new connection's thread waits for the first bytes before giving it to the poller.
FIRST_BYTES = 0.01
#: Seconds a body may pause; and it must arrive at MIN_BODY_RATE bytes/s after BODY_GRACE seconds.
BODY_IDLE = 10.0
BODY_GRACE = 10.0
MIN_BODY_RATE = 64 << 10
#: Seconds a closed connection is drained for (its client may still be sending) before it is cut.
LINGER_CLOSE = 2.0


class SlowRequestError(TimeoutError):
    """A request's body stopped arriving, or arrives too slowly (answered 408)."""


class HeadError(Exception):
    """A head that will not be served: the status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> bytes:
        body = (self.message + "\n").encode()
        phrase = HTTPStatus(self.status).phrase
        head = (
            f"HTTP/1.1 {self.status} {phrase}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body


class Head:
    """The bytes of a request's head as they arrive, measured once each, against the limits."""

    def __init__(self, data: bytes = b"") -> None:
        self.data = bytearray()
        self.started = time.monotonic()
        self.line_start = -1  # where the request line starts (after one optional empty line)
        self.line_end = -1  # the offset of the request line's newline, once seen
        self.end = -1  # the offset just past the head's blank line, once seen
        self.body = 0  # bytes of body to gather after the head (its Content-Length, when gathered here)
        self._scanned = 0
        if data:
            self.add(data)

    @property
    def complete(self) -> bool:
        """The head is whole, and so is the body the front gathers."""
        return self.end >= 0 and len(self.data) >= self.end + self.body

    @property
    def deadline(self) -> float:
        """When the request must be whole: the head's time, and more for each byte of body that came."""
        body = max(0, len(self.data) - self.end) if self.end >= 0 else 0
        return self.started + HEAD_TIMEOUT + body / MIN_BODY_RATE

    def add(self, data: bytes) -> None:
        """Take more bytes; HeadError when the request line or the headers are over their limit."""
        self.data += data
        data = self.data
        if self.line_start < 0:
            if len(data) < 2 and data[:1] == b"\r":
                return
            self.line_start = 2 if data[:2] == b"\r\n" else 0
            self._scanned = self.line_start
        if self.end >= 0:
            return  # the head is whole: what comes now is body
        if self.line_end < 0:
            found = data.find(b"\n", self._scanned)
            if found < 0:
                self._scanned = len(data)
                if len(data) - self.line_start > MAX_REQUEST_LINE:
                    raise _line_too_long()
                return
            if found - self.line_start > MAX_REQUEST_LINE + 1:  # +1: the \r before it
                raise _line_too_long()
            self.line_end = found
            self._scanned = found
        # The head ends at an empty line: LF CR LF, or LF LF (a bare LF, which gunicorn then refuses).
        start = max(self._scanned - 2, self.line_end)
        ends = [i for i in (data.find(b"\n\r\n", start), data.find(b"\n\n", start)) if i >= 0]
        if ends:
            at = min(ends)
            self.end = at + (3 if data[at + 1 : at + 2] == b"\r" else 2)
            if self.end - self.line_end > MAX_HEADERS:
                raise _headers_too_large()
            self.body = _body_to_gather(bytes(data[self.line_end : self.end]))
            return
        self._scanned = len(data)
        if len(data) - self.line_end > MAX_HEADERS:
            raise _headers_too_large()


_CONTENT_LENGTH = re.compile(rb"(?im)^content-length[ \t]*:[ \t]*([0-9]{1,12})[ \t]*\r?$")
_NOT_GATHERED = re.compile(rb"(?im)^(?:transfer-encoding|expect)[ \t]*:")


def _body_to_gather(headers: bytes) -> int:
    """The body's length, if the front gathers it: not a chunked body, nor one whose client waits for
    `100 Continue` before sending it, nor one over MAX_BUFFERED_BODY (gunicorn and the application
    deal with those, the application refusing one over its size limit without reading it)."""
    found = _CONTENT_LENGTH.search(headers)
    if found is None or _NOT_GATHERED.search(headers):
        return 0
    length = int(found.group(1))
    return length if length <= MAX_BUFFERED_BODY else 0


def _line_too_long() -> HeadError:
    return HeadError(
        414,
        f"the request line is longer than this server's limit of {MAX_REQUEST_LINE} bytes: "
        "send a long query by POST (application/sparql-query, or query= in a form)",
    )


def _headers_too_large() -> HeadError:
    return HeadError(431, f"the request's headers are larger than this server's limit of {MAX_HEADERS} bytes")


def _head_timeout() -> HeadError:
    return HeadError(
        408,
        f"the request did not arrive whole in time: its head within {HEAD_TIMEOUT:g} s, "
        f"its body at {MIN_BODY_RATE // 1024} kB/s",
    )


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
            raise _head_timeout()
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
                self._refuse(conn.sock, _head_timeout())
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
