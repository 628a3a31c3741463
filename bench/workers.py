"""Benchmark: deliveries per second pushed by 1, 2 and 4 `loa worker` processes on PostgreSQL to a fast local receiver.

Each run starts the workers idle (waiting on LISTEN/NOTIFY), loads the outbox with deliveries due now, and
times until every one is delivered. The ratio is against one worker measured in the same run; the machine's
cores bound the curve (the workers, PostgreSQL and the receiver share them). Needs PostgreSQL on
127.0.0.1:5432 (LOA_TEST_POSTGRES_URL). Run:  .venv/bin/python bench/workers.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "loa"), str(ROOT / "tests" / "servers")]

import scale_support  # noqa: E402
from postgres import create_database, drop_database  # noqa: E402


def run(workers: int, deliveries: int, folder: Path) -> float:
    """Deliveries per second for ``workers`` processes draining ``deliveries``."""
    url = create_database()
    receiver = scale_support.Receiver()
    try:
        config_dir = scale_support.probe_config(folder / f"config-{workers}", 50, receiver.url)
        piece = scale_support.approved_piece(config_dir, url)
        logs = [folder / f"w{workers}-{n}.log" for n in range(workers)]
        procs = [scale_support.start_loa(config_dir, url, "worker", log=log) for log in logs]
        try:
            deadline = time.monotonic() + 120
            while not all("started" in log.read_text() for log in logs if log.exists()) or \
                    not all(log.exists() for log in logs):
                if time.monotonic() > deadline:
                    raise SystemExit("workers did not start: " + " ".join(log.read_text() for log in logs))
                time.sleep(0.2)
            now = datetime.now(UTC)
            start = time.perf_counter()
            scale_support.add_deliveries(config_dir, url, deliveries, piece=piece, due_at=now, now=now)
            while scale_support.states(url).get("delivered", 0) < deliveries:
                if any(proc.poll() is not None for proc in procs):
                    raise SystemExit("a worker died: " + " ".join(log.read_text()[-2000:] for log in logs))
                time.sleep(0.1)
            elapsed = time.perf_counter() - start
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(timeout=60)
        if sum(receiver.keys.values()) != deliveries or len(receiver.keys) != deliveries:
            raise SystemExit(f"receiver saw {sum(receiver.keys.values())} pushes of {len(receiver.keys)} keys")
        return deliveries / elapsed
    finally:
        receiver.close()
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few deliveries: a smoke test, not a measurement")
    parser.add_argument("--deliveries", type=int, default=2000)
    args = parser.parse_args()
    deliveries = 20 if args.quick else args.deliveries
    counts = (1, 2) if args.quick else (1, 2, 4)
    print(f"{deliveries} deliveries per run, {os.cpu_count()} cores; PostgreSQL, local HTTP receiver")
    with tempfile.TemporaryDirectory() as folder:
        rates = {n: run(n, deliveries, Path(folder)) for n in counts}
    for n, rate in rates.items():
        print(f"{n} worker(s): {rate:8.1f} deliveries/s   ratio to 1 worker: {rate / rates[1]:.2f}")


if __name__ == "__main__":
    main()
