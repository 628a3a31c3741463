"""Runs the command line as ``python -m loa``."""

from loa.cli.app import main

main()
