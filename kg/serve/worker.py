"""The worker process: a program that answers SPARQL jobs from a pipe with bytes Oxigraph serialised.

The server (kg.serve.workers) starts it by path, not as part of ``kg.serve``, so a worker starts with nothing but
the standard library, pyoxigraph and kg.formats (the format registry, itself standard library only) loaded, and
kills it when a job runs past the timeout. Each job comes in as
a frame of plain values; the answer goes out as a head (status, headers), chunks of body and an end mark. The
store is open read-only (or copied into memory, see `_Handle`); updates run in a worker of their own that opens
the store read-write for the length of one update.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import pickle
import re
import signal
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# -- the wire: frames of a kind byte, a 4-byte length and a payload -------------------------------

HEADER = struct.Struct(">cI")
CONFIG, JOB, HEAD, DATA, END, READY = b"C", b"J", b"H", b"D", b"E", b"R"
#: Body bytes a worker gathers before it sends them (and commits to a status).
CHUNK = 1 << 16
#: A worker opens a new handle on a changed store at most this often (seconds) unless told to.
REOPEN_EVERY = 1.0
#: Seconds a store must stay unchanged before a worker copies it into memory.
SETTLE = 2.0
#: RocksDB's info logs kept beside the store: each read-write open (every update) renames the last
#: `LOG` to `LOG.old.<microseconds>` (about 140 kB each) and nothing ever removes them.
KEEP_INFO_LOGS = 3
#: What XML 1.0 cannot carry, as UTF-8: C0 controls but tab, newline and carriage return (not even
#: as `&#0;`), and the noncharacters U+FFFE and U+FFFF. Oxigraph writes them as they are.
NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]")


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return HEADER.pack(kind, len(payload)) + payload


# -- views of the store, and their order ----------------------------------------------------------

#: A view of the store as a worker opened it: (opened after, opened before, what the store's files
#: were meanwhile). Read-only RocksDB handles see what was committed when they opened, so a view holds
#: the store as it was at some moment between its two times; when the files did not change across the
#: opening, the digest names that content exactly ("" when they kept changing).
View = tuple[float, float, str]


def store_signature(path: str | os.PathLike[str]) -> tuple:
    """What changes when a writer commits: the write-ahead logs, the manifest, CURRENT."""
    entries = []
    try:
        with os.scandir(path) as scan:
            for entry in scan:
                name = entry.name
                if name.endswith(".log") or name.startswith("MANIFEST") or name == "CURRENT":
                    st = entry.stat()
                    entries.append((name, st.st_size, st.st_mtime_ns))
    except OSError:
        return ()
    entries.sort()
    return tuple(entries)


def covers(view: View | None, older: View | None) -> bool:
    """True when `view` is at least as new as `older`: the same content, or opened after it was.

    time.monotonic is one clock for every process of the machine, so times from two workers compare.
    """
    if older is None:
        return True
    if view is None:
        return False
    return (bool(view[2]) and view[2] == older[2]) or view[0] >= older[1]


def newest(a: View | None, b: View | None) -> View | None:
    """Of two views served, the one later views must cover (both, when it covers the other)."""
    if a is None or b is None:
        return a or b
    return b if b[1] > a[1] else a


@dataclass(frozen=True)
class Job:
    """One query or update for a worker: the text, the dataset and the formats the client accepts."""

    text: str
    results_format: str | None = "json"  # for SELECT and ASK; None: the client accepts none
    graph_format: str | None = "turtle"  # for CONSTRUCT and DESCRIBE
    union: bool = True  # the default graph is the union of all graphs
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    update: bool = False
    results_type: str | None = None  # the media type to answer with, when the client named an alias
    graph_type: str | None = None
    generation: int = 0  # the newest version of the store the pool knows of
    required: int = 0  # the oldest version this job may see (after an update: read your writes)
    max_rows: int | None = None  # None: the server's --max-rows; 0: no cap (pages bound their own queries)
    at_least: View | None = None  # the newest view any answer was served from: never answer from an older

    def wire(self, generation: int, required: int, at_least: View | None = None) -> bytes:
        """The job as a frame; plain values only, so the worker never imports `kg` to read it."""
        values = (
            self.text,
            self.results_format,
            self.graph_format,
            self.union,
            self.default_graphs,
            self.named_graphs,
            self.update,
            self.results_type,
            self.graph_type,
            generation,
            required,
            self.max_rows,
            at_least,
        )
        return frame(JOB, pickle.dumps(values, protocol=pickle.HIGHEST_PROTOCOL))


# -- the worker process -------------------------------------------------------------------------


def _store_error(exc: BaseException) -> bool:
    """True when an error comes from the files under the store (a compaction raced a reader)."""
    text = str(exc)
    return any(mark in text for mark in ("IO error", "No such file", "Corruption", "While open"))


class NotXmlError(Exception):
    """An XML answer would hold a character XML cannot carry (the message names it)."""


class _Output:
    """Frames to the server: the head is held back until a chunk is full or the answer ends.

    With `xml` set, every byte written is checked for characters XML 1.0 cannot carry: an answer
    holding one is refused rather than sent ill-formed (see `NOT_XML`).
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.extra: list[tuple[str, str]] = []  # headers every answer carries
        self.head: bytes | None = None
        self.sent_head = False
        self.parts: list[bytes] = []
        self.size = 0
        self.xml = False
        self._tail = b""  # the last bytes written, for a U+FFFE split between two writes
        self.view: View | None = None  # the view the answer comes from, for the pool

    def start(self, status: int, headers: list[tuple[str, str]]) -> None:
        head = (status, headers + self.extra, self.view)
        self.head = frame(HEAD, pickle.dumps(head, protocol=pickle.HIGHEST_PROTOCOL))

    def write(self, data: bytes) -> int:
        if data and self.xml:
            data = bytes(data)
            found = NOT_XML.search(self._tail + data)
            if found:
                char = found.group().decode("utf-8")
                raise NotXmlError(f"U+{ord(char):04X}")
            self._tail = data[-2:]
        if data:
            self.parts.append(bytes(data))
            self.size += len(data)
            if self.size >= CHUNK:
                self._send()
        return len(data)

    def flush(self) -> None:
        pass

    def _send(self, end: bool = False) -> None:
        out = []
        if not self.sent_head:
            assert self.head is not None
            out.append(self.head)
            self.sent_head = True
        if self.parts:
            body = b"".join(self.parts)
            out.append(HEADER.pack(DATA, len(body)))
            out.append(body)
            self.parts, self.size = [], 0
        if end:
            out.append(frame(END))
        write_all(self.fd, b"".join(out))

    def finish(self) -> None:
        self._send(end=True)

    def discard(self) -> None:
        """Forget a body not yet sent (an error came before the first chunk)."""
        self.parts, self.size, self.head = [], 0, None
        self.xml, self._tail = False, b""


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class _RowLimitError(Exception):
    pass


#: For each results format, a mark Oxigraph writes at least once per row (and rarely more), and what to add
#: to its count: so the count is an upper bound of the rows, cheap to keep (bytes.count) and exact in practice.
#: JSON: rows are written `...},{...` one after the other (a string holding "},{" counts too, never fewer);
#: XML: `<result>` (a `<` in a value is escaped); CSV: a line per row after the header (a newline inside a
#: quoted value counts too); TSV: exactly a line per row after the header.
ROW_MARKS: dict[str, tuple[bytes, int]] = {
    "json": (b"},{", 1),
    "xml": (b"<result>", 0),
    "csv": (b"\n", -1),
    "tsv": (b"\n", -1),
}


#: What may follow the last `}` of a SELECT query whose rows its LIMIT bounds: solution modifiers made of words,
#: variables and parentheses only (so no string, IRI, comment or brace can hide there), ending in the LIMIT, with
#: an OFFSET before or after it. HAVING or ORDER BY with an operator or a literal fails the match: no bound then.
_LIMITED_TAIL = re.compile(
    r"[\w\s?$()]*?(?<![\w?$])(?:LIMIT\s+(\d+)(?:\s+OFFSET\s+\d+)?|OFFSET\s+\d+\s+LIMIT\s+(\d+))\s*",
    re.IGNORECASE | re.ASCII,
)
#: A quick look first: most texts hold no LIMIT, and the match above takes 2 µs on a lookup's text.
_LIMIT_WORD = re.compile("[Ll][Ii][Mm][Ii][Tt]")


def top_limit(text: str) -> int | None:
    """The LIMIT of a SELECT query's whole answer, when the text shows it beyond doubt; else None.

    A conservative look at the end of the text instead of a parse (lexing a join's text cost 57 µs, more than
    the shortcut it allows saves): everything after the last `}` is the query's own solution modifiers, since
    a subquery, a group or a VALUES block would end in a brace, unless that brace sits in a comment or a
    string. A comment reaches the end of its line, so a `#` before the brace on its line (even one in an IRI)
    means no bound; a string around the brace would close after it, and no quote may follow it. The bound is
    of rows, whatever the OFFSET; a trailing VALUES block ends in a brace and so is never read here.
    """
    end = text.rfind("}")
    if end < 0 or "#" in text[text.rfind("\n", 0, end) + 1 : end] or not _LIMIT_WORD.search(text, end):
        return None
    found = _LIMITED_TAIL.fullmatch(text, end + 1)
    if found is None:
        return None
    return int(found.group(1) or found.group(2))


class _CappedWriter:
    """A writer for Oxigraph's serialiser that keeps what it is given and stops the serialiser (and so the
    evaluation) once `count` has seen more than `limit` of what is capped (rows, lines, triples)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.counted = 0

    def write(self, data: bytes) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.counted += self.count(data)
        if self.counted > self.limit:
            raise _RowLimitError
        return len(data)

    def flush(self) -> None:
        pass

    def count(self, data: bytes) -> int:
        """How many more of what is capped `data` brings (an upper bound will do)."""
        raise NotImplementedError


class _BoundedBuffer(_CappedWriter):
    """Collects an answer in the format asked for; stops the serialiser (and the evaluation) as soon as the
    answer may hold more than `limit` rows, by an upper bound of its rows (`ROW_MARKS`)."""

    def __init__(self, limit: int, mark: bytes, offset: int) -> None:
        super().__init__(limit)
        self.mark = mark
        self.counted = offset  # the bound: marks seen plus the offset
        self.tail = b""  # the last bytes of the previous write: a mark may be split between two writes

    def count(self, data: bytes) -> int:
        keep = len(self.mark) - 1
        joined = self.tail + data
        self.tail = joined[-keep:] if keep else b""
        return joined.count(self.mark)


class _CountingBuffer(_CappedWriter):
    """Collects TSV results and stops the serialiser (and so the evaluation) after `limit` rows."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit + 1)  # the header line

    def count(self, data: bytes) -> int:
        return data.count(b"\n")

    def value(self) -> tuple[bytes, bool]:
        data = b"".join(self.parts)
        if self.counted <= self.limit:
            return data, False
        end = -1
        for _ in range(self.limit):
            end = data.index(b"\n", end + 1)
        return data[: end + 1], True


class _TurtleCounter(_CappedWriter):
    """Collects Turtle as Oxigraph writes it (without prefixes), and stops it past `limit` triples.

    Each triple of Oxigraph's Turtle takes 4 bytes at least (` , 1`: another object), so up to `4 * limit`
    bytes nothing needs counting. Past that, the triples are counted, or more: each ends in ` ,` (another
    object follows), ` ;` and a newline (another predicate) or ` .` and a newline (another subject, or the
    end), and the line breaks of literals are escaped, so newlines and commas together bound them (commas
    in IRIs and literals count too). Counting every answer cost 49 µs of a CONSTRUCT's 2 ms in the race."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.size = 0
        self.counting = False  # once the size no longer bounds the triples

    def count(self, data: bytes) -> int:
        self.size += len(data)
        if not self.counting:
            if self.size <= 4 * self.limit:
                return 0
            self.counting = True
            data = b"".join(self.parts)  # (from the start, this once)
        return data.count(b"\n") + data.count(b",")


class PrefixedTurtle:
    """A graph's Turtle with the server's prefixes, the same bytes as Oxigraph's `serialize(triples, prefixes=...)`,
    but evaluated and written by Oxigraph in one call, with the GIL let go throughout.

    Why: `serialize` with prefixes takes the triples as a Python iterable, so each triple of a CONSTRUCT comes
    back to Python and takes the GIL back (a 500-triple CONSTRUCT beside one busy Python thread took 95 ms
    where its CPU is 2 ms; and with four clients every thread of the server waits on those returns).
    `QueryTriples.serialize` writes in one call but takes no prefixes (pyoxigraph 0.5). So its Turtle is
    written without them and the prefixes are put in afterwards, where Oxigraph would have put them:

    - the header is Oxigraph's own (every prefix given, in its order, before the first triple; nothing for
      an empty graph);
    - an IRI becomes `prefix:local` exactly when Oxigraph would abbreviate it, which Oxigraph itself is asked,
      once per IRI (`_form`): only IRIs that start with a prefix's IRI can change;
    - the text is replaced only where it is an IRI, never inside a literal: the replacement is made only when
      no literal holds a `<` (`SAFE`), else `write` says so (None) and the caller writes it the old way.

    The rest (grouping by subject and predicate, `a`, literals, numbers, blank nodes) does not depend on the
    prefixes. The bytes are checked against Oxigraph's in tests/serve (bench/README.md: on the race's
    CONSTRUCTs too)."""

    #: The text is well-formed Turtle as Oxigraph writes it, and no literal in it holds a `<`: quotes pair up
    #: (an IRI or a blank node never holds a `"`; Oxigraph escapes line breaks in literals).
    SAFE = re.compile(rb'(?:[^"]++|"(?:[^"\\\n<]++|\\.)*+")*+')
    #: Remembered forms of IRIs, at most: past that, new ones are asked each time (Oxigraph, 20 µs each).
    REMEMBERED = 10_000

    def __init__(self, ox: object, prefixes: dict[str, str]) -> None:
        self.ox = ox
        self.prefixes = prefixes
        self.turtle = ox.RdfFormat.TURTLE  # type: ignore[attr-defined]
        self.probe = ox.NamedNode("urn:x")  # type: ignore[attr-defined]
        line = b"<urn:x> <urn:x> <urn:x> .\n"
        written = self._prefixed([ox.Triple(self.probe, self.probe, self.probe)])  # type: ignore[attr-defined]
        self.header = written[: len(written) - len(line)] if written.endswith(line) else None
        # an IRI that starts with one of the prefixes' (captured: `split` then gives text, IRI, text, ...)
        self.candidate = re.compile(
            b"(<(?:" + b"|".join(re.escape(iri.encode()) for iri in prefixes.values()) + rb')[^<>"{}|^`\\\x00-\x20]*>)'
        )
        self.forms: dict[bytes, bytes] = {}

    def _prefixed(self, triples: list) -> bytes:
        return self.ox.serialize(triples, format=self.turtle, prefixes=self.prefixes)  # type: ignore[attr-defined]

    def _form(self, iri: bytes) -> bytes:
        """How Oxigraph writes this IRI (`<...>`, as bytes) with the prefixes."""
        form = self.forms.get(iri)
        if form is None:
            ox = self.ox
            triple = ox.Triple(self.probe, self.probe, ox.NamedNode(iri[1:-1].decode()))  # type: ignore[attr-defined]
            written = self._prefixed([triple])
            form = written[len(self.header or b"") + len(b"<urn:x> <urn:x> ") : -len(b" .\n")]
            if len(self.forms) < self.REMEMBERED:
                self.forms[iri] = form
        return form

    def write(self, triples: object, limit: int) -> bytes | None:
        """The Turtle of `triples` with the prefixes; None when they are more than `limit` (0: no limit) by
        the bound of `_TurtleCounter`, or when a literal holds a `<`: write them the old way then."""
        if self.header is None:
            return None  # (never seen: Oxigraph wrote the probe otherwise)
        counter = _TurtleCounter(limit or sys.maxsize)
        try:
            triples.serialize(counter, format=self.turtle)  # type: ignore[attr-defined]
        except _RowLimitError:
            return None
        body = b"".join(counter.parts)
        if not body or not self.prefixes:
            return body
        if not self.SAFE.fullmatch(body):
            return None
        pieces = self.candidate.split(body)  # text, IRI, text, IRI, ..., text
        forms = self.forms
        pieces[1::2] = [forms.get(iri) or self._form(iri) for iri in pieces[1::2]]
        return self.header + b"".join(pieces)


class _Handle:
    """The worker's view of the store: read-only on disk, or a copy in memory, renewed when the store changes.

    A changed store is opened again in the background and swapped in between jobs (whole transactions only:
    RocksDB shows a read-only handle what was committed when it opened). When the store holds at most
    `memory_quads` quads and has been quiet for a moment, the worker also copies it into an in-memory Oxigraph
    store, in the background, and answers from that: the same engine, several times faster on joins than
    reading RocksDB. Until the copy is ready, and right after a change, it answers from disk.
    """

    def __init__(self, path: str, memory_quads: int = 0) -> None:
        self.path = path
        self.memory_quads = memory_quads
        self.disk, self.view = self._open()
        self.store = self.disk
        self.in_memory = False
        self.generation = 0
        self.opened_at = self.changed_at = time.monotonic() - SETTLE
        self._next: tuple[object, View, int] | None = None
        self._opening: threading.Thread | None = None
        self._copy: tuple[object, int] | None = None
        self._copying: threading.Thread | None = None
        self._too_big: int | None = None  # the generation found too big to copy
        self._failed: int | None = None  # the generation whose copy failed (it stays on disk)
        self._copy_later()

    def _open(self) -> tuple[object, View]:
        """A read-only handle and its view (the digest is "" when a writer changed the files meanwhile)."""
        before, opened_after = store_signature(self.path), time.monotonic()
        store = self._open_store()
        after, opened_before = store_signature(self.path), time.monotonic()
        digest = hashlib.blake2b(repr(before).encode(), digest_size=16).hexdigest() if before == after else ""
        return store, (opened_after, opened_before, digest)

    def _open_store(self) -> object:
        import pyoxigraph as ox

        for attempt in range(20):
            try:
                return ox.Store.read_only(self.path)
            except (OSError, RuntimeError) as exc:  # a writer was swapping files as we opened
                if attempt == 19 or not _store_error(exc):
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _open_later(self, generation: int) -> None:
        def run() -> None:
            try:
                self._next = (*self._open(), generation)
            except (OSError, RuntimeError):
                self._next = None

        self._opening = threading.Thread(target=run, daemon=True, name="kg-reopen")
        self._opening.start()

    def _copy_later(self) -> None:
        """Copy the disk view into memory in the background, if it is small enough and not done yet."""
        if not self.memory_quads or self.in_memory or self._copying is not None or self._too_big == self.generation:
            return
        disk, generation = self.disk, self.generation

        def run() -> None:
            import pyoxigraph as ox

            try:
                if len(disk) > self.memory_quads:  # type: ignore[arg-type]
                    self._too_big = generation
                    return
                copy = ox.Store()
                # through a file, not a bytes object: the dump of 5M quads is 1 GB, held beside the copy
                # being built it doubled a worker's peak (3.6 GB each at 5M)
                with tempfile.TemporaryDirectory(prefix="kg-worker-copy-") as folder:
                    dumped = os.path.join(folder, "store.nq")
                    disk.dump(dumped, format=ox.RdfFormat.N_QUADS)  # type: ignore[attr-defined]
                    copy.bulk_load(path=dumped, format=ox.RdfFormat.N_QUADS)
                self._copy = (copy, generation)
            except (OSError, RuntimeError, MemoryError, SyntaxError):
                self._copy = None  # stay on disk
                self._failed = generation

        self._copying = threading.Thread(target=run, daemon=True, name="kg-memory-copy")
        self._copying.start()

    @property
    def settled(self) -> bool:
        """No copy into memory is coming for this view: it is made, or it will not be (too big, failed, off)."""
        return self.in_memory or not self.memory_quads or self.generation in (self._too_big, self._failed)

    def _use_disk(self, disk: object, view: View, generation: int) -> None:
        self.disk = self.store = disk
        self.view = view
        self.in_memory = False  # the copy in memory is of an older version: let it go
        self.generation = generation
        self.opened_at = self.changed_at = time.monotonic()

    def current(self, generation: int, required: int, at_least: View | None = None) -> object:
        """The store to use for a job: fresh if the job requires it, else the newest ready, memory first;
        never a view older than `at_least`."""
        if self._opening is not None and not self._opening.is_alive():
            self._opening = None
            if self._next is not None:
                self._use_disk(*self._next)
                self._next = None
        if self._copying is not None and not self._copying.is_alive():
            self._copying = None
            if self._copy is not None and self._copy[1] == self.generation:
                self.store, self.in_memory = self._copy[0], True
            self._copy = None
        if required > self.generation:
            if self._opening is not None:
                self._opening.join()
                self._opening = None
                if self._next is not None and self._next[2] >= required:
                    self._use_disk(*self._next)
                    self._next = None
                    return self.store
            self.reopen(generation)
        elif generation > self.generation:
            if self._opening is None and time.monotonic() - self.opened_at >= REOPEN_EVERY:
                self._open_later(generation)
        elif self._opening is None and time.monotonic() - self.changed_at >= SETTLE:
            self._copy_later()  # the store is quiet and this view is up to date
        if not covers(self.view, at_least):
            # Another worker has answered from a newer view: a client that saw it must not see this
            # older one next. A view opening in the background may do; else open one now.
            if self._opening is not None:
                self._opening.join()
                self._opening = None
                if self._next is not None and covers(self._next[1], at_least):
                    self._use_disk(*self._next)
                self._next = None
            if not covers(self.view, at_least):
                self.reopen(max(generation, self.generation))
        return self.store

    def reopen(self, generation: int | None = None) -> None:
        self.store = self.disk = None
        self._use_disk(*self._open(), self.generation if generation is None else generation)


def ox_formats() -> tuple[dict[str, object], dict[str, object]]:
    """Oxigraph's results and RDF formats by their names in kg.formats (imported late: see the module doc;
    kg.formats is a leaf of the standard library only, and `kg` itself loads nothing else)."""
    from kg.formats import Family, family

    return (
        {f.name: f.oxigraph() for f in family(Family.RESULTS)},
        {f.name: f.oxigraph() for f in family(Family.RDF)},
    )


class _Worker:
    """The loop of one worker process: read a job, answer it, repeat until the pipe closes."""

    def __init__(self, config: dict) -> None:
        import pyoxigraph as ox

        self.ox = ox
        self.config = config
        self.path = config["store"]
        self.mode = config["mode"]
        self.max_rows = int(config.get("max_rows") or 0)
        self.base = config.get("base")
        self.prefixes = dict(config.get("prefixes") or {})
        # Each prefix handed to Oxigraph is parsed for every query (its IRI checked): the 15 of kg.namespaces
        # cost 7 µs a lookup. A query can only use those whose `name:` its text holds.
        self._prefix_marks = [(f"{name}:", name, iri) for name, iri in self.prefixes.items()]
        self.results_formats, self.graph_formats = ox_formats()
        # Turtle written in one call (PrefixedTurtle) pays off where other threads want the GIL back each time a
        # triple comes back to Python (kg.serve.shared sets it); alone in a worker process the triples' way back
        # costs less CPU than the prefixes put in afterwards (1.9 against 2.2 ms a CONSTRUCT of the race)
        self.turtle: PrefixedTurtle | None = None
        self.media = {name: fmt.media_type for name, fmt in {**self.results_formats, **self.graph_formats}.items()}
        self.handle = _Handle(self.path, int(config.get("memory_quads") or 0)) if self.mode == "query" else None

    def pick(self, job: Job, out: _Output) -> object:
        """The store to answer `job` from, and its view and kind noted on `out`."""
        assert self.handle is not None
        store = self.handle.current(job.generation, job.required, job.at_least)
        out.view = self.handle.view
        # where the answer came from: a diagnostic for operators and benchmarks
        out.extra = [("X-Newskg-Store", "memory" if self.handle.in_memory else "disk")]
        return store

    def reopen(self) -> None:
        assert self.handle is not None
        self.handle.reopen()

    # replies -------------------------------------------------------------------------------

    def error(self, out: _Output, status: int, message: str, extra: list[tuple[str, str]] | None = None) -> None:
        out.discard()
        out.start(status, [("Content-Type", "text/plain; charset=utf-8"), *(extra or [])])
        out.write(message.encode("utf-8") + b"\n")
        out.finish()

    def answer(self, job: Job, out: _Output) -> None:
        if job.update:
            self.run_update(job, out)
            return
        for attempt in range(2):
            store = self.pick(job, out)
            try:
                self.run_query(store, job, out)
                return
            except NotXmlError as exc:
                if out.sent_head:
                    raise  # the answer is cut short: a client never takes it for a whole document
                self.error(
                    out,
                    406,
                    f"the answer holds a character XML 1.0 cannot carry ({exc}), so it cannot be sent as XML; "
                    "ask for JSON, CSV or TSV (SELECT, ASK) or for Turtle, N-Triples or JSON-LD (CONSTRUCT, DESCRIBE)",
                )
                return
            except (OSError, RuntimeError) as exc:
                if out.sent_head:
                    raise
                if attempt == 0 and _store_error(exc):
                    self.reopen()  # a file was compacted away under us: look again
                    continue
                if isinstance(exc, OSError) and not _store_error(exc):
                    self.error(out, 502, f"a remote SPARQL service failed: {exc}")
                elif _store_error(exc):
                    self.error(out, 503, f"the store could not be read: {exc}", [("Retry-After", "1")])
                else:
                    self.error(out, 400, f"the query cannot be evaluated: {exc}")
                return

    def run_query(self, store: object, job: Job, out: _Output) -> None:
        ox = self.ox
        given = job.text
        kwargs: dict[str, object] = {
            "base_iri": self.base,
            "prefixes": {name: iri for mark, name, iri in self._prefix_marks if mark in given},
        }
        if job.default_graphs is not None or job.named_graphs is not None:
            for key, parameter, names in (
                ("default_graph", "default-graph-uri", job.default_graphs),
                ("named_graphs", "named-graph-uri", job.named_graphs),
            ):
                try:
                    kwargs[key] = [ox.NamedNode(name) for name in names or ()]
                except ValueError as exc:
                    self.error(out, 400, f"{parameter} must be an absolute IRI: {exc}")
                    return
        elif job.union:
            kwargs["use_default_graph_as_union"] = True
        cap, bound = self.row_cap(job), top_limit(job.text)
        # A SELECT with no LIMIT of its own is asked with one past the cap: its answer can then be written to
        # bytes in one call and its rows counted after (see `send_solutions`). Not a CONSTRUCT or DESCRIBE,
        # whose LIMIT counts solutions, not triples: a text holding either word anywhere (even in an IRI) is
        # asked as it came (`in` on the lowered text: 0.3 µs, where a case-blind regex took 6). An ASK may
        # have the LIMIT: it cannot change whether a solution exists.
        lowered = job.text.lower()
        limited = (
            cap > 0
            and bound is None
            and job.results_format is not None
            and "construct" not in lowered
            and "describe" not in lowered
        )
        try:
            text = f"{job.text}\nLIMIT {cap + 1}" if limited else job.text  # (a newline ends a comment)
            result = store.query(text, **kwargs)  # type: ignore[attr-defined]
        except SyntaxError as exc:
            # a LIMIT already there, a VALUES block at the end, or a text that is no query: as it came, and
            # its error as it would have been
            if limited:
                limited = False
                try:
                    result = store.query(job.text, **kwargs)  # type: ignore[attr-defined]
                except SyntaxError as exc:
                    self.error(out, 400, f"SPARQL syntax error: {exc}")
                    return
            else:
                self.error(out, 400, f"SPARQL syntax error: {exc}")
                return
        if limited and isinstance(result, ox.QueryTriples):  # (no such form without its word: never seen)
            result = store.query(job.text, **kwargs)  # type: ignore[attr-defined]
            limited = False
        def again() -> object:
            return store.query(job.text, **kwargs)  # type: ignore[attr-defined]

        if isinstance(result, ox.QueryTriples):
            out.xml = job.graph_format == "rdfxml"
            self.send_graph(result, job, out, again)
        elif job.results_format is None:
            kind = "a boolean" if isinstance(result, ox.QueryBoolean) else "a table of results"
            self.error(out, 406, f"this query gives {kind}; the Accept header allows none of its formats")
        elif isinstance(result, ox.QueryBoolean):
            body = result.serialize(format=self.results_formats[job.results_format])
            self.send(out, job.results_type or self.media[job.results_format], body)
        else:
            out.xml = job.results_format == "xml"
            ctype = job.results_type or self.media[job.results_format]
            self.send_solutions(result, job.results_format, ctype, out, cap, again, bound, limited)

    def send(self, out: _Output, ctype: str, body: bytes, extra: list[tuple[str, str]] | None = None) -> None:
        out.start(200, [("Content-Type", ctype), *(extra or [])])
        out.write(body)
        out.finish()

    def send_whole(self, out: _Output, ctype: str, body: bytes) -> None:
        """An answer serialised whole, passed on in chunks as the writer's would be: a large one still goes
        to the server in several frames, which it streams to the client (chunked) rather than gathers."""
        out.start(200, [("Content-Type", ctype)])
        if len(body) <= CHUNK:
            out.write(body)
        else:
            view = memoryview(body)
            for start in range(0, len(body), CHUNK):
                out.write(view[start : start + CHUNK])
        out.finish()

    def row_cap(self, job: Job) -> int:
        return self.max_rows if job.max_rows is None else job.max_rows

    def send_solutions(
        self,
        result: object,
        fmt: str,
        ctype: str,
        out: _Output,
        limit: int,
        again: Callable[[], object],
        bound: int | None = None,
        limited: bool = False,
    ) -> None:
        """Serialise a table of results, cut at `limit` rows (0: no cap). `bound`: the most rows the query can
        give, when known (`top_limit`); `limited`: `result` comes from the query with `LIMIT limit + 1` added,
        `again()` from the query as it came."""
        ox = self.ox
        target = self.results_formats[fmt]
        if limit and bound is not None and bound <= limit:
            # The query's own LIMIT keeps it within the cap: Oxigraph writes it to bytes in one call, with no
            # writer of ours to call back (each call takes the GIL back: under four clients, 1.17x the lookups
            # answered a second when SELECT answers went straight to bytes, bench/README.md)
            self.send_whole(out, ctype, result.serialize(format=target))  # type: ignore[attr-defined]
            return
        if limit and limited:
            # At most limit + 1 rows, written to bytes in one call, then counted as the writer below counts
            # them. Within the cap by that count, the query with the LIMIT gave all the rows of the query
            # without, in the same order (a slice of the same evaluation): the same bytes the writer would
            # have kept. Past it, the answer is made below from the query as it came, as it always was.
            body = result.serialize(format=target)  # type: ignore[attr-defined]
            mark, offset = ROW_MARKS[fmt]
            if body.count(mark) + offset <= limit:
                self.send_whole(out, ctype, body)
                return
            del body
            result = again()
        if not limit:
            out.start(200, [("Content-Type", ctype)])
            result.serialize(out, format=target)  # type: ignore[attr-defined]
            out.finish()
            return
        # Most answers are within the cap: Oxigraph writes them once, in the format asked for, while an upper
        # bound of their rows is kept; the answer goes out as it is.
        bounded = _BoundedBuffer(limit, *ROW_MARKS[fmt])
        try:
            result.serialize(bounded, format=target)  # type: ignore[attr-defined]
        except _RowLimitError:
            result = again()  # it may hold more: evaluate again and cut it exactly (below)
        else:
            out.start(200, [("Content-Type", ctype)])
            for part in bounded.parts:  # in chunks, as they came: a large answer is streamed on
                out.write(part)
            out.finish()
            return
        del bounded
        # Oxigraph writes TSV one line per row: count lines, stop the evaluation past the limit,
        # then let Oxigraph turn the rows kept into the format asked for.
        buffer = _CountingBuffer(limit)
        with contextlib.suppress(_RowLimitError):
            result.serialize(buffer, format=ox.QueryResultsFormat.TSV)  # type: ignore[attr-defined]
        tsv, truncated = buffer.value()
        extra = [("X-SPARQL-MaxRows", str(limit))] if truncated else []
        if fmt == "tsv":
            self.send(out, ctype, tsv, extra)
            return
        rows = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
        out.start(200, [("Content-Type", ctype), *extra])
        rows.serialize(out, format=target)  # type: ignore[union-attr]
        out.finish()

    def send_graph(self, triples: object, job: Job, out: _Output, again: Callable[[], object]) -> None:
        """Serialise a graph, cut at the row cap (in triples); `again()` evaluates the query anew."""
        fmt = job.graph_format
        if fmt is None:
            self.error(out, 406, "this query gives a graph; the Accept header allows none of its formats")
            return
        ctype = job.graph_type or self.media[fmt]
        limit = self.row_cap(job)
        graph_format = self.graph_formats[fmt]
        if limit and fmt == "turtle" and self.turtle is not None:
            # Turtle, the default: evaluated and written in one call of Oxigraph's (PrefixedTurtle); a graph
            # that may be over the cap, or that it cannot write so, is evaluated again and written below
            body = self.turtle.write(triples, limit)
            if body is not None:
                self.send_whole(out, ctype, body)
                return
            triples = again()
        if limit:
            # The head waits for the count. The triples go to Oxigraph's serialiser through islice, which
            # stops the evaluation at the cap without a line of Python per triple (a generator counting them
            # into a list took 3.0 ms for a 500-triple CONSTRUCT at 1M quads, islice 2.3 ms, as fast as no
            # cap at all); one more triple asked for afterwards tells a cut answer.
            capped = itertools.islice(triples, limit)  # type: ignore[call-overload]
            body = self.ox.serialize(capped, format=graph_format, prefixes=self.prefixes)
            cut = next(triples, None) is not None  # type: ignore[call-overload]
            extra = [("X-SPARQL-MaxRows", str(limit))] if cut else []
            out.start(200, [("Content-Type", ctype), *extra])
            out.write(body)
        else:
            out.start(200, [("Content-Type", ctype)])
            self.ox.serialize(triples, out, format=graph_format, prefixes=self.prefixes)
        out.finish()

    def run_update(self, job: Job, out: _Output) -> None:
        ox = self.ox
        try:
            store = ox.Store(self.path)
        except (OSError, RuntimeError) as exc:
            if "lock" in str(exc).lower():
                self.error(
                    out,
                    503,
                    "the store is being written by another process (a `kg build`?); "
                    f"the update was not applied, try again when it has finished ({exc})",
                    [("Retry-After", "5")],
                )
            else:
                self.error(out, 503, f"the store cannot be opened for writing: {exc}", [("Retry-After", "5")])
            return
        failure: tuple[int, str] | None = None
        try:
            store.update(job.text, base_iri=self.base, prefixes=self.prefixes)
            store.flush()
        except SyntaxError as exc:
            failure = (400, f"SPARQL Update syntax error: {exc}")
        except OSError as exc:
            failure = (500 if _store_error(exc) else 502, f"the update failed, nothing was changed: {exc}")
        except RuntimeError as exc:
            failure = (400, f"the update failed, nothing was changed: {exc}")
        del store  # close the store and let go of its lock before answering: a build may be waiting for it
        prune_info_logs(self.path)
        if failure is not None:
            self.error(out, *failure)
            return
        out.start(204, [])
        out.finish()


def prune_info_logs(path: str, keep: int = KEEP_INFO_LOGS) -> None:
    """Remove all but the newest `keep` of RocksDB's old info logs (`LOG.old.<microseconds>`).

    They are RocksDB's diary (options, compactions), never data: the store does not read them.
    """
    try:
        with os.scandir(path) as scan:
            old = [entry.name for entry in scan if entry.name.startswith("LOG.old.")]
    except OSError:
        return
    old.sort(key=lambda name: (len(name), name))  # the suffix is a time in microseconds
    for name in old[: max(0, len(old) - keep)]:
        with contextlib.suppress(OSError):  # a build pruning too, or the file is already gone
            os.unlink(os.path.join(path, name))


def _read_exact(fd: int, buffer: bytearray, size: int) -> bool:
    while len(buffer) < size:
        data = os.read(fd, max(1 << 16, size - len(buffer)))
        if not data:
            return False
        buffer += data
    return True


def _read_frame(fd: int, buffer: bytearray) -> tuple[bytes, bytes] | None:
    if not _read_exact(fd, buffer, HEADER.size):
        return None
    kind, size = HEADER.unpack_from(buffer)
    if not _read_exact(fd, buffer, HEADER.size + size):
        return None
    payload = bytes(buffer[HEADER.size : HEADER.size + size])
    del buffer[: HEADER.size + size]
    return kind, payload


def _exit_with(parent: int) -> None:
    """Stop when the server process is gone, even in the middle of a query (Oxigraph lets go of the GIL)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def child_main() -> None:
    """The worker process: read its settings, announce readiness, answer jobs until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which stops us
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints go to stderr, never into the frames
    buffer = bytearray()
    first = _read_frame(0, buffer)
    if first is None:
        return
    try:
        worker = _Worker(pickle.loads(first[1]))
    except Exception as exc:  # the store cannot be opened: say why and stop
        write_all(reply_fd, frame(READY, pickle.dumps(f"{type(exc).__name__}: {exc}")))
        return
    write_all(reply_fd, frame(READY, pickle.dumps(None)))
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True, name="kg-parent-watch").start()
    while True:
        got = _read_frame(0, buffer)
        if got is None:
            return
        kind, payload = got
        if kind != JOB:
            continue
        job = Job(*pickle.loads(payload))
        out = _Output(reply_fd)
        try:
            worker.answer(job, out)
        except Exception as exc:  # keep serving; tell the server what happened
            if out.sent_head:
                return  # the answer is cut short; the server sees the pipe close
            worker.error(out, 500, f"the query failed: {type(exc).__name__}: {exc}")


if __name__ == "kg_worker":
    child_main()
