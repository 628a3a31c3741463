"""`loa --help` stays quick: importing the command line loads none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("sqlalchemy", "fastapi", "pydub", "apscheduler", "alembic", "feedgen", "uvicorn")


def test_importing_the_cli_loads_no_heavy_library():
    code = f"import sys, loa.cli.app; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == ""


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "loa", "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("init", "demo", "piece", "plan", "schedule", "dispatch", "serve", "audit"):
        assert command in out
