"""The Thiết bị page lists every outlet of the stations a user works on, and only those, filterable by station
group; on a 360 px phone in Chromium it reads without sideways scrolling and is reached from the menu."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from devices_support import SECRET, SECRET_ENV, beat, with_http_speakers
from playwright.sync_api import expect

from content.db import unit_of_work
from content.users import add_user
from loa.settings import Settings, load_settings

from servers.browser import SHOTS, chromium
from servers.web import _HASH, PASSWORD


@pytest.fixture
def settings(config_dir: Path, database_url: str | None) -> Settings:
    with_http_speakers(config_dir)
    return load_settings(config_dir, env={"LOA_DATABASE_URL": database_url or "", SECRET_ENV: SECRET})


def _rows(html: str) -> set[tuple[str, str]]:
    return set(re.findall(r'data-station="(\w+)" data-outlet="(\w+)"', html))


def test_an_editor_sees_the_devices_of_their_stations_only_and_a_group_narrows_the_list(web):
    with unit_of_work(web.services.sessions) as session:
        add_user(session, "bien-tap-hoa-binh", "editor", now=web.services.now(), stations=["99002"],
                 password_hash=_HASH)
    assert beat(web.client(), web.services, "99001", version="2.3.1").status_code == 200
    scoped = web.client("bien-tap-hoa-binh").get("/devices")
    assert scoped.status_code == 200
    assert _rows(scoped.text) == {("99002", "loudspeaker"), ("99002", "board"), ("99002", "portal")}
    assert "Xã Tân Lập" not in scoped.text and "2.3.1" not in scoped.text
    everyone = web.client("lan")
    assert {code for code, _ in _rows(everyone.get("/devices").text)} == {"99001", "99002", "99003"}
    assert {code for code, _ in _rows(everyone.get("/devices?only=group:vung-cao").text)} == {"99003"}
    assert len(_rows(everyone.get("/devices?only=group:no-such-group").text)) == 9  # an unknown filter: all


def test_the_devices_page_reads_on_a_phone(web, server):
    assert beat(web.client(), web.services, "99001", version="2.3.1", clock_offset_s=-12.0).status_code == 200
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
        page.goto(f"{server}/login")
        page.get_by_label("Tên đăng nhập").fill("lan")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.locator("details.nav-menu summary").click()
        page.locator("header.top details.nav-menu").get_by_role("link", name="Thiết bị").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Thiết bị")
        row = page.locator('tr[data-station="99001"][data-outlet="loudspeaker"]')
        expect(row).to_contain_text("trực tuyến")
        expect(row).to_contain_text("nhịp tim")
        expect(row).to_contain_text("lệch -12.0 giây")
        expect(page.locator('tr[data-station="99003"][data-outlet="loudspeaker"]')).to_contain_text(
            "chưa từng liên lạc")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        box = row.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        page.select_option("select[name=only]", "group:vung-cao")
        page.get_by_role("button", name="Lọc").click()
        expect(page.locator("#devices tbody tr")).to_have_count(3)
        (SHOTS / "devices").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "devices" / "phone-devices.png"), full_page=True)
