"""Candidate sources: one interface for local indexes and the live Wikidata API, opened from settings."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .index import BarFactory, LocalIndex, NameMatch
from .items import Item, SourceInfo
from .starter import STARTER_NAME, default_cache_dir, starter_index_path

if TYPE_CHECKING:
    from ..settings import Settings


@runtime_checkable
class CandidateSource(Protocol):
    """Anything that finds Wikidata items for names: a local index, the live API."""

    info: SourceInfo

    def find(self, keys: Mapping[str, str]) -> dict[str, list[NameMatch]]:
        """Items with a name whose normalised key is exactly one of `keys` (key -> a name it came from)."""
        ...

    def search(self, name: str, limit: int = 10) -> list[NameMatch]:
        """Items whose names share the words of `name` (fuzzy), best first."""
        ...

    def item(self, qid: str) -> Item | None: ...

    def close(self) -> None: ...


@dataclass
class Sources:
    """The sources a linker consults: local ones always, fallback ones (the API) for what they leave unlinked."""

    local: list[CandidateSource] = field(default_factory=list)
    fallback: list[CandidateSource] = field(default_factory=list)

    @property
    def all(self) -> list[CandidateSource]:
        return [*self.local, *self.fallback]

    def close(self) -> None:
        for source in self.all:
            source.close()

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def index_paths(spec: str, cache_dir: Path | None = None, *, bar: BarFactory | None = None) -> list[Path]:
    """The indexes a `wikidata_index` setting names: paths separated by ':' (';' on Windows), 'starter'
    for the bundled one; empty or 'none' for no local index."""
    paths = []
    for part in spec.split(os.pathsep):
        part = part.strip()
        if not part or part.lower() == "none":
            continue
        paths.append(starter_index_path(cache_dir, bar=bar) if part == STARTER_NAME else Path(part).expanduser())
    return paths


def open_sources(settings: Settings, *, bar: BarFactory | None = None) -> Sources:
    """The candidate sources the settings name: local indexes, then the live API when it is switched on."""
    cache = settings.wikidata_cache or default_cache_dir()
    sources = Sources()
    try:
        for path in index_paths(settings.wikidata_index, cache, bar=bar):
            sources.local.append(LocalIndex(path))
        if settings.wikidata_api:
            from .api import ApiSource, WikidataApi

            api = WikidataApi(
                settings.wikidata_api_url,
                cache_path=cache / "wikidata-api.sqlite",
                contact=settings.wikidata_contact,
                rate=settings.wikidata_api_rate,
            )
            sources.fallback.append(ApiSource(api))
    except BaseException:
        sources.close()
        raise
    return sources


def open_index_sources(paths: Sequence[Path]) -> Sources:
    return Sources(local=[LocalIndex(p) for p in paths])
