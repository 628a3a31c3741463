"""The ``loa`` command line: the Typer app and one module per command group."""

from loa.cli.app import app, main

__all__ = ["app", "main"]
