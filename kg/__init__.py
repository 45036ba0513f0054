"""newskg: news articles in, a knowledge graph of people, organisations, places and events out.

The flow, one module per stage: read -> extract -> resolve -> rdf -> store -> validate,
then export and query. `build` runs the whole flow; the CLI (`kg`) is a thin layer over these.

Importing `kg` (or any leaf of it, such as `kg.namespaces`) loads nothing but the version: the
names below are imported when first used, so `kg --version`, `kg query` or the server never pay for
spaCy or pyshacl they do not need.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from ._version import __version__

#: Public name -> the module that defines it (imported on first use).
_EXPORTS = {
    "Article": "read",
    "BuildReport": "build",
    "ReadError": "read",
    "Settings": "settings",
    "Store": "store",
    "ValidationReport": "validate",
    "build": "build",
    "export": "export",
    "load_settings": "settings",
    "read_articles": "read",
    "validate_graph": "validate",
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
    from .build import BuildReport, build
    from .export import export
    from .read import Article, ReadError, read_articles
    from .settings import Settings, load_settings
    from .store import Store
    from .validate import ValidationReport, validate_graph


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
