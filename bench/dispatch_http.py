"""Benchmark: loa's dispatch rate over HTTP against a bare requests.Session pool posting the same bodies.

SPEC §14: 10,000 HTTP deliveries to a fast local receiver at no less than 80% of the rate of a bare
``requests.Session`` pool at the same concurrency, measured in the same run. loa's figure covers the
whole outbox path: claiming, re-checking approvals and hashes, building and storing each payload,
signing, pushing, and recording each receipt in the database (SQLite here).

Run:  .venv/bin/python bench/dispatch_http.py            (10,000 deliveries)
      .venv/bin/python bench/dispatch_http.py --quick    (a smoke run)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=ZONE)
SECRET_ENV = "LOA_BENCH_SECRET"
GOAL = 0.8

RECEIVER = r'''
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
bodies = []
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/loa":
            bodies.append(body.decode())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def do_GET(self):
        data = json.dumps(bodies).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
'''


def _config(folder: Path, url: str, stations: int, workers: int) -> Path:
    config = folder / "config"
    config.mkdir()
    (config / "loa.toml").write_text(
        f"[dispatch]\nworkers = {workers}\nper_outlet = {workers}\nclaim_batch = 200\ngrace_minutes = 600\n",
        encoding="utf-8")
    outlet = f'{{ type = "http", url = "{url}", secret_env = "{SECRET_ENV}" }}'
    (config / "stations.toml").write_text("".join(
        f'[[station]]\ncode = "{90000 + n}"\nname = "Xã {n}"\nboard = {outlet}\n' for n in range(stations)),
        encoding="utf-8")
    return config


def _outbox(services, count: int, stations: int) -> None:
    """``count`` pending board deliveries of one approved piece, spread over the stations."""
    from sqlalchemy import insert, select

    from content.db import unit_of_work
    from content.pieces import PieceContent, add_piece, approve, submit
    from content.users import add_user
    from scheduler.models import Airing, Delivery, Station

    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=NOW)
        approver = add_user(session, "duyet", "approver", now=NOW)
        piece = add_piece(session, PieceContent(
            "Thông báo lịch tiêm chủng", "Trạm y tế xã tiêm vắc-xin cho trẻ dưới 5 tuổi vào sáng thứ Năm. "
            "Đề nghị phụ huynh đưa con đến đúng giờ.", channels=("board",)), author=editor, now=NOW)
        submit(session, piece.id, actor=editor, now=NOW)
        approve(session, piece.id, actor=approver, now=NOW)
        station_ids = list(session.scalars(select(Station.id).order_by(Station.id)))
        rows = []
        for n in range(count):
            start = NOW - timedelta(hours=1) + timedelta(minutes=n // stations)
            rows.append(dict(id=uuid.uuid4().hex, station_id=station_ids[n % stations], outlet="board",
                             slot_name="bench", start_at=start, end_at=start + timedelta(hours=24),
                             due_at=NOW - timedelta(minutes=5), state="pending", attempts=0, created_at=NOW,
                             updated_at=NOW))
        session.execute(insert(Delivery), rows)
        session.execute(insert(Airing), [dict(delivery_id=r["id"], position=0, piece_id=piece.id,
                                              revision_id=piece.approved_revision_id, seconds=15.0, pinned=False,
                                              removed=False) for r in rows])


def _bare(url: str, bodies: list[bytes], workers: int) -> float:
    """Seconds a bare requests.Session pool (same concurrency, same bodies, same headers) takes."""
    import requests
    from requests.adapters import HTTPAdapter

    from channels.signing import push_headers

    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_maxsize=workers))
    secret = os.environ[SECRET_ENV]

    def post(body: bytes) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8",
                   **push_headers("k", body, secret, int(time.time()))}
        session.post(url, data=body, headers=headers, timeout=(5, 20)).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(post, bodies))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 deliveries: a smoke run, not a measurement")
    parser.add_argument("--deliveries", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--stations", type=int, default=50)
    args = parser.parse_args()
    count = 100 if args.quick else args.deliveries
    os.environ.setdefault(SECRET_ENV, "bench-secret")

    from loa.settings import load_settings
    from loa.wiring import open_services

    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(receiver.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as folder:
            config = _config(Path(folder), f"{base}/loa", args.stations, args.workers)
            services = open_services(load_settings(config), now=NOW)
            services.init()
            _outbox(services, count, args.stations)
            dispatcher = services.dispatcher("bench")
            started = time.perf_counter()
            summary = dispatcher.run_once(NOW)
            loa_s = time.perf_counter() - started
            dispatcher.close()
            services.close()
        assert summary.counts == {"delivered": count}, summary.counts
        import requests

        bodies = [body.encode() for body in requests.get(f"{base}/bodies", timeout=30).json()]
        assert len(bodies) == count
        bare_s = _bare(f"{base}/bare", bodies, args.workers)
    finally:
        receiver.terminate()
        receiver.wait()
    loa_rate, bare_rate = count / loa_s, count / bare_s
    ratio = loa_rate / bare_rate
    print(f"deliveries            : {count} board rotations over HTTP, {args.workers} concurrent, SQLite outbox")
    print(f"loa dispatch          : {loa_s:7.2f} s  {loa_rate:8.1f} deliveries/s (claim, check, build, store, "
          "sign, push, record)")
    print(f"bare requests pool    : {bare_s:7.2f} s  {bare_rate:8.1f} posts/s (same bodies, same concurrency)")
    print(f"ratio                 : {ratio:7.2f} of the bare rate (goal ≥ {GOAL:.2f}: "
          f"{'met' if ratio >= GOAL else 'NOT met'})")
    print(json.dumps({"deliveries": count, "loa_per_s": round(loa_rate, 1), "bare_per_s": round(bare_rate, 1),
                      "ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
