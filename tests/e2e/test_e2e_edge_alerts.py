"""A real `loa edge` against a real `loa serve` (fake clocks, file sink) follows an emergency's whole life: it plays
each repeat at its interval, stops at once on the all-clear and says "hết cảnh báo" once; a stream emergency is
relayed from its URL until cleared; loa gets a signed as-played record of every play."""

from __future__ import annotations

import subprocess
import threading
import time
from datetime import datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from e2e_support import APPROVER, at
from edge_support import STATION, Edge, Serve, rows, served_and_enrolled, wait
from sqlalchemy import select

from loa.edge.player import ffmpeg_exe
from scheduler.models import AsPlayed, Emergency

# What a device does with what it pulled does not depend on loa's database; the edge API it talks to is
# tested on both databases (tests/loa/web/test_edge_api.py, test_edge_board_api.py).
pytestmark = pytest.mark.one_database

T0 = at("09:00:00")  # between the day's programs: the sink holds only what the emergencies play


@pytest.fixture
def edge_ready(cli, config_dir, tmp_path):
    with served_and_enrolled(cli, config_dir, tmp_path / "edge", T0) as (serve, config, started):
        edge = Edge(config, T0)
        started.append(edge)
        yield serve, edge


def _loa_now(serve: Serve) -> datetime:
    return datetime.fromisoformat(requests.get(f"{serve.url}/healthz", timeout=5).json()["time"])


def _played(cli, config_dir):
    return rows(config_dir, cli.database_url, select(
        AsPlayed.delivery_id, AsPlayed.item, AsPlayed.played_s, AsPlayed.complete, AsPlayed.started_at)
        .where(AsPlayed.delivery_id.like("emergency-%")).order_by(AsPlayed.seq))


def _last_emergency(cli, config_dir) -> int:
    return rows(config_dir, cli.database_url, select(Emergency.id).order_by(Emergency.id.desc()).limit(1))[0][0]


def test_an_emergency_repeats_at_its_interval_until_the_all_clear_which_plays_once(cli, config_dir, edge_ready):
    serve, edge = edge_ready
    issued = _loa_now(serve)
    start = issued - timedelta(seconds=45)  # repeats every minute: the second round is due 15 s from now
    cli("emergency", "send", "--stations", STATION, "--title", "Lũ quét", "--text",
        "Nước lũ đang lên nhanh, bà con khẩn trương di chuyển lên chỗ cao.", "--repeat-every", "1m",
        "--start", start.isoformat(), "--yes", now=issued.isoformat(), user=APPROVER)
    emergency = _last_emergency(cli, config_dir)
    ref = f"emergency-{emergency}"

    twice = wait(lambda: len(_played(cli, config_dir)) >= 2 and _played(cli, config_dir), "the emergency twice",
                 edge, serve, timeout=120)
    assert [(k[0], k[1], k[3]) for k in twice] == [(ref, "speech", True)] * 2
    assert twice[1][4] >= start + timedelta(minutes=1)  # the repeat plays at its interval, by loa's clock
    cleared_at = _loa_now(serve)
    cli("emergency", "clear", str(emergency), now=cleared_at.isoformat(), user=APPROVER)

    kept = wait(lambda: len(_played(cli, config_dir)) >= 3 and _played(cli, config_dir), "the all-clear message",
                edge, serve, timeout=120)
    assert (kept[2][0], kept[2][1], kept[2][3]) == (ref, "all_clear", True) and kept[2][2] > 0.5
    assert kept[2][4] >= cleared_at
    # past the time the third round would have been due (and a poll more): no repeat, no second all-clear
    wait(lambda: _loa_now(serve) > start + timedelta(minutes=2, seconds=5), "the third round's time", timeout=120)
    time.sleep(3)
    final = _played(cli, config_dir)
    assert [(k[0], k[1]) for k in final] == [(ref, "speech"), (ref, "speech"), (ref, "all_clear")]
    assert edge.sink_seconds() == pytest.approx(sum(k[2] for k in final), abs=0.01)
    assert "Traceback" not in edge.text() + serve.text()


@pytest.fixture
def tone_stream(tmp_path):
    """A two-minute tone served over HTTP, as a live stream URL."""
    folder = tmp_path / "stream"
    folder.mkdir()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=120", "-ac", "1",
                    "-b:a", "64k", str(folder / "tone.mp3")], check=True, timeout=60)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/tone.mp3"
    server.shutdown()


def test_a_stream_emergency_is_relayed_from_its_url_until_cleared(cli, config_dir, edge_ready, tone_stream):
    serve, edge = edge_ready
    issued = _loa_now(serve)
    cli("emergency", "send", "--stations", STATION, "--title", "Tiếp sóng khẩn cấp", "--stream", tone_stream,
        "--yes", now=issued.isoformat(), user=APPROVER)
    emergency = _last_emergency(cli, config_dir)
    playing = edge.folder / "edge-cache" / "playing.json"
    wait(lambda: playing.exists() and '"stream"' in playing.read_text(), "the stream relayed", edge, serve,
         timeout=120)
    wait(lambda: edge.sink_seconds() > 3, "a few seconds of the stream in the sink", edge, serve)
    cli("emergency", "clear", str(emergency), now=_loa_now(serve).isoformat(), user=APPROVER)

    kept = wait(lambda: len(_played(cli, config_dir)) >= 2 and _played(cli, config_dir),
                "the stream cut and the all-clear", edge, serve, timeout=120)
    ref = f"emergency-{emergency}"
    assert [(k[0], k[1], k[3]) for k in kept] == [(ref, "stream", False), (ref, "all_clear", True)]
    assert 3 < kept[0][2] < 120  # relayed until the all-clear, not to the stream's end
    assert edge.sink_seconds() == pytest.approx(kept[0][2] + kept[1][2], abs=0.01)
    assert "Traceback" not in edge.text() + serve.text()
