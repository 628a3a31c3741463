"""`loa edge` without loa: a day of slots played from the cache with the server stopped, the as-played records sent in
order once it is back; a tampered cached file refused and reported; a SIGKILL mid-program resumed at the next item
with the partial play on record. Real `loa serve` and `loa edge` processes, fake clocks, a file sink."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta

import pytest
from e2e_support import at
from edge_support import RATE, Edge, Serve, enrol, local, prepare, rows, serve_edges, wait
from sqlalchemy import select

from scheduler.models import AsPlayed, DeviceHealth

# What a device does with what it pulled does not depend on loa's database; the edge API it talks to is
# tested on both databases (tests/loa/web/test_edge_api.py, test_edge_board_api.py).
pytestmark = pytest.mark.one_database


@pytest.fixture
def running(cli, config_dir, tmp_path):
    """Starts and always stops what a test starts."""
    started: list = []
    yield started
    for process in reversed(started):
        if process.process.poll() is None:
            process.stop()


def _played(config_dir, cli):
    return rows(config_dir, cli.database_url, select(
        AsPlayed.seq, AsPlayed.delivery_id, AsPlayed.item, AsPlayed.played_s, AsPlayed.complete, AsPlayed.id)
        .order_by(AsPlayed.seq))


def _cached(edge: Edge, count: int) -> list[dict]:
    """The edge's first ``count`` programs once every file they list is in its cache."""
    programs = edge.schedule()["programs"][:count]
    files = edge.folder / "edge-cache" / "files"
    if len(programs) == count and all((files / i["sha256"]).is_file() for p in programs for i in p["items"]):
        return programs
    return []


def test_a_day_without_loa_plays_from_the_cache_and_the_records_follow_in_order(cli, config_dir, tmp_path, running):
    serve_edges(config_dir)
    start = at("05:50:00")
    prepare(cli, start)
    serve = Serve(config_dir, cli.database_url, start)
    running.append(serve)
    config = enrol(cli, serve, tmp_path / "edge", start)
    edge = Edge(config, start)
    running.append(edge)
    programs = wait(lambda: _cached(edge, 4), "two days of programs cached", edge, serve, timeout=120)
    assert [datetime.fromisoformat(p["start_at"]) for p in programs] == [
        local("06:00"), local("17:00"), local("06:00", 24), local("17:00", 24)]
    edge.stop()
    serve.stop()  # loa is down from here until after Tuesday's last program

    offline = Edge(config, at("05:55:00"), speed=3000)  # a day goes by in about half a minute
    running.append(offline)
    expected = [(p["delivery_id"], i["item"]) for p in programs for i in p["items"]]
    journal = wait(lambda: len(offline.journal()) >= len(expected) and offline.journal(),
                   "the day's programs played with loa down", offline, timeout=180)
    assert [(r["delivery_id"], r["item"]) for r in journal[:len(expected)]] == expected
    assert all(r["complete"] for r in journal[:len(expected)])
    assert offline.sink_seconds() == pytest.approx(sum(i["duration_s"] for p in programs for i in p["items"]),
                                                   abs=0.1 * len(expected))
    assert not _played(config_dir, cli)  # nothing reached loa while it was down

    back = Serve(config_dir, cli.database_url, at("18:00:00", 24), port=serve.port)
    running.append(back)
    stored = wait(lambda: len(_played(config_dir, cli)) >= len(expected) and _played(config_dir, cli),
                  "the as-played records at loa after it came back", offline, back, timeout=120)
    first = stored[:len(expected)]
    assert [(s[1], s[2]) for s in first] == expected
    assert [s[0] for s in first] == list(range(1, len(expected) + 1))
    assert [s[5] for s in first] == sorted(s[5] for s in first)  # stored in the order they were played
    assert all(s[4] for s in first)
    assert "Traceback" not in offline.text() + back.text()


def test_a_tampered_cached_file_is_refused_and_reported(cli, config_dir, tmp_path, running):
    serve_edges(config_dir)
    start = at("05:59:00")
    prepare(cli, start)
    serve = Serve(config_dir, cli.database_url, start)
    running.append(serve)
    config = enrol(cli, serve, tmp_path / "edge", start)
    edge = Edge(config, start)
    running.append(edge)
    program = wait(lambda: _cached(edge, 1), "the 06:00 program cached", edge, serve, timeout=120)[0]
    edge.stop()
    piece = next(i for i in program["items"] if i["item"].startswith("piece-"))
    cached = edge.folder / "edge-cache" / "files" / piece["sha256"]
    data = bytearray(cached.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped in the middle of the audio
    cached.write_bytes(bytes(data))

    again = Edge(config, at("05:59:45"))
    running.append(again)
    stored = wait(lambda: len(_played(config_dir, cli)) == 3 and _played(config_dir, cli), "the program's records",
                  again, serve, timeout=120)
    by_item = {s[2]: s for s in stored}
    assert by_item[piece["item"]][3] == 0 and not by_item[piece["item"]][4]  # refused: nothing of it played
    assert by_item["intro"][4] and by_item["outro"][4]
    assert again.sink_seconds() == pytest.approx(by_item["intro"][3] + by_item["outro"][3], abs=0.01)

    def fault():
        found = rows(config_dir, cli.database_url, select(DeviceHealth.fault, DeviceHealth.source))
        return found and found[0][0] and found[0]

    reported = wait(fault, "the refusal in the device's heartbeat", again, serve)
    assert reported[1] == "edge" and "altered" in reported[0] and piece["item"] in reported[0]


def test_an_edge_killed_mid_program_resumes_at_the_next_item_and_reports_the_partial_play(cli, config_dir, tmp_path,
                                                                                          running):
    serve_edges(config_dir)
    start = at("05:59:40")
    prepare(cli, start)
    serve = Serve(config_dir, cli.database_url, start)
    running.append(serve)
    config = enrol(cli, serve, tmp_path / "edge", start)
    began = time.monotonic()
    edge = Edge(config, start)
    running.append(edge)
    program = wait(lambda: _cached(edge, 1), "the 06:00 program cached", edge, serve, timeout=120)[0]
    items = program["items"]
    piece = items[1]
    playing = edge.folder / "edge-cache" / "playing.json"

    def mid_piece() -> bool:
        text = playing.read_text() if playing.exists() else ""
        return piece["item"] in text and '"played_s": 0.0' not in text

    wait(mid_piece, "the piece playing", edge, serve, timeout=120)
    os.killpg(edge.process.pid, signal.SIGKILL)
    edge.process.wait()
    killed_at = edge.sink_seconds()
    elapsed = time.monotonic() - began

    resumed = Edge(config, (local("05:59:40") + timedelta(seconds=elapsed)).isoformat())
    running.append(resumed)
    stored = wait(lambda: len(_played(config_dir, cli)) == 3 and _played(config_dir, cli), "the program's records",
                  resumed, serve, timeout=120)
    assert [s[2] for s in stored] == [i["item"] for i in items]
    intro, partial, outro = stored
    assert intro[4] and outro[4]  # played whole
    assert not partial[4] and 0 < partial[3] < piece["duration_s"]  # cut by the kill, as far as it went
    assert partial[3] <= killed_at - intro[3] + 0.01  # never more than what reached the output
    # after the restart it went on with the next item, not the one it was killed in
    assert resumed.sink_seconds() == pytest.approx(killed_at + outro[3], abs=0.01)
    total = cli.json("report", "--from", "2026-11-23", "--to", "2026-11-23", "--station", "99001")["total"]
    assert (total["aired"], total["aired_partial"]) == (0, 1)  # the report says the piece was cut, not aired
    assert RATE == 22050
