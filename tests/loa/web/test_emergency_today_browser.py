"""Today on a phone (360×740, Vietnamese, Debian's Chromium) with an emergency under way and a CAP draft waiting:
each outlet kind's state and the draft's send button fit the screen, and the button sends it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_layout_browser import _check, _log_in

from content.db import unit_of_work
from content.models import User
from scheduler.emergencies import service
from scheduler.emergencies.service import EmergencyRequest
from scheduler.models import Emergency

from servers.browser import SHOTS, chromium
from servers.sounds import wav_tone

# A browser draws what the pages serve; the pages themselves are tested on both databases over HTTP.
pytestmark = pytest.mark.one_database


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


def test_the_form_takes_a_recording_and_a_start_and_the_confirmation_plays_it_on_a_phone(web, server):
    """The "Phát khẩn cấp" form at 360 px: a recording chosen from the phone and a later start; the confirmation
    plays what loudspeakers will play and says when it starts; confirming issues it to start then."""
    from datetime import timedelta

    from conftest import MONDAY

    start = MONDAY + timedelta(hours=3)
    out = SHOTS / "emergencies"
    out.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
        _log_in(page, server, "hung")
        page.goto(f"{server}/emergencies")
        form = page.locator("#issue form")
        form.locator("input[name=title]").fill("Thông báo sơ tán khẩn cấp các hộ ven suối Nậm Mu")
        form.locator("input[name=stations]").fill("vung-thap")
        form.locator("input[name=audio]").set_input_files(
            {"name": "ghi-am-so-tan.wav", "mimeType": "audio/wav", "buffer": wav_tone(2.0)})
        form.locator("input[name=start]").fill(f"{start:%d/%m/%Y %H:%M}")
        _check(page, 360, "phone hung / the emergency form")
        page.screenshot(path=str(out / "phone-form.png"), full_page=True)
        form.get_by_role("button", name="Phát khẩn cấp").click()
        expect(page.locator("#reach")).to_contain_text("2 xã")
        expect(page.locator("#starts")).to_contain_text(f"{start:%d/%m/%Y %H:%M}")
        expect(page.locator("#recording")).to_contain_text("ghi-am-so-tan.wav")
        seconds = page.locator("#heard").evaluate(
            "a => new Promise((done, failed) => { a.onloadedmetadata = () => done(a.duration);"
            " a.onerror = () => failed(String(a.error && a.error.code)); a.preload = 'metadata'; a.load(); })")
        assert 2.0 < seconds < 10.0  # the spoken title, then the 2 s recording, in the browser's own player
        box = page.locator("#heard").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360.5
        _check(page, 360, "phone hung / the emergency confirmation")
        page.screenshot(path=str(out / "phone-confirm.png"), full_page=True)
        page.get_by_role("button", name="Xác nhận: phát ngay").click()
        expect(page.locator("#starts")).to_contain_text("chưa bắt đầu")
    with unit_of_work(web.services.sessions) as session:
        emergency = session.query(Emergency).one()
        assert emergency.starts_at == start and emergency.audio_sha256 and emergency.source == "web"
