"""The ``recstack`` command line."""

from recstack.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
