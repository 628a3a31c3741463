"""Benchmark: does the web app stall while loa re-plans 100 stations and dispatches 100 programs?

Issue 14 point 5: ``/healthz`` and the calendar page, p95, while a 100-station re-plan (``loa plan --fresh``,
a week) and a 100-program dispatch (speech already rendered, every program assembled with ffmpeg, pushed to
folder outlets) run, against the same with nothing running, in the same run; goal: ratio ≤ 2. The app, the
re-plan and the dispatcher share one process and one SQLite file, as in ``loa serve``; the client measuring
them is another process, so its own waits are not counted. Run:  .venv/bin/python bench/web_stall.py
(``--quick`` smoke-runs it with 5 stations).
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import shutil
import socket
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=ZONE)
#: The dispatch runs as if at this moment: the 17:00 loudspeaker programs (due 16:58) of every station.
EVENING = datetime(2026, 11, 23, 16, 58, 30, tzinfo=ZONE)
PASSWORD = "mat-khau-bench"
GOAL = 2.0
PAUSE_S = 0.05  # between two requests of the measuring client: an editor's clicks, not a flood


def _stations_toml(count: int) -> str:
    return "\n".join(f'''[[station]]
code = "{10001 + n}"
name = "Xã Thử Nghiệm {n + 1}"
province = "Tỉnh Minh Họa"
loudspeaker = {{ type = "folder", dir = "var/out/loudspeaker" }}
board = {{ type = "kiosk", dir = "var/out/boards" }}
portal = {{ type = "feed", dir = "var/out/feeds", title = "Cổng thông tin" }}
''' for n in range(count))


def _prepare(folder: Path, stations: int, pieces: int):
    """Services on a config of ``stations`` communes with ``pieces`` approved pieces planned over a week
    (which renders their speech once), and an approver who can sign in."""
    from argon2 import PasswordHasher

    from content.db import unit_of_work
    from content.pieces import PieceContent, add_piece, approve, submit
    from content.users import add_user
    from loa.settings import load_settings
    from loa.wiring import open_services

    config = folder / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "stations.toml").write_text(_stations_toml(stations), encoding="utf-8")
    services = open_services(load_settings(config, env={"LOA_SECRET_KEY": "bench-secret"}), now=MONDAY)
    services.init()
    with unit_of_work(services.sessions) as session:
        password_hash = PasswordHasher().hash(PASSWORD)
        editor = add_user(session, "bien-tap", "editor", now=MONDAY, password_hash=password_hash)
        approver = add_user(session, "duyet", "approver", now=MONDAY, password_hash=password_hash)
        for n in range(pieces):
            piece = add_piece(session, PieceContent(
                f"Thông báo số {n + 1}", f"Nội dung thông báo số {n + 1} gửi bà con trong xã: họp dân lúc "
                f"{7 + n % 10} giờ sáng thứ Bảy tại nhà văn hóa thôn.", campaign="guong-dien-hinh"),
                author=editor, now=MONDAY)
            submit(session, piece.id, actor=editor, now=MONDAY)
            approve(session, piece.id, actor=approver, now=MONDAY)
    services.plan(days=7)
    return services


def _measure(base: str, stop, ready, out) -> None:
    """The measuring client (its own process): signs in, then times ``/healthz`` and the week calendar in
    turn until ``stop`` is set; puts the two lists of seconds, and the answers that were not 200, on ``out``."""
    browser = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get(f"{base}/login", timeout=60).text)[1]
    browser.post(f"{base}/login", data={"name": "duyet", "password": PASSWORD, "csrf": csrf},
                 timeout=60).raise_for_status()
    timings: dict[str, list[float]] = {"health": [], "calendar": []}
    failures: dict[str, int] = {"health": 0, "calendar": 0}
    urls = {"health": f"{base}/healthz", "calendar": f"{base}/calendar?week=2026-11-23"}
    for url in urls.values():  # warm: templates compiled, the week cached
        browser.get(url, timeout=120).raise_for_status()
    ready.set()
    while not stop.is_set():
        for name, url in urls.items():
            started = time.perf_counter()
            status = browser.get(url, timeout=120).status_code
            timings[name].append(time.perf_counter() - started)
            failures[name] += status != 200
            time.sleep(PAUSE_S)
    out.put((timings, failures))


def _window(base: str, load=None, seconds: float = 0.0) -> tuple[dict[str, list[float]], dict[str, int], float]:
    """Timings of a measuring client while ``load()`` runs (or for ``seconds`` when there is no load)."""
    context = multiprocessing.get_context("spawn")
    stop, ready, out = context.Event(), context.Event(), context.Queue()
    client = context.Process(target=_measure, args=(base, stop, ready, out))
    client.start()
    if not ready.wait(300):
        raise SystemExit("the measuring client did not start")
    started = time.perf_counter()
    if load is None:
        time.sleep(seconds)
    else:
        load()
    elapsed = time.perf_counter() - started
    stop.set()
    timings, failures = out.get(timeout=300)
    client.join(60)
    return timings, failures, elapsed


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _line(label: str, timings: list[float], failures: int) -> str:
    ordered = sorted(timings)
    return (f"{label:44s} median {ordered[len(ordered) // 2] * 1000:8.1f} ms   p95 {_p95(timings) * 1000:8.1f} ms"
            f"   max {ordered[-1] * 1000:8.1f} ms   (n={len(timings)}, not 200: {failures})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 stations: a smoke run")
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--pieces", type=int, default=12)
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="length of the baseline window")
    args = parser.parse_args()
    if args.quick:
        args.stations, args.pieces, args.idle_seconds = 5, 3, 3.0

    import uvicorn

    from loa.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        services = _prepare(Path(tmp), args.stations, args.pieces)
        print(f"prepared {args.stations} stations, {args.pieces} approved pieces, a week planned, "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port,
                                               log_level="warning"))
        serving = threading.Thread(target=server.run, daemon=True)
        serving.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        dispatcher = services.dispatcher("bench")
        results: dict[str, object] = {}

        def replan() -> None:
            results["plan"] = services.plan(days=7, fresh=True).counts()

        def dispatch() -> None:
            from sqlalchemy.exc import OperationalError

            waits = 0
            while True:  # as loa serve's sweep does: a run that found the database locked is tried again
                try:
                    results["dispatch"] = dict(dispatcher.run_once(EVENING).counts)
                    break
                except OperationalError as error:
                    if "locked" not in str(error):
                        raise
                    waits += 1
                    time.sleep(1)
            results["dispatch runs that found the database locked"] = waits

        def load() -> None:
            threads = [threading.Thread(target=replan), threading.Thread(target=dispatch)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        try:
            idle, idle_failed, idle_s = _window(base, seconds=args.idle_seconds)
            busy, busy_failed, busy_s = _window(base, load)
        finally:
            dispatcher.close()
            server.should_exit = True
            serving.join(30)
            services.close()
    print(f"re-plan of {args.stations} stations (a week, --fresh) and dispatch of the 17:00 programs ran together "
          f"for {busy_s:.1f} s", flush=True)
    print(f"  re-plan: {results.get('plan')}")
    print(f"  dispatch: {results.get('dispatch')}; runs that found the database locked (by the re-plan's "
          f"write transaction, beyond busy_timeout) and were tried again: "
          f"{results.get('dispatch runs that found the database locked')}")
    print(_line(f"/healthz, nothing running ({idle_s:.0f} s)", idle["health"], idle_failed["health"]))
    print(_line("/healthz, during re-plan + dispatch", busy["health"], busy_failed["health"]))
    print(_line("calendar week page, nothing running", idle["calendar"], idle_failed["calendar"]))
    print(_line("calendar week page, during re-plan + dispatch", busy["calendar"], busy_failed["calendar"]))
    ratios = {name: _p95(busy[name]) / _p95(idle[name]) for name in ("health", "calendar")}
    print(f"ratio /healthz p95 busy/idle: {ratios['health']:.1f}")
    print(f"ratio calendar page p95 busy/idle: {ratios['calendar']:.1f}")
    met = max(ratios.values()) <= GOAL and not any(busy_failed.values())
    print(f"goal ratio ≤ {GOAL:.0f} (and every answer 200): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
