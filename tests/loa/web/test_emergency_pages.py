"""The red "Phát khẩn cấp" action: only for those with the right; a preview with what will be heard and the count
of communes and outlets; one confirmation; Today shows the emergency under way; the all-clear."""

from __future__ import annotations

from sqlalchemy import select

from content.db import unit_of_work
from scheduler.models import Emergency, EmergencyDelivery

from servers.web import csrf_of

FORM = {"title": "Cảnh báo lũ quét", "text": "Mưa lớn, nguy cơ lũ quét đêm nay (2 giờ sáng). Sơ tán ngay.",
        "stream_url": "", "stations": "vung-thap", "repeat_minutes": "15", "until": ""}


def test_an_approver_previews_confirms_once_and_today_shows_it(web):
    approver = web.client("hung")
    today = approver.get("/")
    assert 'class="button danger"' in today.text and "Phát khẩn cấp" in today.text
    page = approver.get("/emergencies")
    # ``*`` is the issuer's centre and the centres below it, not the install (issue 19), and the label says so
    assert "* cho mọi xã thuộc trung tâm của bạn và các trung tâm cấp dưới" in page.text
    preview = approver.post("/emergencies/preview", data={**FORM, "csrf": csrf_of(page.text)})
    assert preview.status_code == 200, preview.text
    assert "Tới 2 xã, 6 điểm phát" in preview.text  # vung-thap: 99001 and 99002, three outlets each
    assert "hai giờ sáng" in preview.text  # what loudspeakers will say: the text as spoken
    with unit_of_work(web.services.sessions) as session:
        assert session.scalar(select(Emergency.id)) is None  # nothing stored before the confirmation

    done = approver.post("/emergencies", data={**FORM, "csrf": csrf_of(preview.text)})
    assert done.status_code == 303
    detail = approver.get(done.headers["location"])
    assert "Cảnh báo lũ quét" in detail.text and "đang hoạt động" in detail.text
    with unit_of_work(web.services.sessions) as session:
        emergency = session.scalars(select(Emergency)).one()
        assert emergency.source == "web" and emergency.repeat_every_s == 900 and emergency.issued_by == "hung"
        assert len(list(session.scalars(select(EmergencyDelivery)))) == 6
    today = approver.get("/")
    assert 'id="emergencies"' in today.text and "Đang phát khẩn cấp" in today.text

    cleared = approver.post(f"/emergencies/{emergency.id}/clear", data={"csrf": csrf_of(detail.text)})
    assert cleared.status_code == 303
    assert 'id="emergencies"' not in approver.get("/").text


def test_an_editor_sees_no_red_button_and_cannot_broadcast(web):
    editor = web.client("lan")
    assert 'class="button danger"' not in editor.get("/").text
    page = editor.get("/emergencies")
    assert 'action="/emergencies/preview"' not in page.text
    refused = editor.post("/emergencies", data={**FORM, "csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    with unit_of_work(web.services.sessions) as session:
        assert session.scalar(select(Emergency.id)) is None


def test_a_mistake_is_shown_beside_its_field(web):
    approver = web.client("hung")
    page = approver.get("/emergencies")
    wrong = approver.post("/emergencies/preview", data={**FORM, "stations": "khong-co", "csrf": csrf_of(page.text)})
    assert wrong.status_code == 400 and 'id="error-stations"' in wrong.text and "khong-co" in wrong.text
