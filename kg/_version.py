"""The package's version, in a module of its own: reading it must import nothing else."""

__version__ = "0.1.0"
