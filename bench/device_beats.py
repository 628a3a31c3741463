"""Benchmark: 1,000 ``http`` devices heart-beating into one real ``loa serve`` (``POST /api/devices/heartbeat``).

Each device posts a signed beat every ``beat_s`` (30 s), so 1,000 of them send one every 30 ms; the run compresses
time by ``--speed`` (beats sent that much closer together, as if devices beat faster). Beats go out on a fixed
open-loop schedule from a pool of senders with keep-alive connections, each signed with the outlet's secret. The
baseline is ``/healthz`` (one ``SELECT 1`` through the same app) sent on the same schedule, first, in the same run.
Figures: p50/p95 of each, the server's CPU share (its CPU seconds over the wall seconds of each phase, from
/proc: 100 % is one core), and the states /metrics counts afterwards (every device online). Goal: the beats take
under one core, p95 < 100 ms.
Run:  .venv/bin/python bench/device_beats.py  (``--quick`` smoke-runs it with 50 devices)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from channels.signing import sign  # noqa: E402

SECRET_ENV = "LOA_BENCH_DEVICE_SECRET"
SECRET = "bench-bi-mat-cua-thiet-bi"


def _config(folder: Path, devices: int) -> Path:
    """The demo config with ``devices`` stations, each one ``http`` loudspeaker that beats, and no slots."""
    config = folder / "config"
    shutil.copytree(ROOT / "config", config)
    lines = []
    for n in range(devices):
        lines.append(f'[[station]]\ncode = "{10000 + n}"\nname = "Xã số {n + 1}"\nprovince = "Tỉnh Minh Họa"\n'
                     f'groups = ["cum-{n % 20}"]\nloudspeaker = {{ type = "http", url = "http://127.0.0.1:9/push", '
                     f'secret_env = "{SECRET_ENV}" }}\n')
    (config / "stations.toml").write_text("\n".join(lines), "utf-8")
    (config / "schedule.toml").write_text("blackout = []\n", "utf-8")
    (config / "geocodes.toml").write_text("", "utf-8")
    return config


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _phase(pid: int, count: int, gap_s: float, senders: int, send) -> tuple[list[float], float, float]:
    """Send ``count`` requests ``gap_s`` apart (open loop: each at its own time, whatever the others do) through
    ``senders`` threads; the latencies, the wall seconds and the server's CPU seconds of the phase."""
    local = threading.local()
    start = time.perf_counter() + 0.2

    def one(n: int) -> float:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        wait = start + n * gap_s - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        began = time.perf_counter()
        send(local.session, n)
        return time.perf_counter() - began

    cpu = _cpu_seconds(pid)
    wall = time.perf_counter()
    with ThreadPoolExecutor(senders) as pool:
        times = list(pool.map(one, range(count)))
    return times, time.perf_counter() - wall, _cpu_seconds(pid) - cpu


def _line(label: str, times: list[float], wall: float, cpu: float) -> str:
    return (f"{label:34s} p50 {statistics.median(times) * 1000:7.2f} ms   p95 {_p(times, 0.95) * 1000:7.2f} ms   "
            f"max {max(times) * 1000:7.1f} ms   {len(times) / wall:6.1f} req/s   server CPU {cpu / wall * 100:5.1f} % "
            f"of one core   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50 devices, one round: a smoke run")
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="beats per device")
    parser.add_argument("--beat-s", type=float, default=30.0, help="each device's beat interval")
    parser.add_argument("--speed", type=float, default=3.0, help="time compression: beats this much closer together")
    parser.add_argument("--senders", type=int, default=32, help="threads sending (devices talking at once)")
    args = parser.parse_args()
    if args.quick:
        args.devices, args.rounds, args.speed = 50, 1, 10.0
    gap_s = args.beat_s / args.devices / args.speed
    count = args.devices * args.rounds
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), args.devices)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = {**os.environ, "LOA_CONFIG": str(config), "LOA_DATABASE_URL": "", "LOA_NOW": "",
               "LOA_SECRET_KEY": "bench-secret", SECRET_ENV: SECRET, "PYTHONPATH": str(ROOT)}
        server = subprocess.Popen([sys.executable, "-m", "loa", "serve", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("loa serve did not start")
                time.sleep(0.2)
            print(f"loa serve (pid {server.pid}) with {args.devices} http devices; one beat every "
                  f"{gap_s * 1000:.1f} ms ({args.beat_s:g} s per device, time x{args.speed:g}), {count} beats, "
                  f"{args.senders} senders", flush=True)

            def health(session: requests.Session, n: int) -> None:
                answer = session.get(f"{base}/healthz", timeout=30)
                assert answer.status_code == 200, answer.text

            def beat(session: requests.Session, n: int) -> None:
                code = str(10000 + n % args.devices)
                body = json.dumps({"station": code, "outlet": "loudspeaker", "version": "2.3.1",
                                   "disk_free_bytes": 8_000_000_000, "audio_output": "ok", "volume": 70}).encode()
                headers = {"Content-Type": "application/json", **sign(body, SECRET, int(time.time()))}
                answer = session.post(f"{base}/api/devices/heartbeat", data=body, headers=headers, timeout=30)
                assert answer.status_code == 200, answer.text

            _phase(server.pid, min(count, 200), gap_s, args.senders, beat)  # warm up: every row exists afterwards
            baseline = _phase(server.pid, count, gap_s, args.senders, health)
            print(_line("baseline GET /healthz", *baseline), flush=True)
            beats = _phase(server.pid, count, gap_s, args.senders, beat)
            print(_line("POST /api/devices/heartbeat", *beats), flush=True)
            metrics = requests.get(f"{base}/metrics", timeout=60).text
            online = next((line for line in metrics.splitlines() if line.startswith('loa_devices{state="online"}')), "")
            print(f"after the run, /metrics: {online}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=60)
    p95_beat, p95_health = _p(beats[0], 0.95), _p(baseline[0], 0.95)
    share = beats[2] / beats[1]
    print(f"ratio heartbeat / healthz (p95): {p95_beat / p95_health:.2f}")
    print(f"ratio heartbeat / healthz (server CPU share): {share / max(baseline[2] / baseline[1], 1e-9):.2f}")
    real_share = share / args.speed  # what the same devices cost at their real 30 s beat
    print(f"{args.devices} devices beating every {args.beat_s:g} s: {real_share * 100:.1f} % of one core "
          f"(measured {share * 100:.1f} % at x{args.speed:g}); goal < 100 %: {'met' if share < 1 else 'NOT met'}; "
          f"p95 {p95_beat * 1000:.1f} ms, goal < 100 ms: {'met' if p95_beat < 0.1 else 'NOT met'}")


if __name__ == "__main__":
    main()
