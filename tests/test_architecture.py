"""The architecture: each stage's package imports only the layers below it, so the tree reads as the flow.

The layers, lowest first (ARCHITECTURE.md says why each sits where it does). A module may import
from its own package and from any lower layer; never from a higher layer, nor from another package
of its own layer (the foundation's modules excepted). Imports under `if TYPE_CHECKING:` are annotations only and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import kg

ROOT = Path(kg.__file__).parent

#: The foundation: small modules every stage uses (settings, names, records); they may import each other.
FOUNDATION = 0
#: Package (or foundation module) -> layer. Every module of kg must be covered.
LAYERS: dict[str, int] = {
    **dict.fromkeys(("kg._version", "kg.settings", "kg.formats", "kg.resources", "kg.namespaces"), 0),
    **dict.fromkeys(("kg.model", "kg.names"), 0),
    "kg.article": 1,
    "kg.wikidata": 1,
    "kg.corpus": 2,
    "kg.rdf": 3,
    "kg.store": 4,
    "kg.validate": 5,
    "kg.pipeline": 6,
    "kg.cluster": 7,  # the build on a Dask cluster: runs the pipeline's stages at scale
    "kg.serve": 7,
    "kg.evaluate": 7,
    "kg.cli": 8,
    "kg.__main__": 9,
    "kg": 9,  # the package itself: lazy re-exports of the public names
}


def _module_name(path: Path) -> str:
    parts = ["kg", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _home(module: str) -> str:
    """The LAYERS entry a module belongs to: its longest listed prefix."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return ".".join(parts[:n])
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS (and ARCHITECTURE.md)")


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path, source: str) -> list[tuple[int, str]]:
    """(line, absolute module) of every kg import in a file, lazy ones included, annotations-only ones not."""
    module = _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    tree = ast.parse(source)
    skip = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "kg":  # the package's lazy re-exports come from their own modules
                names = [f"kg.{kg._EXPORTS.get(a.name, a.name)}" for a in node.names]
            elif node.module:
                names = [target]
            else:
                names = [f"{target}.{a.name}" for a in node.names]
            found += [(node.lineno, n) for n in names if n == "kg" or n.startswith("kg.")]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            # import_module("kg.pipeline.build") is an import like any other
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value.startswith("kg."):
                found.append((node.lineno, first.value))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("kg.")]
    return found


def violations(files: list[tuple[Path, str]]) -> list[str]:
    """Every import in these (path, source) files that points up or sideways."""
    out = []
    for path, source in files:
        module = _module_name(path)
        home = _home(module)
        for line, target in imports_of(path, source):
            if target in ("kg", "kg._version"):
                continue  # the version leaf (or the lazily filled package) is below everything
            there = _home(target) if target != "kg" else "kg"
            if there == home:
                continue
            if LAYERS[there] > LAYERS[home] or (LAYERS[there] == LAYERS[home] and LAYERS[home] != FOUNDATION):
                out.append(f"{path.relative_to(ROOT.parent)}:{line}: {module} (layer {LAYERS[home]}) imports {target} (layer {LAYERS[there]})")
    return out


def test_every_module_belongs_to_a_layer():
    for path in ROOT.rglob("*.py"):
        _home(_module_name(path))


def test_no_module_imports_a_layer_above_its_own_or_a_sibling_package():
    files = [(path, path.read_text(encoding="utf-8")) for path in sorted(ROOT.rglob("*.py"))]
    assert violations(files) == []


def test_the_check_catches_an_upward_import_even_inside_a_function():
    source = "def f():\n    from ..pipeline.build import build\n"
    [found] = violations([(ROOT / "store" / "probe.py", source)])
    assert found.endswith("kg.store.probe (layer 4) imports kg.pipeline.build (layer 6)")


def test_the_check_catches_an_import_of_a_sibling_package():
    [found] = violations([(ROOT / "article" / "probe.py", "from ..wikidata.index import LocalIndex\n")])
    assert "imports kg.wikidata.index (layer 1)" in found


def test_the_check_sees_through_the_packages_re_exports_and_import_module():
    source = "from kg import build\nfrom importlib import import_module\nstore = import_module('kg.store.store')\n"
    found = violations([(ROOT / "article" / "probe.py", source)])
    assert any("imports kg.pipeline.build (layer 6)" in f for f in found)
    assert any("imports kg.store.store (layer 4)" in f for f in found)


def test_imports_for_annotations_only_do_not_count():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..pipeline.build import build\n"
    assert violations([(ROOT / "store" / "probe.py", source)]) == []
