"""Benchmark: from an approval's commit to the piece in the schedule, with nobody running `loa plan`.

Issue 14 point 1, goal ≤ 10 s on the demo. The demo is loaded (`loa demo`) into a fresh SQLite file; a leader
runs the live planner as `loa serve` does (the watcher polling the plan-request counter, the debounced re-plan
in an APScheduler thread); approvals are committed by other Services on the same file, as `loa piece approve`
in another process would (so no in-process wake-up helps). Figures: each approval's latency until the piece is
in `upcoming` (what `loa --json schedule` reads), against the baseline of an explicit full `loa plan`
(``Services.plan``) in the same run. Run:  .venv/bin/python bench/approval_latency.py  (``--quick``: 2 approvals).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=ZONE)
GOAL_S = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 approvals instead of 6")
    args = parser.parse_args()
    count = 2 if args.quick else 6

    from apscheduler.schedulers.background import BackgroundScheduler

    from content.db import unit_of_work
    from content.pieces import PieceContent, add_piece, approve, submit
    from content.users import add_user
    from loa.demo.load import load_demo
    from loa.live import start_live
    from loa.settings import load_settings
    from loa.wiring import open_services
    from scheduler.views.schedule import upcoming

    work = Path(tempfile.mkdtemp(prefix="loa-bench-approval-"))
    try:
        shutil.copytree(ROOT / "config", work / "config")
        settings = load_settings(work / "config", env={"LOA_SECRET_KEY": "bench"})
        leader = open_services(settings, now=MONDAY)
        leader.init()
        load_demo(leader, first_push_in=600)
        leader.plan()  # renders the demo's speech once; the baseline is a plan with renditions stored
        started = time.perf_counter()
        leader.plan()
        baseline_s = time.perf_counter() - started

        scheduler = BackgroundScheduler(job_defaults={"misfire_grace_time": 60})
        scheduler.start()
        _planner, watcher = start_live(leader, scheduler, after=None, offset=leader.clock.offset)
        other = open_services(settings, now=MONDAY)
        now = other.now()
        with unit_of_work(other.sessions) as session:
            editor = add_user(session, "bien-tap-bench", "editor", now=now)
            approver = add_user(session, "duyet-bench", "approver", now=now)
            ids = []
            for n in range(count):
                piece = add_piece(session, PieceContent(f"Thông báo số {n + 1}", f"Thông báo số {n + 1} của xã.",
                                                        campaign="guong-dien-hinh", channels=("loudspeaker",)),
                                  author=editor, now=now)
                submit(session, piece.id, actor=editor, now=now)
                ids.append(piece.id)
        time.sleep(3)  # let the leader finish the requests the demo left
        latencies = []
        for piece_id in ids:
            with unit_of_work(other.sessions) as session:
                approve(session, piece_id, actor=approver, now=other.now())
            committed = time.perf_counter()
            while True:
                with unit_of_work(other.sessions) as session:
                    programs = upcoming(session, start=other.now(), end=other.now() + timedelta(days=2))
                if any(item.piece_id == piece_id for p in programs for item in p.items):
                    break
                if time.perf_counter() - committed > 120:
                    raise SystemExit(f"piece {piece_id} did not reach the schedule in 120 s")
                time.sleep(0.02)
            latencies.append(time.perf_counter() - committed)
        watcher.stop()
        scheduler.shutdown()
        other.close()
        leader.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    median = statistics.median(latencies)
    print(f"approvals measured:               {count} (committed by another Services, SQLite)")
    print(f"approval → schedule, each:        {', '.join(f'{s:.2f} s' for s in latencies)}")
    print(f"approval → schedule, median/max:  {median:.2f} s / {max(latencies):.2f} s (goal ≤ {GOAL_S:.0f} s)")
    print(f"baseline, explicit `loa plan`:    {baseline_s:.2f} s (a week, every station, speech already rendered)")
    print(f"ratio (median latency / loa plan): {median / baseline_s:.2f}")
    print(f"goal met: {'yes' if max(latencies) <= GOAL_S else 'no'}")


if __name__ == "__main__":
    main()
