"""Wikidata for newskg: candidate sources for linking (local indexes, the live API) and their builders.

- `items`: what we keep of an item (`Item`), merging, the JSON Lines items format;
- `dump`: a streaming reader of Wikidata's JSON dump; `classes`: which P31 classes we keep;
- `tables`: readers of the Wikidata-derived tables in ../shared/wikidata;
- `index`: the SQLite/FTS5 index (`build_index`, `LocalIndex`); `starter`: the bundled one;
- `api`: the live API client (`WikidataApi`, `ApiSource`);
- `sources`: the `CandidateSource` protocol and `open_sources(settings)`.
The linking itself is kg/corpus/link.py.
"""

from .classes import ClassFilter
from .dump import read_dump
from .index import LocalIndex, NameMatch, WikidataIndexError, build_index
from .items import Item, SourceInfo
from .sources import CandidateSource, Sources, open_sources
from .starter import starter_index_path

__all__ = [
    "CandidateSource",
    "ClassFilter",
    "Item",
    "LocalIndex",
    "NameMatch",
    "SourceInfo",
    "Sources",
    "WikidataIndexError",
    "build_index",
    "open_sources",
    "read_dump",
    "starter_index_path",
]
