"""Benchmark: planning a national week (3,321 communes, the demo's slots and pieces) on PostgreSQL against SQLite.

Speech is rendered once into a shared renditions folder before timing, so both runs time the planner and the
database only. The ratio is PostgreSQL's time over SQLite's, measured in the same run. Needs PostgreSQL on
127.0.0.1:5432 (LOA_TEST_POSTGRES_URL). Run:  .venv/bin/python bench/plan_national.py [--quick]
"""

from __future__ import annotations

import argparse
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

from loa.demo.load import load_demo  # noqa: E402
from loa.settings import load_settings  # noqa: E402
from loa.wiring import open_services  # noqa: E402

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


def plan_seconds(config_dir: Path, url: str | None, days: int) -> tuple[float, int]:
    env = {"LOA_DATABASE_URL": url} if url else {}
    services = open_services(load_settings(config_dir, env=env), now=MONDAY)
    try:
        services.init()
        load_demo(services, first_push_in=3600)
        start = time.perf_counter()
        changes = services.plan(days=days)
        return time.perf_counter() - start, changes.deliveries_created
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="60 communes, 2 days: a smoke test, not a measurement")
    parser.add_argument("--stations", type=int, default=3321)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    stations, days = (60, 2) if args.quick else (args.stations, args.days)
    with tempfile.TemporaryDirectory() as folder:
        warm = national_config(Path(folder) / "warm", 3)
        config_dir = national_config(Path(folder) / "config", stations)
        plan_seconds(warm, f"sqlite:///{folder}/warm.db", 1)  # renders the demo speech once, into the shared var/
        sqlite_s, created = plan_seconds(config_dir, None, days)
        url = create_database()
        try:
            postgres_s, created_pg = plan_seconds(config_dir, url, days)
        finally:
            drop_database(url)
    print(f"national week: {stations} communes × {days} days, "
          f"{created} deliveries on SQLite, {created_pg} on PostgreSQL")
    print(f"SQLite:     {sqlite_s:8.2f} s  ({created / sqlite_s:8.0f} deliveries/s)")
    print(f"PostgreSQL: {postgres_s:8.2f} s  ({created_pg / postgres_s:8.0f} deliveries/s)")
    print(f"ratio PostgreSQL/SQLite: {postgres_s / sqlite_s:.2f}")


if __name__ == "__main__":
    main()
