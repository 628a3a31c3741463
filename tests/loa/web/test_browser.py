"""In Debian's headless Chromium: an editor writes and submits a piece, an approver approves it, the calendar
shows it placed, and its preview audio loads and plays. Screenshots land in test-output/browser/."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from servers.browser import SHOTS, chromium

TITLE = "Thông báo lịch tiêm phòng dại cho chó mèo"


def _log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill("mat-khau-du-dai")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hôm nay")


def test_write_submit_approve_plan_and_listen_in_chromium(web, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        editor = browser.new_context(locale="vi-VN").new_page()
        _log_in(editor, server, "lan")
        editor.get_by_role("link", name="Tin bài", exact=True).click()
        editor.get_by_role("link", name="Tin bài mới").click()
        editor.get_by_label("Tiêu đề").fill(TITLE)
        editor.get_by_label("Nội dung").fill("Trạm thú y xã tiêm phòng dại vào sáng thứ Bảy, 28/11/2026, "
                                             "tại nhà văn hóa thôn. Đề nghị bà con đưa chó mèo đến tiêm.")
        editor.get_by_label("Chiến dịch").select_option("guong-dien-hinh")
        editor.get_by_role("button", name="Lưu").click()
        expect(editor.locator("#state")).to_have_text("bản nháp")
        editor.get_by_role("button", name="Gửi duyệt").click()
        expect(editor.locator("#state")).to_have_text("chờ duyệt")
        expect(editor.locator("#approve-form")).to_have_count(0)  # the author sees no approve button
        editor.screenshot(path=str(SHOTS / "1-editor-submitted.png"), full_page=True)
        piece_url = editor.url

        approver = browser.new_context(locale="vi-VN").new_page()
        _log_in(approver, server, "hung")
        approver.get_by_role("link", name="Chờ duyệt").click()
        approver.get_by_role("link", name=TITLE).click()
        assert approver.url == piece_url
        approver.get_by_label("Ghi chú (không bắt buộc)").fill("Nội dung đúng, cho phát.")
        approver.get_by_role("button", name="Duyệt", exact=True).click()
        expect(approver.locator("#state")).to_have_text("đã duyệt")
        approver.screenshot(path=str(SHOTS / "2-approved.png"), full_page=True)

        web.services.plan(days=7)  # what the scheduler does after an approval
        approver.goto(f"{server}/calendar?week=2026-11-23")
        placed = approver.locator(".program li", has_text=TITLE)
        expect(placed.first).to_be_visible()
        assert placed.count() >= 7  # at least once a day on some outlet
        approver.screenshot(path=str(SHOTS / "3-calendar.png"), full_page=True)

        approver.goto(piece_url)
        audio = approver.locator("audio#speech")
        expect(audio).to_be_visible()
        played = approver.evaluate("""async () => {
            const audio = document.querySelector('audio#speech');
            audio.muted = true;
            await audio.play();
            for (let i = 0; i < 100 && audio.currentTime === 0; i++) {
                await new Promise(resolve => setTimeout(resolve, 100));
            }
            return {duration: audio.duration, time: audio.currentTime, error: audio.error && audio.error.code};
        }""")
        assert played["error"] is None and played["duration"] > 1 and played["time"] > 0, played
        approver.screenshot(path=str(SHOTS / "4-preview-audio.png"), full_page=True)
    assert len(list(SHOTS.glob("*.png"))) >= 4
