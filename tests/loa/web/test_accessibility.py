"""axe-core (the npm engine, as bundled in axe-playwright-python) injected by Playwright into every page of the
editors' app in Debian's Chromium, for the anonymous, an editor, an approver and an admin, at a phone's and a
desk's size: no serious or critical violation."""

from __future__ import annotations

from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import Page, expect
from test_layout_browser import SIZES, _log_in, _pages, _world, settings  # noqa: F401  (social and print outlets)

from servers.browser import chromium

# A browser draws what the pages serve; the pages themselves are tested on both databases over HTTP.
pytestmark = pytest.mark.one_database

#: The engine itself, for tests only (a dev dependency; nothing of it ships in loa).
AXE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = {"serious", "critical"}


def _violations(page: Page) -> list[str]:
    """axe's serious and critical findings on the page as it stands, one line each naming rule and elements."""
    page.evaluate(AXE)
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
    return [f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(" ".join(n["target"]) for n in v["nodes"][:4])
            for v in found if v["impact"] in BLOCKING]


def test_axe_core_finds_a_violation_it_is_shown(server):
    """The scan is live: a page with an unlabelled field and an image without alt text is reported."""
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{server}/login")
        page.evaluate("""() => { const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<input type="text"><img src="/static/favicon.svg">'); }""")
        found = " ".join(_violations(page))
        assert "label" in found and "image-alt" in found, found


@pytest.mark.parametrize("label", SIZES)  # one test per size: two halves the suite's workers can share
def test_every_page_for_each_role_has_no_serious_accessibility_violation(web, server, label):
    w = _world(web)
    admin = ["/users", f"/users/{web.ids['lan']}"]
    width, height = SIZES[label]
    problems: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
        page = context.new_page()
        page.goto(f"{server}/login")
        problems += [f"{label} anonymous /login: {v}" for v in _violations(page)]
        context.close()
        for role in ("lan", "hung", "quan-tri"):
            context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
            page = context.new_page()
            _log_in(page, server, role)
            for path in _pages(w, role) + (admin if role == "quan-tri" else []):
                response = page.goto(f"{server}{path}")
                assert response is not None and response.status == 200, (role, path, response and response.status)
                problems += [f"{label} {role} {path}: {v}" for v in _violations(page)]
            context.close()
    assert not problems, "\n".join(problems)


def test_pages_in_the_states_a_user_brings_them_to_have_no_serious_violation(web, server):
    """A failed login, a form sent back with an error beside the field, an open calendar menu (week and day), the
    phone's page menu open, the user page with a fresh reset link and the reset page the link opens."""
    _world(web)
    problems: list[str] = []
    with chromium() as browser:
        page = browser.new_context(locale="vi-VN").new_page()
        page.goto(f"{server}/login")
        page.get_by_label("Tên đăng nhập").fill("lan")
        page.get_by_label("Mật khẩu").fill("sai-mat-khau")
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.locator("main")).to_contain_text("Sai")
        problems += [f"failed login: {v}" for v in _violations(page)]
        _log_in(page, server, "lan")
        page.goto(f"{server}/pieces/new")
        page.get_by_label("Tiêu đề").fill("Lịch tiêm chủng tháng 12")
        page.get_by_label("Nội dung").fill("Mời bà con đưa trẻ đến trạm y tế xã.")
        page.get_by_label("Hiệu lực từ").fill("31/02/2026")
        page.get_by_role("button", name="Lưu").click()
        expect(page.locator("#error-valid_from")).to_be_visible()
        problems += [f"form with an error: {v}" for v in _violations(page)]
        page.goto(f"{server}/calendar?week=2026-11-23&station=99001")
        page.locator("details.menu summary").first.click()
        expect(page.get_by_role("button", name="Xoá khỏi chương trình này").first).to_be_visible()
        problems += [f"calendar menu open: {v}" for v in _violations(page)]
        page.goto(f"{server}/calendar?day=2026-11-24&station=99001")
        page.locator("details.menu summary").first.click()
        expect(page.get_by_role("button", name="Xoá khỏi chương trình này").first).to_be_visible()
        problems += [f"day view menu open: {v}" for v in _violations(page)]
        page.set_viewport_size({"width": 360, "height": 740})
        page.locator("details.nav-menu summary").click()
        expect(page.locator("header.top").get_by_role("link", name="Lịch phát")).to_be_visible()
        problems += [f"phone page menu open: {v}" for v in _violations(page)]

        admin = browser.new_context(locale="vi-VN").new_page()
        _log_in(admin, server, "quan-tri")
        admin.goto(f"{server}/users")
        admin.get_by_label("Tên đăng nhập").fill("thu")
        admin.get_by_role("button", name="Thêm").click()
        link = admin.locator("#reset-link").inner_text()
        problems += [f"user with a reset link: {v}" for v in _violations(admin)]
        newcomer = browser.new_context(locale="vi-VN").new_page()
        newcomer.goto(link)
        expect(newcomer.get_by_label("Nhập lại mật khẩu mới")).to_be_visible()
        problems += [f"reset page: {v}" for v in _violations(newcomer)]
    assert not problems, "\n".join(problems)
