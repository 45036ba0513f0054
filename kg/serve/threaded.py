"""A thin HTTP/1.1 server for one process: a thread per connection, each request handed to a WSGI app.

With one shared store (kg.serve.shared) there is no front process to spare: the request is read, checked and
answered in the thread that evaluates it, and what it costs around the engine is what a request costs here.
gunicorn's Python HTTP handling (parser, environ, response object) cost 0.47 ms of CPU per lookup at 1M quads
against 0.21 ms for a whole lookup in Oxigraph behind the standard library's `http.server` (bench/README.md,
race.py). So this does what that reference does and no more: keep-alive, `TCP_NODELAY`, head and body in one
write (a head and a body sent apart wait 40 ms for the client's delayed ACK), and a plain WSGI environ for the
application (the SPARQL protocol in front of the Flask pages, kg.serve.sparql), so both run in the same
threads.

The limits of gunicorn's front (kg.serve.front) hold here too, with the same parser (kg.serve.heads): the head
must arrive whole within 10 s of its first byte (408), its request line within 1 MB (414) and headers within
64 kB (431), refused as soon as the bytes cross the limit; a body of known length is gathered with its head at
64 kB/s on average; an idle kept-alive connection is closed after `KEEPALIVE` seconds. A slow or idle client
holds its own thread only, never another's; past `MAX_CONNECTIONS` at once, a new one is told 503 and closed.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from functools import partial
from http import HTTPStatus
from io import BytesIO
from urllib.parse import unquote_to_bytes

from .heads import BODY_GRACE, BODY_IDLE, MIN_BODY_RATE, Head, HeadError, SlowRequestError, head_timeout

__all__ = ["KEEPALIVE", "MAX_CONNECTIONS", "ThreadedServer", "early_answer"]

#: Seconds an idle kept-alive connection stays open (as nginx).
KEEPALIVE = 75.0
#: Connections served at once; one more is answered 503 and closed.
MAX_CONNECTIONS = 1000
#: Seconds a write to a client may wait (a client that does not read its answer holds its thread this long).
SEND_TIMEOUT = 60.0

WSGIApp = Callable[[dict, Callable[..., object]], Iterable[bytes]]
#: A shortcut past WSGI for the plainest requests (see `ThreadedServer`): given a GET's target and its Accept
#: header, the status line, headers and body, or None for the WSGI application to answer.
Quick = Callable[[str, "str | None"], "tuple[str, list[tuple[str, str]], Iterable[bytes]] | None"]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
#: The header lines of a head, then its empty line: names are tokens, values hold no CR or LF (a bare LF is
#: refused, as gunicorn refuses it: a proxy and this server must not see different requests).
_HEADER_BLOCK = re.compile(r"(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+:[^\r\n]*\r\n)*\r\n")
_VERSIONS = frozenset({"HTTP/1.1", "HTTP/1.0"})
_PHRASES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}

#: The request this thread is serving: how to answer it before the application returns (see `early_answer`).
_current = threading.local()

Reply = Callable[[int, list[tuple[str, str]], bytes], None]


def early_answer() -> Reply | None:
    """How to answer the request this thread serves at once, from another thread, and drop its connection
    (kg.serve.shared's watchdog, at a timeout, while this thread is still inside Oxigraph); None outside a
    request of this server. What the application answers later is not sent."""
    return getattr(_current, "reply", None)


class BadRequestError(Exception):
    """A request that cannot be read: its status and a message for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Input:
    """A body the head did not bring along (chunked, too large to gather, or after `100 Continue`), read
    from the socket as the application asks for it, with every wait bounded as kg.serve.front does."""

    def __init__(self, sock: socket.socket, buffered: bytes, length: int | None, expect: bool) -> None:
        self.sock = sock
        self.buffer = bytearray(buffered)
        self.left = length  # bytes of body still to come; None: chunked
        self.expect = expect
        self.started = time.monotonic()
        self.received = 0
        self.chunk_left = 0
        self.finished = length == 0

    def _more(self) -> None:
        if self.expect:
            self.expect = False
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        now = time.monotonic()
        deadline = min(now + BODY_IDLE, self.started + BODY_GRACE + self.received / MIN_BODY_RATE)
        if deadline <= now:
            raise SlowRequestError(f"the request's body came slower than {MIN_BODY_RATE // 1024} kB/s")
        self.sock.settimeout(deadline - now)
        try:
            data = self.sock.recv(1 << 16)
        except TimeoutError:
            raise SlowRequestError(
                f"the request's body stopped arriving or came slower than {MIN_BODY_RATE // 1024} kB/s"
            ) from None
        finally:
            self.sock.settimeout(None)  # blocking again: see ThreadedServer._connection
        if not data:
            raise SlowRequestError("the client closed the connection before its body was whole")
        self.received += len(data)
        self.buffer += data

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._more()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _some(self, limit: int) -> bytes:
        """Up to `limit` bytes: what is buffered, else what the next read brings."""
        if not self.buffer:
            self._more()
        data = bytes(self.buffer[:limit])
        del self.buffer[:limit]
        return data

    def _line(self) -> bytes:
        while (at := self.buffer.find(b"\r\n")) < 0:
            if len(self.buffer) > 4096:
                raise BadRequestError(400, "a chunk's size line is too long")
            self._more()
        line = bytes(self.buffer[:at])
        del self.buffer[: at + 2]
        return line

    def read(self, size: int | None = -1) -> bytes:
        parts = []
        want = size if size is not None and size >= 0 else 1 << 62
        while want > 0 and not self.finished:
            if self.left is not None:
                data = self._some(min(want, self.left))
                self.left -= len(data)
                self.finished = self.left == 0
            else:
                if self.chunk_left == 0:
                    size_line = self._line().split(b";", 1)[0].strip()
                    try:
                        self.chunk_left = int(size_line, 16)
                    except ValueError:
                        raise BadRequestError(400, "a chunk's size is not a hexadecimal number") from None
                    if self.chunk_left == 0:
                        while self._line():  # trailers, up to the empty line
                            pass
                        self.finished = True
                        break
                data = self._some(min(want, self.chunk_left))
                self.chunk_left -= len(data)
                if self.chunk_left == 0:
                    self._take(2)  # the CRLF after a chunk
            parts.append(data)
            want -= len(data)
        return b"".join(parts)

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)  # a form body has no lines the application reads one by one

    def __iter__(self) -> Iterable[bytes]:
        while chunk := self.read(1 << 16):
            yield chunk


#: Header fields a request may carry and still take the shortcut (lowered): what any client sends, Accept and
#: Connection. Anything else (Origin: CORS headers; a body; Expect; Authorization...) goes to the WSGI application.
_PLAIN_FIELDS = frozenset(
    {"host", "accept", "accept-encoding", "accept-language", "user-agent", "cache-control", "connection"}
)


class ThreadedServer:
    """Serves `app` on `listener` (already bound and listening, perhaps shared with other processes).

    With `quick`, a GET whose head holds nothing but the usual fields (`_PLAIN_FIELDS`) is first offered to it,
    without a WSGI environ (the SPARQL protocol's plain query: kg.serve.sparql.SparqlProtocol.quick); it answers
    or declines, and a declined request goes to `app` as any other."""

    def __init__(
        self, app: WSGIApp, listener: socket.socket, *, keepalive: float = KEEPALIVE, quick: Quick | None = None
    ) -> None:
        self.app = app
        self.quick = quick
        self.listener = listener
        self.keepalive = keepalive
        host, port = listener.getsockname()[:2]
        self.server_name, self.server_port = str(host), str(port)
        self.stopping = False
        self._connections = 0
        # Requests being answered, as a set of their states: adding and discarding are single operations
        # under the GIL, so no lock is taken per request (four threads passing one lock around woke each
        # other up: a lock held across a switch of the GIL makes the others sleep on it).
        self._busy: set[int] = set()
        self._lock = threading.Lock()  # for the count of connections

    # -- accepting ----------------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Accept connections until `stop`; each gets a thread of its own."""
        listener = self.listener
        listener.settimeout(0.5)  # to notice `stop`
        while not self.stopping:
            try:
                sock, address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self.stopping:
                    return
                time.sleep(0.05)  # out of descriptors, or the connection went away before its accept
                continue
            with self._lock:
                full = self._connections >= MAX_CONNECTIONS
                if not full:
                    self._connections += 1
            if full:
                threading.Thread(target=_turn_away, args=(sock,), daemon=True).start()
                continue
            threading.Thread(target=self._connection, args=(sock, address), daemon=True, name="kg-http").start()

    def stop(self, grace: float) -> None:
        """Stop accepting; wait up to `grace` seconds for the requests being answered."""
        self.stopping = True
        deadline = time.monotonic() + grace
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.02)

    # -- one connection ----------------------------------------------------------------------------

    def _connection(self, sock: socket.socket, address: tuple) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # Blocking, with the kernel keeping the time (SO_RCVTIMEO, SO_SNDTIMEO): Python's own socket
            # timeout polls before every recv and send, a system call and a release of the GIL more each way.
            sock.settimeout(None)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(self.keepalive))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(SEND_TIMEOUT))
            pending = b""
            while not self.stopping:
                head = self._read_head(sock, pending)
                if head is None:
                    return
                keep, pending = self._request(sock, address, head)
                if not keep:
                    return
        except HeadError as error:
            with contextlib.suppress(OSError):
                sock.sendall(error.response())
        except OSError:
            pass
        finally:
            with self._lock:
                self._connections -= 1
            _close(sock)

    def _read_head(self, sock: socket.socket, pending: bytes) -> Head | None:
        """The next request's head (and the body of known length that comes with it), or None when the
        client closed or stayed idle past the keep-alive time."""
        if not pending:
            try:
                pending = sock.recv(1 << 16)  # waits up to the keep-alive time (SO_RCVTIMEO)
            except (BlockingIOError, TimeoutError):
                return None
            if not pending:
                return None
        head = Head(pending)
        if head.complete:
            return head  # the usual request, whole in one read: the socket stays as it is (no system call)
        try:
            while not head.complete:  # the rest of a head that came in pieces: each wait bounded
                remaining = head.deadline - time.monotonic()
                if remaining <= 0:
                    raise head_timeout()
                sock.settimeout(remaining)
                try:
                    data = sock.recv(1 << 16)
                except TimeoutError:
                    raise head_timeout() from None
                if not data:
                    return None  # gone before its head was whole: nothing to answer
                head.add(data)
        finally:
            sock.settimeout(None)
        return head

    def _request(self, sock: socket.socket, address: tuple, head: Head) -> tuple[bool, bytes]:
        """Answer one request; whether to keep the connection, and what came after the request."""
        state: dict[str, object] = {}
        self._busy.add(id(state))
        try:
            return self._answer(sock, address, head, state)
        finally:
            _current.reply = None
            self._busy.discard(id(state))  # (the early answer may have done it already)

    def _early(
        self, sock: socket.socket, state: dict, status: int, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """Answer now, from another thread, and close the connection (see `early_answer`)."""
        if state.get("sent"):
            return
        state["sent"] = state["abandoned"] = True
        lines = [f"HTTP/1.1 {_PHRASES.get(status, status)}", *(f"{n}: {v}" for n, v in headers)]
        lines += ["Access-Control-Allow-Origin: *", f"Content-Length: {len(body)}", "Connection: close"]
        with contextlib.suppress(OSError):
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # what the thread still inside the query writes goes nowhere
        self._busy.discard(id(state))  # a replaced server need not wait for this thread

    def _answer(self, sock: socket.socket, address: tuple, head: Head, state: dict) -> tuple[bool, bytes]:
        data = head.data
        end = head.end + head.body
        rest = bytes(data[end:])
        plain = self._plain_get(head) if self.quick is not None and not head.body else None
        if plain is not None:
            target, accept, keep = plain
            _current.reply = partial(self._early, sock, state)
            try:
                reply = self.quick(target, accept)  # type: ignore[misc]
            except Exception:
                return self._failed(sock, state), b""
            if state.get("abandoned"):
                return False, b""  # answered at the timeout; the connection is gone
            if reply is not None:
                state["status"], state["headers"] = reply[0], reply[1]
                return self._respond(sock, reply[2], state, keep and not self.stopping, False, True), rest
        try:
            environ, keep, body_input = self._environ(sock, address, head, rest)
        except BadRequestError as error:
            sock.sendall(HeadError(error.status, str(error)).response())
            return False, b""
        if body_input is not None:
            rest = b""  # what followed the head belongs to the body being read from the socket
        head_only = environ["REQUEST_METHOD"] == "HEAD"

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Callable:
            if exc_info and state.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])  # type: ignore[index]
            state["status"], state["headers"] = status, headers
            return _no_write

        _current.reply = partial(self._early, sock, state)
        try:
            result = self.app(environ, start_response)
        except Exception:
            return self._failed(sock, state), b""
        try:
            if state.get("abandoned"):
                return False, b""  # answered at the timeout; the connection is gone
            chunked = environ["SERVER_PROTOCOL"] == "HTTP/1.1"
            keep = self._respond(sock, result, state, keep and not self.stopping, head_only, chunked)
        except (SlowRequestError, BadRequestError) as error:
            if not state.get("sent"):
                status = 408 if isinstance(error, SlowRequestError) else error.status  # type: ignore[union-attr]
                sock.sendall(HeadError(status, str(error)).response())
            return False, b""
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if body_input is not None and not body_input.finished:
            return False, b""  # the application left part of the body unread: the stream is lost
        return keep, rest

    @staticmethod
    def _failed(sock: socket.socket, state: dict) -> bool:
        """The application failed (it raised): a 500, unless the early answer went out; the connection closes."""
        if not state.get("abandoned"):
            traceback.print_exc(file=sys.stderr)
            sock.sendall(HeadError(500, "the server failed to answer this request").response())
        return False

    def _respond(
        self, sock: socket.socket, result: Iterable[bytes], state: dict, keep: bool, head_only: bool, chunked: bool
    ) -> bool:
        """Send the answer: head and body in one write when the body is whole. Whether to keep the connection."""
        if isinstance(result, list | tuple):
            body = b"".join(result)
            chunks: Iterable[bytes] | None = None
        else:
            iterator = iter(result)
            first = next(iterator, None)  # the application calls start_response by its first chunk
            body = first or b""
            chunks = iterator if first is not None else None
        status, headers = state["status"], state["headers"]
        lines = [f"HTTP/1.1 {status}"]
        length = None
        for name, value in headers:  # type: ignore[attr-defined]
            lowered = name.lower()
            if lowered == "content-length":
                length = value
                continue
            if lowered == "connection":
                continue
            lines.append(f"{name}: {value}")
        code = int(str(status)[:3])
        streamed = chunks is not None and length is None and code not in (204, 304)
        if length is None and not streamed and code not in (204, 304) and code >= 200:
            lines.append(f"Content-Length: {len(body)}")
        if streamed:
            if chunked:
                lines.append("Transfer-Encoding: chunked")
            else:
                streamed = keep = False  # an HTTP/1.0 client: the close marks the end
        if length is not None:
            lines.append(f"Content-Length: {length}")
        if not keep:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        state["sent"] = True
        if head_only:
            sock.sendall(head)
            return keep
        if chunks is None:
            sock.sendall(head + body)
            return keep
        if streamed:
            sock.sendall(head + (b"%x\r\n%s\r\n" % (len(body), body) if body else b""))
            for chunk in chunks:
                if chunk:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
            return keep
        sock.sendall(head + body)
        for chunk in chunks:
            if chunk:
                sock.sendall(chunk)
        return keep

    def _plain_get(self, head: Head) -> tuple[str, str | None, bool] | None:
        """The target, the Accept header and whether to keep the connection, of a GET by HTTP/1.1 with nothing
        but `_PLAIN_FIELDS` in its head, each once; else None. The head is checked as `_environ` checks it."""
        text = head.data[head.line_start : head.end].decode("latin-1")
        line, _, header_block = text.partition("\r\n")
        if not line.startswith("GET /") or not line.endswith(" HTTP/1.1") or line.count(" ") != 2:
            return None
        if not _HEADER_BLOCK.fullmatch(header_block):
            return None  # (the WSGI path answers it 400)
        accept = None
        keep = True
        seen = set()
        for field in header_block[:-4].split("\r\n") if len(header_block) > 2 else ():
            name, _, value = field.partition(":")
            name = name.lower()
            if name not in _PLAIN_FIELDS or name in seen:
                return None
            seen.add(name)
            if name == "accept":
                accept = value.strip(" \t")
            elif name == "connection":
                keep = "close" not in value.lower()  # as `_environ` has it for HTTP/1.1
        return line[4:-9], accept, keep

    def _environ(
        self, sock: socket.socket, address: tuple, head: Head, rest: bytes
    ) -> tuple[dict, bool, _Input | None]:
        """The WSGI environ of a request (PEP 3333), whether the connection may be kept, and the body's
        reader when the head did not bring the body along."""
        text = head.data[head.line_start : head.end].decode("latin-1")
        line, _, header_block = text.partition("\r\n")
        if not _HEADER_BLOCK.fullmatch(header_block):  # one match for all the header lines
            raise BadRequestError(400, "the request's header lines cannot be read (NAME: value, each ending CRLF)")
        parts = line.split(" ")
        if len(parts) != 3 or parts[2] not in _VERSIONS or not _TOKEN.match(parts[0]):
            raise BadRequestError(400, "the request line must be 'METHOD TARGET HTTP/1.1'")
        method, target, version = parts
        environ: dict[str, object] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "SERVER_NAME": self.server_name,
            "SERVER_PORT": self.server_port,
            "SERVER_PROTOCOL": version,
            "REMOTE_ADDR": str(address[0]) if address else "",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        if target.startswith(("http://", "https://")):
            target = "/" + target.split("://", 1)[1].partition("/")[2]
        path, _, query = target.partition("?")
        environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1") if "%" in path else path
        environ["QUERY_STRING"] = query
        for field in header_block[:-4].split("\r\n") if len(header_block) > 2 else ():
            name, _, value = field.partition(":")
            key = name.upper().replace("-", "_")
            value = value.strip(" \t")
            if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
                if key in environ and environ[key] != value:
                    raise BadRequestError(400, f"the request has two different {name} headers")
                environ[key] = value
                continue
            key = "HTTP_" + key
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
        connection = str(environ.get("HTTP_CONNECTION", "")).lower()
        keep = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
        chunked = "HTTP_TRANSFER_ENCODING" in environ
        if chunked:
            if str(environ["HTTP_TRANSFER_ENCODING"]).lower() != "chunked":
                raise BadRequestError(501, "only the chunked transfer coding is understood")
            if "CONTENT_LENGTH" in environ:
                raise BadRequestError(400, "a request cannot have both Content-Length and Transfer-Encoding")
        length = 0
        if "CONTENT_LENGTH" in environ:
            if not str(environ["CONTENT_LENGTH"]).isdigit():
                raise BadRequestError(400, "the Content-Length header is not a number")
            length = int(str(environ["CONTENT_LENGTH"]))
        body_input = None
        if head.body or not (length or chunked):
            environ["wsgi.input"] = BytesIO(bytes(head.data[head.end : head.end + head.body]))
        else:  # not gathered with the head: read as the application asks for it
            expect = "100-continue" in str(environ.get("HTTP_EXPECT", "")).lower()
            body_input = _Input(sock, rest, None if chunked else length, expect)
            environ["wsgi.input"] = body_input
        return environ, keep, body_input


def _timeval(seconds: float) -> bytes:
    """A `struct timeval`, for SO_RCVTIMEO and SO_SNDTIMEO."""
    whole = int(seconds)
    return struct.pack("ll", whole, int((seconds - whole) * 1_000_000))


def _no_write(data: bytes) -> None:
    raise NotImplementedError("this server takes the body from the application's iterable, not write()")


def _turn_away(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.settimeout(1.0)
        sock.sendall(HeadError(503, "the server has too many connections open; try again shortly").response())
    _close(sock)


def _close(sock: socket.socket) -> None:
    """Close after telling the client we are done, and reading briefly what it still sends (a close with
    unread data would reset the connection and could lose the answer just sent)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(0.2)
        for _ in range(16):
            if not sock.recv(1 << 16):
                break
    with contextlib.suppress(OSError):
        sock.close()
