"""The ``crmlens`` command line: an entry point above the pipelines (see README, layers)."""

from cli.main import main

__all__ = ["main"]
