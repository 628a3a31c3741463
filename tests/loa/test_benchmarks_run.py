"""The benchmarks under bench/ run (smoke runs with --quick: they print figures, never assert speed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCH.glob("*.py")))
def test_benchmark_runs_and_prints_its_ratio(script):
    result = subprocess.run([sys.executable, str(BENCH / script), "--quick"], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert "ratio" in result.stdout
