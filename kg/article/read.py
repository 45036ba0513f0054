"""Reading articles: files, folders, JSON Lines and stdin in; `Article` records or `ReadError`s out.

The raw text is kept exactly as read, so character offsets into it stay true; a date header or
headline is recorded as a span of that text, never cut out of it. (HTML pages and feeds are read
by kg.article.markup: there the text kept is the article's main text, without the markup.)
"""

from __future__ import annotations

import codecs
import email.utils
import errno
import io
import itertools
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from ..namespaces import IRI_SAFE, text_hash
from ..settings import FIELD_PRESETS, Fields

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl"}
JSON_SUFFIXES = {".json"}
HTML_SUFFIXES = {".html", ".htm"}  # read by kg.article.markup
FEED_SUFFIXES = {".rss", ".atom", ".xml"}  # read by kg.article.markup

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
    #: The line of a JSON Lines file the article was read from (None for a whole file).
    line: int | None = None

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", text_hash(self.text))

    @property
    def source_key(self) -> str:
        """What identifies where the article came from, so a changed file replaces its old version."""
        return f"{self.source}#{self.source_id}" if self.source_id else self.source

    @property
    def where(self) -> str:
        """The file, and line, to name when something about this article goes wrong."""
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True)
class _Notice:
    """Something to tell the user about what was read: where (file, line or record) and what."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class ReadError(_Notice):
    """A file or record that could not be read, and why, in words a user can act on."""


@dataclass(frozen=True)
class ReadWarning(_Notice):
    """Something read that deserves a word but costs nothing: a date we could not read, skipped files."""


class InputError(ValueError):
    """An input named on the command line cannot be read at all: nothing is built (the store is not opened)."""


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


#: Month names and abbreviations in English, and their numbers (dates in headers, feeds and text).
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_CLOCK = r"(?:,?\s+(?:at\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:(am|pm)\s*)?(?:(?:GMT|UTC|Z)\s*)?)?"
# "November 22, 2017", "Nov. 22 2017 08:27", "Wednesday, November 22, 2017"
_MONTH_FIRST = re.compile(rf"(?i)^(?:[a-z]+,?\s+)?([a-z]+)\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}}){_CLOCK}$")
# "22 November 2017", "22nd Nov 2017, 08:27"
_DAY_FIRST = re.compile(rf"(?i)^(?:[a-z]+,?\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?\s+(\d{{4}}){_CLOCK}$")


def parse_date(value: object) -> date | datetime:
    """A publication date in the forms news carries: ISO 8601, RFC 822 (RSS: "Wed, 22 Nov 2017
    08:27:00 GMT") and written dates ("November 22, 2017", "22 Nov 2017 08:27"); naive times are UTC."""
    if not isinstance(value, str):
        raise ValueError(f"date must be a string, not {type(value).__name__}")
    raw = value.strip()
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        found = _rfc822(raw) or _written(raw)
        if found is None:
            raise ValueError(
                f"date {value!r} is not a date we can read (ISO 8601 like 2017-11-22, RFC 822 like "
                "'Wed, 22 Nov 2017 08:27:00 GMT', or 'November 22, 2017')"
            ) from None
        return found
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rfc822(raw: str) -> datetime | None:
    if not re.match(r"(?i)^(?:[a-z]{3},\s*)?\d{1,2}\s+[a-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}", raw):
        return None  # email.utils reads much else, loosely ("22 Nov" as a year); only RFC 822's shape here
    try:
        moment = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _written(raw: str) -> date | datetime | None:
    m = _MONTH_FIRST.match(raw)
    if m:
        month, day, year, *clock = m.groups()
    else:
        m = _DAY_FIRST.match(raw)
        if not m:
            return None
        day, month, year, *clock = m.groups()
    number = MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        if clock[0] is None:
            return date(int(year), number, int(day))
        hour = int(clock[0])
        if clock[3]:  # "8:27 pm"
            hour = hour % 12 + (12 if clock[3].lower() == "pm" else 0)
        return datetime(int(year), number, int(day), hour, int(clock[1]), int(clock[2] or 0), tzinfo=UTC)
    except ValueError:
        return None


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


# Characters XML 1.0 cannot carry (SPARQL XML results, RDF/XML would be ill-formed) and lone
# surrogates (a JSON "\ud800" escape: not a character, no UTF-8 for it). Tab, LF and CR are fine.
_UNCARRIABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_CONTROL_NAMES = {0: "NUL", 0x0B: "vertical tab", 0x0C: "form feed", 0x1B: "escape"}


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    return f"line {line}, column {index - (text.rfind(chr(10), 0, index) + 1) + 1}"


def uncarriable(text: str, what: str = "text") -> str | None:
    """Why `text` cannot be stored and served as it is, or None.

    Such a character is refused, not replaced: the text is stored exactly as read so that every
    offset into it stays true, and what the user reads in the error is what the file holds.
    """
    m = _UNCARRIABLE.search(text)
    if m is None:
        return None
    code = ord(m.group())
    where = _position(text, m.start())
    if 0xD800 <= code <= 0xDFFF:
        return f"{what} holds a lone surrogate U+{code:04X} at {where} (a \\u escape that is no character)"
    name = _CONTROL_NAMES.get(code, "control character")
    return f"{what} holds U+{code:04X} ({name}) at {where}, which XML cannot carry: remove it from the source"


@dataclass(frozen=True)
class Limits:
    """How large an article may be: bytes as read, and characters (spaCy's parser needs ~3 KB each)."""

    max_bytes: int = 5_000_000
    max_chars: int = 200_000


def text_problem(text: str, limits: Limits) -> str | None:
    """Why an article's text cannot be built, or None."""
    if not text.strip():
        return "empty: no text to read"
    problem = uncarriable(text)
    if problem:
        return problem
    size = len(text.encode("utf-8"))
    if size > limits.max_bytes:
        return f"too large: {size:,} bytes, the limit is {limits.max_bytes:,} (see --max-bytes)"
    if len(text) > limits.max_chars:
        return (
            f"too long: {len(text):,} characters, the limit is {limits.max_chars:,} (see --max-chars; "
            "parsing takes about 3 KB of memory per character)"
        )
    return None


def _url_problem(url: str) -> str | None:
    """Why the url cannot be stored, or None: what kg.rdf.triples stores as an IRI must be one Oxigraph accepts."""
    import pyoxigraph as ox

    if not IRI_SAFE.match(url):
        return None  # stored as a literal (xsd:anyURI), whatever it holds
    try:
        ox.NamedNode(url)
    except ValueError as exc:
        return f"url {url!r} is not a valid IRI ({exc})"
    return None


def article_problem(article: Article) -> str | None:
    """Why an article read from a record cannot be stored, beyond its text: its title, url, keys."""
    for what, value in (("title", article.title), ("id", article.source_id), ("url", article.url)):
        if value and (problem := uncarriable(value, what)):
            return problem
    if article.url and (problem := _url_problem(article.url)):
        return problem
    if article.metadata:
        blob = json.dumps(article.metadata, ensure_ascii=False, default=str)
        if problem := uncarriable(blob, "a metadata value"):
            return problem
    return None


def _decode(data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ValueError("binary file (contains NUL bytes), not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = _position(data[: exc.start].decode("utf-8", "replace"), exc.start)
        raise ValueError(f"not UTF-8: byte 0x{data[exc.start]:02x} at {where} (byte offset {exc.start})") from None


def _io_message(exc: OSError) -> str:
    """An OSError in words, without Python's "[Errno 13]" and the path the caller names anyway."""
    if isinstance(exc, PermissionError):
        return "cannot be read: permission denied"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return f"cannot be read: {exc.strerror or exc}"


def file_bytes(path: Path, limits: Limits) -> bytes | ReadError:
    """A whole file's bytes, or why they cannot be had: too large for --max-bytes, or unreadable."""
    try:
        size = path.stat().st_size
        if size > limits.max_bytes:
            return ReadError(
                str(path), f"too large: {size:,} bytes, the limit is {limits.max_bytes:,} (see --max-bytes)"
            )
        return path.read_bytes()
    except OSError as exc:
        return ReadError(str(path), _io_message(exc))


def plain_article(data: bytes, source: str, limits: Limits) -> Article | ReadError:
    """One plain-text article from its bytes, or why not (not UTF-8, binary, too long...)."""
    try:
        text = _decode(data)
    except ValueError as exc:
        return ReadError(source, str(exc))
    problem = text_problem(text, limits)
    return ReadError(source, problem) if problem else article_from_text(text, source)


def read_text_file(path: Path, limits: Limits | int = Limits()) -> Iterator[Article | ReadError | ReadWarning]:
    limits = Limits(limits) if isinstance(limits, int) else limits
    source = str(path)
    if problem := uncarriable(source, "the file name"):
        yield ReadError(source.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), problem)
        return
    data = file_bytes(path, limits)
    if isinstance(data, ReadError):
        yield data
        return
    yield plain_article(data, source, limits)


def fields_for(preset: str = "", text: str = "", date: str = "", title: str = "") -> Fields:
    """The key mapping: a preset (FIELD_PRESETS), then any key named on its own."""
    if preset and preset not in FIELD_PRESETS:
        raise ValueError(f"unknown field preset {preset!r}; choose one of {', '.join(FIELD_PRESETS)}")
    base = FIELD_PRESETS[preset or "default"]
    return replace(base, text=text or base.text, date=date or base.date, title=title or base.title)


def _hint(record: dict[str, object], fields: Fields) -> str:
    """A word on which option would read a record whose text is under another key."""
    for name, preset in FIELD_PRESETS.items():
        if preset.text in record and preset.text != fields.text:
            return f"; its text may be under {preset.text!r}: use --fields {name} or --text-key {preset.text}"
    return "; name the text's key with --text-key"


def record_article(
    record: object, source: str, number: int, limits: Limits, fields: Fields = Fields()
) -> Iterator[Article | ReadError | ReadWarning]:
    """The article of one JSON Lines record (line `number`), or why not; a warning may come first."""
    where = f"{source}:{number}"
    if not isinstance(record, dict):
        yield ReadError(where, f"expected a JSON object with keys {', '.join(fields.keys)}")
        return
    text = record.get(fields.text)
    if not isinstance(text, str):
        keys = ", ".join(sorted(record))
        yield ReadError(where, f"no {fields.text!r} string in the record (keys: {keys}){_hint(record, fields)}")
        return
    problem = text_problem(text, limits)
    if problem:
        yield ReadError(where, problem)
        return
    known: dict[str, object] = {"line": number}
    if record.get(fields.date) not in (None, ""):
        try:
            known["published"] = parse_date(record[fields.date])
        except ValueError as exc:
            yield ReadWarning(where, f"{exc}: the article is kept, undated")
    if record.get(fields.title):
        known["title"] = str(record[fields.title])
    if record.get(fields.url):
        known["url"] = str(record[fields.url])
    known["source_id"] = str(record[fields.id]) if record.get(fields.id) not in (None, "") else f"line{number}"
    known["metadata"] = {k: v for k, v in record.items() if k not in fields.keys}
    article = article_from_text(text, source, **known)
    problem = article_problem(article)
    yield ReadError(where, problem) if problem else article


def read_jsonl(
    lines: Iterable[bytes | str],
    source: str,
    limits: Limits | int = Limits(),
    fields: Fields = Fields(),
    first: int = 1,
) -> Iterator[Article | ReadError | ReadWarning]:
    """Articles from JSON Lines, one per line; a bad line (bytes, JSON, record) costs that line only.

    `first` is the number of the first line given: a byte range of a large file (kg.cluster) starts
    further in, and its lines keep the numbers they have in the whole file."""
    limits = Limits(limits) if isinstance(limits, int) else limits
    for number, raw in enumerate(lines, start=first):  # type: ignore[var-annotated]
        where = f"{source}:{number}"
        if raw is None:
            yield ReadError(where, f"line over the largest article's {limits.max_bytes:,} bytes (see --max-bytes)")
            continue
        if isinstance(raw, bytes):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield ReadError(where, f"not UTF-8: byte 0x{raw[exc.start]:02x} at column {exc.start + 1}")
                continue
        else:
            line = raw.removeprefix("\ufeff") if number == 1 else raw
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ReadError(where, f"malformed JSON line: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield ReadError(where, "malformed JSON line: nested too deeply")
            continue
        yield from record_article(record, source, number, limits, fields)


def _bounded_lines(stream: BinaryIO, limit: int) -> Iterator[bytes | None]:
    """The lines of a binary stream; a line over `limit` bytes is None (and is never held whole)."""
    while line := stream.readline(limit + 2):
        if len(line) > limit + 1 and not line.endswith(b"\n"):
            while (rest := stream.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield None
            continue
        yield line


def read_jsonl_file(
    path: Path, limits: Limits | int = Limits(), fields: Fields = Fields()
) -> Iterator[Article | ReadError | ReadWarning]:
    limits = Limits(limits) if isinstance(limits, int) else limits
    source = str(path)
    try:
        with path.open("rb") as raw:
            head = raw.read(8192)
            if b"\x00" in head:
                yield ReadError(source, "binary file (contains NUL bytes), not JSON Lines")
                return
            if not head.strip():
                yield ReadError(source, "empty: no articles")
                return
            raw.seek(0)
            yield from read_jsonl(_bounded_lines(raw, limits.max_bytes), source, limits, fields)
    except OSError as exc:
        yield ReadError(source, _io_message(exc))


def read_json_file(
    path: Path, limits: Limits | int = Limits(), fields: Fields = Fields()
) -> Iterator[Article | ReadError | ReadWarning]:
    """A .json file: one record, a list of records, or a NewsAPI answer ({"articles": [...]})."""
    limits = Limits(limits) if isinstance(limits, int) else limits
    source = str(path)
    raw = file_bytes(path, limits)
    if isinstance(raw, ReadError):
        yield raw
        return
    try:
        data = json.loads(_decode(raw))
    except json.JSONDecodeError as exc:
        yield ReadError(source, f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
        return
    except ValueError as exc:
        yield ReadError(source, str(exc))
        return
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]  # NewsAPI's answer; its records want --fields newsapi
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records, start=1):
        for item in record_article(record, source, number, limits, fields):
            if isinstance(item, ReadError | ReadWarning):  # "file.json:3" would say line 3: it is record 3
                item = replace(item, source=f"{source}#record{number}")
            yield item


def read_stream(
    stream: TextIO | BinaryIO, limits: Limits | int = Limits(), source: str = "<stdin>", fields: Fields = Fields()
) -> Iterator[Article | ReadError | ReadWarning]:
    """Standard input: JSON Lines when it starts with '{', else one plain-text article.

    Read as bytes (a bad byte costs one JSON line, not the stream) and line by line, so JSON Lines
    stream through; one plain article is held whole, as a file would be.
    """
    limits = Limits(limits) if isinstance(limits, int) else limits
    binary = getattr(stream, "buffer", None)
    if binary is None:
        data = stream.read()
        binary = io.BytesIO(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    lines = _bounded_lines(binary, limits.max_bytes)
    ahead: list[bytes | None] = []
    for line in lines:  # blank lines before the first word say nothing about the format
        ahead.append(line)
        if line is None or line.strip():
            break
    first = ahead[-1] if ahead else b""
    if first is not None and first.lstrip().removeprefix(codecs.BOM_UTF8).startswith(b"{"):
        yield from read_jsonl(itertools.chain(ahead, lines), source, limits, fields)
        return
    data = b"".join(part for part in ahead if part) + binary.read(limits.max_bytes + 1)
    if first is None or len(data) > limits.max_bytes:
        yield ReadError(source, f"too large: over {limits.max_bytes:,} bytes, the limit (see --max-bytes)")
        return
    from .markup import feed_articles, html_articles, looks_like

    kind = looks_like(data)
    if kind is not None:  # an HTML page or a feed piped in
        yield from (feed_articles if kind == "feed" else html_articles)(data, source, limits)
        return
    yield plain_article(data, source, limits)


ARTICLE_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES | JSON_SUFFIXES | HTML_SUFFIXES | FEED_SUFFIXES


def input_problem(item: str | Path) -> str | None:
    """Why an input named on the command line cannot be read at all, or None.

    A missing path is most likely a typo, and a pipe (a FIFO, or bash's <(...)) would hang the
    build or be read as one plain article; '-' reads a stream. A path that exists but cannot be
    read (permission denied, a link loop) is left to the reading, which reports it and goes on.
    """
    if str(item) == "-":
        return None
    try:
        mode = os.stat(item).st_mode
    except FileNotFoundError:
        return "no such file or folder"
    except OSError:
        return None
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode):
        return "a pipe or device, not a file or folder; give a stream on standard input as '-' (kg build - < FILE)"
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        return "not a file or folder"
    return None


def check_inputs(inputs: Iterable[str | Path]) -> None:
    """Raise InputError, naming every one, when inputs named on the command line cannot be read at all."""
    problems = [f"{item}: {problem}" for item in inputs if (problem := input_problem(item))]
    if problems:
        raise InputError("cannot read the inputs:\n  " + "\n  ".join(problems))


def article_files(path: Path) -> Iterator[Path]:
    """The files an input names: itself, or the article files below a folder, in a stable order."""
    for item in walk(path):
        if isinstance(item, Path):
            yield item


def walk(path: Path) -> Iterator[Path | ReadError | ReadWarning]:
    """The article files an input names, with an error for each thing below a folder that cannot
    be read (a folder, a dangling link, a link loop) and one warning counting files that are not
    articles; never a silent skip. Links are followed; a folder is read once."""
    try:
        is_dir = stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        is_dir = False  # the reading says why
    if not is_dir:
        yield path
        return
    skipped: list[str] = []
    yield from _walk(path, frozenset(), set(), skipped)
    if skipped:
        shown = ", ".join(skipped[:3]) + (", ..." if len(skipped) > 3 else "")
        yield ReadWarning(
            str(path),
            f"{len(skipped)} files skipped, of no article format ({' '.join(sorted(ARTICLE_SUFFIXES))}): {shown}",
        )


def _walk(
    folder: Path, ancestors: frozenset[tuple[int, int]], seen: set[tuple[int, int]], skipped: list[str]
) -> Iterator[Path | ReadError]:
    try:
        info = folder.stat()
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        yield ReadError(str(folder), f"folder {_io_message(exc)}")
        return
    here = (info.st_dev, info.st_ino)
    seen.add(here)
    ancestors = ancestors | {here}
    for entry in entries:
        path = Path(entry.path)
        try:
            mode = entry.stat().st_mode  # follows links
        except FileNotFoundError:
            if entry.is_symlink():
                yield ReadError(str(path), f"dangling symbolic link (to {os.readlink(path)})")
            continue  # removed while we read: nothing to say
        except OSError as exc:
            yield ReadError(str(path), _io_message(exc))
            continue
        if stat.S_ISDIR(mode):
            target = entry.stat()
            key = (target.st_dev, target.st_ino)
            if key in ancestors:
                yield ReadError(str(path), "symbolic link loop: leads back to a folder it is in; skipped")
            elif key not in seen:
                yield from _walk(path, ancestors, seen, skipped)
        elif stat.S_ISREG(mode) and path.suffix.lower() in ARTICLE_SUFFIXES:
            yield path
        else:
            skipped.append(entry.name)


def read_articles(
    inputs: Iterable[str | Path],
    max_bytes: int = 5_000_000,
    stdin: TextIO | None = None,
    *,
    limits: Limits | None = None,
    fields: Fields = Fields(),
) -> Iterator[Article | ReadError | ReadWarning]:
    """Every article in the inputs (files, folders read recursively, '-' for stdin), in order.

    Errors (ReadError) and warnings (ReadWarning) come in the stream, each naming its
    file and line: one bad record never stops the rest.
    """
    limits = limits or Limits(max_bytes)
    for item in inputs:
        if str(item) == "-":
            yield from read_stream(stdin or sys.stdin, limits, fields=fields)
            continue
        root = Path(item)
        if problem := input_problem(root):  # a stream of inputs is checked as it comes
            yield ReadError(str(root), problem)
            continue
        for path in walk(root):
            if not isinstance(path, Path):
                yield path
            elif path.suffix.lower() in JSONL_SUFFIXES:
                yield from read_jsonl_file(path, limits, fields)
            elif path.suffix.lower() in JSON_SUFFIXES:
                yield from read_json_file(path, limits, fields)
            elif path.suffix.lower() in HTML_SUFFIXES | FEED_SUFFIXES:
                from .markup import read_markup_file

                yield from read_markup_file(path, limits)
            else:
                yield from read_text_file(path, limits)
