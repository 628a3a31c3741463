"""Benchmark: one `loa serve` app with a fleet of simulated `loa edge` devices (default 1,000), each heart-beating every
30 s and pulling its station's programs a week ahead every 60 s, every request signed as the agent signs it.

Prints the p95 of the edge API (heartbeat and schedule apart), the server process's CPU share over the run (from
/proc; one core = 100 %), and, as the baseline measured in the same run against the same server, the p95 of
``/healthz`` (one ``SELECT 1`` through the same app) sampled throughout. Goal: under one core, p95 < 100 ms.
Run:  .venv/bin/python bench/edge_fleet.py [--edges 1000 --seconds 90]  (``--quick``: 20 edges, a short run)
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
SECRET = "bench-edge-secret"
SERVER = """
import sys, uvicorn
from datetime import datetime
from loa.settings import load_settings
from loa.wiring import open_services
from loa.web import create_app
services = open_services(load_settings(sys.argv[1]), now=datetime.fromisoformat(sys.argv[3]))
uvicorn.run(create_app(services), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", timeout_keep_alive=120)
"""


def _prepare(folder: Path, edges: int, days: int) -> tuple[Path, list[dict]]:
    """The demo config with every loudspeaker served by edges, one approved piece, ``days`` of programs published,
    and ``edges`` devices enrolled over the three stations."""
    from content.db import unit_of_work
    from content.pieces import PieceContent, add_piece, approve, submit
    from content.users import add_user
    from loa.settings import load_settings
    from loa.wiring import open_services
    from scheduler.devices import edges as fleet

    config = folder / "config"
    shutil.copytree(ROOT / "config", config)
    stations = config / "stations.toml"
    folder_outlet = 'loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }'
    edge_outlet = 'loudspeaker = { type = "edge", lead = "192h" }'
    stations.write_text(stations.read_text(encoding="utf-8").replace(folder_outlet, edge_outlet), encoding="utf-8")
    services = open_services(load_settings(config, env={}), now=NOW)
    services.init()
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=NOW)
        approver = add_user(session, "duyet", "approver", now=NOW)
        piece = add_piece(session, PieceContent("Tiêm phòng dại", "Mời bà con đưa chó mèo đi tiêm phòng dại tại nhà "
                                                "văn hóa thôn.", campaign="guong-dien-hinh"), author=editor, now=NOW)
        submit(session, piece.id, actor=editor, now=NOW)
        approve(session, piece.id, actor=approver, now=NOW)
    services.plan(days=days)
    dispatcher = services.dispatcher()
    try:
        dispatcher.run_once(services.now(), due_by=NOW + timedelta(days=days + 1))
    finally:
        dispatcher.close()
    devices = []
    with unit_of_work(services.sessions) as session:
        for n in range(edges):
            _, code = fleet.make_enrolment_code(session, station=("99001", "99002", "99003")[n % 3],
                                                outlet="loudspeaker", actor="bench", now=NOW)
            done = fleet.enrol(session, code=code, name=f"edge-{n}", install_secret=SECRET, now=NOW)
            devices.append({"token": done.token, "key": done.key})
    services.close()
    return config, devices


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] if ordered else float("nan")


class Fleet:
    """The simulated devices: a heap of due requests, sent by a pool of workers, each timed."""

    def __init__(self, base: str, devices: list[dict], beat_s: float, pull_s: float, clock_offset: float) -> None:
        from loa.edge import protocol

        self.protocol = protocol
        self.base, self.devices, self.offset = base, devices, clock_offset
        self.local = threading.local()
        self.times: dict[str, list[float]] = {"heartbeat": [], "schedule": []}
        self.errors = 0
        start = time.monotonic()
        self.due = [(start + beat_s * n / len(devices), n, "heartbeat", beat_s) for n in range(len(devices))]
        self.due += [(start + pull_s * n / len(devices), n, "schedule", pull_s) for n in range(len(devices))]
        heapq.heapify(self.due)
        self.lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def send(self, n: int, kind: str) -> None:
        device = self.devices[n]
        beat = kind == "heartbeat"
        method, target = ("POST", "/api/edge/heartbeat") if beat else ("GET", "/api/edge/schedule?days=7")
        body = json.dumps({"version": "0.1.0", "audio_output": "ok"}).encode() if beat else b""
        stamp = int(time.time() + self.offset)
        headers = {"Authorization": f"Bearer {device['token']}", "Content-Type": "application/json",
                   **self.protocol.sign_request(device["key"], method, target, body, stamp)}
        began = time.perf_counter()
        answer = self._session().request(method, self.base + target, data=body, headers=headers, timeout=60)
        elapsed = time.perf_counter() - began
        with self.lock:
            if answer.status_code == 200:
                self.times[kind].append(elapsed)
            else:
                self.errors += 1

    def run(self, seconds: float, workers: int) -> None:
        end = time.monotonic() + seconds
        with ThreadPoolExecutor(workers) as pool:
            while True:
                at, n, kind, every = heapq.heappop(self.due)
                if at >= end:
                    break
                if (wait := at - time.monotonic()) > 0:
                    time.sleep(wait)
                pool.submit(self.send, n, kind)
                heapq.heappush(self.due, (at + every, n, kind, every))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 edges, a short run: a smoke run")
    parser.add_argument("--edges", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=90.0, help="how long the fleet runs")
    parser.add_argument("--workers", type=int, default=16, help="requests in flight at most")
    args = parser.parse_args()
    beat_s, pull_s, days = 30.0, 60.0, 7
    if args.quick:
        args.edges, args.seconds, beat_s, pull_s, days = 20, 8.0, 2.0, 4.0, 1
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOA_SECRET_KEY"] = SECRET
        began = time.monotonic()
        config, devices = _prepare(Path(tmp), args.edges, days)
        print(f"prepared {args.edges} enrolled edges, {days} days of programs, in {time.monotonic() - began:.0f} s",
              flush=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "LOA_SECRET_KEY": SECRET, "LOA_DATABASE_URL": "", "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(config), str(port), NOW.isoformat()], env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    health = requests.get(f"{base}/healthz", timeout=1).json()
                    break
                except requests.ConnectionError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.1)
            offset = datetime.fromisoformat(health["time"]).timestamp() - time.time()  # the server's fake clock
            fleet = Fleet(base, devices, beat_s, pull_s, offset)
            sample = fleet.devices[0]
            fleet.send(0, "schedule")
            programs = requests.Session()
            baseline: list[float] = []
            stop = threading.Event()

            def probe() -> None:  # the baseline, sampled through the whole run against the same server
                while not stop.wait(0.1):
                    t = time.perf_counter()
                    programs.get(f"{base}/healthz", timeout=60)
                    baseline.append(time.perf_counter() - t)

            prober = threading.Thread(target=probe)
            cpu, wall = _cpu_seconds(server.pid), time.monotonic()
            prober.start()
            fleet.run(args.seconds, args.workers)
            stop.set()
            prober.join()
            share = (_cpu_seconds(server.pid) - cpu) / (time.monotonic() - wall)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert sample
    sent = sum(len(v) for v in fleet.times.values())
    print(f"{args.edges} edges, heartbeat every {beat_s:.0f} s, week pull every {pull_s:.0f} s, {args.seconds:.0f} s: "
          f"{sent} requests ({sent / args.seconds:.1f}/s), {fleet.errors} refused or failed")
    for kind, times in fleet.times.items():
        print(f"edge {kind:10s} p95 {_p95(times) * 1000:7.1f} ms   (n={len(times)})")
    print(f"baseline /healthz    p95 {_p95(baseline) * 1000:7.1f} ms   (n={len(baseline)}, sampled during the run)")
    print(f"server CPU share: {share * 100:.0f} % of one core (goal: under 100 %)")
    worst = max(_p95(fleet.times["heartbeat"]), _p95(fleet.times["schedule"]))
    print(f"ratio edge API p95 / healthz p95: {worst / _p95(baseline):.2f}")


if __name__ == "__main__":
    main()
