"""Tasks: the per-partition work a worker does, with the one-machine build's own functions.

A partition is read (kg.cluster.inputs), parsed by spaCy and extracted (`kg.article.extract.extract_all`),
turned into article graphs (`kg.pipeline.writer.article_graphs`), checked with SHACL (`kg.validate.check`), and written
as shards (kg.cluster.shards) with its corpus records (`kg.pipeline.writer.mention_records`,
`kg.corpus.merge.event_records`). Only a small `PartResult` (counts, errors, the SHACL report) goes back to the
driver: article text and graphs never pass through the scheduler.

The spaCy pipeline is loaded once per worker process and kept (`pipeline`, a memo keyed by the model's
name): loading takes seconds, a partition's parsing not much more.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import pyoxigraph as ox

from ..article.events import taxonomy_for
from ..article.extract import extract_all, load_pipeline, model_description
from ..article.read import Limits
from ..corpus.merge import event_records
from ..namespaces import Iris
from ..pipeline.build import WRITE_BATCH, BuildReport, Pending, input_fields, within_model_limit
from ..pipeline.writer import Batch, article_graphs, mention_records
from ..rdf.triples import Provenance
from ..settings import Settings
from ..store.store import KnownArticles
from ..validate.check import combined, validate_triples
from . import shards
from .inputs import Partition, read_partition

if TYPE_CHECKING:
    from spacy.language import Language


@lru_cache(maxsize=2)
def pipeline(model: str) -> Language:
    """The worker's spaCy pipeline, loaded by its first task and kept for the others."""
    return load_pipeline(model)


def describe_model(model: str) -> str:
    """The pipeline's description for the provenance of the graph (a task: the workers have the model)."""
    return model_description(pipeline(model))


def peak_rss() -> int:
    """This process's peak resident memory, in bytes (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class Job:
    """What every task of a build shares: the settings, what the store held, the provenance, the work folder."""

    settings: Settings
    known: KnownArticles
    prov: Provenance
    work: str
    model: str


@dataclass
class PartResult:
    """What one partition did, in numbers: all that comes back to the driver."""

    number: int
    report: BuildReport = field(default_factory=BuildReport)
    written: int = 0  # articles whose graphs the shard holds
    quads: int = 0
    seconds: float = 0.0
    peak_rss: int = 0
    worker: int = 0  # the process id of the worker that ran it
    shard_bytes: int = 0  # bytes written to the work folder


class _Shard:
    """A partition's shards as they are made: the graphs file, the article index, the corpus records."""

    def __init__(self, job: Job, partition: Partition, out: object) -> None:
        self.job = job
        self.number = partition.number
        self.iris = Iris(job.settings.base)
        self.out = out
        self.offset = 0
        self.articles: list[dict] = []
        self.mentions: list[dict] = []
        self.events: list[dict] = []

    def add(self, batch: Batch, result: PartResult) -> None:
        settings = self.job.settings
        kept, triples, graphs, errors = article_graphs(batch, self.iris, self.job.prov)
        result.report.errors += errors
        if settings.validate and graphs:
            checked = validate_triples(
                [t for ts in triples for t in ts],
                quads=[q for _, qs in graphs for q in qs],
                engine=settings.shacl_engine,
            )
            result.report.validation = combined(result.report.validation, checked)
        for (article, extraction), (_, quads) in zip(kept, graphs, strict=True):
            data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
            self.out.write(data)  # type: ignore[attr-defined]
            seq = len(self.articles)
            where = {"digest": article.digest, "partition": self.number, "seq": seq}
            self.articles.append(
                {**where, "source_key": article.source_key, "offset": self.offset, "length": len(data)}
            )
            self.offset += len(data)
            result.quads += len(quads)
            one = [(article, extraction)]
            self.mentions += [
                {**r.__dict__, "partition": self.number, "seq": seq} for r in mention_records(one, self.iris)
            ]
            self.events += [{**where, "record": shards.pack(r)} for r in event_records(article, extraction, self.iris)]
        result.written += len(kept)

    def close(self) -> int:
        work = self.job.work
        for kind, rows in (("articles", self.articles), ("mentions", self.mentions), ("events", self.events)):
            shards.write_table(work, kind, self.number, rows)
        return self.offset


def build_partition(partition: Partition, job: Job) -> PartResult:
    """Read, parse, extract, make and check the graphs of one partition; write its shards.

    Idempotent: run again (after a lost worker) it writes the same shards under the same names."""
    started = time.perf_counter()
    settings = job.settings
    result = PartResult(partition.number, worker=os.getpid())
    report = result.report
    nlp = pipeline(job.model)
    taxonomy = taxonomy_for(settings.events, settings.event_lexicon)
    limits = Limits(settings.max_bytes, settings.max_chars)
    items = read_partition(partition, limits, input_fields(settings))
    kept = Pending(job.known, report, lambda n: None)(items)
    pending = within_model_limit(kept, nlp.max_length, report, lambda n: None)
    with shards.atomic(shards.shard(job.work, "graphs", partition.number)) as out:
        made = _Shard(job, partition, out)
        batch: Batch = []
        for article, extraction in extract_all(
            nlp, pending, jobs=1, batch_size=settings.batch_size, taxonomy=taxonomy, batch_chars=settings.batch_chars
        ):
            report.tokens += extraction.tokens
            report.mentions += len(extraction.mentions)
            batch.append((article, extraction))
            if len(batch) >= WRITE_BATCH:
                made.add(batch, result)
                batch = []
        if batch:
            made.add(batch, result)
    result.shard_bytes = made.close()
    result.seconds = time.perf_counter() - started
    result.peak_rss = peak_rss()
    return result
