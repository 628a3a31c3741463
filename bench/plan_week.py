"""Benchmark: plan one week for 3,321 communes, against SQLite bulk-inserting the same airing rows.

SPEC §14: at most 3× the time SQLite takes to bulk-insert the same airing rows in the same run,
and under 500 MB peak memory. Each commune has 2 loudspeaker programs (06:00 and 17:00, 30 min),
1 board rotation (24 h) and 1 portal time (07:30) a day; 200 approved pieces; 3 campaigns.
Run:  .venv/bin/python bench/plan_week.py   (``--quick`` for a smoke run on 100 communes)
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.planning.calendar import CampaignRule, SlotRule, StationRule, instances
from scheduler.planning.planner import Candidate, Existing, PlanInputs, key_of, plan

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = date(2026, 4, 20)  # the week of Reading Culture Day (21 April): two campaigns are on, one is not
CAMPAIGNS = {
    "tuan-hoc-tap": CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07", lead_days=7, per_day=2),
    "van-hoa-doc": CampaignRule("van-hoa-doc", 6, yearly="04-14..04-28", lead_days=7, per_day=2),
    "guong-dien-hinh": CampaignRule("guong-dien-hinh", 4, date_from=date(2026, 1, 1), date_to=date(2027, 12, 31),
                                    per_day=1),
}
SLOTS = [
    SlotRule("sang", "loudspeaker", ("*",), tuple(range(7)), "06:00", 1800),
    SlotRule("chieu", "loudspeaker", ("*",), tuple(range(7)), "17:00", 1800),
    SlotRule("bang-tin", "board", ("*",), tuple(range(7)), "00:00", 86400),
    SlotRule("cong-thong-tin", "portal", ("*",), tuple(range(7)), "07:30", 3600),
]


def _candidates(count: int, rng: random.Random) -> list[Candidate]:
    campaigns = [None, None, "van-hoa-doc", "guong-dien-hinh", "tuan-hoc-tap"]
    out = []
    for piece in range(1, count + 1):
        until = None
        if piece % 10 == 0:  # a tenth expire during the week
            until = datetime.combine(MONDAY + timedelta(days=rng.randrange(7)), datetime.min.time(), ZONE)
        out.append(Candidate(
            piece_id=piece, revision_id=piece, title=f"Tin số {piece}", campaign=campaigns[piece % len(campaigns)],
            channels=frozenset({"loudspeaker", "board", "portal"}), valid_from=None,
            valid_until=until.astimezone(UTC) if until else None, priority=rng.randint(1, 9),
            level="priority" if piece == 7 else "normal",
            seconds={"loudspeaker": rng.uniform(40, 240), "board:": float(rng.choice([15, 30, 45]))},
        ))
    return out


def _rows(result) -> Iterator[tuple]:
    """The airing rows as the planner hands them to the database, one program after another."""
    for number, (_, items) in enumerate(result.programs.items()):
        delivery_id = f"{number:032x}"
        for position, item in enumerate(items):
            yield (delivery_id, position, item.piece_id, item.revision_id, item.campaign, item.seconds, False, False)


def _sqlite_insert(result, target: Path | str) -> tuple[float, int]:
    """Seconds SQLite spends bulk-inserting the rows (built outside the clock, in chunks) and how many."""
    connection = sqlite3.connect(target)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("CREATE TABLE airings (id INTEGER PRIMARY KEY, delivery_id VARCHAR(32), position INTEGER, "
                       "piece_id INTEGER, revision_id INTEGER, campaign VARCHAR(64), seconds FLOAT, pinned BOOLEAN, "
                       "removed BOOLEAN)")
    connection.execute("CREATE INDEX ix_airings_delivery_id ON airings (delivery_id)")
    connection.commit()
    elapsed, count = 0.0, 0
    rows = _rows(result)
    while chunk := list(islice(rows, 50_000)):
        start = time.perf_counter()
        connection.executemany("INSERT INTO airings (delivery_id, position, piece_id, revision_id, campaign, seconds,"
                               " pinned, removed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", chunk)
        elapsed += time.perf_counter() - start
        count += len(chunk)
    start = time.perf_counter()
    connection.commit()
    elapsed += time.perf_counter() - start
    connection.close()
    return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 communes: a smoke test, not a measurement")
    parser.add_argument("--stations", type=int, default=3321)
    parser.add_argument("--pieces", type=int, default=200)
    parser.add_argument("--targeted", type=int, default=0, metavar="N",
                        help="N pieces each for one district of 30 communes only (the rest go everywhere)")
    parser.add_argument("--varied", action="store_true",
                        help="give every commune an editor's removal, so no two communes can share their work")
    args = parser.parse_args()
    stations_count = 100 if args.quick else args.stations
    rng = random.Random(20260421)
    stations = [StationRule(f"{n:05d}", ("tinh",), ("loudspeaker", "board", "portal"))
                for n in range(1, stations_count + 1)]
    candidates = _candidates(args.pieces, rng)
    codes = [s.code for s in stations]
    districts = [frozenset(codes[n:n + 30]) for n in range(0, len(codes), 30)]
    candidates = [replace(c, stations=districts[n % len(districts)]) if n < args.targeted else c
                  for n, c in enumerate(candidates)]
    found = instances(SLOTS, stations, first_day=MONDAY, days=7, zone=ZONE)
    existing = {}
    if args.varied:
        firsts = {}
        for instance in found:
            firsts.setdefault((instance.station_code, instance.outlet), key_of(instance))
        existing = {key: Existing(frozen=False, removed=frozenset({100_000 + int(key[0])})) for key in firsts.values()}
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start = time.perf_counter()
    result = plan(PlanInputs(instances=found, candidates=candidates, campaigns=CAMPAIGNS, existing=existing,
                                 gap_s=1.0, overhead_s=20.0))
    rows = sum(1 for _ in _rows(result))
    planner_s = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with tempfile.TemporaryDirectory() as folder:
        floor_s, inserted = _sqlite_insert(result, Path(folder) / "floor.db")
    memory_s, _ = _sqlite_insert(result, ":memory:")
    assert inserted == rows
    ratio = planner_s / floor_s
    kind = " (each unlike the others)" if args.varied else ""
    kind += f" ({args.targeted} pieces for one district each)" if args.targeted else ""
    print(f"communes            : {stations_count}{kind} ({len(found)} slot instances, {len(candidates)} pieces, "
          f"{len(CAMPAIGNS)} campaigns)")
    print(f"airing rows         : {rows}")
    print(f"unplaced / unmet    : {len(result.unplaced)} piece-outlets, {len(result.shortfalls)} station-days")
    print(f"planner             : {planner_s:7.2f} s (plan, then walk every airing row)")
    print(f"sqlite bulk insert  : {floor_s:7.2f} s (the floor)")
    print(f"sqlite in memory    : {memory_s:7.2f} s (the same rows with no disk at all)")
    print(f"ratio               : {ratio:7.2f} × the floor (goal ≤ 3) → {'met' if ratio <= 3 else 'NOT met'}")
    print(f"ratio (in memory)   : {planner_s / memory_s:7.2f} × SQLite in memory")
    print(f"peak memory (RSS)   : {peak_mb:7.1f} MB ({rss_before:.1f} MB before planning; goal < 500) → "
          f"{'met' if peak_mb < 500 else 'NOT met'}")


if __name__ == "__main__":
    main()
