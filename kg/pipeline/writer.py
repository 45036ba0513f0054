"""Writer: RDF, validation and storage of extracted batches, in a process of its own.

Parsing is the slow part of a build and runs in the build's process (and spaCy's workers);
turning each batch into triples, checking them with SHACL and writing them in one transaction
runs here, alongside, so the two overlap. When the batches end, the writer updates the corpus
graph (kg.pipeline.corpus) from the mentions it has seen, so nothing is read back from the store. The
writer is a plain Python subprocess running `main`, fed pickled batches on stdin: no fork of a
threaded parent, no re-import of the caller's `__main__`.

A writer that dies (killed, out of memory) must never pass for one that finished: the build
counts its replies and reads its exit status, and says what was and was not written. The writer
in turn dies with the build (a build killed with -9 leaves no writer holding the store), and
leaves Ctrl-C to the build, which stops it.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pyoxigraph as ox

from ..article.read import Article, ReadError
from ..corpus.merge import event_records
from ..corpus.resolve import CorpusMentions
from ..model import EventRecord, Extraction, Kind, MentionRecord
from ..namespaces import KG, Iris
from ..rdf.triples import Provenance, article_triples
from ..settings import Settings
from ..store.store import KnownArticles, Store, StoreError, to_quads
from ..validate.check import ValidationReport, validate_triples
from .corpus import update_corpus
from .messages import Batch, Check, Closed, CorpusDone, End, Failed, FromWriter, Stage, Start, Written

Articles = list[tuple[Article, Extraction]]
_SOURCE_KEY = ox.NamedNode(str(KG.sourceKey))
_CHILD = "from kg.pipeline.writer import main; main()"


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
    #: Articles of the batch that could not be turned into a graph, each with its reason.
    errors: list[ReadError] = field(default_factory=list)
    #: The digests of the articles written.
    written: list[str] = field(default_factory=list)


def article_graphs(
    batch: Articles, iris: Iris, prov: Provenance
) -> tuple[Articles, list, list, list[ReadError]]:
    """Each article's triples and quads; an article whose graph cannot be made is an error of its own.

    One article's bad data (a term Oxigraph refuses, say) must cost that article, not its batch.
    Returns the articles kept, their triples, their (graph name, quads) and the errors.
    """
    kept: Batch = []
    triples: list = []
    graphs: list = []
    errors: list[ReadError] = []
    for article, extraction in batch:
        name = iris.article_graph(article.digest)
        try:
            made = article_triples(article, extraction, iris, prov)
            quads = to_quads(made, name)
        except (ValueError, TypeError) as exc:
            errors.append(ReadError(article.where, f"cannot be stored: {exc}"))
            continue
        kept.append((article, extraction))
        triples.append(made)
        graphs.append((name, quads))
    return kept, triples, graphs, errors


def write_batch(
    store: Store, batch: Articles, known: KnownArticles, prov: Provenance, validate: bool, engine: str = "oxigraph"
) -> BatchResult:
    """Triples for each article, checked with the SHACL `engine`, then written in one transaction.

    `known` is kept current."""
    iris = store.iris
    result = BatchResult(articles=len(batch))
    batch, triples, graphs, result.errors = article_graphs(batch, iris, prov)
    if validate and graphs:
        result.validation = validate_triples(
            [t for ts in triples for t in ts], quads=[q for _, qs in graphs for q in qs], engine=engine
        )
    forget: list[tuple[str, str, str]] = []
    for (article, _), (_, quads) in zip(batch, graphs, strict=True):
        old = known.by_source.get(article.source_key)
        if old is not None and old != article.digest:
            result.replaced += 1
            shared = any(d == old and k != article.source_key for k, d in known.by_source.items())
            if shared:  # another source still holds the old text: it stays, no longer under this source
                forget.append((iris.article_graph(old), iris.article(old), article.source_key))
            else:
                result.superseded.append(iris.article_graph(old))
                result.superseded_digests.append(old)
                known.digests.discard(old)
        else:
            result.added += 1
        known.by_source[article.source_key] = article.digest
        known.digests.add(article.digest)
        result.written.append(article.digest)
        # Every source known to hold this text is named in its graph, so that the store remembers
        # them all: a copy in another file keeps the article when this one changes.
        subject, graph = ox.NamedNode(iris.article(article.digest)), ox.NamedNode(iris.article_graph(article.digest))
        quads += [
            ox.Quad(subject, _SOURCE_KEY, ox.Literal(key), graph)
            for key, digest in sorted(known.by_source.items())
            if digest == article.digest and key != article.source_key
        ]
    result.quads = store.write_articles(graphs, result.superseded) if graphs else 0
    store.forget_sources(forget)
    return result


def mention_records(batch: Articles, iris: Iris) -> Iterator[MentionRecord]:
    """The entity mentions of a batch as corpus resolution reads them (what the store would give back)."""
    for article, extraction in batch:
        for m in extraction.mentions:
            if m.kind != Kind.GROUP:
                yield MentionRecord(
                    article.digest,
                    iris.mention(article.digest, m.begin, m.end),
                    m.text,
                    m.name,
                    m.kind,
                    m.label,
                    m.title,
                    m.region,
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

    def __init__(
        self,
        settings: Settings,
        known: KnownArticles,
        prov: Provenance,
        on_stage: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.results: queue.Queue[FromWriter] = queue.Queue()
        self.outbox: queue.Queue[object] = queue.Queue(maxsize=SEND_AHEAD)
        self.broken = False
        self.sent = 0  # batches handed over
        self.written = 0  # batches the writer said it wrote
        self.stage: str | None = None  # the corpus stage's step the writer last reported
        self.on_stage = on_stage
        self.sender = threading.Thread(target=self._pump, daemon=True, name="kg-writer-sender")
        self.sender.start()
        self._send(Start(settings, known, prov))
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
                item = pickle.load(self.process.stdout)
                if isinstance(item, Stage):
                    self._stage(item)
                    continue
                self.results.put(item)
        except EOFError:
            pass
        except Exception as exc:  # a garbled reply: report it rather than hang the build
            self.results.put(Failed(f"unreadable reply from the writer: {exc}"))
        self.results.put(Closed())

    def _raise_failure(self) -> None:
        self.process.wait()
        self.reader.join(timeout=5)
        while True:  # its last words, if it had any, say more than the exit status
            try:
                self._accept(self.results.get_nowait())
            except queue.Empty:
                break
        self._stopped()

    def _stage(self, stage: Stage) -> None:
        """The corpus stage's progress, passed on as it comes, not behind the results the build is checking:
        a progress bar (and whoever watches it) sees where the writer is."""
        self.stage = stage.name
        if self.on_stage is not None:
            try:
                self.on_stage(stage.name, stage.done, stage.total)
            except Exception:  # a display that fails must not stop the replies
                self.on_stage = None

    def _accept(self, item: FromWriter) -> FromWriter:
        """Account for one reply; a reported error or an end without the corpus raises StoreError."""
        match item:
            case Failed(message):
                self.process.wait()
                raise StoreError(f"writing failed: {message}")
            case Closed():
                self._stopped()
            case Written():
                self.written += 1
        return item

    def _stopped(self) -> None:
        """The writer is gone before its work was done: say so, with what it had done."""
        code = self.process.wait()
        if code < 0:
            try:
                how = f"was killed by signal {-code} ({signal.Signals(-code).name})"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"stopped with exit status {code}"
        if self.stage is None:
            when = f"after writing {self.written} of {self.sent} batches of articles"
            advice = "the articles written are kept; 'kg build' again reads the rest"
        else:
            when = f"during the corpus stage ({self.stage})"
            advice = "the articles are stored but entities and events are not; 'kg build' again finishes the stage"
        raise StoreError(f"the writer process {how} {when}: {advice}")

    def send(self, batch: Articles) -> None:
        """Hand over a batch; blocks when the writer is several batches behind (flat memory)."""
        self._send(Batch(batch))
        self.sent += 1

    def drain(self) -> list[FromWriter]:
        """Results that have arrived so far; raises StoreError if the writer failed or stopped."""
        out = []
        while True:
            try:
                item = self.results.get_nowait()
            except queue.Empty:
                return out
            out.append(self._accept(item))

    def finish(self) -> Iterator[FromWriter]:
        """Tell the writer there is no more; the remaining results, as they come, until it stops.

        Raises StoreError unless every batch's reply and the corpus stage's report arrived and the
        writer exited cleanly: a writer killed mid-way must not look like a build that finished.
        """
        self._send(End())
        self._put(_CLOSE)
        corpus = False
        while True:
            try:
                # In slices: a signal may wake another thread, and only the main thread's own
                # bytecode raises KeyboardInterrupt; a wait without end would swallow Ctrl-C.
                item = self.results.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(item, Closed) and corpus and self.written == self.sent:
                break
            self._accept(item)
            corpus = corpus or isinstance(item, CorpusDone)
            yield item
        if self.process.wait() != 0:
            self._stopped()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


READ_AHEAD = 4
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int | None) -> None:
    """Be killed when the build's process ends, however it ends (Linux; elsewhere a no-op).

    A build killed with -9 (or by the OOM killer) cannot stop its writer, which would go on holding
    the store's lock. Ctrl-C is left to the build: it stops the writer itself, in order.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is None or not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the build was gone before the request took effect
        os._exit(1)


def _read_ahead(stdin: BinaryIO, inbox: queue.Queue) -> None:
    """Unpickle batches as soon as they arrive, so the build never waits on a full pipe."""
    try:
        while True:
            message = pickle.load(stdin)
            inbox.put(message)
            if isinstance(message, End):
                return
    except BaseException as exc:  # EOF or garbage: the loop reports it
        inbox.put(exc)


def main() -> None:
    """The writer process: replies go out on a private copy of stdout, and whatever else writes to
    stdout (a library's print, a C extension) lands on stderr instead of garbling them."""
    _die_with(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else None)
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
    """The writer's loop: a Start, then Batches until End; one Written per batch, then CorpusDone.

    A reader thread keeps up to READ_AHEAD batches unpickled ahead of the one being written, so
    the build hands a batch over without waiting for the previous one to be stored, and still
    blocks (flat memory) when the writer falls further behind. Mentions are kept for corpus
    resolution only when the store held nothing before: otherwise it reads them all back.
    """

    def reply(message: FromWriter) -> None:
        pickle.dump(message, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()

    def receive() -> Batch | End:
        item = inbox.get()
        if isinstance(item, BaseException):
            raise item
        if not isinstance(item, Batch | End):
            raise TypeError(f"the writer expected a batch or the end, not {type(item).__name__}")
        return item

    inbox: queue.Queue[Batch | End | BaseException] = queue.Queue(maxsize=READ_AHEAD)
    try:
        start = pickle.load(stdin)
        if not isinstance(start, Start):
            raise TypeError(f"the writer expected its settings first, not {type(start).__name__}")
        settings, known, prov = start.settings, start.known, start.prov
        threading.Thread(target=_read_ahead, args=(stdin, inbox), daemon=True, name="kg-writer-inbox").start()
        fresh = not known.digests
        mentions = CorpusMentions()
        records: list[EventRecord] = []
        superseded: set[str] = set()
        recorded: set[str] = set()
        with Store(settings.store, Iris(settings.base)) as store:
            store.mark_corpus_pending()  # from the first article on, the corpus graph is out of date
            while isinstance(message := receive(), Batch):
                batch = message.articles
                result = write_batch(store, batch, known, prov, settings.validate, settings.shacl_engine)
                if fresh:  # each text's mentions once, however many sources hold it
                    stored = set(result.written) - recorded
                    batch = [(a, ex) for a, ex in batch if a.digest in stored]
                    recorded.update(stored)
                    mentions.add(mention_records(batch, store.iris))
                    records += [r for a, ex in batch for r in event_records(a, ex, store.iris)]
                    superseded.update(result.superseded_digests)
                reply(Written(result))
            mentions.drop(superseded)
            records = [r for r in records if r.digest not in superseded]

            def check(quads: list[ox.Quad]) -> None:
                reply(Check(ox.serialize(quads, format=ox.RdfFormat.N_QUADS)))

            def progress(stage: str, done: int, total: int) -> None:
                reply(Stage(stage, done, total))

            corpus = update_corpus(
                store,
                settings,
                prov,
                mentions if fresh else None,
                records if fresh else None,
                check=check,
                progress=progress,
            )
            reply(CorpusDone(corpus))
    except BaseException as exc:  # reported to the build, which raises it
        reply(Failed(f"{type(exc).__name__}: {exc}"))
