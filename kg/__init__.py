"""newskg: news articles in, a knowledge graph of people, organisations, places and events out.

The flow, one package per stage: article (read, extract) -> corpus (resolve, link, merge events)
-> rdf -> store -> validate, run by pipeline; then serve, export and query. `build` runs the whole
flow; the CLI (`kg`) is a thin layer over these. ARCHITECTURE.md has the map and the rules.

Importing `kg` loads nothing but the version, and a leaf such as `kg.namespaces` only what it needs
(rdflib, the settings): the names below are imported when first used, so `kg --version`, `kg query`
or the server never pay for spaCy or pyshacl they do not need.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

#: Public name -> the module that defines it (imported on first use).
_EXPORTS = {
    "Article": "article.read",
    "BuildReport": "pipeline.build",
    "ReadError": "article.read",
    "Settings": "settings",
    "Store": "store.store",
    "ValidationReport": "validate.check",
    "build": "pipeline.build",
    "export": "store.export",
    "load_settings": "settings",
    "read_articles": "article.read",
    "validate_graph": "validate.check",
}

__all__ = [
    "Article",
    "BuildReport",
    "ReadError",
    "Settings",
    "Store",
    "ValidationReport",
    "__version__",
    "build",
    "export",
    "load_settings",
    "read_articles",
    "validate_graph",
]

if TYPE_CHECKING:
    from .article.read import Article, ReadError, read_articles
    from .pipeline.build import BuildReport, build
    from .settings import Settings, load_settings
    from .store.export import export
    from .store.store import Store
    from .validate.check import ValidationReport, validate_graph


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
