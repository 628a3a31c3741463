"""``/boards/<code>.json`` answers 304 while the board's content is unchanged and a new version when it
changes (a superseding rotation, a withdrawn piece); the page polls it instead of reloading itself."""

from __future__ import annotations

import re
from datetime import timedelta

from kiosk_support import alert, deliver, slides
from PIL import Image

from channels import Slide
from content.db import unit_of_work
from content.models import User
from content.pieces import retire

URL = "/boards/99001.json"


def _version(client) -> tuple[str, dict]:
    response = client.get(URL)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-cache"
    etag = response.headers["etag"]
    assert etag == f'"{response.json()["version"]}"'
    return etag, response.json()


def test_an_unchanged_board_answers_304_with_the_same_etag(web):
    deliver(web.services.settings, "board-1", slides(19), web.services.now())
    client = web.client()
    etag, answer = _version(client)
    assert [s["title"] for s in answer["rotation"]["slides"]] == [f"Tin số {n}" for n in range(1, 20)]

    for header in (etag, f"W/{etag}", f'"something-else", {etag}', "*"):
        again = client.get(URL, headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag
    assert client.get(URL, headers={"If-None-Match": '"an-old-version"'}).status_code == 200
    assert _version(client)[0] == etag  # stable across requests while nothing changes


def test_a_superseding_rotation_changes_the_version(web):
    now = web.services.now()
    deliver(web.services.settings, "board-1", slides(19), now)
    client = web.client()
    etag, _ = _version(client)

    deliver(web.services.settings, "board-2", slides(19, changed={7: "Đã sửa: 69 tuổi."}), now)
    response = client.get(URL, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["etag"] != etag
    answer = response.json()
    assert answer["rotation"]["id"] == "board-2"
    assert answer["rotation"]["slides"][6]["text"] == "Đã sửa: 69 tuổi."
    assert client.get(URL, headers={"If-None-Match": response.headers["etag"]}).status_code == 304


def test_withdrawing_a_piece_changes_the_version_without_a_new_push(web):
    kept, withdrawn = web.piece("Lịch trực ban", approved=True), web.piece("Cắt điện thứ Bảy", approved=True)
    shown = [Slide(f"piece-{piece}-r1-1", "Nội dung", 15, title="Tin") for piece in (kept, withdrawn)]
    deliver(web.services.settings, "board-1", shown, web.services.now())
    client = web.client()
    etag, answer = _version(client)
    assert len(answer["rotation"]["slides"]) == 2

    with unit_of_work(web.services.sessions) as session:
        retire(session, withdrawn, actor=session.get(User, web.ids["hung"]), now=web.services.now(),
               note="Lịch cắt điện đã hoãn")
    response = client.get(URL, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert [s["ref"] for s in response.json()["rotation"]["slides"]] == [f"piece-{kept}-r1-1"]


def test_a_board_with_nothing_delivered_has_a_version_too(web):
    client = web.client()
    etag, answer = _version(client)
    assert answer["rotation"] is None
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 304
    deliver(web.services.settings, "board-1", slides(2), web.services.now())
    assert client.get(URL, headers={"If-None-Match": etag}).status_code == 200


def test_a_slide_image_is_served_by_loa_and_cached_for_good(web, tmp_path):
    Image.new("RGB", (640, 360), (200, 30, 30)).save(tmp_path / "ngay-sach.png")
    deliver(web.services.settings, "board-1", slides(2, images={1: tmp_path / "ngay-sach.png"}), web.services.now())
    client = web.client()
    first, second = client.get(URL).json()["rotation"]["slides"]
    assert second["image_url"] is None
    assert re.fullmatch(r"/boards/99001/media/[0-9a-f]{16}\.png", first["image_url"])
    image = client.get(first["image_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content == (tmp_path / "ngay-sach.png").read_bytes()
    assert "immutable" in image.headers["cache-control"]
    page = client.get("/boards/99001").text
    assert f'src="{first["image_url"]}"' in page

    for bad in ("/boards/99001/media/0123456789abcdef.png", "/boards/99001/media/..%2Fboard.json",
                "/boards/99001/media/board.json", "/boards/99999/media/" + first["image_url"].rsplit("/", 1)[1]):
        assert client.get(bad).status_code == 404, bad


def test_the_page_polls_for_its_version_instead_of_reloading(web):
    deliver(web.services.settings, "board-1", slides(19), web.services.now())
    client = web.client()
    etag, _ = _version(client)
    page = client.get("/boards/99001")
    assert page.status_code == 200
    html = page.text
    assert 'http-equiv="refresh"' not in html
    assert f'data-version="{etag.strip(chr(34))}"' in html  # the page's first poll is a 304
    assert 'data-src="/boards/99001.json"' in html and 'data-poll-seconds="10"' in html
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert scripts == [""] and re.search(r'<script src="[^"]*/static/board\.js\?v=\w+" defer>', html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline handlers: the page works under a strict CSP
    assert html.count("<section class=\"slide") == 19
    assert client.get(re.search(r'src="([^"]*board\.js[^"]*)"', html)[1]).status_code == 200


def test_boards_that_loa_does_not_serve_are_not_found(web):
    client = web.client()
    assert client.get("/boards/99999.json").status_code == 404
    assert client.get("/boards/99999").status_code == 404


def test_an_emergency_is_in_the_tiny_alert_answer_and_the_board_json_until_its_all_clear(web):
    now = web.services.now()
    deliver(web.services.settings, "board-1", slides(3), now)
    client = web.client()
    quiet = client.get("/boards/99001/alert")
    assert quiet.status_code == 200 and quiet.json() == {"alert": None}
    etag, answer = _version(client)
    assert answer["alert"] is None

    alert(web.services.settings, "khan-1", now)
    raised = client.get("/boards/99001/alert", headers={"If-None-Match": quiet.headers["etag"]})
    assert raised.status_code == 200
    assert raised.json()["alert"]["title"] == "Cảnh báo lũ quét"
    assert raised.json()["alert"]["ref"] == "khan-1"
    assert client.get("/boards/99001/alert", headers={"If-None-Match": raised.headers["etag"]}).status_code == 304
    assert client.get(URL, headers={"If-None-Match": etag}).json()["alert"]["ref"] == "khan-1"
    assert "KHẨN CẤP" in client.get("/boards/99001").text  # rendered up front for a page (re)loaded meanwhile

    alert(web.services.settings, "khan-1-het", now, all_clear=True)
    assert client.get("/boards/99001/alert").json() == {"alert": None}
    assert _version(client)[1]["rotation"]["id"] == "board-1"  # the slides stayed as they were


def test_an_emergency_leaves_the_board_at_its_end_by_loas_clock(web):
    now = web.services.now()
    alert(web.services.settings, "khan-2", now - timedelta(hours=2), until=now - timedelta(minutes=1))
    assert web.client().get("/boards/99001/alert").json() == {"alert": None}
