"""Today on a phone (360×740, Vietnamese, Debian's Chromium) with an emergency under way and a CAP draft waiting:
each outlet kind's state and the draft's send button fit the screen, and the button sends it."""

from __future__ import annotations

from playwright.sync_api import expect
from test_layout_browser import _check, _log_in

from content.db import unit_of_work
from content.models import User
from scheduler.emergencies import service
from scheduler.emergencies.service import EmergencyRequest
from scheduler.models import Emergency

from servers.browser import SHOTS, chromium


def test_today_on_a_phone_shows_the_outlets_state_and_sends_a_draft(web, server):
    services = web.services
    with unit_of_work(services.sessions) as session:
        service.issue(session, EmergencyRequest(
            title="Cảnh báo lũ quét ở các thôn ven suối Nậm Mu, xã Tân Lập", text="Sơ tán ngay lên điểm cao.",
            stream_url="http://radio.example/khan-cap", targets=("vung-thap",)),
            actor=session.get(User, web.ids["hung"]), now=services.now())
        draft = service.issue(session, EmergencyRequest(
            title="Cảnh báo mưa lớn diện rộng từ Trung tâm Dự báo khí tượng thủy văn tỉnh (CAP)",
            text="Mưa lớn 100–150 mm.", stream_url="http://radio.example/cap", targets=("vung-thap",), source="cap"),
            actor=None, now=services.now(), draft=True).id
    out = SHOTS / "emergencies"
    out.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
        _log_in(page, server, "hung")
        expect(page.locator("#emergencies")).to_contain_text("Loa truyền thanh: 0/2 đã nhận")
        expect(page.locator("#emergency-drafts")).to_contain_text("Tin khẩn cấp nháp chờ phát")
        _check(page, 360, "phone hung / with an emergency and a draft")
        page.screenshot(path=str(out / "phone-today.png"), full_page=True)
        page.locator("#emergency-drafts").get_by_role("button", name="Xác nhận: phát ngay").click()
        expect(page.locator("#state")).to_have_text("đang hoạt động")
    with unit_of_work(services.sessions) as session:
        assert session.get(Emergency, draft).sent_by == "hung"
