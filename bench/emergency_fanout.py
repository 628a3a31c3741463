"""Benchmark: an emergency's fan-out, from the command's commit until 1,000 stations' http outlets have accepted it.

Issue 18: p50 and p95 of the per-station latency (the moment a station's loudspeaker platform accepted the push,
minus the moment the emergency was committed) on SQLite and on PostgreSQL, with 2 ``loa worker`` processes
pushing; goal p95 ≤ 30 s for 1,000 stations on the 2-core machine. The emergency is a text: its speech is
rendered once inside the measured window. The floor is measured in the same run: the very bodies loa sent,
posted again by a bare ``requests`` + threads client at the same total concurrency, timed from its start.
The stations' loudspeakers post to two local receivers (half each).

Run:  .venv/bin/python bench/emergency_fanout.py            (1,000 stations, SQLite then PostgreSQL)
      .venv/bin/python bench/emergency_fanout.py --quick    (50 stations: a smoke run, not a measurement)
      LOA_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres picks the PostgreSQL server.
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
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET_ENV = "LOA_BENCH_SECRET"
GOAL_P95_S = 30.0
ADMIN_URL = os.environ.get("LOA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WORKERS = 2
THREADS = 32  # [dispatch] emergency_workers of each worker

RECEIVER = r'''
import json, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
seen = []
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/loa":
            seen.append((time.time(), self.headers.get("Idempotency-Key", ""), body.decode()))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")
    def do_GET(self):
        data = json.dumps(seen if self.path == "/seen" else len(seen)).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *a):
        pass
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
server.daemon_threads = True
server.request_queue_size = 256
print(server.server_address[1], flush=True)
server.serve_forever()
'''


def _config(folder: Path, urls: list[str], stations: int) -> Path:
    config = folder / "config"
    config.mkdir()
    (config / "loa.toml").write_text(
        f"[dispatch]\npoll_seconds = 1\nemergency_workers = {THREADS}\nemergency_per_outlet = {THREADS}\n"
        "emergency_claim_batch = 250\n", encoding="utf-8")
    lines = []
    for n in range(stations):
        url = urls[n % len(urls)]
        outlet = (f'{{ type = "http", url = "{url}", secret_env = "{SECRET_ENV}", '
                  'media_url = "http://127.0.0.1/media" }')
        lines.append(f'[[station]]\ncode = "{10000 + n}"\nname = "Xã {n}"\nloudspeaker = {outlet}\n')
    (config / "stations.toml").write_text("".join(lines), encoding="utf-8")
    (config / "schedule.toml").write_text("", encoding="utf-8")
    return config


def _get(url: str):
    import requests

    return requests.get(url, timeout=30).json()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def _run(database: str, url: str, config: Path, receivers: list[str], stations: int) -> dict[str, object]:
    """Issue one text emergency to every station with two workers running; per-station acceptance latencies."""
    from content.db import unit_of_work
    from content.users import add_user, get_user
    from loa.settings import load_settings
    from loa.wiring import open_services
    from scheduler.emergencies import service

    env = {**os.environ, "LOA_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    services = open_services(load_settings(config, env={"LOA_DATABASE_URL": url}))
    services.init()
    with unit_of_work(services.sessions) as session:
        add_user(session, "duyet", "approver", now=services.now())
    logs = [config.parent / f"worker-{database}-{n}.log" for n in range(WORKERS)]
    workers = [subprocess.Popen([sys.executable, "-m", "loa", "--config", str(config), "worker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=log.open("w")) for log in logs]
    try:
        deadline = time.monotonic() + 60
        while not all("emergency lane ready" in log.read_text() for log in logs):  # as a long-running worker is
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise SystemExit(f"the workers did not start: {[log.read_text()[-500:] for log in logs]}")
            time.sleep(0.05)
        already = sum(_get(f"{base}/count") for base in receivers)
        request = service.EmergencyRequest(
            title="Cảnh báo lũ quét", targets=("*",), source="cli",
            text="Mưa lớn kéo dài, nguy cơ lũ quét và sạt lở đất trong đêm nay. Bà con vùng trũng di chuyển ngay "
                 f"lên nơi cao an toàn. Lần {uuid.uuid4().hex[:6]}.")
        with unit_of_work(services.sessions) as session:
            service.issue(session, request, actor=get_user(session, "duyet"), now=services.now())
        committed = time.time()
        deadline = time.monotonic() + 600
        while sum(_get(f"{base}/count") for base in receivers) < already + stations:
            if time.monotonic() > deadline:
                raise SystemExit("not every station accepted the emergency within 10 minutes")
            time.sleep(0.05)
        seen = [row for base in receivers for row in _get(f"{base}/seen")]
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
        services.close()
    fresh = [row for row in seen if row[0] >= committed - 1]
    by_station: dict[str, float] = {}
    for at, _key, body in fresh:
        station = json.loads(body)["station"]
        by_station[station] = max(by_station.get(station, 0.0), at - committed)
    assert len(by_station) == stations, (len(by_station), stations)
    assert len({row[1] for row in fresh}) == len(fresh) == stations, "a station received the emergency twice"
    latencies = list(by_station.values())
    return {"latencies": latencies, "bodies": [(row[1], row[2]) for row in fresh]}


def _bare(receivers: list[str], bodies: list[tuple[str, str]], threads: int) -> list[float]:
    """The same requests (bodies, signatures) posted by a plain requests + threads client; seconds to each accept."""
    import requests
    from requests.adapters import HTTPAdapter

    from channels.signing import push_headers

    session = requests.Session()
    session.mount("http://", HTTPAdapter(pool_maxsize=threads))
    secret = os.environ[SECRET_ENV]
    started = time.perf_counter()

    def post(item: tuple[int, tuple[str, str]]) -> float:
        index, (key, body) = item
        data = body.encode()
        headers = {"Content-Type": "application/json; charset=utf-8", **push_headers(key, data, secret,
                                                                                       int(time.time()))}
        session.post(f"{receivers[index % len(receivers)]}/bare", data=data, headers=headers,
                     timeout=(5, 20)).raise_for_status()
        return time.perf_counter() - started

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(post, enumerate(bodies)))


def _postgres_url() -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"loa_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 stations: a smoke run, not a measurement")
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    stations = 50 if args.quick else args.stations
    os.environ.setdefault(SECRET_ENV, "bench-secret")
    processes = [subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
    results = {}
    try:
        receivers = [f"http://127.0.0.1:{int(p.stdout.readline())}" for p in processes]
        for database in args.databases.split(","):
            with tempfile.TemporaryDirectory() as folder:
                config = _config(Path(folder), [f"{base}/loa" for base in receivers], stations)
                url = f"sqlite:///{Path(folder) / 'var' / 'loa.db'}" if database == "sqlite" else _postgres_url()
                try:
                    run = _run(database, url, config, receivers, stations)
                finally:
                    if database != "sqlite":
                        _drop(url)
            bare = _bare(receivers, run["bodies"], WORKERS * THREADS)
            results[database] = (run["latencies"], bare)
    finally:
        for process in processes:
            process.terminate()
            process.wait()
    print(f"emergency fan-out     : {stations} stations' http loudspeakers, two local receivers, "
          f"{WORKERS} workers × {THREADS} threads; from the commit of the emergency (a text, spoken once)")
    summary = {"stations": stations, "at": datetime.now(UTC).isoformat(timespec="seconds")}
    for database, (latencies, bare) in results.items():
        p50, p95, last = (_percentile(latencies, 0.5), _percentile(latencies, 0.95), max(latencies))
        b50, b95, blast = (_percentile(bare, 0.5), _percentile(bare, 0.95), max(bare))
        print(f"{database:<10} loa       : p50 {p50:6.2f} s  p95 {p95:6.2f} s  all {last:6.2f} s  "
              f"(goal p95 ≤ {GOAL_P95_S:.0f} s: {'met' if p95 <= GOAL_P95_S else 'NOT met'})")
        print(f"{database:<10} bare floor: p50 {b50:6.2f} s  p95 {b95:6.2f} s  all {blast:6.2f} s  "
              f"(the same {len(bare)} requests, requests + {WORKERS * THREADS} threads)")
        print(f"{database:<10} ratio     : loa p95 is {p95 / max(b95, 1e-6):7.1f} × the bare floor's p95")
        summary[database] = {"p50_s": round(p50, 3), "p95_s": round(p95, 3), "all_s": round(last, 3),
                             "bare_p50_s": round(b50, 3), "bare_p95_s": round(b95, 3), "bare_all_s": round(blast, 3)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
