"""Benchmark: what one poll of ``/boards/<code>.json`` costs, the request every kiosk board sends every few seconds.

The board document holds a full history (14 day rotations of 19 slides, 5 with pictures), pushed through the
kiosk channel as the dispatcher pushes it. Timed against the same server, in the same run: ``/healthz``
(one ``SELECT 1`` through the same app and middleware) as the baseline; the poll answered 304 (what a board
sends while nothing changed, nearly always); the full 200 answer. Besides wall time per request it reports
the server process's CPU time per request (from /proc), which is what 100 polling boards add up to.
Run:  .venv/bin/python bench/board_poll.py  (``--quick`` smoke-runs it)
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SERVER = """
import sys, uvicorn
from datetime import datetime
from loa.settings import load_settings
from loa.wiring import open_services
from loa.web import create_app
services = open_services(load_settings(sys.argv[1]), now=datetime.fromisoformat(sys.argv[3]))
uvicorn.run(create_app(services), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", timeout_keep_alive=120)
"""


def _prepare(folder: Path) -> Path:
    """The demo config with an initialised database and a full board document for station 99001."""
    from PIL import Image

    from channels import Delivery, Slide
    from channels.registry import open_channel
    from loa.settings import load_settings
    from loa.wiring import open_services

    config = folder / "config"
    shutil.copytree(ROOT / "config", config)
    settings = load_settings(config, env={})
    services = open_services(settings, now=NOW)
    services.init()
    services.close()
    images = []
    for n in range(5):
        Image.new("RGB", (1200, 800), (40 * n, 90, 160)).save(folder / f"anh-{n}.png")
        images.append(folder / f"anh-{n}.png")
    spec = settings.station("99001")
    board = open_channel("board.kiosk", spec.board)
    today = NOW.replace(hour=0)
    for day in range(-13, 1):
        start = today + timedelta(days=day)
        slides = tuple(Slide(f"piece-{n}-r1-1", f"Nội dung bản tin số {n}: Ủy ban nhân dân xã thông báo tới bà con "
                             "lịch tiêm phòng, lịch trực ban và các việc cần làm trong tuần." * 2, 15,
                             title=f"Thông báo số {n}", campaign="Gương điển hình",
                             image_path=images[n % 5] if n % 4 == 0 else None) for n in range(1, 20))
        board.deliver(Delivery(id=f"board-{day + 13}", station_code=spec.code, station_name=spec.name,
                               outlet="board", start_at=start, end_at=start + timedelta(days=1), slides=slides))
    return config


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(session: requests.Session, url: str, status: int, headers: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    response = session.get(url, headers=headers, timeout=60)
    elapsed = time.perf_counter() - start
    assert response.status_code == status, (url, response.status_code, response.text[:200])
    return elapsed


def _series(pid: int, session: requests.Session, url: str, status: int, count: int,
            headers: dict[str, str] | None = None) -> tuple[list[float], float]:
    """Wall times of ``count`` sequential requests, and the server's CPU seconds per request."""
    cpu = _cpu_seconds(pid)
    times = [_timed(session, url, status, headers) for _ in range(count)]
    return times, (_cpu_seconds(pid) - cpu) / count


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _line(label: str, times: list[float], cpu: float | None = None) -> str:
    return (f"{label:42s} median {statistics.median(times) * 1000:7.2f} ms   p95 {_p95(times) * 1000:7.2f} ms"
            + (f"   server CPU {cpu * 1000:6.2f} ms/request" if cpu is not None else "") + f"   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few requests: a smoke run")
    parser.add_argument("--requests", type=int, default=1000, help="requests per sequential series")
    parser.add_argument("--clients", type=int, default=20, help="boards polling at once in the concurrent series")
    args = parser.parse_args()
    if args.quick:
        args.requests = 40
    with tempfile.TemporaryDirectory() as tmp:
        config = _prepare(Path(tmp))
        document = config.parent / "var" / "out" / "boards" / "99001" / "board.json"
        print(f"board document: {document.stat().st_size // 1024} KiB, 14 rotations of 19 slides", flush=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "LOA_SECRET_KEY": "bench-secret", "LOA_DATABASE_URL": "", "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(config), str(port), NOW.isoformat()], env=env)
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
            session = requests.Session()
            url = f"{base}/boards/99001.json"
            first = session.get(url)
            etag = first.headers["etag"]
            print(f"answer: {len(first.content) // 1024} KiB JSON, {len(first.json()['rotation']['slides'])} slides, "
                  f"ETag {etag}", flush=True)
            for _ in range(20):  # warm up both paths
                session.get(f"{base}/healthz")
                session.get(url, headers={"If-None-Match": etag})
            health, health_cpu = _series(server.pid, session, f"{base}/healthz", 200, args.requests)
            print(_line("baseline /healthz", health, health_cpu), flush=True)
            unchanged, unchanged_cpu = _series(server.pid, session, url, 304, args.requests, {"If-None-Match": etag})
            print(_line("poll, unchanged (304)", unchanged, unchanged_cpu), flush=True)
            full, full_cpu = _series(server.pid, session, url, 200, args.requests)
            print(_line("poll, changed (200, whole answer)", full, full_cpu), flush=True)
            sessions = [requests.Session() for _ in range(args.clients)]
            with ThreadPoolExecutor(args.clients) as pool:
                concurrent = list(pool.map(lambda n: _timed(sessions[n % args.clients], url, 304,
                                                            {"If-None-Match": etag}), range(args.requests)))
            print(_line(f"poll, unchanged, {args.clients} boards at once", concurrent), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"ratio poll 304 / healthz (median): {statistics.median(unchanged) / statistics.median(health):.2f}")
    print(f"ratio poll 304 / healthz (server CPU per request): {unchanged_cpu / health_cpu:.2f}")
    print(f"100 boards polling every 10 s: {100 / 10 * unchanged_cpu * 100:.1f} % of one core")


if __name__ == "__main__":
    main()
