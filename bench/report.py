"""Benchmark: the results report of a month, against SQLite grouping the same rows itself, in the same run.

No SPEC bar; this shows what a provincial report costs. Full run: 3,321 stations × 30 days × 4 slots
(about 400,000 deliveries and 800,000 airings). Run:  .venv/bin/python bench/report.py  (or --quick)
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import insert, text

from content.db import Base, make_engine, session_factory, unit_of_work
from content.pieces import PieceContent, add_piece
from content.users import add_user
from scheduler.models import Airing, Campaign, Delivery, Station
from scheduler.reports import build_report, render_chart_png, render_report

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CAMPAIGNS = ("tuan-hoc-tap", "van-hoa-doc", "guong-dien-hinh")
SLOTS = (("loudspeaker", 6, 1800), ("loudspeaker", 17, 1800), ("board", 0, 86400), ("portal", 7, 60))
STATES = ("delivered",) * 17 + ("missed", "dead", "refused")

BASELINE = text("""
SELECT s.code, a.campaign, d.outlet, d.state, count(DISTINCT d.id), count(a.id), sum(a.seconds)
FROM deliveries d JOIN stations s ON s.id = d.station_id
LEFT JOIN airings a ON a.delivery_id = d.id AND a.removed = 0
WHERE d.state IN ('delivered', 'missed', 'dead', 'refused') AND d.start_at >= :start AND d.start_at < :end
GROUP BY s.code, a.campaign, d.outlet, d.state
""")


def fill(factory, stations: int, days: int, first: date) -> int:
    rng = random.Random(1)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with unit_of_work(factory) as session:
        session.execute(insert(Campaign), [{"code": c, "name": c, "outlets": []} for c in CAMPAIGNS])
        session.execute(insert(Station), [{"id": n + 1, "code": f"{n:05d}", "name": f"Xã {n}"}
                                          for n in range(stations)])
        user = add_user(session, "bench", "editor", now=now)
        pieces = [add_piece(session, PieceContent(f"Tin {c}", "Nội dung.", campaign=c), author=user, now=now)
                  for c in CAMPAIGNS]
    airings = 0
    for station in range(1, stations + 1):
        deliveries, rows = [], []
        for day in range(days):
            for outlet, hour, length in SLOTS:
                start = datetime.combine(first + timedelta(days=day), datetime.min.time(), tzinfo=ZONE).replace(
                    hour=hour)
                ident = f"{station}-{outlet[0]}-{day}-{hour}"
                deliveries.append({"id": ident, "station_id": station, "outlet": outlet, "slot_name": outlet,
                                   "start_at": start, "end_at": start + timedelta(seconds=length), "due_at": start,
                                   "state": rng.choice(STATES), "attempts": 1, "created_at": now, "updated_at": now})
                for position in range(2):
                    piece = pieces[rng.randrange(len(pieces))]
                    rows.append({"delivery_id": ident, "position": position, "piece_id": piece.id,
                                 "revision_id": piece.current_revision_id, "campaign": CAMPAIGNS[pieces.index(piece)],
                                 "seconds": 90.0, "pinned": False, "removed": False})
        with unit_of_work(factory) as session:
            session.execute(insert(Delivery), deliveries)
            session.execute(insert(Airing), rows)
        airings += len(rows)
    return airings


def timed(work):
    start = time.perf_counter()
    result = work()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 stations, a week: a smoke test, not a measurement")
    args = parser.parse_args()
    stations, days = (30, 7) if args.quick else (3321, 30)
    first = date(2026, 11, 1)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        Base.metadata.create_all(engine)
        factory = session_factory(engine)
        airings, fill_s = timed(lambda: fill(factory, stations, days, first))
        last = first + timedelta(days=days - 1)
        bounds = {"start": datetime.combine(first, datetime.min.time(), tzinfo=ZONE).astimezone(UTC).replace(
            tzinfo=None), "end": datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=ZONE)
            .astimezone(UTC).replace(tzinfo=None)}
        with unit_of_work(factory) as session:
            groups, baseline_s = timed(lambda: session.execute(BASELINE, bounds).all())
            report, build_s = timed(lambda: build_report(session, start=first, end=last, zone=ZONE))
        formats = {fmt: timed(lambda fmt=fmt: render_report(report, fmt))[1] for fmt in ("csv", "json", "xlsx")}
        _, chart_s = timed(lambda: render_chart_png(report))
        engine.dispose()
    print(f"data           : {stations} stations × {days} days, {airings} airings (filled in {fill_s:.1f} s)")
    print(f"SQL GROUP BY   : {baseline_s * 1000:8.1f} ms ({len(groups)} groups, the baseline)")
    print(f"build_report   : {build_s * 1000:8.1f} ms, total {report.total.to_dict()}")
    print(f"ratio          : {build_s / baseline_s:8.2f} × the database grouping the same rows")
    for fmt, seconds in formats.items():
        print(f"render {fmt:<8}: {seconds * 1000:8.1f} ms")
    print(f"chart png      : {chart_s * 1000:8.1f} ms")
    print(f"peak memory    : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.1f} MB")


if __name__ == "__main__":
    main()
