"""The Anthias board adapter against a stand-in player that enforces the API v2 asset fields."""

from __future__ import annotations

import functools
import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from channels import Delivery, PermanentError, Slide, TransientError, open_channel
from channels.board.anthias import AnthiasBoard, asset_tag, page_name
from channels.signing import verify

VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = datetime(2026, 11, 23, 0, 0, tzinfo=VN)
PASSWORD_ENV = "LOA_TEST_ANTHIAS_PASSWORD"

SLIDES = (
    Slide("piece-3-r1-1", "Thư viện xã mở cửa từ 7 giờ đến 17 giờ, mời bà con đến đọc sách.", 20,
          "Ngày Sách và Văn hóa đọc", "Văn hóa đọc"),
    Slide("piece-3-r1-2", "Cuộc thi Đại sứ văn hóa đọc nhận bài đến hết ngày 30/4.", 0,
          "Ngày Sách và Văn hóa đọc", "Văn hóa đọc"),
)


def rotation(delivery_id: str, *slides: Slide) -> Delivery:
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="board",
                    start_at=START, end_at=START + timedelta(days=1), slides=slides or SLIDES)


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A web server for the slide pages, as loa (or nginx) would serve them to the player."""
    folder = tmp_path / "pages"
    folder.mkdir()
    handler = functools.partial(_QuietFiles, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/anthias"
    server.shutdown()
    server.server_close()


@pytest.fixture
def board(anthias, pages, monkeypatch) -> AnthiasBoard:
    folder, _ = pages
    # the page server serves <folder>; the player is told pages live under /anthias
    (folder / "anthias").mkdir()
    monkeypatch.setenv(PASSWORD_ENV, "mat-khau")
    return open_channel("board.anthias", {"type": "anthias", "url": anthias.url, "user": "loa",
                                          "password_env": PASSWORD_ENV, "pages_dir": str(folder / "anthias"),
                                          "pages_url": pages[1], "slide_seconds": 12})


def test_each_slide_becomes_an_asset_with_the_documented_fields(anthias, board) -> None:
    receipt = board.deliver(rotation("b-1"))

    assets = sorted(anthias.assets.values(), key=lambda a: a["play_order"])
    assert [a["asset_id"] for a in assets] == receipt.remote_id.split(",")
    first, second = assets
    assert first["name"] == f"Ngày Sách và Văn hóa đọc (1/2) {asset_tag('b-1', 'piece-3-r1-1')}"
    assert first["mimetype"] == "webpage"
    assert first["start_date"] == "2026-11-22T17:00:00Z"
    assert first["end_date"] == "2026-11-23T17:00:00Z"
    assert (first["duration"], second["duration"]) == (20, 12)  # the board's default when a slide says 0
    assert first["is_enabled"] is True
    # the player could fetch the page (the stand-in checks, as Anthias does), and it shows the slide
    page = requests.get(first["uri"], timeout=5)
    assert page.ok
    text = page.content.decode("utf-8")  # the page declares its charset in a <meta>
    assert "mời bà con đến đọc sách" in text
    assert "Xã Tân Lập · Văn hóa đọc" in text


def test_a_retry_updates_the_assets_instead_of_adding_more(anthias, board) -> None:
    first = board.deliver(rotation("b-2"))
    again = board.deliver(rotation("b-2"))
    fresh = open_channel("board.anthias", board.options).deliver(rotation("b-2"))

    assert len(anthias.assets) == 2
    assert first.remote_id == again.remote_id == fresh.remote_id
    assert [a["updated"] for a in again.details["assets"]] == [True, True]
    assert not any(name.endswith("-1") for name in anthias.names())
    updates = [(m, p) for m, p, _, _ in anthias.seen if m == "PATCH"]
    assert len(updates) == 4


def test_another_delivery_adds_its_own_assets_and_leaves_the_first_alone(anthias, board) -> None:
    board.deliver(rotation("b-3"))
    board.deliver(rotation("b-4"))

    assert len(anthias.assets) == 4


def test_a_slide_gone_on_retry_is_deleted_from_the_player_with_its_page(anthias, board) -> None:
    board.deliver(rotation("b-5"))
    folder = board.options.pages_dir / "99001"
    kept, dropped = (folder / page_name("b-5", s.ref) for s in SLIDES)
    for page in (kept, dropped):  # written more than an hour ago
        os.utime(page, (time.time() - 7200, time.time() - 7200))

    receipt = board.deliver(rotation("b-5", SLIDES[0]))

    [asset] = anthias.assets.values()
    assert asset["asset_id"] == receipt.remote_id
    assert asset_tag("b-5", SLIDES[0].ref) in asset["name"]
    assert kept.is_file()
    assert not dropped.exists()


def test_a_slide_ends_when_its_piece_stops_being_valid(anthias, board) -> None:
    until = START + timedelta(hours=10)
    expiring = Slide("p-1", "Hết hạn lúc 10 giờ.", 15, "Thông báo", valid_until=until)
    expired = Slide("p-2", "Đã hết hạn.", 15, "Cũ", valid_until=START - timedelta(hours=1))

    receipt = board.deliver(rotation("b-6", expiring, expired))

    [asset] = anthias.assets.values()
    assert asset["end_date"] == "2026-11-23T03:00:00Z"
    assert receipt.details["left_out"] == 1


def test_pushes_are_signed_with_the_delivery_id_as_idempotency_key(anthias, board, monkeypatch) -> None:
    monkeypatch.setenv("LOA_TEST_ANTHIAS_SECRET", "khoa-bi-mat")
    signed = open_channel("board.anthias", board.options.model_copy(update={"secret_env": "LOA_TEST_ANTHIAS_SECRET"}))

    signed.deliver(rotation("b-7"))

    creates = [(h, b) for m, _, h, b in anthias.seen if m == "POST"]
    assert len(creates) == 2
    for headers, body in creates:
        assert headers["Idempotency-Key"] == "b-7"
        assert verify(body, "khoa-bi-mat", headers, now=int(datetime.now().timestamp()))
        assert json.loads(body)["mimetype"] == "webpage"


def test_wrong_credentials_are_permanent(anthias, board, monkeypatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "sai")

    with pytest.raises(PermanentError, match="401"):
        board.deliver(rotation("b-8"))
    assert anthias.assets == {}


def test_a_player_that_cannot_fetch_the_page_refuses_the_asset_permanently(anthias, board) -> None:
    unreachable = open_channel("board.anthias", board.options.model_copy(
        update={"pages_url": "http://127.0.0.1:9/anthias"}))

    with pytest.raises(PermanentError, match="400"):
        unreachable.deliver(rotation("b-9"))


@pytest.mark.parametrize(("status", "headers", "retry_after"), [
    (500, {}, None), (503, {"Retry-After": "30"}, 30), (429, {"Retry-After": "5"}, 5), (408, {}, None)])
def test_a_busy_or_failing_player_is_transient(anthias, board, status, headers, retry_after) -> None:
    anthias.faults.append((status, headers))

    with pytest.raises(TransientError) as caught:
        board.deliver(rotation("b-10"))
    assert caught.value.retry_after == retry_after
    board.deliver(rotation("b-10"))  # and the next attempt goes through
    assert len(anthias.assets) == 2


def test_a_player_that_is_off_is_transient(board) -> None:
    off = open_channel("board.anthias", board.options.model_copy(update={"url": "http://127.0.0.1:9"}))

    with pytest.raises(TransientError, match="cannot connect"):
        off.deliver(rotation("b-11"))


def test_a_rotation_that_supersedes_another_takes_the_old_assets_down(anthias, board) -> None:
    board.deliver(rotation("b-old"))
    board.deliver(rotation("b-other"))  # another rotation on the same player is not touched
    others = {a["asset_id"] for a in anthias.assets.values() if asset_tag("b-other", "")[5:17] in a["name"]}
    receipt = board.deliver(replace(rotation("b-new"), replaces=("b-old",)))

    assert receipt.details["replaced"] == 2
    names = anthias.names()
    assert not any(asset_tag("b-old", "")[5:17] in name for name in names)
    assert sum(asset_tag("b-new", "")[5:17] in name for name in names) == 2
    assert others <= set(anthias.assets)
    assert board.deliver(replace(rotation("b-new"), replaces=("b-old",))).details["replaced"] == 0  # a retry


def emergency(delivery_id: str, *, all_clear: bool = False, repeat: int = 0, text: str = "Lũ quét, sơ tán ngay.",
              ref: str = "khan-1", until: timedelta | None = timedelta(hours=6),
              at: timedelta = timedelta(0)) -> Delivery:
    """A push of an emergency issued at START + 9 h, ``at`` later, as the emergency lane builds it: it ends at its
    ``until`` after the issue, or (``until=None``, until its all-clear) at the lane's nominal OPEN_ENDED."""
    from channels import Alert
    from scheduler.emergencies.lane import OPEN_ENDED

    issued = START + timedelta(hours=9)
    pushed = issued + at
    end = issued + until if until is not None else None
    return Delivery(id=delivery_id, station_code="99001", station_name="Xã Tân Lập", outlet="board",
                    start_at=pushed, end_at=pushed if all_clear else (end or pushed + OPEN_ENDED), level="emergency",
                    alert=Alert(ref=ref, title="Cảnh báo lũ quét", text=text, issued_at=issued, until=end,
                                all_clear=all_clear, repeat=repeat))


def test_an_emergency_is_one_asset_first_in_play_order_for_its_duration_until_the_all_clear(anthias, board) -> None:
    board.deliver(rotation("b-9"))

    receipt = board.deliver(emergency("khan-1"))

    alarm = anthias.assets[receipt.remote_id]
    assert alarm["play_order"] == 0 and alarm["name"].startswith("KHẨN CẤP: Cảnh báo lũ quét [loa-khan:")
    assert (alarm["start_date"], alarm["end_date"]) == ("2026-11-23T02:00:00Z", "2026-11-23T08:00:00Z")
    assert alarm["mimetype"] == "webpage" and alarm["is_enabled"] is True
    page = requests.get(alarm["uri"], timeout=5).content.decode("utf-8")
    assert "KHẨN CẤP" in page and "Lũ quét, sơ tán ngay." in page and "#c62828" in page

    # a repeat (with a corrected text) updates the same asset; a rotation pushed meanwhile goes after it
    again = board.deliver(emergency("khan-1-lap-1", repeat=1, text="Lũ quét lên nhanh, sơ tán ngay."))
    board.deliver(rotation("b-10"))
    assert again.remote_id == receipt.remote_id and again.details["updated"] is True
    assert "lên nhanh" in requests.get(alarm["uri"], timeout=5).content.decode("utf-8")
    others = [a for a in anthias.assets.values() if a["asset_id"] != receipt.remote_id]
    assert len(others) == 4
    assert sorted(a["play_order"] for a in others if asset_tag("b-10", "")[5:17] in a["name"]) == [1, 2]

    cleared = board.deliver(emergency("khan-1-het", all_clear=True))
    board.deliver(emergency("khan-1-het", all_clear=True))  # a retry finds nothing more to delete

    assert cleared.details["deleted"] == [receipt.remote_id]
    assert receipt.remote_id not in anthias.assets and len(anthias.assets) == 4
    assert requests.get(alarm["uri"], timeout=5).status_code == 404


def test_an_emergency_until_its_all_clear_stays_on_the_player_past_a_day_until_the_all_clear(anthias, board) -> None:
    """With no end, an emergency lasts until its all-clear (the kiosk shows it as long): the player must not drop its
    asset after the lane's nominal day while the emergency is still in force."""
    issued = START + timedelta(hours=9)
    receipt = board.deliver(emergency("khan-2", ref="khan-2", until=None))
    alarm = anthias.assets[receipt.remote_id]
    assert alarm["end_date"] > "2035-01-01"  # not a nominal day later: the all-clear takes it off
    for later in (timedelta(hours=1), timedelta(hours=25), timedelta(days=30)):
        assert [a["asset_id"] for a in anthias.playing(issued + later)][:1] == [receipt.remote_id]

    again = board.deliver(emergency("khan-2-lap-3", ref="khan-2", until=None, repeat=3, at=timedelta(hours=45)))
    assert again.remote_id == receipt.remote_id and anthias.assets[receipt.remote_id]["end_date"] > "2035-01-01"

    board.deliver(emergency("khan-2-het", ref="khan-2", until=None, all_clear=True, at=timedelta(days=3)))
    assert receipt.remote_id not in anthias.assets and anthias.playing(issued + timedelta(days=3, hours=1)) == []


def test_an_emergency_with_an_end_leaves_the_player_at_that_end(anthias, board) -> None:
    issued = START + timedelta(hours=9)
    receipt = board.deliver(emergency("khan-3", ref="khan-3", until=timedelta(hours=2)))
    assert anthias.assets[receipt.remote_id]["end_date"] == "2026-11-23T04:00:00Z"
    assert anthias.playing(issued + timedelta(hours=1, minutes=59))
    assert anthias.playing(issued + timedelta(hours=2, minutes=1)) == []
