"""Benchmark: planning a national week (3,321 communes, the demo's slots and pieces) on PostgreSQL against SQLite.

Each measurement runs in a process of its own (its peak memory is its own) on a new database: SQLite in a
temporary folder, PostgreSQL a database created with a random name and dropped at the end. The demo's speech
is rendered before the clock starts (``render_airable``, as ``loa plan`` does first), so the time is the
re-plan's: reading what is stored, the planner, writing the programs. A second re-plan then finds every
program stored (the daily re-plan, nothing changed): it is timed too. The ratio is PostgreSQL's time over
SQLite's, measured in the same run; with ``--repeat`` the runs alternate and the best of each counts. The two
plans are compared (a digest of every program's items) and must be the same.
Needs PostgreSQL on 127.0.0.1:5432 (LOA_TEST_POSTGRES_URL).
Run:  .venv/bin/python bench/plan_national.py [--quick] [--stations N] [--days D] [--repeat R]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "servers")]

from postgres import create_database, drop_database  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from content.db import unit_of_work  # noqa: E402
from loa.clock import Clock  # noqa: E402
from loa.demo.load import load_demo  # noqa: E402
from loa.settings import load_settings  # noqa: E402
from loa.wiring import open_services  # noqa: E402
from scheduler.models import Airing, Delivery, Station  # noqa: E402
from scheduler.planning.prerender import render_airable  # noqa: E402

MONDAY = datetime(2026, 11, 23, 5, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def national_config(target: Path, stations: int) -> Path:
    """The shipped config with ``stations`` communes, each with the three outlets of the demo."""
    shutil.copytree(ROOT / "config", target)
    lines = []
    for n in range(stations):
        lines += ["[[station]]", f'code = "{10000 + n}"', f'name = "Xã {n}"', f'province = "Tỉnh {n % 34}"',
                  'groups = ["demo"]' if n < 3 else f'groups = ["tinh-{n % 34}"]',
                  'loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }',
                  'board = { type = "kiosk", dir = "var/out/boards" }',
                  'portal = { type = "feed", dir = "var/out/feeds" }', ""]
    (target / "stations.toml").write_text("\n".join(lines), encoding="utf-8")
    return target


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _digest(services) -> str:
    """A digest of every stored program: station, outlet, start and its items in order."""
    digest = hashlib.sha256()
    with unit_of_work(services.sessions) as session:
        rows = session.execute(
            select(Station.code, Delivery.outlet, Delivery.start_at, Delivery.end_at, Airing.position,
                   Airing.piece_id, Airing.revision_id, Airing.seconds)
            .join(Delivery, Airing.delivery_id == Delivery.id).join(Station)
            .order_by(Station.code, Delivery.outlet, Delivery.start_at, Airing.position))
        for row in rows:
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()[:16]


def measure(config_dir: Path, url: str, days: int) -> dict:
    """Plan ``days`` on a new database at ``url``: seconds, deliveries, round-trips, peak memory, plan digest."""
    services = open_services(load_settings(config_dir, env={"LOA_DATABASE_URL": url}), now=MONDAY)
    try:
        services.init()
        services.clock = Clock(services.settings.zone, MONDAY)  # the demo's first slot lands on the same minute
        load_demo(services, first_push_in=3600)
        render_airable(services.sessions, services.settings.render, now=services.now())  # speech: not timed
        services.clock = Clock(services.settings.zone, MONDAY)  # both databases plan from the same moment
        statements = [0]
        event.listen(services.engine, "before_cursor_execute", lambda *_: statements.__setitem__(0, statements[0] + 1))
        before_mb = _peak_mb()
        start = time.perf_counter()
        changes = services.plan(days=days)
        seconds = time.perf_counter() - start
        first_statements, statements[0] = statements[0], 0
        plan_peak_mb = _peak_mb()
        start = time.perf_counter()
        services.plan(days=days)  # the daily re-plan: everything is stored and stays as it is
        again = time.perf_counter() - start
        return dict(seconds=seconds, created=changes.deliveries_created, statements=first_statements,
                    again=again, again_statements=statements[0], plan_peak_mb=plan_peak_mb, peak_mb=_peak_mb(),
                    before_mb=before_mb,
                    digest=_digest(services))
    finally:
        services.close()


def _child(config_dir: Path, url: str, days: int, out) -> None:
    out.send(measure(config_dir, url, days))
    out.close()


def in_process(config_dir: Path, url: str, days: int) -> dict:
    """``measure`` in a forked process of its own."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(config_dir, url, days, send))
    process.start()
    send.close()
    try:
        result = receive.recv()
    except EOFError:
        raise SystemExit(f"the measurement on {url.split(':')[0]} failed (see above)") from None
    process.join()
    return result


def _line(name: str, run: dict) -> str:
    return (f"{name:<11} plan {run['seconds']:7.2f} s ({run['created'] / run['seconds']:6.0f} deliveries/s, "
            f"{run['statements']} statements)  re-plan {run['again']:7.2f} s ({run['again_statements']} statements)  "
            f"peak {run['plan_peak_mb']:5.0f} MB after the plan, {run['peak_mb']:.0f} after the re-plan "
            f"({run['before_mb']:.0f} before planning)  plan {run['digest']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 communes, 2 days: a smoke test, not a measurement")
    parser.add_argument("--stations", type=int, default=3321)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=1, help="runs on each database, alternating; the best counts")
    args = parser.parse_args()
    stations, days = (60, 2) if args.quick else (args.stations, args.days)
    runs: dict[str, list[dict]] = {"SQLite": [], "PostgreSQL": []}
    with tempfile.TemporaryDirectory() as folder:
        config_dir = national_config(Path(folder) / "config", stations)
        for n in range(args.repeat):
            runs["SQLite"].append(in_process(config_dir, f"sqlite:///{folder}/plan-{n}.db", days))
            url = create_database()
            try:
                runs["PostgreSQL"].append(in_process(config_dir, url, days))
            finally:
                drop_database(url)
    print(f"national week: {stations} communes × {days} days, {args.repeat} run(s) on each database")
    for name, found in runs.items():
        for run in found:
            print(_line(name, run))
    best = {name: min(found, key=lambda run: run["seconds"]) for name, found in runs.items()}
    digests = {run["digest"] for found in runs.values() for run in found}
    print(f"plans identical on both databases: {'yes' if len(digests) == 1 else 'NO'} "
          f"({best['SQLite']['created']} deliveries)")
    again = {name: min(run["again"] for run in found) for name, found in runs.items()}
    ratio = best["PostgreSQL"]["seconds"] / best["SQLite"]["seconds"]
    print(f"ratio PostgreSQL/SQLite, re-plan with nothing changed (best of each): "
          f"{again['PostgreSQL'] / again['SQLite']:.2f}")
    print(f"ratio PostgreSQL/SQLite, planning the week (best of each): {ratio:.2f} "
          f"(goal ≤ 1.2 → {'met' if ratio <= 1.2 else 'NOT met'})")


if __name__ == "__main__":
    main()
