"""The local index: Wikidata items in SQLite, looked up by normalised name, alias or words (FTS5).

`build_index` writes one from dumps, items files and shared tables (streaming: a dump never sits
in memory, and nothing per item is kept beyond the batch being written); a resumable build commits
where each input stands with every batch, so a build of the full dump that is killed after hours
continues from its last checkpoint. `LocalIndex` answers lookups, many names per query, through
one open connection.

Layout: `items` (one row per QID, keyed by its number), `names` (normalised key -> item, with how
the name belongs to it: label, alias, derived person name, initials), `search` (contentless FTS5
over every name of an item, for fuzzy lookups) and `meta` (what the index was built from, when).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from .._version import __version__
from ..model import Kind
from .classes import ClassFilter
from .dump import dump_batches, dump_size, is_stdin, subclass_edges
from .items import Item, SourceInfo, is_items_file, merge, read_items, read_items_header
from .names import key, org_initials, person_variant
from .tables import TableError, read_tables, table_of

INDEX_FORMAT = "newskg-wikidata-index"
INDEX_VERSION = 1

#: How a name belongs to an item.
LABEL, ALIAS, DERIVED, INITIALS, FUZZY = 0, 1, 2, 3, 4
FORM_NAMES = {LABEL: "label", ALIAS: "alias", DERIVED: "person name", INITIALS: "initials", FUZZY: "words"}

#: Most candidates one key yields (the most popular first): "john smith" names hundreds of items.
PER_KEY = 25
_CHUNK = 500
_SEP = "\x1f"
_DUMP_SUFFIXES = (".json", ".json.gz", ".json.bz2", ".jsonl", ".jsonl.gz", ".jsonl.bz2", ".ndjson", ".ndjson.gz")


class WikidataIndexError(ValueError):
    """An index cannot be built or opened; the message says why."""


class Bar(Protocol):
    def update(self, n: int = 1) -> object: ...
    def close(self) -> None: ...


BarFactory = Callable[..., Bar]


class _NoBar:
    def __init__(self, **_: object) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class NameMatch:
    """An item found for a name, and how the name belongs to it."""

    item: Item
    form: int
    source: SourceInfo


@dataclass
class IndexReport:
    path: Path
    items: int = 0
    names: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(self.kinds.items()))
        return f"{self.path}: {self.items:,} items ({kinds}), {self.names:,} names, in {self.seconds:.1f}s"


# -- building ----------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    aliases TEXT NOT NULL,
    description TEXT NOT NULL,
    kind TEXT,
    classes TEXT NOT NULL,
    sitelinks INTEGER,
    popularity REAL NOT NULL,
    popularity_basis TEXT NOT NULL,
    lat REAL,
    lon REAL,
    countries TEXT NOT NULL,
    related TEXT NOT NULL,
    born TEXT,
    died TEXT,
    sources TEXT NOT NULL
);
CREATE TABLE names (
    key TEXT NOT NULL, item INTEGER NOT NULL, form INTEGER NOT NULL, popularity REAL NOT NULL,
    PRIMARY KEY (key, item)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE search USING fts5(names, content='', tokenize='unicode61 remove_diacritics 2');
"""
_COLUMNS = (
    "id, label, aliases, description, kind, classes, sitelinks, popularity, popularity_basis, lat, lon, "
    "countries, related, born, died, sources"
)


def _row(item: Item) -> tuple:
    lat, lon = item.coordinates if item.coordinates else (None, None)
    return (
        item.number,
        item.label,
        _SEP.join(item.aliases),
        item.description,
        item.kind,
        " ".join(item.classes),
        item.sitelinks,
        item.popularity,
        item.popularity_basis,
        lat,
        lon,
        " ".join(item.countries),
        " ".join(item.related),
        item.born,
        item.died,
        " ".join(item.sources),
    )


def _item(row: Sequence[Any]) -> Item:
    (
        number,
        label,
        aliases,
        description,
        kind,
        classes,
        sitelinks,
        popularity,
        basis,
        lat,
        lon,
        countries,
        related,
        born,
        died,
        sources,
    ) = row
    return Item(
        qid=f"Q{number}",
        label=label,
        aliases=tuple(aliases.split(_SEP)) if aliases else (),
        description=description,
        kind=kind,
        classes=tuple(classes.split()),
        sitelinks=sitelinks,
        popularity=popularity,
        popularity_basis=basis,
        coordinates=(lat, lon) if lat is not None and lon is not None else None,
        countries=tuple(countries.split()),
        related=tuple(related.split()),
        born=born,
        died=died,
        sources=tuple(sources.split()),
    )


def item_keys(item: Item) -> dict[str, int]:
    """Every lookup key of an item and how it belongs to it (the strongest form when several)."""
    out: dict[str, int] = {}

    def add(k: str, form: int) -> None:
        if k and (k not in out or form < out[k]):
            out[k] = form

    add(key(item.label), LABEL)
    for alias in item.aliases:
        add(key(alias), ALIAS)
    if item.kind == Kind.PERSON:
        for name in item.names:
            add(person_variant(name), DERIVED)
    if item.kind == Kind.ORGANIZATION and (acronym := org_initials(item.label)) and len(acronym) >= 3:
        add(acronym, INITIALS)  # two letters name too many things to guess from initials
    return out


def _classify(path: Path) -> str:
    if is_stdin(path):
        return "dump"
    if path.is_dir():
        return "tables"
    if not path.is_file():
        raise WikidataIndexError(f"no such file or folder: {path}")
    if table_of(path) is not None:
        return "tables"
    if is_items_file(path):
        return "items"
    name = path.name.lower()
    if name.endswith(_DUMP_SUFFIXES) or name.endswith((".bz2", ".gz")):
        return "dump"
    raise WikidataIndexError(
        f"{path}: not a Wikidata JSON dump (.json, .json.gz, .json.bz2), a newskg items file, or a shared table"
    )


def _file_date(paths: Iterable[Path]) -> str:
    newest = 0.0
    for p in paths:
        files = [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else [p]
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return datetime.fromtimestamp(newest, UTC).date().isoformat() if newest else date.today().isoformat()


class _Writer:
    """Items into the `items` table in batches; a QID seen again is merged into the stored one.

    The pending batch is the only per-item state kept in memory: it is written (executemany)
    at every checkpoint, so memory stays flat however many items a dump has.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.pending: dict[int, Item] = {}
        self.count = 0

    def add(self, item: Item) -> None:
        old = self.pending.get(item.number)
        self.pending[item.number] = item if old is None else merge(old, item)

    def flush(self) -> None:
        if not self.pending:
            return
        ids = list(self.pending)
        stored: dict[int, Item] = {}
        for start in range(0, len(ids), _CHUNK):
            part = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(f"SELECT {_COLUMNS} FROM items WHERE id IN ({marks})", part):
                stored[row[0]] = _item(row)
        fresh = [_row(i) for n, i in self.pending.items() if n not in stored]
        marks = ",".join("?" * 16)
        self.db.executemany(f"INSERT INTO items ({_COLUMNS}) VALUES ({marks})", fresh)
        self.count += len(fresh)
        for n, old in stored.items():
            merged = merge(old, self.pending[n])
            self.db.execute(f"REPLACE INTO items ({_COLUMNS}) VALUES ({marks})", _row(merged))
        self.pending.clear()


#: A checkpoint is written after this many pending items or this many bytes of dump, whichever first:
#: a few seconds of work lost at most, and few enough commits not to cost time.
CHECKPOINT_ITEMS = 5000
CHECKPOINT_BYTES = 64 << 20

#: Where a build stands, kept in the partial index until it is complete (then dropped).
_PROGRESS_SCHEMA = """
CREATE TABLE build_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE build_inputs (
    input INTEGER PRIMARY KEY, position INTEGER NOT NULL, lineno INTEGER NOT NULL, items INTEGER NOT NULL,
    done INTEGER NOT NULL, report TEXT
);
CREATE TABLE build_classes (input INTEGER NOT NULL, qid TEXT NOT NULL, kind TEXT NOT NULL, PRIMARY KEY (input, qid));
"""


#: Seconds to wait for another connection (someone watching a build's progress) to let go of the
#: partial index: the last step, back to a rollback journal, needs it alone.
_WAIT = 120.0


def partial_path(output: Path) -> Path:
    """Where a resumable build of `output` writes until it is complete (`--resume` continues it)."""
    return output.with_name(f"{output.name}.partial")


def _signature(kinds: Sequence[tuple[Path, str]], classes: ClassFilter, subclasses: bool) -> str:
    """What a resumed build must share with the interrupted one: inputs (name, size, time) and class filter."""
    files = []
    for path, kind in kinds:
        stat = None if is_stdin(path) or path.is_dir() else path.stat()
        files.append([str(path), kind, stat.st_size if stat else None, int(stat.st_mtime) if stat else None])
    table = hashlib.sha256(json.dumps(sorted(classes.classes.items())).encode()).hexdigest()
    return json.dumps({"inputs": files, "classes": table, "subclasses": subclasses, "index": INDEX_VERSION})


class _Progress:
    """An input's progress in the partial index: the position of its next unread record (a byte
    offset into a dump's decompressed stream, an item count for other inputs), committed in the same
    transaction as the items before it, so a killed build resumes without losing or repeating any."""

    def __init__(self, db: sqlite3.Connection, writer: _Writer, number: int) -> None:
        self.db, self.writer, self.number = db, writer, number
        row = db.execute(
            "SELECT position, lineno, items, done, report FROM build_inputs WHERE input = ?", (number,)
        ).fetchone()
        self.position, self.lineno, self.items, done, report = row or (0, 1, 0, 0, None)
        self.done: dict[str, Any] | None = json.loads(report) if done else None
        self._since = 0

    def advance(self, items: Sequence[Item], position: int, lineno: int = 0, size: int = 0) -> None:
        for item in items:
            self.writer.add(item)
        self.items += len(items)
        self.position, self.lineno = position, lineno
        self._since += size
        if len(self.writer.pending) >= CHECKPOINT_ITEMS or self._since >= CHECKPOINT_BYTES:
            self.checkpoint()

    def checkpoint(self, report: dict[str, Any] | None = None) -> None:
        self.writer.flush()
        self.db.execute(
            "REPLACE INTO build_inputs VALUES (?, ?, ?, ?, ?, ?)",
            (self.number, self.position, self.lineno, self.items, report is not None, json.dumps(report)),
        )
        self.db.commit()
        self._since = 0


def _stored_classes(db: sqlite3.Connection, number: int) -> ClassFilter | None:
    rows = db.execute("SELECT qid, kind FROM build_classes WHERE input = ?", (number,)).fetchall()
    described = db.execute("SELECT value FROM build_state WHERE key = ?", (f"classes {number}",)).fetchone()
    return ClassFilter(dict(rows), described[0]) if rows and described else None


def _lock(partial: Path) -> Any:
    """An exclusive lock on the partial index (where the OS has flock): two builds of one index would
    write into the same file. flock is apart from SQLite's own (fcntl) locks on Linux."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return None
    handle = partial.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise WikidataIndexError(f"{partial} is being written by another 'kg wikidata index'") from None
    return handle


def build_index(
    inputs: Sequence[Path],
    output: Path,
    *,
    classes: ClassFilter | None = None,
    subclasses: bool = False,
    name: str | None = None,
    label: str | None = None,
    data_date: str | None = None,
    bar: BarFactory | None = None,
    jobs: int = 1,
    resumable: bool = False,
    resume: bool = False,
) -> IndexReport:
    """Build an index at `output` from dumps, items files and shared tables (earlier inputs win ties).

    The index is written next to `output` and moved into place when complete. `classes` filters
    dumps (default `ClassFilter.default()`); `subclasses` first reads each dump's P279 edges so every
    subclass of those classes counts too (a second pass over the dump). `jobs` worker processes
    parse dump lines. `bar` makes progress bars (tqdm's signature: total, desc, unit, unit_scale).

    A `resumable` build writes to `partial_path(output)` with checkpoints, and leaves it behind when
    it stops for any reason; `resume` continues it from the last checkpoint (same inputs and
    options, else an error), giving the same index as an uninterrupted build. Otherwise the partial
    file is private to this process and removed on failure.
    """
    started = datetime.now(UTC)
    bar = bar or _NoBar
    if not inputs:
        raise WikidataIndexError("nothing to index: give a Wikidata dump, an items file or shared tables")
    kinds = [(p, _classify(p)) for p in inputs]
    classes = classes or ClassFilter.default()
    signature = _signature(kinds, classes, subclasses)
    resumable = resumable or resume
    partial = partial_path(output) if resumable else output.with_name(f"{output.name}.{os.getpid()}.partial")
    output.parent.mkdir(parents=True, exist_ok=True)
    if resume and not partial.is_file():
        raise WikidataIndexError(f"nothing to resume: no interrupted build at {partial}")
    lock = _lock(partial) if resumable else None
    db: sqlite3.Connection | None = None
    try:
        if resume:
            db = sqlite3.connect(partial, timeout=_WAIT)
            try:
                stored = dict(db.execute("SELECT key, value FROM build_state"))
            except sqlite3.DatabaseError as exc:
                raise WikidataIndexError(f"{partial}: not an interrupted index build ({exc})") from None
            if stored.get("signature") != signature:
                raise WikidataIndexError(
                    f"{partial} was started from other inputs or options; run again without --resume to start over"
                )
        else:
            for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
                if stale.exists() and stale != partial:
                    stale.unlink()
            if partial.exists():
                partial.write_bytes(b"")  # truncate, not unlink: our lock is on this file
            db = sqlite3.connect(partial, timeout=_WAIT)
        # WAL: a commit is atomic even if the process is killed mid-write, which a resumable build
        # needs; synchronous=NORMAL syncs only at WAL checkpoints (a power cut may lose the last
        # commits, never the file).
        db.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-200000; "
            "PRAGMA wal_autocheckpoint=10000;"
        )
        if not resume:
            db.executescript(_SCHEMA + _PROGRESS_SCHEMA)
            db.execute("INSERT INTO build_state VALUES ('signature', ?)", (signature,))
            db.commit()
        report = _build(db, kinds, classes, subclasses, bar, jobs, started, name, label, data_date, output)
    except BaseException:
        if db is not None:
            db.close()
        if not resumable:
            partial.unlink(missing_ok=True)
            for extra in ("-wal", "-shm"):
                Path(f"{partial}{extra}").unlink(missing_ok=True)
        if lock is not None:
            lock.close()
        raise
    db.close()
    os.replace(partial, output)
    if lock is not None:
        lock.close()
    report.seconds = (datetime.now(UTC) - started).total_seconds()
    return report


def _build(
    db: sqlite3.Connection,
    kinds: Sequence[tuple[Path, str]],
    classes: ClassFilter,
    subclasses: bool,
    bar: BarFactory,
    jobs: int,
    started: datetime,
    name: str | None,
    label: str | None,
    data_date: str | None,
    output: Path,
) -> IndexReport:
    report = IndexReport(output)
    writer = _Writer(db)
    dates: list[str] = []
    licences: list[str] = []
    labels: list[str] = []
    for number, (path, kind) in enumerate(kinds):
        progress = _Progress(db, writer, number)
        if progress.done is None:
            if kind == "dump":
                progress.done = _index_dump(db, progress, path, classes, subclasses, bar, jobs)
            elif kind == "items":
                progress.done = _index_items(progress, path, bar)
            else:
                progress.done = _index_tables(progress, path, bar)
            progress.checkpoint(progress.done)
        done = progress.done
        report.inputs += done["inputs"]
        dates.append(done["date"])
        licences += done["licences"]
        labels.append(done["label"])
    report.items = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    report.names = _write_names(db, bar)
    for kind_name, n in db.execute("SELECT COALESCE(kind, 'unknown'), COUNT(*) FROM items GROUP BY 1"):
        report.kinds[kind_name] = n
    meta = {
        "format": INDEX_FORMAT,
        "version": str(INDEX_VERSION),
        "name": name or output.stem,
        "label": label or "; ".join(dict.fromkeys(labels)),
        "data_date": data_date or max(dates),
        "built": started.replace(microsecond=0).isoformat(),
        "licence": "; ".join(dict.fromkeys(x for x in licences if x)),
        "inputs": json.dumps(report.inputs, ensure_ascii=False),
        "kinds": json.dumps(report.kinds, sort_keys=True),
        "items": str(report.items),
        "names": str(report.names),
        "newskg": __version__,
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
    db.executescript("DROP TABLE build_state; DROP TABLE build_inputs; DROP TABLE build_classes;")
    db.commit()
    db.execute("PRAGMA analysis_limit=1000")  # statistics from a sample: a full ANALYZE reads every index
    db.execute("ANALYZE")
    db.commit()
    # Back to a rollback journal: the finished index is one file, which readers open read-only.
    db.execute("PRAGMA journal_mode=DELETE")
    return report


def _index_dump(
    db: sqlite3.Connection,
    progress: _Progress,
    path: Path,
    classes: ClassFilter,
    subclasses: bool,
    bar: BarFactory,
    jobs: int,
) -> dict[str, Any]:
    size = dump_size(path)
    used = classes
    if subclasses:
        # The widened filter is stored with the checkpoints: a resumed build does not read the dump twice again.
        known = _stored_classes(db, progress.number)
        if known is not None:
            used = known
        else:
            counter = bar(total=size, desc=f"classes {path.name}", unit="B", unit_scale=True)
            try:
                used = classes.with_subclasses(subclass_edges(path, progress=counter.update))
            finally:
                counter.close()
            db.executemany(
                "INSERT INTO build_classes VALUES (?, ?, ?)", [(progress.number, q, k) for q, k in used.classes.items()]
            )
            db.execute("INSERT INTO build_state VALUES (?, ?)", (f"classes {progress.number}", used.description))
            db.commit()
    counter = bar(total=size, desc=f"index {path.name}", unit="B", unit_scale=True)
    try:
        batches = dump_batches(
            path, used, start=progress.position, lineno=progress.lineno, jobs=jobs, progress=counter.update
        )
        last = progress.position
        for batch in batches:
            progress.advance(batch.items, batch.end, batch.lineno, batch.end - last)
            last = batch.end
    finally:
        counter.close()
    entry = {"path": str(path), "kind": "Wikidata JSON dump", "items": progress.items, "licence": "CC0-1.0"}
    entry["classes"] = used.description
    label = "Wikidata dump standard input" if is_stdin(path) else f"Wikidata dump {path.name}"
    date_ = date.today().isoformat() if is_stdin(path) else _file_date([path])
    return {"inputs": [entry], "date": date_, "licences": ["CC0-1.0 (Wikidata)"], "label": label}


def _index_items(progress: _Progress, path: Path, bar: BarFactory) -> dict[str, Any]:
    head = read_items_header(path)
    counter = bar(total=head.get("items"), desc=f"index {path.name}", unit="item")
    skip = progress.position
    counter.update(skip)
    n = 0
    batch: list[Item] = []
    try:
        for item in read_items(path):
            n += 1
            if n <= skip:
                continue
            batch.append(item)
            if len(batch) == 1000:
                progress.advance(batch, n)
                counter.update(len(batch))
                batch = []
        progress.advance(batch, n)
        counter.update(len(batch))
    finally:
        counter.close()
    entry = {"path": str(path), "kind": "newskg items", "items": n, "made_from": head.get("sources", [])}
    return {
        "inputs": [entry],
        "date": str(head.get("date") or _file_date([path])),
        "licences": [str(head.get("licence", ""))],
        "label": str(head.get("label") or path.name),
    }


def _index_tables(progress: _Progress, path: Path, bar: BarFactory) -> dict[str, Any]:
    try:
        items, read = read_tables([path])
    except TableError as exc:
        raise WikidataIndexError(str(exc)) from None
    counter = bar(total=len(items), desc=f"index {path.name}", unit="item")
    try:
        for start in range(progress.position, len(items), 1000):
            part = items[start : start + 1000]
            progress.advance(part, start + len(part))
            counter.update(len(part))
    finally:
        counter.close()
    entries = [{"path": str(r.path), "kind": r.table.label, "rows": r.rows, "licence": r.table.licence} for r in read]
    return {
        "inputs": entries,
        "date": _file_date([path]),
        "licences": [r.table.licence for r in read],
        "label": ", ".join(dict.fromkeys(r.table.label for r in read)),
    }


def _write_names(db: sqlite3.Connection, bar: BarFactory) -> int:
    """Every item's lookup keys into `names`, and its words into `search`, after all items are in.

    Always from scratch (a resumed build may have stopped half-way through). Names go first into a
    plain table in item order and then into `names` sorted by key: inserting tens of millions of keys
    in random order into its B-tree would touch a random page per row once the index outgrows the cache.
    """
    db.execute("DELETE FROM names")
    db.execute("INSERT INTO search (search) VALUES ('delete-all')")
    db.execute("DROP TABLE IF EXISTS name_rows")
    db.execute("CREATE TABLE name_rows (key TEXT NOT NULL, item INTEGER NOT NULL, form INTEGER NOT NULL, pop REAL)")
    total = db.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    progress = bar(total=total, desc="names", unit="item")
    names: list[tuple[str, int, int, float]] = []
    texts: list[tuple[int, str]] = []
    reader = db.cursor()
    try:
        for row in reader.execute(f"SELECT {_COLUMNS} FROM items ORDER BY id"):
            item = _item(row)
            keys = item_keys(item)
            names += [(k, item.number, form, item.popularity) for k, form in keys.items()]
            texts.append((item.number, " ".join(dict.fromkeys(k for k in keys))))
            if len(texts) >= 5000:
                _flush_names(db, names, texts)
                progress.update(len(texts))
                names, texts = [], []
        _flush_names(db, names, texts)
        progress.update(len(texts))
    finally:
        progress.close()
    db.execute("INSERT OR IGNORE INTO names SELECT key, item, form, pop FROM name_rows ORDER BY key, item")
    db.execute("DROP TABLE name_rows")
    db.commit()
    return db.execute("SELECT COUNT(*) FROM names").fetchone()[0]


def _flush_names(db: sqlite3.Connection, names: list, texts: list) -> None:
    db.executemany("INSERT INTO name_rows VALUES (?, ?, ?, ?)", names)
    db.executemany("INSERT INTO search (rowid, names) VALUES (?, ?)", texts)


# -- reading -----------------------------------------------------------------------------------


def _fts_query(words: Sequence[str]) -> str:
    return " AND ".join('"' + w.replace('"', "") + '"' for w in words)


class LocalIndex:
    """A built index, open for lookups (one connection, read-only, kept for the index's lifetime)."""

    def __init__(self, path: Path | str, *, source_id: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise WikidataIndexError(f"no Wikidata index at {self.path} (build one with 'kg wikidata index')")
        try:
            self.db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            self.meta = dict(self.db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise WikidataIndexError(f"{self.path}: not a newskg Wikidata index ({exc})") from None
        if self.meta.get("format") != INDEX_FORMAT:
            raise WikidataIndexError(f"{self.path}: not a newskg Wikidata index")
        if self.meta.get("version") != str(INDEX_VERSION):
            raise WikidataIndexError(
                f"{self.path}: index format {self.meta.get('version')}, this newskg reads {INDEX_VERSION}; rebuild it"
            )
        self.info = SourceInfo(
            id=source_id or self.meta.get("name", self.path.stem),
            label=self.meta.get("label", ""),
            date=self.meta.get("data_date", ""),
            licence=self.meta.get("licence", ""),
            items=int(self.meta.get("items", 0)),
            path=str(self.path),
        )
        self._items: dict[int, Item] = {}

    def __repr__(self) -> str:
        return f"LocalIndex({str(self.path)!r}, {self.info.items} items)"

    @property
    def inputs(self) -> list[dict[str, Any]]:
        return json.loads(self.meta.get("inputs", "[]"))

    @property
    def kinds(self) -> dict[str, int]:
        return json.loads(self.meta.get("kinds", "{}"))

    def items(self, numbers: Iterable[int]) -> dict[int, Item]:
        """Items by QID number, from a cache or in batches."""
        numbers = list(numbers)
        wanted = [n for n in dict.fromkeys(numbers) if n not in self._items]
        if len(self._items) + len(wanted) > 300_000:
            self._items.clear()
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(part))
            for row in self.db.execute(f"SELECT {_COLUMNS} FROM items WHERE id IN ({marks})", part):
                self._items[row[0]] = _item(row)
        return {n: self._items[n] for n in numbers if n in self._items}

    def item(self, qid: str) -> Item | None:
        return self.items([int(qid[1:])]).get(int(qid[1:])) if qid[1:].isdigit() else None

    def find(self, keys: Mapping[str, str]) -> dict[str, list[NameMatch]]:
        """Items whose normalised names are exactly these keys (at most PER_KEY each, most popular first)."""
        hits: dict[str, list[tuple[int, int]]] = {}
        wanted = [k for k in keys if k]
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(
                "SELECT key, item, form FROM (SELECT key, item, form, row_number() OVER "
                "(PARTITION BY key ORDER BY popularity DESC, item) AS rank FROM names "
                f"WHERE key IN ({marks})) WHERE rank <= ?",
                [*part, PER_KEY],
            )
            for k, number, form in rows:
                hits.setdefault(k, []).append((number, form))
        items = self.items(n for found in hits.values() for n, _ in found)
        return {
            k: [NameMatch(items[n], form, self.info) for n, form in found if n in items] for k, found in hits.items()
        }

    def search(self, name: str, limit: int = 10) -> list[NameMatch]:
        """Items sharing the words of a name (all of them; failing that, all but one), best first."""
        words = key(name).split()
        if not words:
            return []
        attempts = [words]
        if len(words) >= 3:
            attempts += [words[:i] + words[i + 1 :] for i in range(len(words))]
        for attempt in attempts:
            try:
                numbers = [
                    r[0]
                    for r in self.db.execute(
                        "SELECT rowid FROM search WHERE search MATCH ? ORDER BY rank LIMIT ?",
                        (_fts_query(attempt), limit),
                    )
                ]
            except sqlite3.OperationalError:
                return []
            if numbers:
                items = self.items(numbers)
                return [NameMatch(items[n], FUZZY, self.info) for n in numbers if n in items]
        return []

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> LocalIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_index(index: LocalIndex) -> Iterator[Item]:
    """Every item of an index, by QID number (to export or compare indexes)."""
    for row in index.db.execute(f"SELECT {_COLUMNS} FROM items ORDER BY id"):
        yield _item(row)
