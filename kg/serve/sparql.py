"""The SPARQL 1.1 Protocol at /sparql and /update: requests in, Oxigraph's bytes out.

A plain WSGI handler put in front of the Flask application (Flask's `wsgi_app` middleware pattern):
a query is parsed from the request, checked, handed to a worker and its answer passed through
without ever being decoded here. Everything about a request that can be wrong is answered with a
4xx status and a message that says what to change; 5xx means the server or the store failed.
"""

from __future__ import annotations

import codecs
import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qs
from urllib.parse import unquote as urllib_unquote

from .. import formats
from ..formats import Family, media_types
from .tokens import inspect, needs_inspection, refused_remote, too_deep, with_using
from .workers import Answer, Job, QueryTimeoutError, WorkerError, WorkerPool, WorkersBusyError, timeout_message

if TYPE_CHECKING:
    from .shared import SharedPool

StartResponse = Callable[..., object]
WSGIApp = Callable[[dict, StartResponse], Iterable[bytes]]


#: What lets a page from another origin read the answers (browser SPARQL tools). Sent when the request
#: carries `Origin`, which a browser adds to every cross-origin request (Fetch standard, "CORS protocol"):
#: scripts and command-line clients, which do not send it, are spared five header lines an answer. Since the
#: headers then depend on the request's Origin, every answer says so (`Vary: Origin`, as the Fetch standard
#: asks of a server whose CORS headers are not the same for every request), so no cache hands a browser an
#: answer stored without them.
CORS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "Content-Type, Content-Length, X-SPARQL-MaxRows, Retry-After"),
]
VARY_ORIGIN = ("Vary", "Origin")
VARY_NEGOTIATED = ("Vary", "Accept, Origin")  # answers whose format is negotiated
PREFLIGHT = [
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Accept, Content-Type, Authorization"),
    ("Access-Control-Max-Age", "86400"),
]


class ProtocolError(Exception):
    """A request the protocol cannot serve: the status and a message for the client."""

    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


# -- content negotiation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Formats:
    """What to answer a request with: a format and media type for tables, and for graphs."""

    results: str | None
    graph: str | None
    results_type: str | None = None  # set when the client's media type is an alias of the format's
    graph_type: str | None = None


@lru_cache(maxsize=256)
def _from_accept(accept: str | None) -> Formats:
    results, graph = formats.negotiate(accept, Family.RESULTS), formats.negotiate(accept, Family.RDF)
    return Formats(
        results[0].name if results else None,
        graph[0].name if graph else None,
        results[1] if results and results[1] != results[0].media_type else None,
        graph[1] if graph and graph[1] != graph[0].media_type else None,
    )


def negotiate(params: dict[str, list[str]], accept: str | None) -> Formats:
    """The formats for this request; None where the client accepts no format of that kind."""
    named = (params.get("format") or params.get("output") or [None])[0]
    if named:
        found = [
            formats.find(named, kind) or formats.by_media_type(named, kind) for kind in (Family.RESULTS, Family.RDF)
        ]
        if not any(found):
            known = ", ".join(dict.fromkeys(n for f in formats.REGISTRY for n in f.names))
            raise ProtocolError(400, f"unknown format {named!r}; use one of {known} or a media type")
        return Formats(*(f.name if f else None for f in found))
    return _from_accept(accept)


# -- requests ---------------------------------------------------------------------------------------


@dataclass
class SparqlRequest:
    """A parsed protocol request: a query or an update, and the dataset it names."""

    query: str | None = None
    update: str | None = None
    default_graphs: list[str] = field(default_factory=list)
    named_graphs: list[str] = field(default_factory=list)
    using_graphs: list[str] = field(default_factory=list)
    using_named_graphs: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ProtocolError(400, f"the request has {len(values)} '{name}' parameters; send exactly one")
    return values[0]


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the {what} is not UTF-8 text: {exc}") from None


def _form(data: bytes | str) -> dict[str, list[str]]:
    text = data if isinstance(data, str) else _decode(data, "request")
    try:
        if not text.isascii():  # (raw bytes of a URL: urllib's way keeps them as they are)
            return parse_qs(text, keep_blank_values=True, strict_parsing=False, errors="strict")
        # parse_qs with blank values kept, not strict, strict UTF-8: the same pairs, the same errors
        params: dict[str, list[str]] = {}
        for field in text.split("&"):
            if field:
                name, _, value = field.partition("=")
                params.setdefault(unquote(name.replace("+", " ")), []).append(unquote(value.replace("+", " ")))
        return params
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(400, f"the request parameters cannot be read: {exc}") from None


#: A `%` that does not start an escape (urllib leaves it as it is).
_NOT_AN_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
#: The codec's function is not in the documented API (pickle uses it): without it, urllib's way.
_ESCAPE_DECODE = getattr(codecs, "escape_decode", None)


def unquote(text: str) -> str:
    """`urllib.parse.unquote(text, errors="strict")` for ASCII text, in C: a query of a few hundred characters
    sent percent-encoded holds dozens of escapes, which urllib decodes one by one in Python (8 µs for a
    lookup, 2 µs this way). Each `%XX` becomes the escape `\\xXX` (after the text's own backslashes are
    doubled) for the codec that reads Python's bytes escapes; the bytes are then read as UTF-8, strictly."""
    if "%" not in text:
        return text
    if _ESCAPE_DECODE is None or _NOT_AN_ESCAPE.search(text):
        return urllib_unquote(text, errors="strict")
    escaped = text.replace("\\", "\\\\").replace("%", "\\x").encode("ascii")
    return _ESCAPE_DECODE(escaped)[0].decode("utf-8")


def _media_type(environ: dict) -> str:
    return (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()


def read_request(environ: dict, body: bytes, method: str | None = None) -> SparqlRequest:
    """The query or update a GET or POST carries, per the SPARQL 1.1 Protocol (`method`: how to read it,
    GET for a HEAD)."""
    method = method or environ["REQUEST_METHOD"]
    url_params = _form(environ.get("QUERY_STRING", ""))
    if method == "GET":
        params = url_params
        if "update" in params:
            raise ProtocolError(
                400, "SPARQL Update cannot be sent with GET: POST it as 'update' or as application/sparql-update"
            )
        request = SparqlRequest(query=_single(params, "query"), params=params)
    else:
        media = _media_type(environ)
        if media == "application/x-www-form-urlencoded":
            params = {**url_params, **_form(body)}
            request = SparqlRequest(query=_single(params, "query"), update=_single(params, "update"), params=params)
        elif media == "application/sparql-query":
            params = url_params
            request = SparqlRequest(query=_decode(body, "query"), params=params)
        elif media == "application/sparql-update":
            params = url_params
            request = SparqlRequest(update=_decode(body, "update"), params=params)
        else:
            shown = media or "no Content-Type"
            raise ProtocolError(
                415,
                f"cannot read a POST body of {shown}: send application/x-www-form-urlencoded "
                "(query= or update=), application/sparql-query or application/sparql-update",
            )
        if request.query is not None and request.update is not None:
            raise ProtocolError(400, "the request has both 'query' and 'update'; send one of them")
    request.default_graphs = params.get("default-graph-uri", [])
    request.named_graphs = params.get("named-graph-uri", [])
    request.using_graphs = params.get("using-graph-uri", [])
    request.using_named_graphs = params.get("using-named-graph-uri", [])
    return request


# -- the handler ------------------------------------------------------------------------------------


@dataclass
class Policy:
    """What the endpoint allows: the limits and switches from the settings."""

    timeout: float = 30.0
    max_request_bytes: int = 10_000_000
    update_token: str | None = None
    service_allow: frozenset[str] = frozenset()
    union_default: bool = True  # a query naming no dataset sees the union of all graphs (else the store's default)


#: Status lines by code, made once (an enum lookup per answer otherwise).
_STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}


def _status(code: int) -> str:
    return _STATUS_LINES.get(code) or f"{code} {HTTPStatus(code).phrase}"


def _cors(environ: dict) -> list[tuple[str, str]]:
    """The CORS headers for this request's answer: none unless it came from a page (it has `Origin`)."""
    return CORS if "HTTP_ORIGIN" in environ else []


#: An answer as WSGI's start_response takes it, and its body: status line, headers, the body's parts.
Reply = tuple[str, list[tuple[str, str]], Iterable[bytes]]


def _start(start_response: StartResponse, reply: Reply) -> Iterable[bytes]:
    start_response(reply[0], reply[1])
    return reply[2]


def _framed(answer: Answer, cors: list[tuple[str, str]]) -> Reply:
    """A pool's answer as it goes to the client: its headers, the CORS ones (if any), Vary and the length."""
    headers = [*answer.headers, *cors, VARY_NEGOTIATED]
    if answer.body is not None:
        if answer.status == 204:
            return _status(204), headers, []
        headers.append(("Content-Length", str(len(answer.body))))
        return _status(answer.status), headers, [answer.body]
    assert answer.chunks is not None
    return _status(answer.status), headers, answer.chunks


def _plain(
    status: int, body: bytes, cors: list[tuple[str, str]], headers: list[tuple[str, str]], content_type: str
) -> Reply:
    head = [("Content-Type", content_type), ("Content-Length", str(len(body))), *cors, *headers]
    return _status(status), head, [body]


def _refusal(error: ProtocolError, cors: list[tuple[str, str]]) -> Reply:
    """What a client is told of a request the protocol refuses: the message, as plain text."""
    body = error.message.encode() + b"\n"
    return _plain(error.status, body, cors, [VARY_ORIGIN, *error.headers], "text/plain; charset=utf-8")


class SparqlProtocol:
    """WSGI middleware: /sparql and /update handled here, everything else passed to `app`."""

    def __init__(
        self,
        app: WSGIApp,
        pool: WorkerPool | SharedPool,
        policy: Policy,
        describe_service: Callable[[str, str], tuple[str, bytes]],
    ) -> None:
        self.app = app
        self.pool = pool
        self.policy = policy
        self.describe_service = describe_service

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path not in ("/sparql", "/update"):
            return self.app(environ, start_response)
        try:
            return self.handle(environ, start_response, path)
        except ProtocolError as error:
            return _start(start_response, _refusal(error, _cors(environ)))

    def quick(self, target: str, accept: str | None) -> Reply | None:
        """The answer to a plain query by GET, for a server that can tell one from its head alone (kg.serve.threaded):
        `target` is the request's target and `accept` its one Accept header; the request has no Origin, no body
        and nothing else this handler reads. None when the target needs the whole protocol (another path, a
        parameter besides one `query`, an escape in the path): the caller then makes the request WSGI's.

        The answer is the status line, headers and body `handle` would give the same request: the same checks,
        job and pool, without the WSGI environ, the Flask application's call and the start_response round trip
        (6 µs of a lookup's 100 in one thread, where every µs of Python counts several times over under four
        clients; bench/README.md, race.py)."""
        path, _, query_string = target.partition("?")
        if path != "/sparql" or len(query_string) > self.policy.max_request_bytes:
            return None
        try:
            params = _form(query_string)
        except ProtocolError:
            return None
        texts = params.get("query")
        if texts is None or len(texts) != 1 or len(params) != 1:
            return None
        try:
            return _framed(self.answer_query(texts[0], params, accept), [])
        except ProtocolError as error:
            return _refusal(error, [])

    def reply(
        self,
        environ: dict,
        start_response: StartResponse,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]] | None = None,
        content_type: str = "text/plain; charset=utf-8",
    ) -> Iterable[bytes]:
        return _start(start_response, _plain(status, body, _cors(environ), headers or [], content_type))

    def handle(self, environ: dict, start_response: StartResponse, path: str) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        allowed = "GET, POST, OPTIONS" if path == "/sparql" else "POST, OPTIONS"
        if method == "OPTIONS":
            start_response("204 No Content", [*CORS, *PREFLIGHT, ("Allow", allowed), ("Content-Length", "0")])
            return []
        if method == "HEAD" and path == "/sparql":
            method = "GET"
        if method not in allowed.split(", "):
            raise ProtocolError(405, f"{path} takes {allowed}", [("Allow", allowed)])
        if len(environ.get("QUERY_STRING", "")) > self.policy.max_request_bytes:
            raise ProtocolError(
                414, f"the request is larger than this server's limit of {self.policy.max_request_bytes} bytes"
            )
        body = self.read_body(environ) if method == "POST" else b""
        request = read_request(environ, body, method)
        if path == "/update" and request.query is not None:
            raise ProtocolError(400, "/update takes SPARQL Update only; send queries to /sparql")
        if request.update is not None:
            return self.run_update(environ, start_response, request)
        if request.query is None:
            if method == "POST":
                raise ProtocolError(400, "the request has no 'query' (or 'update')")
            return self.service_description(environ, start_response)
        return self.run_query(environ, start_response, request)

    def read_body(self, environ: dict) -> bytes:
        limit = self.policy.max_request_bytes
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ProtocolError(400, "the Content-Length header is not a number") from None
        if length > limit:
            raise ProtocolError(
                413, f"the request body ({length} bytes) is larger than this server's limit of {limit} bytes"
            )
        stream = environ["wsgi.input"]
        try:
            data = stream.read(length) if length else stream.read(limit + 1)
        except TimeoutError as exc:  # kg.serve.front bounds every wait for a body
            raise ProtocolError(408, str(exc)) from None
        if len(data) > limit:
            raise ProtocolError(413, f"the request body is larger than this server's limit of {limit} bytes")
        return data

    # -- queries ------------------------------------------------------------------------------------

    def run_query(self, environ: dict, start_response: StartResponse, request: SparqlRequest) -> Iterable[bytes]:
        accept = environ.get("HTTP_ACCEPT")
        text = request.query or ""
        answer = self.answer_query(text, request.params, accept, request.default_graphs, request.named_graphs)
        return self.send(environ, start_response, answer)

    def answer_query(
        self,
        text: str,
        params: dict[str, list[str]],
        accept: str | None,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> Answer:
        """The pool's answer to a query (its text, the request's parameters and Accept header, the dataset it
        names); ProtocolError for what the protocol refuses."""
        if not text.strip():
            raise ProtocolError(400, "the query is empty")
        formats = negotiate(params, accept)
        refusal = too_deep(text)  # before a worker parses it: such a shape crashes the process
        if refusal:
            raise ProtocolError(400, refusal)
        union = self.policy.union_default
        if needs_inspection(text):
            found = inspect(text)
            if found.is_update:
                raise ProtocolError(400, _UPDATE_AS_QUERY)
            refusal = refused_remote(found, self.policy.service_allow)
            if refusal:
                raise ProtocolError(403, refusal)
            union = union and not found.has_dataset  # FROM / FROM NAMED in the query define its dataset
        dataset = bool(default_graphs or named_graphs)
        job = Job(
            text,
            formats.results,
            formats.graph,
            union,
            tuple(default_graphs or ()) if dataset else None,
            tuple(named_graphs or ()) if dataset else None,
            results_type=formats.results_type,
            graph_type=formats.graph_type,
        )
        answer = self.execute(lambda: self.pool.run(job, self.policy.timeout))
        if answer.status == 400 and inspect(text).is_update:
            raise ProtocolError(400, _UPDATE_AS_QUERY)
        return answer

    def execute(self, run: Callable[[], Answer]) -> Answer:
        try:
            return run()
        except QueryTimeoutError:
            raise ProtocolError(503, timeout_message(self.policy.timeout), [("Retry-After", "1")]) from None
        except WorkersBusyError as exc:
            raise ProtocolError(
                503,
                str(exc)
                or f"all {self.pool.size} query workers stayed busy for {self.policy.timeout:g} s; try again shortly",
                [("Retry-After", "2")],
            ) from None
        except WorkerError as exc:
            raise ProtocolError(503, f"the query worker failed: {exc}", [("Retry-After", "1")]) from None

    def send(self, environ: dict, start_response: StartResponse, answer: Answer) -> Iterable[bytes]:
        return _start(start_response, _framed(answer, _cors(environ)))

    # -- updates ------------------------------------------------------------------------------------

    def run_update(self, environ: dict, start_response: StartResponse, request: SparqlRequest) -> Iterable[bytes]:
        self.authorize(environ.get("HTTP_AUTHORIZATION"))
        text = request.update or ""
        if not text.strip():
            raise ProtocolError(400, "the update is empty")
        refusal = too_deep(text)
        if refusal:
            raise ProtocolError(400, refusal)
        found = inspect(text)
        if found.form in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
            raise ProtocolError(400, f"this is a {found.form} query, not an update; send it as 'query'")
        refusal = refused_remote(found, self.policy.service_allow)
        if refusal:
            raise ProtocolError(403, refusal)
        if request.using_graphs or request.using_named_graphs:
            try:  # the Protocol's dataset for the update's WHERE clauses, as USING / USING NAMED
                text = with_using(text, request.using_graphs, request.using_named_graphs)
            except ValueError as exc:
                raise ProtocolError(400, str(exc)) from None
        answer = self.execute(lambda: self.pool.update(text, self.policy.timeout))
        return self.send(environ, start_response, answer)

    def authorize(self, header: str | None) -> None:
        token = self.policy.update_token
        if not token:
            raise ProtocolError(
                403, "this endpoint is read-only: SPARQL Update needs a server started with --update-token"
            )
        challenge = [("WWW-Authenticate", 'Bearer realm="newskg SPARQL Update"')]
        if not header:
            raise ProtocolError(401, "SPARQL Update needs 'Authorization: Bearer <token>'", challenge)
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ProtocolError(
                401,
                "the update token is wrong",
                [("WWW-Authenticate", 'Bearer realm="newskg SPARQL Update", error="invalid_token"')],
            )

    # -- the service description ---------------------------------------------------------------------

    def service_description(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        ranges = formats.parse_accept(environ.get("HTTP_ACCEPT"))
        params = _form(environ.get("QUERY_STRING", ""))
        named = (params.get("format") or params.get("output") or [None])[0]
        if (
            named is None
            and ranges
            and formats.quality("text/html", ranges)[0]
            > max(formats.quality(m, ranges)[0] for m in media_types(Family.RDF))
        ):
            start_response("303 See Other", [("Location", "/"), ("Content-Length", "0"), *_cors(environ), VARY_ORIGIN])
            return []  # a browser: show it the query page
        graph_format = negotiate({"format": [named]} if named else {}, environ.get("HTTP_ACCEPT")).graph
        if graph_format is None:
            raise ProtocolError(406, "the service description is RDF: accept text/turtle, application/ld+json, ...")
        media, body = self.describe_service(_endpoint_url(environ), graph_format)
        return self.reply(environ, start_response, 200, body, [VARY_NEGOTIATED], content_type=media)


_UPDATE_AS_QUERY = (
    "this is a SPARQL Update, not a query: POST it to /sparql as 'update' (or as application/sparql-update), "
    "with 'Authorization: Bearer <token>'"
)


def _endpoint_url(environ: dict) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    if not re.match(r"^[A-Za-z0-9.\-\[\]:]+$", host):
        host = f"{environ.get('SERVER_NAME', 'localhost')}:{environ.get('SERVER_PORT', '80')}"
    return f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}/sparql"
