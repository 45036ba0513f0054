"""A request's head as its bytes arrive: measured once each, against the limits of both fronts.

Both ways of serving share it: gunicorn's threaded worker (kg.serve.front) and the threaded server of one
shared store (kg.serve.threaded). Reading an unlimited request line by searching all that came before at
each read is quadratic (a 10 MB GET once took minutes to refuse); here each byte is looked at once, and a
head is refused as soon as the bytes received cross a limit: 414 for the request line, 431 for the headers,
408 when it does not arrive whole within `HEAD_TIMEOUT` of its first byte (and a body at `MIN_BODY_RATE`).
"""

from __future__ import annotations

import re
import time
from http import HTTPStatus

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


def head_timeout() -> HeadError:
    return HeadError(
        408,
        f"the request did not arrive whole in time: its head within {HEAD_TIMEOUT:g} s, "
        f"its body at {MIN_BODY_RATE // 1024} kB/s",
    )
