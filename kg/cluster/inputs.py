"""Inputs on a cluster: which files, split where, read by whom.

The driver plans; the workers read. A plan is a list of partitions, each a few spans of files: a small
file is one span (several small files share a partition, so a folder of a million little articles is not
a million tasks); a large JSON Lines file is split by byte ranges, each range owning the lines that begin
in it. Local paths and any fsspec URL (s3://, gs://, hdfs://...) are read alike. A line keeps the number
it has in its whole file (errors name it, and records without an id are known by it), so the driver asks
the workers to count the newlines of each range first: cheap, and done where the bytes are.

Every per-file and per-line error of the one-machine reader (kg.article.read) comes back the same, from the
same code: the workers run `read_jsonl`, `read_text_file` and the others on their spans.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import fsspec

from ..article.read import (
    ARTICLE_SUFFIXES,
    FEED_SUFFIXES,
    HTML_SUFFIXES,
    JSON_SUFFIXES,
    JSONL_SUFFIXES,
    Article,
    Fields,
    InputError,
    Limits,
    ReadError,
    ReadWarning,
    check_inputs,
    read_json_file,
    read_jsonl,
    read_jsonl_file,
    read_text_file,
    walk,
)

Item = Article | ReadError | ReadWarning

#: A partition aims at this many bytes of input: enough articles to keep a worker's spaCy busy for
#: seconds (task overhead is milliseconds), few enough that several partitions per worker balance the load.
PARTITION_BYTES = 4 << 20
#: ...and at least this many partitions per worker, so a slow or lost worker costs a fraction of the build.
PARTITIONS_PER_WORKER = 4
#: Below this a partition is not worth its task.
SMALLEST_PARTITION = 32 << 10
_HEAD = 8192


@dataclass(frozen=True)
class Span:
    """A file, or a byte range of a JSON Lines file, to read."""

    url: str  # what fsspec opens: a local path or a URL
    source: str  # what articles and errors name: the path as walked, or the URL
    start: int = 0
    end: int | None = None  # None: the whole file, read by kg.article.read's reader for its suffix
    #: The number of the line starting at `start` if a line starts there (1 + newlines before `start`).
    first_line: int = 1


@dataclass(frozen=True)
class Partition:
    """What one task reads: its number orders the build's articles as the one-machine build orders them."""

    number: int
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Plan:
    """The partitions of a build's inputs, and what planning found wrong (a folder it cannot list...)."""

    partitions: list[Partition]
    notices: list[ReadError | ReadWarning]
    total_bytes: int


def is_url(item: str) -> bool:
    """An fsspec URL (s3://...), as opposed to a local path (file:// counts as local)."""
    return "://" in item and not item.startswith("file://")


def _local_files(item: str) -> Iterator[Path | ReadError | ReadWarning]:
    yield from walk(Path(item.removeprefix("file://")))


def _remote_files(item: str) -> Iterator[tuple[str, int] | ReadError | ReadWarning]:
    """The article files below a URL (sorted, as `walk` sorts), with their sizes."""
    try:
        fs, path = fsspec.core.url_to_fs(item)
        if not fs.exists(path):
            raise InputError(f"cannot read the inputs:\n  {item}: no such file or folder")
        if not fs.isdir(path):
            yield fs.unstrip_protocol(path), int(fs.size(path))
            return
        found = fs.find(path, detail=True)
    except InputError:
        raise
    except (OSError, ValueError, ImportError) as exc:
        raise InputError(f"cannot read the inputs:\n  {item}: {exc}") from None
    skipped = []
    for name in sorted(found):
        if Path(name).suffix.lower() in ARTICLE_SUFFIXES:
            yield fs.unstrip_protocol(name), int(found[name].get("size") or 0)
        else:
            skipped.append(Path(name).name)
    if skipped:
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        yield ReadWarning(item, f"{len(skipped)} files skipped, of no article format: {shown}")


def _head_problem(url: str) -> str | None:
    """What `read_jsonl_file` would say of a file from its first bytes (binary, empty), or None."""
    with fsspec.open(url, "rb") as stream:
        head = stream.read(_HEAD)
    if b"\x00" in head:
        return "binary"
    if not head.strip():
        return "empty"
    return None


def partition_size(total: int, workers: int) -> int:
    """Bytes per partition: PARTITIONS_PER_WORKER per worker at least, PARTITION_BYTES at most."""
    wanted = -(-total // max(1, workers * PARTITIONS_PER_WORKER))
    return max(SMALLEST_PARTITION, min(PARTITION_BYTES, wanted))


def plan(
    inputs: Iterable[str],
    workers: int,
    count_newlines: Callable[[list[tuple[str, int, int]]], list[int]],
    block: int | None = None,
) -> Plan:
    """Partitions of the inputs for `workers` workers; `count_newlines` counts the newlines of byte ranges
    (on the cluster) so that split files keep their line numbers.

    Raises InputError, before anything is built, for inputs that cannot be read at all (as `kg build` does)
    and for standard input, which a cluster cannot share out."""
    inputs = [str(i) for i in inputs]
    if "-" in inputs:
        raise InputError("standard input cannot be shared out over a cluster: give files or URLs, or --engine local")
    check_inputs([i for i in inputs if not is_url(i)])
    files: list[tuple[str, str, int]] = []  # url, source, size
    notices: list[ReadError | ReadWarning] = []
    for item in inputs:
        if is_url(item):
            for found in _remote_files(item):
                if isinstance(found, tuple):
                    files.append((found[0], found[0], found[1]))
                else:
                    notices.append(found)
            continue
        for path in _local_files(item):
            if isinstance(path, Path):
                try:
                    size = path.stat().st_size
                except OSError:
                    size = 0  # the reader says why it cannot read it
                files.append((str(path), str(path), size))
            else:
                notices.append(path)
    total = sum(size for _, _, size in files)
    block = block or partition_size(total, workers)

    spans: list[list[Span]] = []  # spans per partition, in input order
    ranges: list[int] = []  # the partitions that are byte ranges of a split file, in file order
    current: list[Span] = []
    current_bytes = 0

    def close() -> None:
        nonlocal current, current_bytes
        if current:
            spans.append(current)
        current, current_bytes = [], 0

    for url, source, size in files:
        splittable = Path(url).suffix.lower() in JSONL_SUFFIXES and size > block
        if splittable and _head_problem(url) is None:
            close()
            for start in range(0, size, block):
                ranges.append(len(spans))
                spans.append([Span(url, source, start, min(size, start + block))])
            continue
        if current and current_bytes + size > block:
            close()
        current.append(Span(url, source))
        current_bytes += size
    close()

    if ranges:
        # Each range's newlines are counted where the bytes are (in parallel); summed here per file, in
        # order, they give the number of the line each range starts with.
        counts = count_newlines([(s.url, s.start, s.end or 0) for p in ranges for s in spans[p]])
        before: dict[str, int] = {}
        for p, count in zip(ranges, counts, strict=True):
            span = spans[p][0]
            spans[p][0] = replace(span, first_line=1 + before.get(span.url, 0))
            before[span.url] = before.get(span.url, 0) + count
    partitions = [Partition(n, tuple(s)) for n, s in enumerate(spans)]
    return Plan(partitions, notices, total)


def count_newlines(url: str, start: int, end: int) -> int:
    """Newlines in bytes [start, end) of a file (a worker task)."""
    total = 0
    with fsspec.open(url, "rb") as stream:
        stream.seek(start)
        left = end - start
        while left > 0:
            chunk = stream.read(min(left, 1 << 20))
            if not chunk:
                break
            total += chunk.count(b"\n")
            left -= len(chunk)
    return total


def _skip_line(stream: object) -> bool:
    """Read past the end of the current line (however long); True if a newline was found."""
    while chunk := stream.readline(1 << 20):  # type: ignore[attr-defined]
        if chunk.endswith(b"\n"):
            return True
    return False


def range_lines(stream: object, start: int, end: int, limit: int) -> Iterator[bytes | None]:
    """The lines that begin in [start, end) of a binary stream, as `kg.article.read._bounded_lines` gives them:
    a line over `limit` bytes is None, never held whole. The first line is the one that begins at or after
    `start` (a line begun in the range before belongs to that range)."""
    if start > 0:
        stream.seek(start - 1)  # type: ignore[attr-defined]
        if stream.read(1) != b"\n" and not _skip_line(stream):  # type: ignore[attr-defined]
            return
    position = stream.tell()  # type: ignore[attr-defined]
    while position < end:
        line = stream.readline(limit + 2)  # type: ignore[attr-defined]
        if not line:
            return
        if len(line) > limit + 1 and not line.endswith(b"\n"):
            _skip_line(stream)
            yield None
        else:
            yield line
        position = stream.tell()  # type: ignore[attr-defined]


def _read_range(span: Span, limits: Limits, fields: Fields) -> Iterator[Item]:
    assert span.end is not None
    with fsspec.open(span.url, "rb") as stream:
        first = span.first_line
        if span.start > 0:
            stream.seek(span.start - 1)
            if stream.read(1) != b"\n":
                first += 1  # the range's first line is the one after the line already begun
        lines = range_lines(stream, span.start, span.end, limits.max_bytes)
        yield from read_jsonl(lines, span.source, limits, fields, first=first)


#: The reader of a whole local file, by suffix (as kg.article.read.read_articles chooses).
def _markup(path: Path, limits: Limits, fields: Fields) -> Iterator[Item]:
    from ..article.markup import read_markup_file

    return read_markup_file(path, limits)


READERS: dict[str, Callable[[Path, Limits, Fields], Iterator[Item]]] = {
    **{s: read_jsonl_file for s in JSONL_SUFFIXES},
    **{s: read_json_file for s in JSON_SUFFIXES},
    **{s: _markup for s in HTML_SUFFIXES | FEED_SUFFIXES},
}


def _read_local(path: Path, limits: Limits, fields: Fields) -> Iterator[Item]:
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        return read_text_file(path, limits)
    return reader(path, limits, fields)


def _renamed(item: Item, local: str, source: str) -> Item:
    """An item read from a worker's local copy of a remote file, named after the remote file."""
    if isinstance(item, Article):
        return replace(item, source=source)
    return replace(item, source=item.source.replace(local, source, 1))


def _read_remote(span: Span, limits: Limits, fields: Fields) -> Iterator[Item]:
    """A whole remote file: copied to the worker's disk (bounded by --max-bytes), read as a local one."""
    suffix = Path(span.url).suffix
    folder = tempfile.mkdtemp(prefix="kg-input-")
    local = os.path.join(folder, f"input{suffix}")
    try:
        try:
            fs, path = fsspec.core.url_to_fs(span.url)
            if suffix.lower() not in JSONL_SUFFIXES and fs.size(path) > limits.max_bytes:
                size = fs.size(path)
                yield ReadError(
                    span.source, f"too large: {size:,} bytes, the limit is {limits.max_bytes:,} (see --max-bytes)"
                )
                return
            fs.get_file(path, local)
        except OSError as exc:
            yield ReadError(span.source, f"cannot be read: {exc}")
            return
        for item in _read_local(Path(local), limits, fields):
            yield _renamed(item, local, span.source)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_span(span: Span, limits: Limits, fields: Fields) -> Iterator[Item]:
    """The articles, errors and warnings of one span, as `kg.article.read.read_articles` gives them for a file."""
    if span.end is not None:
        yield from _read_range(span, limits, fields)
    elif is_url(span.url):
        yield from _read_remote(span, limits, fields)
    else:
        yield from _read_local(Path(span.url.removeprefix("file://")), limits, fields)


def read_partition(partition: Partition, limits: Limits, fields: Fields) -> Iterator[Item]:
    for span in partition.spans:
        yield from read_span(span, limits, fields)
