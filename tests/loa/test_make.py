"""The README's test command fails when a test fails, and CI's script fails when it does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_pytest_exits_non_zero_when_a_test_fails(tmp_path):
    failing = tmp_path / "test_fails.py"
    failing.write_text("def test_fails():\n    assert 1 + 1 == 3\n")
    result = subprocess.run(["make", "-s", "pytest", f"PYTEST_ARGS={failing} -p no:cacheprovider"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0
    assert "1 failed" in result.stdout


def test_ci_script_runs_make_test_and_passes_its_failure_on(tmp_path):
    fake = tmp_path / "make"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'args'}\nexit 3\n")
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(ROOT / ".ci" / "run")], capture_output=True, text=True,
                            env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert result.returncode == 3
    assert (tmp_path / "args").read_text().split() == ["test"]
