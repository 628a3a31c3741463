"""Every page at a phone's 360×740 and a desk's 1366×768 in Debian's Chromium, as an editor, an approver, an admin
(the account pages) and the anonymous (the login and a reset link's page): nothing scrolls sideways, the main
buttons are on screen, no console errors; an approver's Today stays short; the page links fold into a menu on a
phone; the calendar's week and day; images are resized renditions; /docs works with the internet cut off.
The demo stations here also post to Facebook, Zalo and Viber and print a weekly bulletin (with the shipped config's
social and print slots), so the piece page shows its social cards and printed first pages, the calendar's social
and print programs preview their posts and bulletin, and the reports page has its social and print columns.
Screenshots land in test-output/browser/layout/."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from outlet_config import add_social_and_print
from playwright.sync_api import Page, expect

from content.db import unit_of_work
from content.models import User
from content.pieces import edit_piece, get_piece, reject
from loa.settings import Settings, load_settings
from scheduler.emergencies import service as emergencies
from scheduler.emergencies.service import EmergencyRequest
from scheduler.models import Delivery, EmergencyDelivery, Station

from servers.browser import SHOTS, chromium
from servers.shipped_examples import uncomment_slots
from servers.web import PASSWORD, csrf_of

# A browser draws what the pages serve; the pages themselves are tested on both databases over HTTP.
pytestmark = pytest.mark.one_database

SIZES = {"phone": (360, 740), "desk": (1366, 768)}
OUT = SHOTS / "layout"
LONG = ("Thông báo về việc tổ chức tiêm vắc-xin phòng bệnh dại cho chó, mèo trên địa bàn xã năm 2026 "
        "theo Kế hoạch số 231/KH-UBND ngày 15/11/2026")


@pytest.fixture
def settings(config_dir: Path, database_url: str | None) -> Settings:
    """The demo settings with a social outlet on every station and a print outlet on 99001."""
    add_social_and_print(config_dir)
    uncomment_slots(config_dir)
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url} if database_url else {})


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def _world(web) -> dict:
    """Pieces in every state a page shows, a plan, an image, a diff and a failed delivery."""
    services = web.services
    approved = web.piece(LONG, approved=True, body="Hỗ trợ 15.000.000 đồng/lớp cho 12 lớp học. " * 8)
    for n in range(12):  # an approver with many reviews waiting still gets a short Today
        web.piece(f"Bài chờ duyệt số {n + 1}: thông báo lịch cắt điện khu vực thôn {n + 1}", submitted=True)
    waiting = web.piece("Thông báo lịch tiếp công dân tháng 12", submitted=True)
    sent_back = web.piece("Bài bị trả lại để sửa số liệu", submitted=True)
    slogan = web.piece("Khẩu hiệu tháng 12", body="Học tập suốt đời – xây dựng xã hội học tập!")
    with unit_of_work(services.sessions) as session:
        reject(session, sent_back, actor=session.get(User, web.ids["hung"]), now=services.now(),
               note="Sửa lại số liệu 15.000.000 đồng")
        edit_piece(session, slogan, {"slogan": True}, actor=session.get(User, web.ids["lan"]), now=services.now())
    lan = web.client("lan")
    page = lan.get(f"/pieces/{approved}").text
    lan.post(f"/pieces/{approved}/upload", data={"csrf": csrf_of(page), "kind": "image"},
             files={"file": ("anh.jpg", _png(2400, 1600), "image/jpeg")})  # a new revision: the diff shows
    services.plan(days=7)
    with unit_of_work(services.sessions) as session:
        social, printed = (session.query(Delivery.id).join(Station).filter(Station.code == "99001",
                           Delivery.outlet == outlet, Delivery.airings.any()).order_by(Delivery.start_at).first()[0]
                           for outlet in ("social", "print"))
        dead = session.query(Delivery).order_by(Delivery.start_at).first()
        dead.state, dead.last_error, dead.attempts = "dead", "HTTP 500 from the gateway", 5
        dead.start_at = services.now() - timedelta(hours=1)
        delivery = dead.id
        image_revision = get_piece(session, approved).current_revision_id
        # an emergency sent and cleared at once (no banner on Today), one push accepted 4 s later: the reports page
        # has its emergency section
        hung = session.get(User, web.ids["hung"])
        emergency = emergencies.issue(session, EmergencyRequest(
            title="Cảnh báo lũ quét ở các thôn ven suối", text="Sơ tán ngay.", targets=("99001",)),
            actor=hung, now=services.now())
        pushed = session.query(EmergencyDelivery).filter_by(emergency_id=emergency.id).first()
        pushed.state, pushed.delivered_at = "delivered", emergency.sent_at + timedelta(seconds=4)
        emergencies.clear(session, emergency.id, actor=hung, now=services.now())
    return {"approved": approved, "waiting": waiting, "sent_back": sent_back, "delivery": delivery,
            "image_revision": image_revision, "slogan": slogan, "social": social, "print": printed}


def _pages(w: dict, role: str) -> list[str]:
    pages = ["/", "/pieces", "/pieces/new", f"/pieces/{w['approved']}", f"/pieces/{w['waiting']}",
             f"/pieces/{w['slogan']}",
             f"/pieces/{w['approved']}/edit", "/calendar?week=2026-11-23", "/calendar?week=2026-11-23&station=99001",
             "/calendar?day=2026-11-24", "/calendar?day=2026-11-24&station=99001",
             "/deliveries", f"/deliveries/{w['delivery']}", "/reports", "/account", "/devices",
             f"/previews/revision/{w['image_revision']}", f"/previews/program/{w['delivery']}",
             f"/previews/program/{w['social']}", f"/previews/program/{w['print']}", "/emergencies", "/bulletins"]
    return pages + ([f"/pieces/{w['sent_back']}"] if role == "lan" else [])


def _admin_pages(web) -> list[str]:
    """What an admin has beyond the pages every role has: the accounts and one account (with its reset link)."""
    return ["/", "/users", f"/users/{web.ids['lan']}", "/bulletins", "/account"]


def _reset_link(web) -> str:
    """A fresh one-time link for lan to choose a password: the page a new user opens first."""
    from content.accounts import create_reset

    with unit_of_work(web.services.sessions) as session:
        lan = session.get(User, web.ids["lan"])
        return f"/reset/{create_reset(session, lan, actor='quan-tri', now=web.services.now())}"


def _log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hôm nay")


def _check(page: Page, width: int, where: str) -> None:
    """No sideways scroll; every visible button and text field of the page lies within the screen's width."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{where}: the page is {scroll} px wide on a {width} px screen"
    outside = page.evaluate("""(width) => [...document.querySelectorAll(
            'main button, main .button, main input:not([type=hidden]), main select, main textarea, .top a, '
            + '.top button')]
        .filter(e => e.offsetParent !== null)
        .map(e => [e.textContent.trim() || e.name || e.tagName, e.getBoundingClientRect()])
        .filter(([, r]) => r.left < 0 || r.right > width + 0.5)
        .map(([name, r]) => `${name} ${Math.round(r.left)}..${Math.round(r.right)}`)""", width)
    assert not outside, f"{where}: off screen: {outside}"


def test_every_page_fits_a_phone_and_a_desk_for_each_role(web, server):
    w = _world(web)
    reset = _reset_link(web)
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        for label, (width, height) in SIZES.items():
            anonymous = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN").new_page()
            errors: list[str] = []
            anonymous.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            anonymous.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            for name, path in (("login", "/login"), ("reset", reset)):  # opening the link does not use it up
                response = anonymous.goto(f"{server}{path}")
                assert response is not None and response.status == 200, (path, response and response.status)
                _check(anonymous, width, f"{label} {name}")
                anonymous.screenshot(path=str(OUT / f"{label}-{name}.png"), full_page=True)
            assert not errors, f"{label} anonymous: console errors {errors}"
            for role in ("lan", "hung", "quan-tri"):
                page = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN").new_page()
                errors: list[str] = []
                page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                _log_in(page, server, role)
                for n, path in enumerate(_admin_pages(web) if role == "quan-tri" else _pages(w, role)):
                    response = page.goto(f"{server}{path}")
                    assert response is not None and response.status == 200, (path, response and response.status)
                    _check(page, width, f"{label} {role} {path}")
                    page.screenshot(path=str(OUT / f"{label}-{role}-{n:02d}.png"), full_page=True)
                assert not errors, f"{label} {role}: console errors {errors}"
                page.context.close()


def test_phone_pages_read_like_a_product(web, server):
    w = _world(web)
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
        _log_in(page, server, "hung")
        # Today for an approver: what waits for them first, in counts and a few links, not a wall
        page.goto(server + "/")
        # the page links fold into one menu: the bar stays one line, the menu opens and closes from the keyboard
        bar = page.locator("header.top").bounding_box()
        assert bar and bar["height"] < 60, bar
        calendar_link = page.locator("header.top").get_by_role("link", name="Lịch phát")
        expect(calendar_link).to_be_hidden()
        page.locator("details.nav-menu summary").focus()
        page.keyboard.press("Enter")
        expect(calendar_link).to_be_visible()
        page.keyboard.press("Escape")
        expect(calendar_link).to_be_hidden()
        page.keyboard.press("Enter")  # Escape gave the focus back to "☰ Menu"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(calendar_link).to_be_focused()
        expect(page.locator("#to-review li")).to_have_count(6)  # five titles and "và 8 bài khác"
        expect(page.locator("#needs-action")).to_contain_text("Bài chờ bạn duyệt: 13")
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 2500, f"Today is {height} px tall on a phone"
        # the piece list as cards: a title takes the card's width, not one word per line
        page.goto(server + "/pieces")
        title = page.get_by_role("link", name=LONG)
        box = title.bounding_box()
        assert box and box["width"] > 250, box
        # the review: decision buttons reachable on the phone, the diff wraps between words
        page.goto(f"{server}/pieces/{w['waiting']}")
        for name in ("Duyệt", "Trả lại"):
            button = page.get_by_role("button", name=name, exact=True)
            button.scroll_into_view_if_needed()
            box = button.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, (name, box)
        page.goto(f"{server}/pieces/{w['approved']}")
        numbers = page.evaluate("""() => [...document.querySelectorAll('.diff .line')]
            .filter(l => l.textContent.includes('15.000.000')).map(l => {
                const range = document.createRange();
                const node = [...l.childNodes].find(n => n.textContent.includes('15.000.000'));
                const text = node.nodeType === 3 ? node : node.firstChild;
                const at = text.textContent.indexOf('15.000.000');
                range.setStart(text, at); range.setEnd(text, at + 10);
                return range.getClientRects().length; })""")
        assert numbers and all(n == 1 for n in numbers), numbers  # "15.000.000" never split over two lines
        # the uploaded 2400×1600 image is shown as a resized rendition
        image = page.locator("img.piece-image")
        expect(image).to_be_visible()
        natural = image.evaluate("i => i.complete && i.naturalWidth")
        assert 0 < natural <= 1280, natural
        # the piece's social posts as phone-sized cards, its image in the Facebook one; the bulletin's first page
        for kind in ("facebook", "zalo", "viber"):
            card = page.locator(f"#post-{kind}")
            card.scroll_into_view_if_needed()
            box = card.bounding_box()
            assert box and box["width"] <= 360 and box["x"] >= 0 and box["x"] + box["width"] <= 360, (kind, box)
        expect(page.locator("#post-facebook .post-text")).to_contain_text("https://tanlap.gov.vn/tin/")
        expect(page.locator("#post-facebook .post-count")).to_contain_text("/2000 ký tự")
        assert page.locator("#post-facebook img.post-image").evaluate("i => i.complete && i.naturalWidth") > 0
        bulletin = page.locator("#print-bulletin img")
        bulletin.scroll_into_view_if_needed()
        expect(bulletin).to_be_visible()
        page.wait_for_function("() => document.querySelector('#print-bulletin img').naturalWidth > 0")
        assert bulletin.evaluate("i => i.naturalWidth") == 720
        # the calendar's preview of 99001's social program: each post a phone card; of its print program: the
        # first page of that week's bulletin
        page.goto(f"{server}/previews/program/{w['social']}")
        cards = page.locator("figure.phone-post")
        assert cards.count() >= 1
        for n in range(cards.count()):
            cards.nth(n).scroll_into_view_if_needed()
            box = cards.nth(n).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, (n, box)
        expect(cards.first.locator(".post-count")).to_contain_text("/2000 ký tự")
        page.goto(f"{server}/previews/program/{w['print']}")
        bulletin = page.locator("#print-bulletin img")
        bulletin.scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('#print-bulletin img').naturalWidth > 0")
        assert bulletin.evaluate("i => i.naturalWidth") == 720
        box = bulletin.bounding_box()
        assert box and box["x"] + box["width"] <= 360, box
        page.goto(f"{server}/pieces/{w['slogan']}")
        poster = page.locator("#print-poster img")
        poster.scroll_into_view_if_needed()
        page.wait_for_function("() => document.querySelector('#print-poster img').naturalWidth > 0")
        assert poster.evaluate("i => i.naturalHeight < i.naturalWidth")  # A3 landscape
        # the reports page has the social and print columns, read as labelled lines on a phone
        page.goto(f"{server}/reports")
        for label in ("Bài mạng xã hội", "Tin đã in", "Bản tin đã in"):
            expect(page.locator(f'tfoot [data-label="{label}"]')).to_be_visible()
        # and its emergencies apart, each a card of labelled lines: reach and first-accept latency
        expect(page.locator("#emergencies-issued")).to_have_text("1")
        card = page.locator("#emergency-lines tbody tr").first
        card.scroll_into_view_if_needed()
        for label, value in (("Đã nhận", "1"), ("Độ trễ p50", "4.0 s")):
            expect(card.locator(f'[data-label="{label}"]')).to_have_text(value)
        assert card.bounding_box()["width"] <= 360
        expect(page.locator('#emergency-stations [data-label="Tin khẩn cấp đã nhận"]').first).to_have_text("1")
        # the calendar: one menu per airing, closed until asked for
        page.goto(f"{server}/calendar?week=2026-11-23&station=99001")
        menus = page.locator("details.menu")
        assert menus.count() >= 7
        expect(page.get_by_role("button", name="Xoá khỏi chương trình này").first).to_be_hidden()
        menus.first.locator("summary").click()
        expect(menus.first.get_by_role("button", name="Xoá khỏi chương trình này")).to_be_visible()
        page.keyboard.press("Escape")
        expect(menus.first.get_by_role("button", name="Xoá khỏi chương trình này")).to_be_hidden()
        # one day: its programs as blocks, each item's menu reachable with the keyboard
        page.goto(f"{server}/calendar?day=2026-11-24&station=99001")
        expect(page.get_by_role("heading", level=1)).to_have_text("Lịch phát: T3 24/11/2026")
        blocks = page.locator(".day-view .program")
        assert blocks.count() >= 3
        first = blocks.first.locator("details.menu")
        first.locator("summary").focus()
        page.keyboard.press("Enter")
        expect(first.get_by_role("button", name="Xoá khỏi chương trình này")).to_be_visible()
        page.keyboard.press("Escape")
        page.get_by_role("link", name="ngày sau →").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Lịch phát: T4 25/11/2026")
        page.get_by_role("link", name="Tuần", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Lịch phát: 23/11/2026 – 29/11/2026")
        page.set_viewport_size({"width": 1366, "height": 768})  # on a desk the links are in the bar, no menu
        expect(page.locator("details.nav-menu summary")).to_be_hidden()
        expect(page.locator("header.top").get_by_role("link", name="Lịch phát")).to_be_visible()


def test_api_docs_and_links_work_without_the_internet_and_from_another_host(web, server):
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
        outside: list[str] = []

        def only_loa(route) -> None:
            if route.request.url.startswith(server):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_loa)
        page.goto(f"{server}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("loa", timeout=15000)
        assert not outside, outside
        page.goto(f"{server}/login")
        assert page.evaluate("document.querySelector('link[rel=icon]').href").endswith("/static/favicon.svg")
    icon = web.client().get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    client = web.client("lan")
    page = client.get("/account", headers={"host": "10.0.0.7:8080"}).text
    assert "http://10.0.0.7:8080/ical/" in page and "127.0.0.1" not in page
    behind = client.get("/account", headers={"host": "loa:8080", "x-forwarded-proto": "https",
                                             "x-forwarded-host": "loa.xa-phu-xuan.gov.vn"}).text
    assert "https://loa.xa-phu-xuan.gov.vn/ical/" in behind
