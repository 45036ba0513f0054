"""Writer: RDF, validation and storage of extracted batches, in a process of its own.

Parsing is the slow part of a build and runs in the build's process (and spaCy's workers);
turning each batch into triples, checking them with SHACL and writing them in one transaction
runs here, alongside, so the two overlap. When the batches end, the writer updates the corpus
graph (kg.corpus) from the mentions it has seen, so nothing is read back from the store. The
writer is a plain Python subprocess running `main`, fed pickled batches on stdin: no fork of a
threaded parent, no re-import of the caller's `__main__`.
"""

from __future__ import annotations

import os
import pickle
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pyoxigraph as ox

from .corpus import update_corpus
from .extract import Extraction
from .merge import EventRecord, event_records
from .namespaces import Iris
from .rdf import Provenance, article_triples
from .read import Article
from .resolve import CorpusMentions, MentionRecord
from .settings import Settings
from .store import KnownArticles, Store, StoreError, to_quads
from .validate import ValidationReport, validate_triples

Batch = list[tuple[Article, Extraction]]
_CHILD = "from kg.writer import main; main()"


@dataclass
class BatchResult:
    """What writing one batch did."""

    articles: int = 0
    added: int = 0
    replaced: int = 0
    quads: int = 0
    validation: ValidationReport | None = None
    superseded: list[str] = field(default_factory=list)
    superseded_digests: list[str] = field(default_factory=list)


def write_batch(
    store: Store, batch: Batch, known: KnownArticles, prov: Provenance, validate: bool, engine: str = "oxigraph"
) -> BatchResult:
    """Triples for each article, checked with the SHACL `engine`, then written in one transaction.

    `known` is kept current."""
    iris = store.iris
    triples = [article_triples(a, ex, iris, prov) for a, ex in batch]
    names = [iris.article_graph(a.digest) for a, _ in batch]
    graphs = [(name, to_quads(t, name)) for name, t in zip(names, triples, strict=True)]
    result = BatchResult(articles=len(batch))
    if validate:
        result.validation = validate_triples(
            [t for ts in triples for t in ts], quads=[q for _, qs in graphs for q in qs], engine=engine
        )
    for article, _ in batch:
        old = known.by_source.get(article.source_key)
        if old is not None and old != article.digest:
            result.replaced += 1
            shared = any(d == old and k != article.source_key for k, d in known.by_source.items())
            if not shared:
                result.superseded.append(iris.article_graph(old))
                result.superseded_digests.append(old)
                known.digests.discard(old)
        else:
            result.added += 1
        known.by_source[article.source_key] = article.digest
        known.digests.add(article.digest)
    result.quads = store.write_articles(graphs, result.superseded)
    return result


def mention_records(batch: Batch, iris: Iris) -> Iterator[MentionRecord]:
    """The entity mentions of a batch as corpus resolution reads them (what the store would give back)."""
    for article, extraction in batch:
        for m in extraction.mentions:
            if m.kind != "Group":
                yield MentionRecord(
                    article.digest, iris.mention(article.digest, m.begin, m.end), m.text, m.name, m.kind, m.label
                )


#: Batches the build may run ahead of the writer (while it starts, or while a write is slow).
SEND_AHEAD = 32
_CLOSE = object()


class WriterProcess:
    """The build's side of the writer: start it, send batches, collect results, stop it.

    A sender thread feeds the writer's pipe, so parsing never waits on it unless the writer
    falls SEND_AHEAD batches behind (memory stays flat). Batches wait their turn pickled: an
    article's extraction takes about 80 KB as Python objects and 5 KB pickled.
    """

    def __init__(self, settings: Settings, known: KnownArticles, prov: Provenance) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.results: queue.Queue[tuple[str, object]] = queue.Queue()
        self.outbox: queue.Queue[object] = queue.Queue(maxsize=SEND_AHEAD)
        self.broken = False
        self.sender = threading.Thread(target=self._pump, daemon=True, name="kg-writer-sender")
        self.sender.start()
        self._send((settings, known, prov))
        self.reader = threading.Thread(target=self._read, daemon=True, name="kg-writer-results")
        self.reader.start()

    def _pump(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            while (data := self.outbox.get()) is not _CLOSE:
                stdin.write(data)  # type: ignore[arg-type]
                stdin.flush()
            stdin.close()
        except OSError:  # the writer is gone; the build learns why from its replies
            self.broken = True

    def _send(self, message: object) -> None:
        """Queue a message for the writer, pickled now: it waits as bytes, not as Python objects."""
        self._put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def _put(self, item: object) -> None:
        while not self.broken:
            try:
                self.outbox.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        self._raise_failure()

    def _read(self) -> None:
        assert self.process.stdout is not None
        try:
            while True:
                self.results.put(pickle.load(self.process.stdout))
        except EOFError:
            pass
        except Exception as exc:  # a garbled reply: report it rather than hang the build
            self.results.put(("error", f"unreadable reply from the writer: {exc}"))
        self.results.put(("closed", None))

    def _raise_failure(self) -> None:
        self.process.wait()
        self.reader.join(timeout=5)
        for kind, payload in self.drain():
            if kind == "error":
                raise StoreError(f"writing failed: {payload}")
        raise StoreError(f"the writer process stopped unexpectedly (exit code {self.process.poll()})")

    def send(self, batch: Batch) -> None:
        """Hand over a batch; blocks when the writer is several batches behind (flat memory)."""
        self._send(batch)

    def drain(self) -> list[tuple[str, object]]:
        """Results that have arrived so far."""
        out = []
        while True:
            try:
                out.append(self.results.get_nowait())
            except queue.Empty:
                return out

    def finish(self) -> Iterator[tuple[str, object]]:
        """Tell the writer there is no more; the remaining results, as they come, until it stops."""
        self._send(None)
        self._put(_CLOSE)
        while True:
            kind, payload = self.results.get()
            if kind == "closed":
                break
            yield kind, payload
        self.process.wait()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


READ_AHEAD = 4


def _read_ahead(stdin: BinaryIO, inbox: queue.Queue) -> None:
    """Unpickle batches as soon as they arrive, so the build never waits on a full pipe."""
    try:
        while True:
            message = pickle.load(stdin)
            inbox.put(("message", message))
            if message is None:
                return
    except BaseException as exc:  # EOF or garbage: the loop reports it
        inbox.put(("error", exc))


def main() -> None:
    """The writer process: replies go out on a private copy of stdout, and whatever else writes to
    stdout (a library's print, a C extension) lands on stderr instead of garbling them."""
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, replies)
    # Everything is said and the store is closed: leave without tearing down the interpreter's
    # objects one by one (a third of a second after a large build, and the build waits for it).
    replies.close()
    sys.stderr.flush()
    os._exit(0)


def serve(stdin: BinaryIO, stdout: BinaryIO) -> None:
    """The writer's loop: settings first, then batches until None; one result per batch, then the corpus.

    A reader thread keeps up to READ_AHEAD batches unpickled ahead of the one being written, so
    the build hands a batch over without waiting for the previous one to be stored, and still
    blocks (flat memory) when the writer falls further behind. Mentions are kept for corpus
    resolution only when the store held nothing before: otherwise it reads them all back.
    """

    def reply(kind: str, payload: object) -> None:
        pickle.dump((kind, payload), stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()

    def receive() -> object:
        kind, payload = inbox.get()
        if kind == "error":
            raise payload
        return payload

    inbox: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=READ_AHEAD)
    try:
        settings, known, prov = pickle.load(stdin)
        threading.Thread(target=_read_ahead, args=(stdin, inbox), daemon=True, name="kg-writer-inbox").start()
        fresh = not known.digests
        mentions = CorpusMentions()
        records: list[EventRecord] = []
        superseded: set[str] = set()
        with Store(settings.store, Iris(settings.base)) as store:
            while (batch := receive()) is not None:
                result = write_batch(store, batch, known, prov, settings.validate, settings.shacl_engine)
                if fresh:
                    mentions.add(mention_records(batch, store.iris))
                    records += [r for a, ex in batch for r in event_records(a, ex, store.iris)]
                    superseded.update(result.superseded_digests)
                reply("batch", result)
            mentions.drop(superseded)
            records = [r for r in records if r.digest not in superseded]

            def check(quads: list[ox.Quad]) -> None:
                reply("check", ox.serialize(quads, format=ox.RdfFormat.N_QUADS))

            corpus = update_corpus(
                store, settings, prov, mentions if fresh else None, records if fresh else None, check=check
            )
            reply("corpus", corpus)
    except BaseException as exc:  # reported to the build, which raises it
        reply("error", f"{type(exc).__name__}: {exc}")
