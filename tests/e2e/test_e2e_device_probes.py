"""A real ``loa serve`` probes its devices by itself: the station whose loudspeaker streams to a real Icecast counts
as online in /metrics, the one whose Icecast is not there as faulty, and an http device's beat makes it online."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from channels.signing import sign

from servers import processes
from servers.processes import free_port, wait_for


def _metric(base: str, state: str) -> float | None:
    try:
        text = requests.get(f"{base}/metrics", timeout=10).text
    except requests.RequestException:  # still starting
        return None
    line = next((x for x in text.splitlines() if x.startswith(f'loa_devices{{state="{state}"}}')), None)
    return float(line.split()[-1]) if line else None


def test_loa_serve_probes_icecast_and_hears_an_http_device(config_dir: Path, icecast):
    stations = config_dir / "stations.toml"
    text = stations.read_text("utf-8")
    folder = 'loudspeaker = { type = "folder", dir = "var/out/loudspeaker" }'
    text = text.replace(folder, f'loudspeaker = {{ type = "icecast", host = "{icecast.host}", port = {icecast.port}, '
                                'password_env = "LOA_TEST_ICECAST_PASSWORD" }', 1)
    text = text.replace(folder, f'loudspeaker = {{ type = "icecast", host = "127.0.0.1", port = {free_port()}, '
                                'password_env = "LOA_TEST_ICECAST_PASSWORD", timeout_s = 2 }', 1)
    text = text.replace(folder, 'loudspeaker = { type = "http", url = "http://127.0.0.1:9/push", '
                                'secret_env = "LOA_TEST_SPEAKER_SECRET" }', 1)
    stations.write_text(text, "utf-8")
    env = {**os.environ, "LOA_CONFIG": str(config_dir), "LOA_DATABASE_URL": "", "LOA_NOW": "",
           "LOA_TEST_ICECAST_PASSWORD": icecast.password, "LOA_TEST_SPEAKER_SECRET": "bí-mật-loa-99003"}
    port = free_port()
    server = processes.start([sys.executable, "-m", "loa", "serve", "--port", str(port)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _metric(base, "online") == 1.0 and _metric(base, "faulty") == 1.0,
                 "the Icecast probes recorded (one online, one faulty)", timeout=120)
        body = json.dumps({"station": "99003", "outlet": "loudspeaker", "version": "2.3.1"}).encode()
        answer = requests.post(f"{base}/api/devices/heartbeat", data=body, timeout=10,
                               headers={"Content-Type": "application/json",
                                        **sign(body, "bí-mật-loa-99003", int(time.time()))})
        assert answer.status_code == 200, answer.text
        assert _metric(base, "online") == 2.0 and _metric(base, "faulty") == 1.0
        assert _metric(base, "unknown") == 6.0  # the boards and portals no device speaks for
    finally:
        processes.stop(server)
