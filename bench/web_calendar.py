"""Benchmark: the calendar week page for 100 stations and ``/api/schedule`` under 20 concurrent clients.

SPEC §14 asks for the week calendar of 100 stations under 300 ms and the JSON API's p95 under 50 ms with
20 concurrent clients. The baseline, measured in the same run against the same server, is ``/healthz``
(one ``SELECT 1`` through the same app, middleware and database). The app runs in its own process under
uvicorn, as ``loa serve`` runs it. Run:  .venv/bin/python bench/web_calendar.py  (``--quick`` smoke-runs it)
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parents[1]
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
PAGE_GOAL_S, API_P95_GOAL_S = 0.300, 0.050
PASSWORD = "mat-khau-bench"
SERVER = """
import sys, uvicorn
from loa.settings import load_settings
from loa.wiring import open_services
from loa.web import create_app
from datetime import datetime
services = open_services(load_settings(sys.argv[1]), now=datetime.fromisoformat(sys.argv[3]))
uvicorn.run(create_app(services), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", timeout_keep_alive=120)
"""


def _stations_toml(count: int) -> str:
    blocks = []
    for n in range(count):
        blocks.append(f'''[[station]]
code = "{10001 + n}"
name = "Xã Thử Nghiệm {n + 1}"
province = "Tỉnh Minh Họa"
groups = ["demo"]
loudspeaker = {{ type = "folder", dir = "var/out/loudspeaker" }}
board = {{ type = "kiosk", dir = "var/out/boards" }}
portal = {{ type = "feed", dir = "var/out/feeds", title = "Cổng thông tin" }}
''')
    return "\n".join(blocks)


def _prepare(folder: Path, stations: int, pieces: int) -> tuple[Path, str]:
    """A config of ``stations`` communes with ``pieces`` approved pieces planned over a week; returns a token."""
    from argon2 import PasswordHasher

    from content.accounts import create_token
    from content.db import unit_of_work
    from content.pieces import PieceContent, add_piece, approve, submit
    from content.users import add_user
    from loa.settings import load_settings
    from loa.wiring import open_services

    config = folder / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "stations.toml").write_text(_stations_toml(stations), encoding="utf-8")
    services = open_services(load_settings(config, env={}), now=MONDAY)
    services.init()
    with unit_of_work(services.sessions) as session:
        password_hash = PasswordHasher().hash(PASSWORD)
        editor = add_user(session, "bien-tap", "editor", now=MONDAY, password_hash=password_hash)
        approver = add_user(session, "duyet", "approver", now=MONDAY, password_hash=password_hash)
        for n in range(pieces):
            piece = add_piece(session, PieceContent(f"Thông báo số {n + 1}", f"Nội dung thông báo số {n + 1} "
                                                    "gửi bà con trong xã.", campaign="guong-dien-hinh"),
                              author=editor, now=MONDAY)
            submit(session, piece.id, actor=editor, now=MONDAY)
            approve(session, piece.id, actor=approver, now=MONDAY)
        token = create_token(session, approver, "bench", now=MONDAY)
    services.plan(days=7)
    services.close()
    return config, token


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(session: requests.Session, url: str, **kwargs) -> float:
    start = time.perf_counter()
    response = session.get(url, timeout=60, **kwargs)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def _threads(url: str, headers: dict[str, str], clients: int, total: int) -> list[float]:
    sessions = [requests.Session() for _ in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(lambda n: _timed(sessions[n % clients], url, headers=headers), range(total)))


def _concurrent(url: str, headers: dict[str, str], clients: int, total: int, processes: int) -> list[float]:
    """``clients`` keep-alive clients sending ``total`` requests, spread over ``processes`` client processes
    so that one process's GIL does not queue the clients' reads and inflate the server's latency."""
    if processes <= 1:
        return _threads(url, headers, clients, total)
    shares = [(url, headers, clients // processes + (n < clients % processes),
               total // processes + (n < total % processes)) for n in range(processes)]
    with ProcessPoolExecutor(processes) as pool:
        return [t for part in pool.map(_threads, *zip(*shares, strict=True)) for t in part]


def _line(label: str, timings: list[float]) -> str:
    return (f"{label:38s} median {statistics.median(timings) * 1000:8.1f} ms   "
            f"p95 {_percentile(timings, 0.95) * 1000:8.1f} ms   (n={len(timings)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few stations and requests: a smoke run")
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--pieces", type=int, default=12)
    parser.add_argument("--pages", type=int, default=10, help="calendar page loads")
    parser.add_argument("--requests", type=int, default=400, help="API requests under concurrency")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--client-processes", type=int, default=4, help="load-generator processes (1: threads only)")
    parser.add_argument("--identity", action="store_true", help="ask the API for plain JSON, not gzip")
    args = parser.parse_args()
    if args.quick:
        args.stations, args.pieces, args.pages, args.requests = 5, 2, 2, 40
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        config, token = _prepare(Path(tmp), args.stations, args.pieces)
        print(f"prepared in {time.perf_counter() - started:.0f} s", flush=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "LOA_SECRET_KEY": "bench-secret", "LOA_DATABASE_URL": "", "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(config), str(port), MONDAY.isoformat()],
                                  env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    requests.get(f"{base}/healthz", timeout=1)
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            browser = requests.Session()
            login = browser.get(f"{base}/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', login)[1]
            browser.post(f"{base}/login", data={"name": "duyet", "password": PASSWORD, "csrf": csrf}).raise_for_status()
            week = f"{base}/calendar?week=2026-11-23"
            first = time.perf_counter()
            page = browser.get(week).text
            first = time.perf_counter() - first
            assert page.count('class="program') >= args.stations * 7, "the calendar is missing programs"
            browser.get(f"{base}/healthz")
            print(f"{args.stations} stations, {args.pieces} approved pieces, a week planned; "
                  f"calendar page {len(page) // 1024} KiB", flush=True)
            # The page is cached per plan version: the first load is what an editor sees after any change.
            print(f"calendar week page, first load (nothing cached, templates compiling): {first * 1000:.1f} ms",
                  flush=True)
            health = [_timed(browser, f"{base}/healthz") for _ in range(args.pages)]
            print(_line("baseline /healthz, one client", health), flush=True)
            calendar = [_timed(browser, week) for _ in range(args.pages)]
            print(_line("calendar week page, one client", calendar), flush=True)
            auth = {"Authorization": f"Bearer {token}", **({"Accept-Encoding": "identity"} if args.identity else {})}
            schedule_url = f"{base}/api/schedule"
            answer = browser.get(schedule_url, headers=auth)  # requests accepts gzip, as browsers and curl do
            print(f"/api/schedule returns {len(answer.json())} programs (the next 24 h), "
                  f"{len(answer.content) // 1024} KiB JSON sent as {answer.headers['content-length']} bytes "
                  f"({answer.headers.get('content-encoding', 'identity')})", flush=True)
            health_c = _concurrent(f"{base}/healthz", auth, args.clients, args.requests, args.client_processes)
            print(_line(f"baseline /healthz, {args.clients} clients", health_c), flush=True)
            api_c = _concurrent(schedule_url, auth, args.clients, args.requests, args.client_processes)
            print(_line(f"/api/schedule, {args.clients} clients", api_c), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"ratio calendar page / healthz (median): {statistics.median(calendar) / statistics.median(health):.1f}")
    print(f"ratio /api/schedule / healthz (p95, {args.clients} clients): "
          f"{_percentile(api_c, 0.95) / _percentile(health_c, 0.95):.1f}")
    page_ok = statistics.median(calendar) < PAGE_GOAL_S
    api_ok = _percentile(api_c, 0.95) < API_P95_GOAL_S
    print(f"goal calendar page < {PAGE_GOAL_S * 1000:.0f} ms (median): {'met' if page_ok else 'NOT met'}")
    print(f"goal /api/schedule p95 < {API_P95_GOAL_S * 1000:.0f} ms: {'met' if api_ok else 'NOT met'}")


if __name__ == "__main__":
    main()
