"""A real `loa edge` enrolled for a station's board, against a real `loa serve` (fake clocks): it writes the local
kiosk page from the approved rotation, keeps it when loa is down, and puts an emergency's banner up within seconds."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests
from e2e_support import APPROVER, at
from edge_support import STATION, Edge, Serve, enrol, prepare, serve_edges, wait

from servers.browser import SHOTS, chromium

# What a device does with what it pulled does not depend on loa's database; the edge API it talks to is
# tested on both databases (tests/loa/web/test_edge_api.py, test_edge_board_api.py).
pytestmark = pytest.mark.one_database

T0 = at("05:59:35")
KIOSK = 'board = { type = "kiosk", dir = "var/out/boards", slide_chars = 280, slide_seconds = 15 }'
BODY = "Mời bà con đến nhà văn hóa thôn nhận giấy chứng nhận quyền sử dụng đất."


@pytest.fixture
def board_edge(cli, config_dir, tmp_path):
    serve_edges(config_dir)
    stations = config_dir / "stations.toml"
    stations.write_text(stations.read_text(encoding="utf-8").replace(KIOSK, 'board = { type = "edge", lead = "48h" }',
                                                                      1), encoding="utf-8")
    prepare(cli, T0, BODY, title="Cấp giấy chứng nhận", channel="board")
    serve = Serve(config_dir, cli.database_url, T0)
    started: list = []
    try:
        config = enrol(cli, serve, tmp_path / "edge", T0, outlet="board")
        yield serve, config, started
    finally:
        for process in [*started, serve]:
            process.stop()


def test_a_board_edge_shows_the_approved_rotation_keeps_it_offline_and_raises_an_emergency_banner(
        cli, config_dir, board_edge):
    serve, config, started = board_edge
    edge = Edge(config, T0)
    started.append(edge)
    page = config.parent / "edge-cache" / "board" / "index.html"

    def shown() -> str:
        return page.read_text(encoding="utf-8") if page.exists() else ""

    wait(lambda: BODY in shown(), "the approved slide text in the kiosk page", edge, serve)
    rotation = edge.schedule()["rotations"][0]
    assert datetime.fromisoformat(rotation["start_at"]) <= datetime.fromisoformat(T0) < datetime.fromisoformat(
        rotation["end_at"])  # shown because its window is on by loa's clock
    assert 'class="alert-banner" id="board-alert" role="alert" hidden' in shown()  # no emergency yet
    assert "<script src=" not in shown().split("<script>")[0]  # self-contained: no outside stylesheet or script

    # a local Chromium kept open on the file (as the kiosk is) shows the slide text, readable on a 360 px screen
    with chromium() as browser:
        view = browser.new_page(viewport={"width": 360, "height": 640})
        view.goto(page.as_uri())
        text = view.locator(".slide.shown .text")
        assert text.is_visible() and BODY in text.inner_text()
        box = text.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360  # no sideways scrolling
        assert not view.locator("#board-alert").is_visible()
        view.screenshot(path=str(SHOTS / "edge-board-360.png"))

        # an emergency: the banner is in the page file within seconds, and the open page shows it without a reload
        # (its script re-reads alert.js beside it every 2 s)
        issued = datetime.fromisoformat(requests.get(f"{serve.url}/healthz", timeout=5).json()["time"])
        cli("emergency", "send", "--stations", STATION, "--title", "Lũ quét", "--text",
            "Lũ quét đang về, bà con tránh xa suối ngay.", "--yes", now=issued.isoformat(), user=APPROVER)
        wait(lambda: "Lũ quét đang về" in shown() and 'role="alert" hidden' not in shown(), "the emergency banner",
             edge, serve, timeout=20)
        assert "Lũ quét đang về" in (page.parent / "alert.js").read_text(encoding="utf-8")
        view.locator("#board-alert").wait_for(state="visible", timeout=10_000)
        assert "Lũ quét đang về" in view.locator("#board-alert").inner_text()
        view.screenshot(path=str(SHOTS / "edge-board-360-emergency.png"))

    # loa stopped: the page stays, still the approved rotation (and the banner)
    serve.stop()
    before = shown()
    wait(lambda: "unreachable" in edge.text(), "the edge to notice loa is down", edge)
    assert BODY in shown() and "Lũ quét đang về" in shown()
    assert shown() == before
    assert edge.process.poll() is None and "Traceback" not in edge.text()
