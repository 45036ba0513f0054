"""Messages between a build and its writer process: one dataclass per kind, matched by type.

The build sends a `Start`, then `Batch`es, then `End`; the writer answers each batch with `Written`,
reports the corpus stage's steps with `Stage`, hands the corpus graph's chunks back for validation
with `Check`, and ends with `CorpusDone`, or with `Failed` at any point. Both sides `match` on these
types, so a message the other side does not expect is a type error, not a string compared wrong.
They cross the pipe pickled, so every field is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..article.read import Article
    from ..model import Extraction
    from ..rdf.triples import Provenance
    from ..settings import Settings
    from ..store.store import KnownArticles
    from .corpus import CorpusReport
    from .writer import BatchResult


# -- build -> writer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """How to write: the settings, the articles the store held before, the build's provenance."""

    settings: Settings
    known: KnownArticles
    prov: Provenance


@dataclass(frozen=True)
class Batch:
    """Articles with their extractions, to be written in one transaction."""

    articles: list[tuple[Article, Extraction]]


@dataclass(frozen=True)
class End:
    """No more batches: run the corpus stage, then stop."""


# -- writer -> build ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    """One batch written (or refused article by article: see its errors)."""

    result: BatchResult


@dataclass(frozen=True)
class Stage:
    """The corpus stage's progress: which step, how far."""

    name: str
    done: int
    total: int


@dataclass(frozen=True)
class Check:
    """A chunk of the corpus graph as N-Quads, for the build to validate while the writer goes on."""

    nquads: bytes


@dataclass(frozen=True)
class CorpusDone:
    """The corpus stage finished; the writer stops after this."""

    report: CorpusReport


@dataclass(frozen=True)
class Failed:
    """The writer could not go on; the message says why."""

    message: str


@dataclass(frozen=True)
class Closed:
    """The writer's output ended (it stopped, or died): made by the build's reader, never sent."""


ToWriter = Start | Batch | End
FromWriter = Written | Stage | Check | CorpusDone | Failed | Closed
