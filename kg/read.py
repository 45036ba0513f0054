"""Reading articles: files, folders, JSON Lines and stdin in; `Article` records or `ReadError`s out.

The raw text is kept exactly as read, so character offsets into it stay true; a date header or
headline is recorded as a span of that text, never cut out of it.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from .namespaces import text_hash

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl"}
JSONL_KEYS = ("id", "url", "title", "date", "text")

# " date 2017-11-22 Body starts here..."
_DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)Z?)?\s+")
# "22/11/2017 08:27 GMT | Updated 22/11/2017 08:49 GMT"
_STAMP = r"(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})\s*(?:GMT|UTC)"
_STAMP_HEADER = re.compile(rf"\A\s*{_STAMP}(?:\s*\|\s*Updated\s+{_STAMP})?[ \t]*(?:\r?\n|\Z)\s*")
_SMALL_WORDS = {
    "a",
    "an",
    "and",
    "as",
    "at",
    "but",
    "by",
    "for",
    "from",
    "in",
    "into",
    "of",
    "on",
    "or",
    "the",
    "to",
    "up",
    "vs",
    "via",
    "while",
    "with",
}


@dataclass(frozen=True)
class Article:
    """One news article as read, with what we could tell from its header."""

    text: str
    source: str
    digest: str = ""
    source_id: str | None = None
    url: str | None = None
    title: str | None = None
    title_span: tuple[int, int] | None = None
    published: date | datetime | None = None
    modified: datetime | None = None
    body_start: int = 0
    metadata: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", text_hash(self.text))

    @property
    def source_key(self) -> str:
        """What identifies where the article came from, so a changed file replaces its old version."""
        return f"{self.source}#{self.source_id}" if self.source_id else self.source


@dataclass(frozen=True)
class ReadError:
    """A file or record that could not be read, and why, in words a user can act on."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def is_headline(line: str) -> bool:
    """True for a title-case line that reads like a headline rather than a sentence."""
    stripped = line.strip()
    words = re.findall(r"[^\W\d_][\w'’.-]*", stripped)
    if not 2 <= len(words) <= 25 or len(stripped) > 200 or stripped.endswith((".", ",", ";", ":")):
        return False
    content = [w for w in words if w.lower() not in _SMALL_WORDS]
    if not content:
        return False
    capitalised = sum(1 for w in content if w[0].isupper())
    return capitalised / len(content) >= 0.75


def parse_header(text: str) -> tuple[date | datetime | None, datetime | None, int]:
    """The publication date, update time and where the body starts, from a header line if any."""
    m = _DATE_HEADER.match(text)
    if m:
        day = date.fromisoformat(m.group(1))
        if m.group(2):
            clock = m.group(2) if m.group(2).count(":") == 2 else m.group(2) + ":00"
            return datetime.fromisoformat(f"{m.group(1)}T{clock}+00:00"), None, m.end()
        return day, None, m.end()
    m = _STAMP_HEADER.match(text)
    if m:
        g = m.groups()
        published = datetime(int(g[2]), int(g[1]), int(g[0]), int(g[3]), int(g[4]), tzinfo=UTC)
        modified = None
        if g[5]:
            modified = datetime(int(g[7]), int(g[6]), int(g[5]), int(g[8]), int(g[9]), tzinfo=UTC)
        return published, modified, m.end()
    return None, None, 0


def find_title(text: str, body_start: int) -> tuple[str, tuple[int, int]] | None:
    """The headline and its span, when the first line of the body is one."""
    start = body_start + (len(text[body_start:]) - len(text[body_start:].lstrip()))
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    line = text[start:end].rstrip()
    if end < len(text) and is_headline(line):
        return line, (start, start + len(line))
    return None


def parse_date(value: object) -> date | datetime:
    """An ISO 8601 date or date-time; naive times are taken as UTC."""
    if not isinstance(value, str):
        raise ValueError(f"date must be a string, not {type(value).__name__}")
    raw = value.strip()
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"date {value!r} is not ISO 8601 (YYYY-MM-DD or YYYY-MM-DDThh:mm:ss)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def article_from_text(text: str, source: str, **known: object) -> Article:
    """An Article from raw text, reading the header and headline where metadata does not say."""
    published, modified, body_start = parse_header(text)
    title = known.pop("title", None)
    title_span = None
    found = find_title(text, body_start)
    if found and (title is None or found[0] == title):
        title, title_span = found
    return Article(
        text=text,
        source=source,
        published=known.pop("published", None) or published,  # type: ignore[arg-type]
        modified=modified,
        body_start=body_start,
        title=title,  # type: ignore[arg-type]
        title_span=title_span,
        **known,  # type: ignore[arg-type]
    )


def _check_text(text: str, max_bytes: int) -> str | None:
    if not text.strip():
        return "empty: no text to read"
    if len(text.encode("utf-8")) > max_bytes:
        return f"too large: {len(text.encode('utf-8')):,} bytes, the limit is {max_bytes:,} (see --max-bytes)"
    return None


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} cannot be decoded") from None


def read_text_file(path: Path, max_bytes: int) -> Iterator[Article | ReadError]:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            yield ReadError(source, f"too large: {size:,} bytes, the limit is {max_bytes:,} (see --max-bytes)")
            return
        text = _decode(path.read_bytes())
    except (OSError, ValueError) as exc:
        yield ReadError(source, str(exc))
        return
    problem = _check_text(text, max_bytes)
    yield ReadError(source, problem) if problem else article_from_text(text, source)


def read_jsonl(stream: Iterable[str], source: str, max_bytes: int) -> Iterator[Article | ReadError]:
    """Articles from JSON Lines, one per line; a bad line is an error for that line only."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ReadError(where, f"malformed JSON line: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            yield ReadError(where, f"expected a JSON object with keys {', '.join(JSONL_KEYS)}")
            continue
        text = record.get("text")
        if not isinstance(text, str):
            yield ReadError(where, f"no 'text' string in the record (keys: {', '.join(sorted(record))})")
            continue
        problem = _check_text(text, max_bytes)
        if problem:
            yield ReadError(where, problem)
            continue
        known: dict[str, object] = {}
        try:
            if record.get("date") not in (None, ""):
                known["published"] = parse_date(record["date"])
        except ValueError as exc:
            yield ReadError(where, str(exc))
            continue
        if record.get("title"):
            known["title"] = str(record["title"])
        if record.get("url"):
            known["url"] = str(record["url"])
        known["source_id"] = str(record["id"]) if record.get("id") not in (None, "") else f"line{number}"
        known["metadata"] = {k: v for k, v in record.items() if k not in JSONL_KEYS}
        yield article_from_text(text, source, **known)


def read_jsonl_file(path: Path, max_bytes: int) -> Iterator[Article | ReadError]:
    try:
        with path.open("rb") as raw:
            head = raw.read(8192)
            if b"\x00" in head:
                yield ReadError(str(path), "binary file (contains NUL bytes), not JSON Lines")
                return
        with path.open(encoding="utf-8-sig") as stream:
            yield from read_jsonl(stream, str(path), max_bytes)
    except UnicodeDecodeError as exc:
        yield ReadError(str(path), f"not UTF-8: {exc.reason} at byte {exc.start} of a line")
    except OSError as exc:
        yield ReadError(str(path), str(exc))


def read_stream(stream: TextIO, max_bytes: int, source: str = "<stdin>") -> Iterator[Article | ReadError]:
    """Standard input: JSON Lines when it starts with '{', else one plain-text article."""
    text = stream.read()
    if text.lstrip().startswith("{"):
        yield from read_jsonl(io.StringIO(text), source, max_bytes)
        return
    problem = _check_text(text, max_bytes)
    yield ReadError(source, problem) if problem else article_from_text(text, source)


def article_files(path: Path) -> Iterator[Path]:
    """The files an input names: itself, or the article files below a folder, in a stable order."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and child.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES:
                yield child
    else:
        yield path


def read_articles(
    inputs: Iterable[str | Path], max_bytes: int = 5_000_000, stdin: TextIO | None = None
) -> Iterator[Article | ReadError]:
    """Every article in the inputs (files, folders read recursively, '-' for stdin), in order."""
    for item in inputs:
        if str(item) == "-":
            yield from read_stream(stdin or sys.stdin, max_bytes)
            continue
        root = Path(item)
        if not root.exists():
            yield ReadError(str(root), "no such file or folder")
            continue
        for path in article_files(root):
            if path.suffix.lower() in JSONL_SUFFIXES:
                yield from read_jsonl_file(path, max_bytes)
            else:
                yield from read_text_file(path, max_bytes)
