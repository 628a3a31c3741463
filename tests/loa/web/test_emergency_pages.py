"""The red "Phát khẩn cấp" action: only for those with the right; a preview with what will be heard and the count
of communes and outlets; one confirmation; Today shows the emergency under way; the all-clear."""

from __future__ import annotations

from sqlalchemy import func, select, update

from content.db import unit_of_work
from scheduler.emergencies import service
from scheduler.emergencies.service import EmergencyRequest
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


def test_today_shows_each_outlet_kinds_state_of_the_emergency_under_way(web):
    approver = web.client("hung")
    page = approver.get("/emergencies")
    stream = {**FORM, "text": "", "stream_url": "http://radio.example/khan-cap", "repeat_minutes": ""}
    done = approver.post("/emergencies", data={**stream, "csrf": csrf_of(page.text)})
    assert done.status_code == 303
    emergency_id = int(done.headers["location"].rsplit("/", 1)[1])
    today = approver.get("/").text
    assert f'id="reach-{emergency_id}-loudspeaker">Loa truyền thanh: 0/2 đã nhận' in today  # not pushed yet

    with unit_of_work(web.services.sessions) as session:  # one commune's loudspeaker cannot be given it
        session.execute(update(EmergencyDelivery).where(EmergencyDelivery.outlet == "loudspeaker", EmergencyDelivery.id
                                                        == select(func.min(EmergencyDelivery.id)).where(
                                                            EmergencyDelivery.outlet == "loudspeaker")
                                                        .scalar_subquery()).values(state="dead"))
    dispatcher = web.services.dispatcher()
    try:
        assert dispatcher.run_emergencies(web.services.now()) == {"delivered": 5}
    finally:
        dispatcher.close()
    today = approver.get("/").text
    assert f'id="reach-{emergency_id}-loudspeaker">Loa truyền thanh: 1/2 đã nhận · <strong>1 lỗi</strong><' in today
    assert f'id="reach-{emergency_id}-board">Bảng tin: 2/2 đã nhận<' in today
    assert f'id="reach-{emergency_id}-portal">Cổng thông tin: 2/2 đã nhận<' in today


def test_a_draft_waits_on_today_for_those_with_the_right_and_is_sent_with_one_click(web):
    with unit_of_work(web.services.sessions) as session:  # as an untrusted CAP feed leaves it
        draft = service.issue(session, EmergencyRequest(title="Cảnh báo lũ (CAP)", text="Sơ tán ngay.",
                                                        stream_url="http://radio.example/cap", targets=("vung-thap",),
                                                        source="cap"), actor=None, now=web.services.now(), draft=True)
        draft_id = draft.id
    editor = web.client("lan")
    assert 'id="emergency-drafts"' not in editor.get("/").text  # no right: nothing to send
    approver = web.client("hung")
    today = approver.get("/")
    assert 'id="emergency-drafts"' in today.text and "Tin khẩn cấp nháp chờ phát" in today.text
    assert f'action="/emergencies/{draft_id}/send"' in today.text and "Cảnh báo lũ (CAP)" in today.text

    refused = editor.post(f"/emergencies/{draft_id}/send", data={"csrf": csrf_of(editor.get("/").text)})
    assert refused.status_code == 403
    sent = approver.post(f"/emergencies/{draft_id}/send", data={"csrf": csrf_of(today.text)})
    assert sent.status_code == 303 and sent.headers["location"] == f"/emergencies/{draft_id}"
    with unit_of_work(web.services.sessions) as session:
        emergency = session.get(Emergency, draft_id)
        assert emergency.state == "active" and emergency.sent_by == "hung"
        assert len(list(session.scalars(select(EmergencyDelivery)))) == 6
    today = approver.get("/").text
    assert 'id="emergency-drafts"' not in today and 'id="emergencies"' in today
    again = approver.post(f"/emergencies/{draft_id}/send", data={"csrf": csrf_of(today)})
    assert again.status_code in (400, 409) and "bản nháp" in again.text  # only a draft can be sent
