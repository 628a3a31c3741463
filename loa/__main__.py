"""Runs the command line as ``python -m loa``."""

from loa.cli import main

main()
