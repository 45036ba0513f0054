"""Build: the whole flow, read -> extract -> resolve -> RDF -> store -> validate, as one function.

`build` streams articles (memory does not grow with the corpus), skips articles the store already
holds, replaces changed ones, writes each batch in one transaction and re-resolves the corpus
graph when anything changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .corpus import CorpusReport, update_corpus
from .events import taxonomy_for
from .extract import extract_all, load_pipeline, model_description
from .namespaces import Iris
from .rdf import Provenance
from .read import Article, ReadError, article_files, read_articles
from .settings import Settings, choose_model
from .store import KnownArticles, Store, StoreError
from .validate import ValidationReport, validate_nquads
from .writer import Batch, BatchResult, WriterProcess

if TYPE_CHECKING:
    from spacy.language import Language

WRITE_BATCH = 16


@dataclass
class BuildReport:
    """What a build did, in numbers, and what went wrong."""

    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    errors: list[ReadError] = field(default_factory=list)
    tokens: int = 0
    mentions: int = 0
    quads: int = 0
    entities: int | None = None
    nodes_written: int = 0
    linking: str | None = None
    events: int | None = None
    validation: ValidationReport | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and (self.validation is None or self.validation.conforms)

    def summary(self) -> str:
        parts = [
            f"{self.added} added",
            f"{self.replaced} replaced",
            f"{self.unchanged} unchanged",
            f"{len(self.errors)} failed",
        ]
        lines = [f"articles: {', '.join(parts)} in {self.seconds:.1f}s"]
        if self.added or self.replaced:
            lines.append(f"read {self.tokens:,} tokens, {self.mentions:,} mentions, wrote {self.quads:,} quads")
        if self.entities is not None:
            lines.append(
                f"entities: {self.entities:,} after corpus-wide resolution ({self.nodes_written:,} nodes written)"
            )
        if self.linking:
            lines.append(self.linking)
        if self.events is not None:
            lines.append(f"events: {self.events:,} reported events merged across articles")
        if self.validation is not None:
            lines.append(self.validation.text())
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)


def count_articles(inputs: Iterable[str | Path]) -> int | None:
    """A quick estimate of how many articles the inputs hold, for a progress bar."""
    total = 0
    for item in inputs:
        if str(item) == "-":
            return None
        for f in article_files(Path(item)):
            if f.suffix.lower() == ".jsonl":
                try:
                    with f.open("rb") as stream:
                        total += sum(1 for line in stream if line.strip())
                except OSError:
                    total += 1
            else:
                total += 1
    return total


class _Pending:
    """Sorts what is read into errors, unchanged articles and articles to (re)build."""

    def __init__(self, known: KnownArticles, report: BuildReport, tick: Callable[[int], None]) -> None:
        self.known = known
        self.report = report
        self.tick = tick
        self.seen: set[str] = set()

    def __call__(self, items: Iterable[Article | ReadError]) -> Iterator[Article]:
        for item in items:
            if isinstance(item, ReadError):
                self.report.errors.append(item)
                self.tick(1)
                continue
            if item.digest in self.known.digests or item.digest in self.seen:
                self.report.unchanged += 1
                self.tick(1)
                continue
            self.seen.add(item.digest)
            yield item


def build(
    inputs: Iterable[str | Path],
    settings: Settings,
    *,
    nlp: Language | None = None,
    progress: Callable[[int], None] | None = None,
    stdin: TextIO | None = None,
    store: Store | None = None,
) -> BuildReport:
    """Build (or update) the knowledge graph in `settings.store` from the given inputs.

    Pass an open `store` to keep using it afterwards; otherwise the store is opened and closed here.
    Parsing runs here (on `settings.jobs` spaCy processes); turning batches into RDF, validating and
    writing them runs alongside in a writer process (kg.writer), so the two overlap.
    """
    if store is None:
        with Store(settings.store, Iris(settings.base)) as opened:
            return build(inputs, settings, nlp=nlp, progress=progress, stdin=stdin, store=opened)
    started = time.perf_counter()
    tick = progress or (lambda n: None)
    report = BuildReport()
    known = store.known_articles()
    pending = _Pending(known, report, tick)(read_articles(inputs, settings.max_bytes, stdin))

    first = next(pending, None)
    if first is not None:
        taxonomy = taxonomy_for(settings.events, settings.event_lexicon)  # events: a bad lexicon fails here, first
        nlp = nlp or load_pipeline(choose_model(settings.model))
        prov = Provenance.now(model_description(nlp))
        with store.suspended():
            writer = WriterProcess(settings, known, prov)
            try:
                batch: Batch = []
                stream = _chain(first, pending)
                for article, extraction in extract_all(
                    nlp,
                    stream,
                    jobs=settings.jobs,
                    batch_size=settings.batch_size,
                    taxonomy=taxonomy,
                    batch_chars=settings.batch_chars,
                ):
                    report.tokens += extraction.tokens
                    report.mentions += len(extraction.mentions)
                    batch.append((article, extraction))
                    if len(batch) >= WRITE_BATCH:
                        writer.send(batch)
                        batch = []
                        _merge(report, writer.drain(), tick, settings.shacl_engine)
                if batch:
                    writer.send(batch)
                for result in writer.finish():
                    _merge(report, [result], tick, settings.shacl_engine)
            except BaseException:
                writer.kill()
                raise

    if first is None and not store.has_corpus_graph():
        prov = Provenance.now(model_description(nlp) if nlp is not None else "unknown")
        _merge_corpus(report, update_corpus(store, settings, prov))
    store.flush()
    report.seconds = time.perf_counter() - started
    return report


def _merge(
    report: BuildReport, results: list[tuple[str, object]], tick: Callable[[int], None], engine: str
) -> None:
    for kind, payload in results:
        if kind == "error":
            raise StoreError(f"writing failed: {payload}")
        if isinstance(payload, CorpusReport):
            _merge_corpus(report, payload)
            continue
        if kind == "check":  # corpus nodes the writer wrote: checked here, while it writes more
            report.validation = report.validation or ValidationReport()
            report.validation.merge(validate_nquads(payload, engine=engine))  # type: ignore[arg-type]
            continue
        assert isinstance(payload, BatchResult)
        report.added += payload.added
        report.replaced += payload.replaced
        report.quads += payload.quads
        if payload.validation is not None:
            report.validation = report.validation or ValidationReport()
            report.validation.merge(payload.validation)
        tick(payload.articles)


def _chain(first: Article, rest: Iterator[Article]) -> Iterator[Article]:
    yield first
    yield from rest


def _merge_corpus(report: BuildReport, corpus: CorpusReport) -> None:
    report.entities = corpus.entities
    report.nodes_written += corpus.changed
    report.linking = corpus.linking
    report.events = corpus.events
    report.quads += corpus.quads
    if corpus.validation is not None:
        report.validation = report.validation or ValidationReport()
        report.validation.merge(corpus.validation)
