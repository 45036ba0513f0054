"""Reading Wikidata's official JSON dump (`latest-all.json.gz`, `.bz2` or plain, or a pipe), one entity at a time.

The dump is one JSON array with an entity per line (`[`, then `{...},` lines, then `]`): about
110M lines and 1.5 TB of JSON. We read it in chunks of whole lines from the decompressed stream,
so memory stays flat whatever its size, and parse only what we keep: most lines (scholarly
articles, taxa, categories, stars) are turned away by a bytes search for their P31 classes and an
English label before any JSON parsing, which is most of the cost of a full entity. Chunks can be
parsed by worker processes (`dump_batches`) while this one decompresses and writes. Every chunk
ends at a line boundary and carries its end offset in the decompressed stream, which is what an
interrupted index build records to resume from. `entity_item` turns one entity (also what the live
API's wbgetentities returns) into an `Item`.
"""

from __future__ import annotations

import bz2
import gzip
import json
import multiprocessing
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

try:  # optional: orjson parses a full entity about twice as fast as the standard library
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
    _LOAD_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, UnicodeDecodeError)
except ImportError:  # pragma: no cover - depends on what is installed
    _loads = json.loads
    _LOAD_ERRORS = (json.JSONDecodeError, UnicodeDecodeError)

from ..model import Kind
from .classes import ClassFilter
from .items import Item, popularity_from_sitelinks

#: Statements we keep as context, beside country (P17, P27 for people): party, employer, member of,
#: team, parent organisation, headquarters, located in, part of, location.
RELATED_PROPERTIES = ("P102", "P108", "P463", "P54", "P749", "P159", "P131", "P361", "P276")
_LABEL_LANGUAGES = ("en", "mul", "en-gb", "en-ca", "en-us")
_EARTH = "http://www.wikidata.org/entity/Q2"


class DumpError(ValueError):
    """The dump cannot be read; the message names the file and line."""


#: The name that reads a dump from standard input (`lbzip2 -dc latest-all.json.bz2 | kg wikidata index -`).
STDIN = "-"


def is_stdin(path: Path) -> bool:
    return str(path) == STDIN


def open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """The decompressed stream and the raw file under it (whose position tells progress).

    `-` reads standard input, compressed or not (told by its first bytes, which are peeked, not consumed).
    """
    if is_stdin(path):
        raw: Any = sys.stdin.buffer
        head = raw.peek(3)[:3] if hasattr(raw, "peek") else b""
    else:
        raw = path.open("rb")
        head = raw.read(3)
        raw.seek(0)
    kind = _compression(path, head)
    if kind == "bz2":
        return bz2.BZ2File(raw), raw  # reads multi-stream files (lbzip2, pbzip2) too
    if kind == "gz":
        return gzip.GzipFile(fileobj=raw), raw  # type: ignore[return-value]
    return raw, raw


def _statements(claims: dict[str, Any], prop: str) -> list[Any]:
    """Values of a property's statements with a value, preferred rank first, deprecated left out."""
    found = []
    for st in claims.get(prop, ()):
        rank = st.get("rank", "normal")
        snak = st.get("mainsnak", {})
        if rank == "deprecated" or snak.get("snaktype") != "value" or "datavalue" not in snak:
            continue
        found.append((rank != "preferred", snak["datavalue"].get("value")))
    found.sort(key=lambda x: x[0])  # stable: statement order within a rank
    return [v for _, v in found]


def _item_ids(claims: dict[str, Any], prop: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in _statements(claims, prop):
        if isinstance(value, dict):
            qid = value.get("id") or (f"Q{value['numeric-id']}" if "numeric-id" in value else None)
            if qid and qid.startswith("Q") and qid not in out:
                out.append(qid)
    return tuple(out)


def wikidata_time(value: dict[str, Any]) -> str | None:
    """A Wikidata time value as ISO text to its precision: "1984-01-08", "1984-01", "1984" (None before year 1)."""
    text = value.get("time", "")
    precision = value.get("precision", 11)
    if not text or text[0] not in "+-" or precision < 9:
        return None
    sign, rest = text[0], text[1:]
    date = rest.split("T", 1)[0]
    year, month, day = [*date.split("-"), "00", "00"][:3]
    if sign == "-" or int(year) == 0:
        return None
    year = f"{int(year):04d}"
    if precision == 9 or month == "00":
        return year
    if precision == 10 or day == "00":
        return f"{year}-{month}"
    return f"{year}-{month}-{day}"


def _text(table: dict[str, Any]) -> str:
    for lang in _LABEL_LANGUAGES:
        entry = table.get(lang)
        if entry and entry.get("value"):
            return str(entry["value"])
    return ""


def entity_item(
    entity: dict[str, Any], classes: ClassFilter, *, gate: bool = True, source: str = "dump"
) -> Item | None:
    """The item for one dump (or wbgetentities) entity, or None if it is not an item we keep.

    Items none of whose P31 classes the filter knows are left out (`gate`), or kept with an unknown
    class (`gate=False`, for the live API: the linker weighs an unknown class, it does not drop it).
    """
    if entity.get("type") != "item" or "missing" in entity:
        return None
    qid = entity.get("id", "")
    label = _text(entity.get("labels", {}))
    if not label or not qid.startswith("Q"):
        return None
    claims = entity.get("claims") or {}
    p31 = _item_ids(claims, "P31")
    kind = classes.kind_of(p31)
    if gate and kind is None:
        return None
    aliases: list[str] = []
    alias_table = entity.get("aliases", {})
    for lang in ("en", "mul"):
        for entry in alias_table.get(lang, ()):
            value = entry.get("value")
            if value and value != label and value not in aliases:
                aliases.append(value)
    coordinates = None
    for value in _statements(claims, "P625"):
        if isinstance(value, dict) and value.get("globe", _EARTH) == _EARTH and value.get("latitude") is not None:
            coordinates = (float(value["latitude"]), float(value["longitude"]))
            break
    people = kind == Kind.PERSON or "Q5" in p31
    countries = _item_ids(claims, "P27" if people else "P17")
    related: list[str] = []
    for prop in RELATED_PROPERTIES:
        related += [q for q in _item_ids(claims, prop) if q not in related and q not in countries]
    dates = {}
    for prop, name in (("P569", "born"), ("P570", "died")):
        for value in _statements(claims, prop):
            if isinstance(value, dict) and (iso := wikidata_time(value)):
                dates[name] = iso
                break
    sitelinks = len(entity.get("sitelinks") or {})
    return Item(
        qid=qid,
        label=label,
        aliases=tuple(aliases),
        description=_text(entity.get("descriptions", {})),
        kind=kind,
        classes=p31,
        sitelinks=sitelinks,
        popularity=popularity_from_sitelinks(sitelinks),
        popularity_basis="sitelinks",
        coordinates=coordinates,
        countries=countries,
        related=tuple(related),
        born=dates.get("born") if people else None,
        died=dates.get("died") if people else None,
        sources=(source,),
    )


# -- reading a dump in chunks ------------------------------------------------------------------------

#: Decompressed bytes per chunk: a few hundred real entities, enough to make a worker's round trip cheap.
CHUNK_BYTES = 8 << 20

#: A P31 statement's value as the dump writes it; its numeric id, read without parsing the entity.
_P31_VALUE = re.compile(
    rb'(?:"P31":\[\{|,\{)?"mainsnak":\{"snaktype":"value","property":"P31","hash":"[0-9a-f]*",'
    rb'"datavalue":\{"value":\{"entity-type":"item",(?:"numeric-id":(\d+)|"id":"Q(\d+)")'
)
_P31_CLAIMS = b'"P31":[{"mainsnak"'
_NEXT_CLAIMS = b'":[{"mainsnak"'
_MAINSNAK = b'"mainsnak":'
#: Every label language we read (en, en-gb, en-ca, en-us, mul) shows as one of these in the entity.
_ENGLISH = (b'"language":"en', b'"language":"mul"')


@dataclass(frozen=True)
class Chunk:
    """Whole lines of a dump; `data` starts at offset `start` of the decompressed stream.

    Chunks carry no line numbers: counting newlines is a pass over every byte, which the process
    that decompresses cannot spare; workers count their chunk's lines as they split them.
    """

    data: bytes
    start: int

    @property
    def end(self) -> int:
        return self.start + len(self.data)


class _LineError(Exception):
    """A line of a chunk that is not an entity: `line` counts from the chunk's first line (0)."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(line, problem)
        self.line, self.problem = line, problem


#: Programs that decompress a dump in a process of their own, beside the parsing (first found wins).
#: pigz inflates gzip about twice as fast as gzip(1); lbzip2 uses every core on bzip2. Without
#: one, Python's gzip or bz2 module decompresses in this process.
DECOMPRESSORS: dict[str, tuple[tuple[str, ...], ...]] = {
    "gz": (("pigz", "-dc"),),
    "bz2": (("lbzip2", "-dc"), ("bzip2", "-dc")),
}


def _compression(path: Path, head: bytes) -> str | None:
    if path.suffix == ".bz2" or head[:3] == b"BZh":
        return "bz2"
    if path.suffix == ".gz" or head[:2] == b"\x1f\x8b":
        return "gz"
    return None


class _Stream:
    """A dump's decompressed bytes, from an external program when one is installed, and how far
    into the raw file (compressed bytes) reading has got, for progress bars."""

    def __init__(self, path: Path) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.stdin = is_stdin(path)
        if self.stdin:
            self.raw: Any = sys.stdin.buffer
            head = self.raw.peek(3)[:3] if hasattr(self.raw, "peek") else b""
        else:
            self.raw = path.open("rb", buffering=0)  # unbuffered: the offset is the file descriptor's own
            head = self.raw.read(3)
            self.raw.seek(0)
        kind = _compression(path, head)
        self.seekable = kind is None and not self.stdin
        self.stream: Any = self.raw
        if kind is not None:
            program = next((c for c in DECOMPRESSORS.get(kind, ()) if shutil.which(c[0])), None)
            if program is not None and not self.stdin:  # stdin: its first bytes sit in our buffer
                # The program reads our file descriptor: its reads move the offset we report as progress.
                self.proc = subprocess.Popen(program, stdin=self.raw.fileno(), stdout=subprocess.PIPE, bufsize=1 << 20)
                self.stream = self.proc.stdout
            elif kind == "bz2":
                self.stream = bz2.BZ2File(self.raw)  # reads multi-stream files (lbzip2, pbzip2) too
            else:
                self.stream = gzip.GzipFile(fileobj=self.raw)

    def position(self) -> int:
        if self.stdin:
            return 0
        if self.proc is not None:
            return os.lseek(self.raw.fileno(), 0, os.SEEK_CUR)
        return self.raw.tell()

    def read(self, n: int) -> bytes:
        """Up to n bytes; fewer only at the end of the stream."""
        if self.proc is None:
            return self.stream.read(n)
        parts, left = [], n
        while left:  # a pipe hands over what is there, often far less than asked
            part = self.stream.read1(left)
            if not part:
                break
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def check(self, path: Path) -> None:
        """At the end of the stream: a decompressing program that failed (a truncated or corrupt file) is an error."""
        if self.proc is not None and self.proc.wait() != 0:
            program = " ".join(map(str, self.proc.args))  # type: ignore[arg-type]
            raise DumpError(f"{path}: cannot read the dump ({program} failed with status {self.proc.returncode})")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # when reading stopped early; a finished program is not bothered
            self.proc.wait()
            self.stream.close()
        elif self.stream is not self.raw:
            self.stream.close()
        if not self.stdin:
            self.raw.close()


def read_chunks(
    path: Path,
    start: int = 0,
    *,
    size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Chunk]:
    """The dump's decompressed stream from offset `start` (a line boundary) in chunks of whole lines.

    Resuming a plain file seeks; a compressed stream (or a pipe) is decompressed and skipped up to
    `start`, as neither gzip nor bzip2 can start in the middle. `progress` gets raw bytes read
    (decompressed bytes for standard input, whose size is unknown).
    """
    size = size or CHUNK_BYTES
    source = _Stream(path)
    done = source.position()
    try:
        if start and source.seekable:
            source.stream.seek(start)
        else:
            left = start
            while left:
                got = source.read(min(left, 1 << 22))
                if not got:
                    raise DumpError(f"{path}: ends before offset {start:,}, where the interrupted build stopped")
                left -= len(got)
        offset = start
        carry = b""
        while True:
            block = source.read(size)
            if progress is not None:
                pos = source.position()
                progress(pos - done if not source.stdin else len(block))
                done = pos
            if not block:
                source.check(path)  # before the last line: a truncated file is not a broken entity
                break
            block = carry + block if carry else block
            cut = block.rfind(b"\n") + 1
            if not cut:  # one line longer than a chunk (an entity of many megabytes): read on
                carry = block
                continue
            data, carry = (block, b"") if cut == len(block) else (block[:cut], block[cut:])
            yield Chunk(data, offset)
            offset += len(data)
        if carry:
            yield Chunk(carry, offset)
    except (OSError, EOFError) as exc:
        raise DumpError(f"{path}: cannot read the dump ({exc})") from None
    finally:
        source.close()


def _lines(chunk: Chunk) -> Iterator[tuple[int, bytes]]:
    """(line within the chunk from 0, entity JSON) of a chunk's entity lines; `[`, `]` and blank lines left out."""
    for i, line in enumerate(chunk.data.split(b"\n")):
        text = line.strip()
        if not text or text in (b"[", b"]"):
            continue
        if text.endswith(b","):
            text = text[:-1]
        if not (text.startswith(b"{") and text.endswith(b"}")):
            raise _LineError(i, "not a Wikidata JSON entity (a line must hold one whole entity)")
        yield i, text


def _parse(text: bytes, line: int) -> dict[str, Any]:
    try:
        entity = _loads(text)
    except _LOAD_ERRORS as exc:
        raise _LineError(line, f"not a Wikidata JSON entity ({exc})") from None
    if not isinstance(entity, dict):
        raise _LineError(line, "expected one entity (a JSON object) per line")
    return entity


def may_keep(text: bytes, classes: ClassFilter) -> bool:
    """False when an entity line surely holds no item we keep: no P31 class we know, or no English
    label. True means "parse it and see": the test reads bytes, not JSON, and errs only that way.

    The P31 statements are the array after `"P31":[{"mainsnak"` and before the next property's
    (`":[{"mainsnak"`: only statements have a mainsnak); each value is read where the dump writes it.
    """
    at = text.find(_P31_CLAIMS)
    if at < 0:
        return False  # no P31 statement, no class: `entity_item` would leave it out
    end = text.find(_NEXT_CLAIMS, at + len(_P31_CLAIMS))
    end = len(text) if end < 0 else end
    known = classes.classes
    found = False
    while 0 <= at < end:
        m = _P31_VALUE.match(text, at)
        if m is None:
            return True  # a P31 written some other way (no value, another layout): let the parser judge
        if f"Q{(m.group(1) or m.group(2)).decode()}" in known:
            found = True
            break
        at = text.find(_MAINSNAK, m.end(), end)
    return found and (_ENGLISH[0] in text or _ENGLISH[1] in text)


def chunk_items(chunk: Chunk, classes: ClassFilter) -> tuple[list[Item], int]:
    """The items of a chunk that pass the class filter (in dump order), and the chunk's line count."""
    out = []
    for line, text in _lines(chunk):
        if may_keep(text, classes):
            item = entity_item(_parse(text, line), classes)
            if item is not None:
                out.append(item)
    return out, chunk.data.count(b"\n")


_worker_classes: ClassFilter | None = None


def _init_worker(classes: ClassFilter) -> None:
    global _worker_classes
    _worker_classes = classes
    parent = multiprocessing.parent_process()
    if parent is not None:  # a killed build (kill -9) must not leave its workers behind
        threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with(parent: Any) -> None:
    parent.join()  # returns when the parent process is gone
    os._exit(1)


def _worker_items(chunk: Chunk) -> tuple[list[Item], int]:
    assert _worker_classes is not None
    return chunk_items(chunk, _worker_classes)


_END: Any = object()


class _Prefetch:
    """Chunks read on a thread, `depth` ahead: decompression (zlib, bz2 and pipe reads let go of the
    GIL) runs beside this process's other work, and a reader stalled on a slow pipe blocks no one."""

    def __init__(self, chunks: Iterator[Chunk], depth: int) -> None:
        self.chunks = chunks
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="dump-reader", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for chunk in self.chunks:
                if not self._put(chunk):
                    return
            self._put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
        finally:
            self.chunks.close()  # type: ignore[attr-defined]

    def _put(self, value: Any) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(value, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def get(self) -> Any:
        """The next chunk, `_END` after the last, or None if none is ready within a tenth of a second."""
        try:
            value = self.queue.get(timeout=0.1)
        except queue.Empty:
            return None
        if isinstance(value, BaseException):
            raise value
        return value

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


@dataclass(frozen=True)
class Batch:
    """The items of one chunk, and where the dump's next unread line starts (decompressed offset, line number)."""

    items: list[Item]
    end: int
    lineno: int


def dump_batches(
    path: Path,
    classes: ClassFilter,
    *,
    start: int = 0,
    lineno: int = 1,
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Batch]:
    """Items of a dump chunk by chunk, in dump order, from decompressed offset `start` (line `lineno`).

    With `jobs` > 1 that many worker processes parse chunks while this process decompresses (and
    its caller writes); at most 2 x jobs chunks are in flight, so memory stays bounded however fast
    decompression runs ahead. A batch is yielded only when every line before its `end` is parsed.
    """
    chunks = read_chunks(path, start, progress=progress)
    try:
        if jobs <= 1:
            for chunk in chunks:
                items, lines = chunk_items(chunk, classes)
                yield Batch(items, chunk.end, lineno + lines)
                lineno += lines
            return
        # forkserver, not fork: a child forked while the reader thread holds stdin's lock would hang
        # closing stdin (multiprocessing does that in every child), and fork with threads is unsafe.
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        with ProcessPoolExecutor(jobs, context, initializer=_init_worker, initargs=(classes,)) as pool:
            pending: deque[tuple[Future[tuple[list[Item], int]], int]] = deque()
            ahead = _Prefetch(chunks, jobs)
            try:
                while True:
                    # Parsed chunks are handed on as soon as they are done, even while reading waits
                    # (a slow pipe): their checkpoint should not wait for the next chunk to arrive.
                    while pending and (len(pending) >= 2 * jobs or pending[0][0].done()):
                        future, end = pending.popleft()
                        items, lines = future.result()
                        yield Batch(items, end, lineno + lines)
                        lineno += lines
                    chunk = ahead.get()
                    if chunk is _END:
                        break
                    if chunk is not None:
                        pending.append((pool.submit(_worker_items, chunk), chunk.end))
                while pending:
                    future, end = pending.popleft()
                    items, lines = future.result()
                    yield Batch(items, end, lineno + lines)
                    lineno += lines
            finally:
                ahead.stop()
                for future, _ in pending:
                    future.cancel()
    except _LineError as bad:
        raise DumpError(f"{path}:{lineno + bad.line}: {bad.problem}") from None


def _entities(path: Path, progress: Callable[[int], None] | None, need: bytes | None) -> Iterator[dict[str, Any]]:
    """Parsed entities of a dump, line by line; lines without `need` in them are not even parsed."""
    lineno = 1
    try:
        for chunk in read_chunks(path, progress=progress):
            for line, text in _lines(chunk):
                if need is None or need in text:
                    yield _parse(text, line)
            lineno += chunk.data.count(b"\n")
    except _LineError as bad:
        raise DumpError(f"{path}:{lineno + bad.line}: {bad.problem}") from None


def read_dump(
    path: Path, classes: ClassFilter | None = None, *, progress: Callable[[int], None] | None = None
) -> Iterator[Item]:
    """Items of a Wikidata JSON dump that pass the class filter (default: `ClassFilter.default()`).

    `progress` is called with the number of (compressed) bytes read since the last call.
    """
    classes = classes or ClassFilter.default()
    for batch in dump_batches(path, classes, progress=progress):
        yield from batch.items


def subclass_edges(path: Path, *, progress: Callable[[int], None] | None = None) -> dict[str, tuple[str, ...]]:
    """Every "subclass of" (P279) edge in a dump, child -> parents: a first pass for `ClassFilter.with_subclasses`."""
    edges: dict[str, tuple[str, ...]] = {}
    for entity in _entities(path, progress, b'"P279"'):
        parents = _item_ids(entity.get("claims") or {}, "P279")
        if parents and entity.get("id", "").startswith("Q"):
            edges[entity["id"]] = parents
    return edges


def dump_size(path: Path) -> int | None:
    return None if is_stdin(path) else path.stat().st_size
