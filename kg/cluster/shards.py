"""Shards: what the workers write under the work folder the cluster shares, and how the driver reads it.

Per partition: its article graphs as N-Quads (`graphs/part-NNNNN.nq`), an index of its articles with
where each one's quads lie in that file (`articles/`), and its corpus records (`mentions/`, `events/`),
all Parquet but the graphs. A shard appears whole or not at all (written under a temporary name, then
renamed): a task killed half-way and run again elsewhere leaves no half file behind, and the second run
writes the same bytes under the same name. The work folder is a local path or any fsspec URL.

Event records are nested (roles, times, dates) and only ever read back by Python: they travel as one
pickled column beside their article's digest and position, not as a Parquet schema of their own.
"""

from __future__ import annotations

import io
import os
import pickle
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

from .inputs import is_url

ARTICLES = pa.schema(
    [
        ("digest", pa.string()),
        ("source_key", pa.string()),
        ("partition", pa.int32()),
        ("seq", pa.int32()),
        ("offset", pa.int64()),
        ("length", pa.int64()),
    ]
)
MENTIONS = pa.schema(
    [
        ("digest", pa.string()),
        ("iri", pa.string()),
        ("text", pa.string()),
        ("name", pa.string()),
        ("kind", pa.string()),
        ("label", pa.string()),
        ("title", pa.string()),
        ("region", pa.string()),
        ("partition", pa.int32()),
        ("seq", pa.int32()),
    ]
)
EVENTS = pa.schema([("digest", pa.string()), ("partition", pa.int32()), ("seq", pa.int32()), ("record", pa.binary())])
#: The final entities of corpus resolution (kg.cluster.resolve), pickled as event records are.
ENTITIES = EVENTS
SCHEMAS = {"articles": ARTICLES, "mentions": MENTIONS, "events": EVENTS, "entities": ENTITIES}


def shard(work: str, kind: str, number: int) -> str:
    """The path (or URL) of one partition's shard of a kind."""
    ext = "nq" if kind == "graphs" else "parquet"
    return f"{work.rstrip('/')}/{kind}/part-{number:05d}.{ext}"


@contextmanager
def atomic(path: str) -> Iterator[BinaryIO]:
    """A file written under a temporary name and renamed to `path` when whole (never on failure)."""
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    if not is_url(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with open(temporary, "wb") as out:
                yield out
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        return
    fs, target = fsspec.core.url_to_fs(path)
    fs.makedirs(fs._parent(target), exist_ok=True)
    tmp = f"{target}.tmp-{uuid.uuid4().hex}"
    try:
        with fs.open(tmp, "wb") as out:
            yield out
        fs.mv(tmp, target)
    finally:
        if fs.exists(tmp):
            fs.rm(tmp)


def write_table(work: str, kind: str, number: int, rows: list[dict]) -> None:
    table = pa.Table.from_pylist(rows, schema=SCHEMAS[kind])
    with atomic(shard(work, kind, number)) as out:
        pq.write_table(table, out)


def read_table(work: str, kind: str, number: int) -> list[dict]:
    with fsspec.open(shard(work, kind, number), "rb") as stream:
        return pq.read_table(io.BytesIO(stream.read()), schema=SCHEMAS[kind]).to_pylist()


def read_bytes(path: str, start: int | None = None, end: int | None = None) -> bytes:
    with fsspec.open(path, "rb") as stream:
        if start is None:
            return stream.read()
        stream.seek(start)
        return stream.read((end or 0) - start)


def pack(record: object) -> bytes:
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> object:
    return pickle.loads(data)


def remove(work: str) -> None:
    """Delete a run's shards (after they are loaded: they are generated data)."""
    if is_url(work):
        fs, path = fsspec.core.url_to_fs(work)
        if fs.exists(path):
            fs.rm(path, recursive=True)
        return
    import shutil

    shutil.rmtree(work, ignore_errors=True)
