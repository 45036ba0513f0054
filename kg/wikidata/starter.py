"""The bundled starter index: a small items file in the package, made into SQLite on first use.

The package ships `kg/_data/wikidata/starter-items.jsonl.gz` (made by `kg wikidata starter` from
the CC0, public-domain and MIT tables of ``../shared/wikidata``, never the ODbL one); the first
lookup turns it into an index in the user's cache folder, named after the file's hash, so a new
starter file gets a new index and an old cache is never used by mistake.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from .index import BarFactory, build_index
from .items import read_items_header, write_items
from .tables import read_tables

STARTER_ITEMS = Path(__file__).resolve().parent.parent / "_data" / "wikidata" / "starter-items.jsonl.gz"
STARTER_NAME = "starter"
STARTER_LABEL = "newskg starter index (FB15k-237 Wikidata labels, Natural Earth, US Congress, histwardb)"


def default_cache_dir() -> Path:
    """Where newskg caches what it derives: $XDG_CACHE_HOME/newskg, else ~/.cache/newskg."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "newskg"


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def starter_index_path(
    cache_dir: Path | None = None, items: Path = STARTER_ITEMS, *, bar: BarFactory | None = None
) -> Path:
    """The starter index, built from the bundled items file on first use (a second or two)."""
    if not items.is_file():
        raise FileNotFoundError(f"the bundled Wikidata starter data is missing from this install ({items})")
    cache = (cache_dir or default_cache_dir()) / "wikidata"
    path = cache / f"{STARTER_NAME}-{file_hash(items)[:16]}.sqlite"
    if not path.is_file():
        head = read_items_header(items)
        build_index([items], path, name=STARTER_NAME, label=head.get("label", STARTER_LABEL), bar=bar)
    return path


def write_starter_items(tables: Sequence[Path], output: Path, *, date: str | None = None) -> int:
    """Write the starter items file from the shared tables (only those whose licence allows shipping)."""
    items, read = read_tables(tables, starter_only=True)
    sources = [
        {"table": r.table.id, "file": r.path.name, "licence": r.table.licence, "rows": r.rows, "label": r.table.label}
        for r in read
    ]
    newest = max(r.path.stat().st_mtime for r in read)
    header = {
        "label": STARTER_LABEL,
        "licence": "; ".join(dict.fromkeys(f"{s['table']}: {s['licence']}" for s in sources)),
        "date": date or datetime.fromtimestamp(newest, UTC).date().isoformat(),
        "sources": sources,
        "items": len(items),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    return write_items(items, output, header)
