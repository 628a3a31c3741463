"""A real `loa edge` agent against a real `loa serve`, both on fake clocks, playing into a file sink: it plays the
planned program at slot time from its verified cache and loa gets signed as-played records of what it played."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
import requests
from e2e_support import APPROVER, at
from edge_support import STATION, Edge, local, rows, served_and_enrolled, wait
from sqlalchemy import select

from scheduler.models import AsPlayed, Delivery

# What a device does with what it pulled does not depend on loa's database; the edge API it talks to is
# tested on both databases (tests/loa/web/test_edge_api.py, test_edge_board_api.py).
pytestmark = pytest.mark.one_database

T0 = at("05:59:35")


@pytest.fixture
def edge_ready(cli, config_dir, tmp_path):
    with served_and_enrolled(cli, config_dir, tmp_path / "edge", T0) as ready:
        yield ready


def test_the_edge_plays_the_planned_program_at_slot_time_and_loa_gets_what_it_played(cli, config_dir, edge_ready):
    serve, config, started = edge_ready
    edge = Edge(config, T0)
    started.append(edge)

    def programs():
        return [p for p in edge.schedule()["programs"] if datetime.fromisoformat(p["start_at"]) == local("06:00")]

    program = wait(programs, "the 06:00 program in the edge's cache", edge, serve)[0]
    items = program["items"]
    titles = [i["title"] for i in items]
    assert titles[0] == "Nhạc hiệu mở đầu" and "Tiêm phòng dại" in titles
    assert edge.sink_seconds() == 0  # nothing plays before the slot

    def stored():
        return rows(config_dir, cli.database_url, select(
            AsPlayed.seq, AsPlayed.delivery_id, AsPlayed.item, AsPlayed.played_s, AsPlayed.complete,
            AsPlayed.started_at).order_by(AsPlayed.seq))

    kept = wait(lambda: len(stored()) == len(items) and stored(), "the as-played records at loa", edge, serve,
                timeout=120)
    assert [k[0] for k in kept] == list(range(1, len(items) + 1))
    assert [k[1] for k in kept] == [program["delivery_id"]] * len(items)
    assert [k[2] for k in kept] == [i["item"] for i in items]
    assert all(k[4] for k in kept)
    assert kept[0][5] >= local("06:00")  # at slot time, by loa's clock
    # the decoded output is the program: its length is the sum of the items' lengths as loa measured them, and
    # what the records say was played is what went into the output
    assert edge.sink_seconds() == pytest.approx(sum(i["duration_s"] for i in items), abs=0.1 * len(items))
    assert sum(k[3] for k in kept) == pytest.approx(edge.sink_seconds(), abs=0.01)
    for record, item in zip(kept, items, strict=True):
        assert record[3] == pytest.approx(item["duration_s"], abs=0.1)
    delivered = rows(config_dir, cli.database_url, select(Delivery.state).where(Delivery.id == program["delivery_id"]))
    assert delivered == [("delivered",)]
    # the report counts it aired beside pushed; the 17:00 program is pushed to the edge but not aired yet
    total = cli.json("report", "--from", "2026-11-23", "--to", "2026-11-23", "--station", STATION)["total"]
    assert (total["airings"], total["aired"], total["aired_partial"], total["not_aired"]) == (2, 1, 0, 1)
    assert total["minutes_played"] == round(kept[1][3] / 60, 1)

    # revoked, the device is answered 401 and stops pulling (it keeps what it has)
    device = cli.json("device", "list", now=T0)[0]["id"]
    cli("device", "revoke", str(device), now=T0)
    wait(lambda: "it no longer pulls" in edge.text(), "the revoked edge to stop pulling", edge, serve)
    assert "401 Unauthorized" in serve.text()
    pulls = serve.text().count("/api/edge/")
    time.sleep(3)  # three of its sync intervals: nothing more comes
    assert serve.text().count("/api/edge/") == pulls
    assert edge.process.poll() is None  # still running on its cache, not crashed
    assert "Traceback" not in edge.text() + serve.text()


def test_an_emergency_cuts_into_the_program_within_seconds_and_the_program_goes_on_after(cli, config_dir, edge_ready):
    serve, config, started = edge_ready
    edge = Edge(config, T0)
    started.append(edge)
    program = wait(lambda: [p for p in edge.schedule()["programs"]
                            if datetime.fromisoformat(p["start_at"]) == local("06:00")], "the 06:00 program cached",
                   edge, serve)[0]
    items = program["items"]
    playing = edge.folder / "edge-cache" / "playing.json"
    wait(lambda: playing.exists() and items[1]["item"] in playing.read_text(), "the piece playing", edge, serve,
         timeout=120)
    issued = datetime.fromisoformat(requests.get(f"{serve.url}/healthz", timeout=5).json()["time"])  # loa's clock
    cli("emergency", "send", "--stations", STATION, "--title", "Bão số 9", "--text",
        "Bão số 9 sắp đổ bộ, bà con vào nơi trú ẩn an toàn ngay.", "--yes", now=issued.isoformat(), user=APPROVER)

    def stored():
        return rows(config_dir, cli.database_url, select(
            AsPlayed.delivery_id, AsPlayed.item, AsPlayed.played_s, AsPlayed.complete, AsPlayed.started_at)
            .order_by(AsPlayed.seq))

    kept = wait(lambda: len(stored()) == len(items) + 1 and stored(), "the emergency and the rest of the program",
                edge, serve, timeout=120)
    assert [(k[0], k[1]) for k in kept] == [
        (program["delivery_id"], items[0]["item"]), (program["delivery_id"], items[1]["item"]),
        (kept[2][0], "speech"), (program["delivery_id"], items[2]["item"])]
    assert kept[2][0].startswith("emergency-") and kept[2][3] and kept[2][2] > 1
    assert not kept[1][3] and kept[1][2] < items[1]["duration_s"]  # the piece was cut for the emergency
    assert kept[2][4] - issued < timedelta(seconds=10)  # by loa's clock: within seconds of being issued
    assert kept[0][3] and kept[3][3]
