"""The `kg` command: a thin layer over the library, one module per command (as spaCy's `cli/`).

`main` (the click group, in `_util`) finds each command in its module only when it is run or its
help is shown, and each command imports the stage it runs inside its function: starting `kg` costs
click and the standard library. `run`, the installed entry point, answers `kg --version` before even
click is loaded (a third of the start-up), since scripts ask it to check what is installed.
"""

from __future__ import annotations

import sys

from .._version import __version__

__all__ = ["main", "run"]


def run() -> None:
    """The `kg` executable: the version at once, anything else through the command group."""
    if sys.argv[1:] == ["--version"]:
        print(f"newskg, version {__version__}")  # as click's version option prints it
        return
    from ._util import main

    main()


def __getattr__(name: str) -> object:
    if name == "main":
        from ._util import main

        return main
    raise AttributeError(f"module 'kg.cli' has no attribute {name!r}")
