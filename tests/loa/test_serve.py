"""`loa serve` runs the web app, the scheduler and the dispatcher in one process: the demo's first
slot is pushed without anyone calling `loa dispatch`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import feedparser
import requests

from servers import processes
from servers.processes import free_port, wait_for


def test_serve_pushes_the_demo_slot_to_every_outlet(config_dir: Path):
    env = {**os.environ, "LOA_CONFIG": str(config_dir), "LOA_DATABASE_URL": "", "LOA_NOW": ""}
    loa = [sys.executable, "-m", "loa"]
    subprocess.run([*loa, "demo", "--first-push-in", "0"], env=env, check=True, capture_output=True)
    port = free_port()
    server = processes.start([*loa, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"

    def get(path: str):
        try:
            return requests.get(base + path, timeout=10)
        except (requests.ConnectionError, requests.Timeout):  # still starting, or busy rendering the demo
            return None

    try:
        health = wait_for(lambda: (r := get("/healthz")) is not None and r.status_code == 200 and r, "/healthz")
        assert health.json()["status"] == "ok"
        out = config_dir.parent / "var" / "out"
        playlists = wait_for(lambda: list((out / "loudspeaker" / "99001").glob("*/*.m3u8")), "a playlist")
        assert playlists[0].read_text(encoding="utf-8").startswith("#EXTM3U")
        board = wait_for(lambda: (r := get("/boards/99001.json")) is not None and r.json()["rotation"] and r,
                          "the board rotation")
        assert board.json()["rotation"]["slides"]
        feed = wait_for(lambda: (r := get("/feeds/99001.rss")) is not None and r.status_code == 200 and r,
                         "the portal feed")
        parsed = feedparser.parse(feed.content)
        assert not parsed.bozo and parsed.entries
    finally:
        processes.stop(server, grace_s=20)
        output = server.stdout.read()
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output, output


def test_a_second_serve_on_the_same_sqlite_file_is_refused(config_dir: Path):
    env = {**os.environ, "LOA_CONFIG": str(config_dir), "LOA_DATABASE_URL": "", "LOA_NOW": "", "LOA_LANG": "en"}
    loa = [sys.executable, "-m", "loa"]
    subprocess.run([*loa, "init"], env=env, check=True, capture_output=True)
    port = free_port()
    first = processes.start([*loa, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), "the first server")
        second = subprocess.run([*loa, "serve", "--port", str(free_port())], env=env, capture_output=True,
                                text=True, timeout=60)
        assert second.returncode != 0
        assert f"another `loa serve` (pid {first.pid}) is already running" in second.stderr
        assert "Traceback" not in second.stderr
        assert _answers(f"http://127.0.0.1:{port}/healthz")  # the first one is untouched
    finally:
        processes.stop(first, grace_s=20)


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False
