"""newskg: news articles in, a knowledge graph of people, organisations, places and events out.

The flow, one module per stage: read -> extract -> resolve -> rdf -> store -> validate,
then export and query. `build` runs the whole flow; the CLI (`kg`) is a thin layer over these.
"""

__version__ = "0.1.0"

from .build import BuildReport, build
from .export import export
from .read import Article, ReadError, read_articles
from .settings import Settings, load_settings
from .store import Store
from .validate import ValidationReport, validate_graph

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
