"""The threaded HTTP/1.1 server of `kg serve --threads-shared` (kg.serve.threaded), with a small WSGI app.

What a client may send and what it gets back, over real sockets on a free loopback port: keep-alive, one write
for a whole answer, bodies of known length, chunked or after `100 Continue`, answers streamed in chunks, HEAD,
heads that cannot be read, and an answer given early from another thread (the shared pool's timeout).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.client import HTTPConnection

import pytest

from kg.serve.threaded import ThreadedServer, early_answer


def echo(environ: dict, start_response) -> list[bytes] | Iterator[bytes]:
    """Says what it was asked, as JSON; /stream answers in three chunks of unknown total length;
    /early answers from another thread, then returns an answer that must never be sent."""
    path = environ["PATH_INFO"]
    if path == "/early":
        reply = early_answer()
        assert reply is not None
        threading.Thread(target=reply, args=(503, [("Content-Type", "text/plain")], b"too late\n")).start()
        threading.Event().wait(0.3)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"never sent"]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return iter([b"one ", b"two ", b"three"])
    body = environ["wsgi.input"].read()
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": path,
        "query": environ["QUERY_STRING"],
        "body": body.decode(),
        "accept": environ.get("HTTP_ACCEPT"),
        "type": environ.get("CONTENT_TYPE"),
    }
    data = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def shortcut(target: str, accept: str | None) -> tuple[str, list[tuple[str, str]], list[bytes]] | None:
    """A `quick` answerer: /quick answers what it was given; /decline leaves it to the app; /raise fails;
    /quick-early answers from another thread, then returns an answer that must never be sent."""
    if target.startswith("/quick-early"):
        reply = early_answer()
        assert reply is not None
        threading.Thread(target=reply, args=(503, [("Content-Type", "text/plain")], b"too late\n")).start()
        threading.Event().wait(0.3)
        return "200 OK", [("Content-Type", "text/plain")], [b"never sent"]
    if target.startswith("/quick"):
        return "200 OK", [("Content-Type", "text/plain")], [f"quick {target} {accept}".encode()]
    if target.startswith("/raise"):
        raise RuntimeError("the shortcut failed")
    return None


@contextmanager
def serving(quick: Callable | None = None) -> Iterator[tuple[str, int]]:
    listener = socket.create_server(("127.0.0.1", 0))
    server = ThreadedServer(echo, listener, keepalive=5, quick=quick)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[:2]
    finally:
        server.stop(1)
        thread.join(timeout=5)
        listener.close()


def exchange(address: tuple[str, int], data: bytes) -> bytes:
    """Send raw bytes, read until the server closes."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(data)
        parts = []
        while chunk := sock.recv(1 << 16):
            parts.append(chunk)
    return b"".join(parts)


@pytest.fixture(scope="module")
def address():
    with serving() as running:
        yield running


def test_a_kept_alive_connection_carries_requests_and_the_app_sees_a_plain_wsgi_environ(address):
    connection = HTTPConnection(*address, timeout=5)
    for n in range(3):
        connection.request("GET", f"/sparql?query=ASK%20%7B%7D&n={n}", headers={"Accept": "text/csv"})
        response = connection.getresponse()
        seen = json.loads(response.read())
        assert response.status == 200 and response.getheader("Content-Length")
        assert seen["path"] == "/sparql" and seen["query"] == f"query=ASK%20%7B%7D&n={n}"
        assert seen["accept"] == "text/csv"
    connection.request("POST", "/sparql", body=b"query=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    seen = json.loads(connection.getresponse().read())
    assert seen["body"] == "query=x" and seen["type"] == "application/x-www-form-urlencoded"
    connection.close()


def test_a_chunked_body_and_a_body_sent_after_100_continue_are_read(address):
    chunked = (
        b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        b"4\r\nASK \r\n3\r\n{ }\r\n0\r\n\r\n"
    )
    answer = exchange(address, chunked)
    assert answer.startswith(b"HTTP/1.1 200") and b'"body": "ASK { }"' in answer
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 20000000\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")


def test_an_answer_of_unknown_length_is_sent_in_chunks_and_head_gets_no_body(address):
    answer = exchange(address, b"GET /stream HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head and body == b"4\r\none \r\n4\r\ntwo \r\n5\r\nthree\r\n0\r\n\r\n"
    old_client = exchange(address, b"GET /stream HTTP/1.0\r\n\r\n")
    assert old_client.endswith(b"\r\n\r\none two three") and b"Connection: close" in old_client
    head_only = exchange(address, b"HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert head_only.startswith(b"HTTP/1.1 200") and head_only.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "head",
    [
        b"GET /x HTTP/1.1\nHost: a\n\n",  # bare LF
        b"GET /x HTTP/1.1\r\nHost a\r\n\r\n",  # no colon
        b"GET /x HTTP/1.1\r\n folded: value\r\n\r\n",  # obsolete line folding
        b"GET /x\r\n\r\n",  # no version
        b"GET /x HTTP/2.0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        b"POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
    ],
)
def test_a_head_that_cannot_be_read_is_answered_400_and_the_connection_closed(address, head):
    answer = exchange(address, head)
    assert answer.startswith(b"HTTP/1.1 400") and b"Connection: close" in answer


def test_an_early_answer_from_another_thread_is_the_only_answer_and_the_connection_closes(address):
    answer = exchange(address, b"GET /early HTTP/1.1\r\nHost: a\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 503") and answer.endswith(b"too late\n") and b"never sent" not in answer
    connection = HTTPConnection(*address, timeout=5)
    connection.request("GET", "/after")
    assert connection.getresponse().status == 200  # the server goes on


# -- the shortcut for plain GETs (kg.serve.sparql's plain query) ----------------------------------------------


@pytest.fixture(scope="module")
def quick_address():
    with serving(shortcut) as running:
        yield running


def test_a_plain_get_goes_to_the_shortcut_and_is_answered_on_a_kept_alive_connection(quick_address):
    connection = HTTPConnection(*quick_address, timeout=5)
    for n in range(3):
        connection.request("GET", f"/quick?n={n}", headers={"Accept": "text/csv", "User-Agent": "test"})
        response = connection.getresponse()
        assert response.status == 200 and response.read() == f"quick /quick?n={n} text/csv".encode()
        assert response.getheader("Content-Length") and response.getheader("Connection") is None
    connection.close()


@pytest.mark.parametrize(
    "head",
    [
        b"GET /quick HTTP/1.1\r\nHost: a\r\nOrigin: http://elsewhere\r\n\r\n",  # CORS: the application's
        b"GET /quick HTTP/1.1\r\nHost: a\r\nX-Other: 1\r\n\r\n",  # a field the shortcut does not know
        b"GET /quick HTTP/1.1\r\nHost: a\r\nAccept: a/b\r\nAccept: c/d\r\n\r\n",  # one field twice
        b"GET /quick HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab",  # a body
        b"HEAD /quick HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /quick HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        b"GET /quick HTTP/1.0\r\nHost: a\r\n\r\n",
        b"GET http://a/quick HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /decline HTTP/1.1\r\nHost: a\r\n\r\n",  # the shortcut says no
    ],
)
def test_any_request_more_than_a_plain_get_goes_to_the_application(quick_address, head):
    with socket.create_connection(quick_address, timeout=5) as sock:
        sock.sendall(head)
        answer = sock.recv(1 << 16)
    assert answer.startswith(b"HTTP/1.1 200") and not answer.partition(b"\r\n\r\n")[2].startswith(b"quick ")


def test_a_shortcut_answer_says_connection_close_when_asked_and_pipelined_requests_are_each_answered(quick_address):
    closed = exchange(quick_address, b"GET /quick HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    assert closed.startswith(b"HTTP/1.1 200") and b"Connection: close" in closed
    assert closed.endswith(b"quick /quick None")
    two = b"GET /quick?1 HTTP/1.1\r\nHost: a\r\n\r\nGET /quick?2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    answers = exchange(quick_address, two)
    assert answers.count(b"HTTP/1.1 200") == 2 and b"quick /quick?1" in answers and answers.endswith(b"/quick?2 None")


def test_a_shortcut_that_fails_is_a_500_and_the_server_goes_on(quick_address):
    answer = exchange(quick_address, b"GET /raise HTTP/1.1\r\nHost: a\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500") and b"Connection: close" in answer
    assert exchange(quick_address, b"GET /quick HTTP/1.1\r\nConnection: close\r\n\r\n").startswith(b"HTTP/1.1 200")


def test_an_early_answer_during_a_shortcut_is_the_only_answer_and_the_connection_closes(quick_address):
    answer = exchange(quick_address, b"GET /quick-early HTTP/1.1\r\nHost: a\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 503") and answer.endswith(b"too late\n") and b"never sent" not in answer


def test_a_head_the_shortcut_cannot_read_is_answered_400_as_without_it(quick_address):
    answer = exchange(quick_address, b"GET /quick HTTP/1.1\r\nHost a\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b"Connection: close" in answer
