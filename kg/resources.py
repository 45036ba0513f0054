"""Files that ship with newskg: the ontology, the SHACL shapes and the canned queries.

In a source checkout they are the top-level folders; an installed wheel carries them in
``kg/_data`` (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The folder `name` ("ontology", "shapes", "queries"), wherever this install keeps it."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"newskg's {name}/ folder is missing from this install ({_PACKAGE})")


def ontology_files() -> list[Path]:
    return sorted(resource_dir("ontology").glob("*.ttl"))


def shape_files() -> list[Path]:
    return sorted(resource_dir("shapes").glob("*.ttl"))


def query_files() -> list[Path]:
    return sorted(resource_dir("queries").glob("*.rq"))
