"""The kiosk board page in Debian's headless Chromium: it shows every slide, takes a new rotation in without
starting its cycle over, keeps its slides while loa is away, and fits TV and phone screens."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kiosk_support import deliver, slides
from PIL import Image
from playwright.sync_api import Page

from channels import Slide

from servers.browser import SHOTS, chromium

# A browser draws what the pages serve; the pages themselves are tested on both databases over HTTP.
pytestmark = pytest.mark.one_database

#: Records, in the page, every slide that comes up (ref, title, text) and how many times the page loaded.
RECORDER = """
sessionStorage.loads = String(Number(sessionStorage.loads || 0) + 1);
window.shownSlides = [];
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("slides"), last = null;
  function record() {
    var slide = box.querySelector(".slide.shown");
    if (!slide) { return; }
    var entry = {ref: slide.getAttribute("data-ref"), title: slide.querySelector("h2").textContent,
                 text: slide.querySelector(".text").textContent};
    var signature = entry.ref + "\\n" + entry.text;
    if (signature !== last) { last = signature; window.shownSlides.push(entry); }
  }
  new MutationObserver(record).observe(box, {subtree: true, childList: true, attributes: true,
                                             attributeFilter: ["class"]});
  record();
});
"""
LONG = ("Thực hiện Kế hoạch số 231/KH-UBND, Ủy ban nhân dân xã tổ chức tiêm vắc-xin phòng dại miễn phí cho "
        "chó, mèo vào sáng thứ Bảy ngày 28/11/2026 tại nhà văn hóa các thôn. Đề nghị bà con đưa vật nuôi đến "
        "đúng giờ, mang theo sổ theo dõi và giữ vật nuôi cẩn thận trong khi chờ tiêm để bảo đảm an toàn.")


@pytest.fixture
def config_dir(config_dir: Path) -> Path:
    """The demo configuration with board 99001 polling every second, as the 1 s slides of these tests need."""
    stations = config_dir / "stations.toml"
    text = stations.read_text("utf-8")
    board = 'board = { type = "kiosk", dir = "var/out/boards", slide_chars = 280, slide_seconds = 15 }'
    assert board in text, "the demo's first board changed: update this fixture"
    stations.write_text(text.replace(board, board[:-2] + ", poll_seconds = 1 }", 1), "utf-8")
    return config_dir


def _shown(page: Page) -> list[dict]:
    return page.evaluate("window.shownSlides")


def _wait(page: Page, done, what: str, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        shown = _shown(page)
        if done(shown):
            return shown
        assert time.monotonic() < deadline, f"waited {timeout:.0f} s for {what}; shown: {[s['title'] for s in shown]}"
        time.sleep(0.1)


def _open(browser, url: str, **context) -> Page:
    page = browser.new_context(locale="vi-VN", **context).new_page()
    page.add_init_script(RECORDER)
    page.goto(url)
    return page


def test_every_slide_is_shown_and_a_new_rotation_comes_in_without_starting_over(web, served):
    settings, now = web.services.settings, web.services.now()
    deliver(settings, "board-1", slides(19), now)
    with chromium() as browser:
        page = _open(browser, f"{served.url}/boards/99001")
        _wait(page, lambda shown: len(shown) >= 6, "the first six slides")
        # A correction of slide 10 (not shown yet) and a new slide 20 are pushed mid-cycle, as the dispatcher
        # would push a rotation that supersedes the morning's one.
        deliver(settings, "board-2", slides(20, changed={10: "Đã sửa: ông Nguyễn Văn A 69 tuổi."}), now)
        _wait(page, lambda shown: len(shown) >= 14, "fourteen slides")
        # Then slide 2, already shown in this cycle, is corrected: it comes up at the next slide boundary.
        deliver(settings, "board-3", slides(20, changed={10: "Đã sửa: ông Nguyễn Văn A 69 tuổi.",
                                                         2: "Đã sửa: họp thôn lúc 19 giờ."}), now)
        shown = _wait(page, lambda shown: [s["title"] for s in shown].count("Tin số 1") == 2
                      and len(shown) >= [s["title"] for s in shown].index("Tin số 1", 1) + 3, "a second cycle")
        assert page.evaluate("sessionStorage.loads") == "1", "the page reloaded"
        page.screenshot(path=str(SHOTS / "board-cycle.png"))

    titles = [s["title"] for s in shown]
    second = titles.index("Tin số 1", 1)
    cycle = shown[:second]
    numbers = [int(s["title"].split()[-1]) for s in cycle]
    assert sorted(set(numbers)) == list(range(1, 21)), f"not every slide was shown in one cycle: {numbers}"
    assert numbers.count(2) == 2 and [n for n in numbers if n != 2] == [1, *range(3, 21)], numbers
    texts = {s["title"]: s["text"] for s in cycle if s["title"] != "Tin số 2"}
    assert texts["Tin số 10"] == "Đã sửa: ông Nguyễn Văn A 69 tuổi."  # shown once, in its corrected version
    old_two, new_two = [s for s in cycle if s["title"] == "Tin số 2"]
    assert old_two["text"].startswith("Nội dung") and new_two["text"] == "Đã sửa: họp thôn lúc 19 giờ."
    assert cycle.index(new_two) > numbers.index(13)  # it came when the correction came, not at the start
    assert [s["title"] for s in shown[second:second + 3]] == ["Tin số 1", "Tin số 2", "Tin số 3"]
    assert shown[second + 1]["text"] == "Đã sửa: họp thôn lúc 19 giờ."


def test_the_board_keeps_its_slides_while_loa_is_away_and_recovers(web, served):
    settings, now = web.services.settings, web.services.now()
    deliver(settings, "board-1", slides(5), now)
    with chromium() as browser:
        page = _open(browser, f"{served.url}/boards/99001")
        _wait(page, lambda shown: len(shown) >= 2, "the first slides")
        assert page.get_attribute("#board", "data-online") == "true"
        assert page.locator("#board-offline").is_hidden()

        # loa answers 503 (a proxy in front of it, loa restarting): the page keeps its slides.
        page.route("**/boards/99001.json", lambda route: route.fulfill(status=503, body="Service Unavailable"))
        page.wait_for_selector("#board[data-online=false]", timeout=10_000)
        before = len(_shown(page))
        _wait(page, lambda shown: len(shown) >= before + 3, "slides while loa answers 503")
        page.unroute("**/boards/99001.json")
        page.wait_for_selector("#board[data-online=true]", timeout=10_000)

        # loa stops altogether.
        served.stop()
        page.wait_for_selector("#board[data-online=false]", timeout=10_000)
        assert page.locator("#board-offline").is_visible()
        before = len(_shown(page))
        during = _wait(page, lambda shown: len(shown) >= before + 6, "slides while loa is down")[before:]
        assert {s["title"] for s in during} == {f"Tin số {n}" for n in range(1, 6)}
        assert page.locator("#slides .slide.shown .text").is_visible()
        page.screenshot(path=str(SHOTS / "board-offline.png"))

        # loa comes back, with a correction pushed meanwhile: the page picks it up by itself.
        deliver(settings, "board-2", slides(5, changed={3: "Đã sửa khi loa vắng mặt."}), now)
        served.start()
        _wait(page, lambda shown: any(s["text"] == "Đã sửa khi loa vắng mặt." for s in shown), "the correction")
        assert page.get_attribute("#board", "data-online") == "true"
        assert page.locator("#board-offline").is_hidden()
        assert page.evaluate("sessionStorage.loads") == "1", "the page reloaded"


#: Screen sizes (CSS pixels) and the smallest text, in pixels, readable on them at their distance.
SCREENS = [(1920, 1080, 40), (1366, 768, 28), (360, 740, 16)]
MEASURE = """() => {
    const slide = document.querySelector('.slide.shown');
    const words = slide.querySelector('.slide-words').getBoundingClientRect();
    const image = slide.querySelector('img');
    const box = image && image.getBoundingClientRect();
    return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
            wordsBottom: words.bottom, wordsRight: words.right, innerHeight: window.innerHeight,
            slideBottom: slide.getBoundingClientRect().bottom,
            textPx: parseFloat(getComputedStyle(slide.querySelector('.text')).fontSize),
            image: box && {right: box.right, bottom: box.bottom, width: box.width, loaded: image.naturalWidth}};
}"""


def test_the_board_fits_tv_and_phone_screens(web, served, tmp_path):
    Image.new("RGB", (1200, 800), (30, 90, 160)).save(tmp_path / "tiem-phong.png")
    long = [Slide(s.ref, LONG, s.seconds, title="Tiêm phòng dại cho chó, mèo năm 2026", campaign=s.campaign,
                  image_path=s.image_path) for s in slides(2, seconds=2, images={1: tmp_path / "tiem-phong.png"})]
    deliver(web.services.settings, "board-1", long, web.services.now())
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        for width, height, smallest_px in SCREENS:
            page = _open(browser, f"{served.url}/boards/99001", viewport={"width": width, "height": height})
            for n in (1, 2):
                page.wait_for_selector(f'.slide.shown[data-ref="piece-{n}-r1-1"]', timeout=10_000)
                if n == 1:
                    page.wait_for_function("document.querySelector('.slide.shown img').complete")
                page.wait_for_timeout(200)  # the text has been fitted to the screen
                measured = page.evaluate(MEASURE)
                page.screenshot(path=str(SHOTS / f"board-{width}x{height}-{n}.png"))
                where = f"{width}×{height}, slide {n}: {measured}"
                assert measured["scrollWidth"] <= measured["innerWidth"], where  # no sideways scrolling
                assert measured["wordsRight"] <= measured["innerWidth"], where
                assert measured["wordsBottom"] <= measured["slideBottom"] + 1 <= measured["innerHeight"] + 1, where
                assert measured["textPx"] >= smallest_px, where  # readable across the room (or on a phone)
                if n == 1:  # the slide's picture, served by loa, shown whole on the screen
                    image = measured["image"]
                    assert image and image["loaded"] == 1200 and image["width"] > width / 5, where
                    assert image["right"] <= width and image["bottom"] <= height, where
            page.context.close()


def test_a_board_set_up_before_the_first_push_shows_it_as_soon_as_it_comes(web, served):
    with chromium() as browser:
        page = _open(browser, f"{served.url}/boards/99001")
        assert [s["text"] for s in _shown(page)] == ["Chưa có bản tin."]
        deliver(web.services.settings, "board-1", slides(3), web.services.now())
        _wait(page, lambda shown: len(shown) >= 2, "the first push", timeout=12)  # not after the placeholder's 15 s
        shown = _wait(page, lambda shown: len(shown) >= 4, "the first three slides")
        assert [s["title"] for s in shown[1:4]] == ["Tin số 1", "Tin số 2", "Tin số 3"]
