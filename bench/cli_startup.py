"""Benchmark: how long `loa --help` takes, against a bare Python start measured in the same run.

SPEC §14 asks for `loa --help` under 0.5 s (lazy imports). Run:  .venv/bin/python bench/cli_startup.py
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

GOAL_S = 0.5


def _median_wall(command: list[str], runs: int) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run each: a smoke test, not a measurement")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    runs = 1 if args.quick else args.runs
    bare = _median_wall([sys.executable, "-c", "pass"], runs)
    help_ = _median_wall([sys.executable, "-m", "loa", "--help"], runs)
    print(f"python -c pass : {bare * 1000:7.1f} ms (median of {runs})")
    print(f"loa --help     : {help_ * 1000:7.1f} ms (median of {runs})")
    print(f"ratio          : {help_ / bare:7.2f} × a bare interpreter start")
    print(f"goal           : {GOAL_S * 1000:7.1f} ms → {'met' if help_ < GOAL_S else 'NOT met'}")


if __name__ == "__main__":
    main()
