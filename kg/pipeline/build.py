"""Build: the whole flow, read -> extract -> resolve -> RDF -> store -> validate, as one function.

`build` streams articles (memory does not grow with the corpus), skips articles the store already
holds, replaces changed ones, writes each batch in one transaction and re-resolves the corpus
graph when anything changed.
"""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..article.events import taxonomy_for
from ..article.extract import extract_all, load_pipeline, model_description
from ..article.read import Article, Limits, ReadError, ReadWarning, check_inputs, fields_for, read_articles, walk
from ..namespaces import Iris
from ..rdf.triples import Provenance
from ..settings import Fields, Settings, choose_model
from ..store.store import KnownArticles, Store, StoreError
from ..validate.check import ValidationReport, combined, validate_nquads
from .corpus import CorpusReport, update_corpus
from .messages import Check, CorpusDone, Failed, FromWriter, Written
from .writer import Articles, WriterProcess

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
    #: What was read but is worth a word without failing the build (an unreadable date, skipped files).
    warnings: list[ReadWarning] = field(default_factory=list)
    tokens: int = 0
    mentions: int = 0
    quads: int = 0
    entities: int | None = None
    nodes_written: int = 0
    linking: str | None = None
    events: int | None = None
    validation: ValidationReport | None = None
    seconds: float = 0.0
    chunks_checked: int = 0  # of the corpus graph, in this process (the writer writes them)
    #: When an earlier build's corpus stage, which never finished, began (this build finished it).
    interrupted: str | None = None

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
        if self.interrupted:
            lines.append(f"finished the corpus stage an earlier build began at {self.interrupted} and never finished")
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
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"error: {e}" for e in self.errors]
        return "\n".join(lines)


def count_articles(inputs: Iterable[str | Path]) -> int | None:
    """A quick estimate of how many articles the inputs hold, for a progress bar.

    Opens regular files only: a pipe named as an input would block here (the build says why)."""
    total = 0
    for item in inputs:
        if str(item) == "-":
            return None
        for f in walk(Path(item)):
            if not isinstance(f, Path):
                continue
            try:
                if not stat.S_ISREG(f.stat().st_mode):
                    continue
                if f.suffix.lower() == ".jsonl":
                    with f.open("rb") as stream:
                        total += sum(1 for line in stream if line.strip())
                else:
                    total += 1
            except OSError:
                total += 1
    return total


def input_fields(settings: Settings) -> Fields:
    """The JSON Lines key mapping the settings name (a preset, then single keys)."""
    return fields_for(settings.fields, settings.text_key, settings.date_key, settings.title_key)


#: What the progress bar says of each step of the corpus stage (kg.pipeline.corpus), and what it counts.
STAGES = {
    "resolve": ("corpus: resolving names", ""),
    "link": ("corpus: linking to Wikidata", "entity"),
    "merge": ("corpus: merging events", "mention"),
    "write": ("corpus: writing", "chunk"),
    "check": ("corpus: checking (SHACL)", "chunk"),
}


def stage_bar(bar: Any) -> Callable[[str, int, int], None]:
    """A `stage` callback for `build` that turns a tqdm bar into the corpus stage's: each step named,
    with its size, so the bar never sits at 100% of the articles without a word."""

    current = [""]

    def stage(name: str, done: int, total: int) -> None:
        if name == "check" and current[0] == "write" and bar.n < (bar.total or 0):
            return  # chunks are checked while others are written: the writing is the step to watch
        desc, unit = STAGES.get(name, (f"corpus: {name}", ""))
        if done == 0 or current[0] != name:  # a new step: its name, its size (None: unknown)
            current[0] = name
            bar.set_description(desc, refresh=False)
            bar.unit = unit or "it"
            bar.total = total or None
            bar.reset(total=total or None)
        bar.update(done - bar.n)

    return stage


class Pending:
    """Sorts what is read into errors, unchanged articles and articles to (re)build."""

    def __init__(self, known: KnownArticles, report: BuildReport, tick: Callable[[int], None]) -> None:
        self.known = known
        self.report = report
        self.tick = tick
        self.seen: set[str] = set()
        self.sources: dict[str, str] = {}  # what each source read in this run holds

    def __call__(self, items: Iterable[Article | ReadError | ReadWarning]) -> Iterator[Article]:
        for item in items:
            if isinstance(item, ReadWarning):
                self.report.warnings.append(item)
                continue
            if isinstance(item, ReadError):
                self.report.errors.append(item)
                self.tick(1)
                continue
            stored = item.digest in self.known.digests or item.digest in self.seen
            held = item.digest in (self.known.by_source.get(item.source_key), self.sources.get(item.source_key))
            if stored and held:
                self.report.unchanged += 1
                self.tick(1)
                continue
            # New text, or text the store holds under another source only (a copy of a file): written,
            # so that the store knows this source holds it and keeps it when the other copy changes.
            self.seen.add(item.digest)
            self.sources[item.source_key] = item.digest
            yield item


def build(
    inputs: Iterable[str | Path],
    settings: Settings,
    *,
    nlp: Language | None = None,
    progress: Callable[[int], None] | None = None,
    stdin: TextIO | None = None,
    store: Store | None = None,
    stage: Callable[[str, int, int], None] | None = None,
) -> BuildReport:
    """Build (or update) the knowledge graph in `settings.store` from the given inputs.

    Pass an open `store` to keep using it afterwards; otherwise the store is opened and closed here.
    Parsing runs here (on `settings.jobs` spaCy processes); turning batches into RDF, validating and
    writing them runs alongside in a writer process (kg.pipeline.writer), so the two overlap. `progress`
    hears of articles done, `stage(name, done, total)` of the corpus stage's steps (kg.pipeline.corpus).
    A corpus stage an earlier build left unfinished is finished here, even with nothing new to read.
    Inputs that cannot be read at all (missing, a pipe) raise InputError before the store is opened
    when given as a list or tuple; a lazy stream of inputs gets an error for each, as it comes.
    """
    if isinstance(inputs, list | tuple):  # a stream of inputs (a feed) is read as it comes, not first
        check_inputs(inputs)
    fields = input_fields(settings)
    if store is None:
        with Store(settings.store, Iris(settings.base)) as opened:
            return build(inputs, settings, nlp=nlp, progress=progress, stdin=stdin, store=opened, stage=stage)
    started = time.perf_counter()
    tick = progress or (lambda n: None)
    said = stage or (lambda name, done, total: None)
    report = BuildReport()
    report.interrupted = store.corpus_pending()
    known = store.known_articles()
    limits = Limits(settings.max_bytes, settings.max_chars)
    pending = Pending(known, report, tick)(read_articles(inputs, stdin=stdin, limits=limits, fields=fields))

    first = next(pending, None)
    if first is not None:
        taxonomy = taxonomy_for(settings.events, settings.event_lexicon)  # events: a bad lexicon fails here, first
        nlp = nlp or load_pipeline(choose_model(settings.model))
        prov = Provenance.now(model_description(nlp))
        with store.suspended():
            writer = WriterProcess(settings, known, prov, on_stage=said)
            try:
                batch: Articles = []
                stream = within_model_limit(_chain(first, pending), nlp.max_length, report, tick)
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
                        _merge(report, writer.drain(), tick, said, settings.shacl_engine)
                if batch:
                    writer.send(batch)
                for result in writer.finish():
                    _merge(report, [result], tick, said, settings.shacl_engine)
            except BaseException:
                writer.kill()
                raise

    if first is None and (report.interrupted or not store.has_corpus_graph()):
        prov = Provenance.now(model_description(nlp) if nlp is not None else "unknown")
        merge_corpus_report(report, update_corpus(store, settings, prov, progress=said))
    store.flush()
    report.seconds = time.perf_counter() - started
    return report


def _merge(
    report: BuildReport,
    results: list[FromWriter],
    tick: Callable[[int], None],
    stage: Callable[[str, int, int], None],
    engine: str,
) -> None:
    for message in results:
        match message:
            case Failed(why):
                raise StoreError(f"writing failed: {why}")
            case CorpusDone(corpus):
                merge_corpus_report(report, corpus)
            case Check(nquads):  # corpus nodes the writer wrote: checked here, while it writes more
                report.validation = combined(report.validation, validate_nquads(nquads, engine=engine))
                report.chunks_checked += 1
                stage("check", report.chunks_checked, 0)
            case Written(result):
                report.errors += result.errors
                report.added += result.added
                report.replaced += result.replaced
                report.quads += result.quads
                report.validation = combined(report.validation, result.validation)
                tick(result.articles)
            case _:
                raise StoreError(f"the writer sent an unexpected reply: {type(message).__name__}")


def _chain(first: Article, rest: Iterator[Article]) -> Iterator[Article]:
    yield first
    yield from rest


def within_model_limit(
    articles: Iterator[Article], limit: int, report: BuildReport, tick: Callable[[int], None]
) -> Iterator[Article]:
    """The articles the pipeline can parse: one over its `max_length` is an error of its own
    (spaCy would raise for the whole batch), whatever --max-chars allows."""
    for article in articles:
        length = len(article.text) - article.body_start
        if length > limit:
            report.errors.append(
                ReadError(
                    article.where, f"too long for the spaCy pipeline: {length:,} characters, its limit is {limit:,}"
                )
            )
            tick(1)
            continue
        yield article


def merge_corpus_report(report: BuildReport, corpus: CorpusReport) -> None:
    """Add what the corpus stage did to the build's report."""
    # The writer's stage finds the pending mark its own build set: the build's look, before, is the one that counts.
    report.entities = corpus.entities
    report.nodes_written += corpus.changed
    report.linking = corpus.linking
    report.events = corpus.events
    report.quads += corpus.quads
    report.validation = combined(report.validation, corpus.validation)
