"""In Debian's headless Chromium: a refused form comes back as typed with the Vietnamese message beside the
field, and an admin adds a user who chooses a password through the one-time link. Screenshots land in
test-output/browser/."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from servers.browser import SHOTS, chromium

# A browser draws what the pages serve; the pages themselves are tested on both databases over HTTP.
pytestmark = pytest.mark.one_database


def _log_in(page: Page, base: str, name: str, password: str = "mat-khau-du-dai") -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hôm nay")


def test_a_bad_date_is_shown_beside_the_field_and_fixing_it_saves_the_piece(web, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_context(locale="vi-VN").new_page()
        _log_in(page, server, "lan")
        page.goto(f"{server}/pieces/new")
        page.get_by_label("Tiêu đề").fill("Lịch tiêm chủng tháng 12")
        page.get_by_label("Nội dung").fill("Mời bà con đưa trẻ đến trạm y tế xã.")
        page.get_by_label("Hiệu lực từ").fill("31/02/2026")
        page.get_by_role("button", name="Lưu").click()
        error = page.locator("#error-valid_from")
        expect(error).to_have_text("“31/02/2026” không phải ngày; hãy nhập dạng 31/12/2026 hoặc 2026-12-31")
        expect(page.get_by_label("Tiêu đề")).to_have_value("Lịch tiêm chủng tháng 12")
        expect(page.get_by_label("Nội dung")).to_have_value("Mời bà con đưa trẻ đến trạm y tế xã.")
        expect(page.get_by_label("Hiệu lực từ")).to_have_attribute("aria-invalid", "true")
        page.screenshot(path=str(SHOTS / "form-error-bad-date.png"), full_page=True)
        page.get_by_label("Hiệu lực từ").fill("01/12/2026")
        page.get_by_role("button", name="Lưu").click()
        expect(page.locator("#state")).to_have_text("bản nháp")
        expect(page.get_by_role("heading", level=1)).to_have_text("Lịch tiêm chủng tháng 12")


def test_an_admin_adds_a_user_who_chooses_a_password_through_the_link(web, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        admin = browser.new_context(locale="vi-VN").new_page()
        _log_in(admin, server, "quan-tri")
        admin.get_by_role("link", name="Người dùng").click()
        admin.get_by_label("Tên đăng nhập").fill("lan")
        admin.get_by_role("button", name="Thêm").click()
        expect(admin.locator("#error-name")).to_have_text("Đã có người dùng tên “lan”; hãy chọn tên khác")
        admin.get_by_label("Tên đăng nhập").fill("thu")
        admin.get_by_label("Vai trò").select_option("approver")
        admin.get_by_label("Các xã").fill("99001")
        admin.get_by_role("button", name="Thêm").click()
        link = admin.locator("#reset-link").inner_text()
        admin.screenshot(path=str(SHOTS / "users-added.png"), full_page=True)

        newcomer = browser.new_context(locale="vi-VN").new_page()
        newcomer.goto(link)
        newcomer.get_by_label("Mật khẩu mới (ít nhất 8 ký tự)").fill("mat-khau-cua-thu")
        newcomer.get_by_label("Nhập lại mật khẩu mới").fill("mat-khau-cua-thu")
        newcomer.get_by_role("button", name="Lưu mật khẩu").click()
        expect(newcomer.locator("#password-set")).to_be_visible()
        _log_in(newcomer, server, "thu", "mat-khau-cua-thu")
        newcomer.goto(link)
        expect(newcomer.get_by_role("heading", level=1)).to_have_text("Không tìm thấy")
