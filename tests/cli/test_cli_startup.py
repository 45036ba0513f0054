"""Start-up: `kg` commands that need no model never load spaCy or pyshacl, and importing kg changes nothing."""

from __future__ import annotations

import subprocess
import sys

from kg._version import __version__

HEAVY = ("spacy", "pyshacl", "thinc", "torch")


def _modules_after(code: str) -> set[str]:
    """The heavy modules loaded by a fresh interpreter after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_help_version_and_the_store_commands_help_load_neither_spacy_nor_pyshacl():
    code = """
from click.testing import CliRunner
from kg.cli import main
runner = CliRunner()
for args in (["--help"], ["--version"], ["query", "--help"], ["serve", "--help"], ["stats", "--help"],
             ["export", "--help"], ["validate", "--help"], ["build", "--help"], ["wikidata", "lookup", "--help"]):
    result = runner.invoke(main, args)
    assert result.exit_code == 0, (args, result.output)
"""
    assert _modules_after(code) == set()


def test_importing_a_leaf_of_kg_loads_only_that_leaf():
    assert _modules_after("import kg, kg.namespaces, kg.settings, kg.formats, kg.model, kg.names, kg.store.store, kg.store.query, kg.store.export") == set()


def test_the_package_still_offers_its_public_names_when_asked():
    assert _modules_after("import kg\nassert callable(kg.build)") >= {"spacy"}


def test_the_version_is_printed_without_loading_the_command_parser():
    probe = "import sys\nsys.argv = ['kg', '--version']\nfrom kg.cli import run\nrun()\nprint('click' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [f"newskg, version {__version__}", "False"]


def test_importing_validation_leaves_rdflibs_own_sparql_processor_in_place():
    code = """
import rdflib.plugin, rdflib.query
before = rdflib.plugin.get("sparql", rdflib.query.Processor)
import kg.validate.check as check
assert rdflib.plugin.get("sparql", rdflib.query.Processor) is before
assert rdflib.plugin.get(check.PROCESSOR, rdflib.query.Processor) is check.CachedSPARQLProcessor
"""
    assert _modules_after(code) == set()
