"""The red "Phát khẩn cấp" action: only for those with the right; a preview with what will be heard and the count
of communes and outlets; one confirmation; Today shows the emergency under way; the all-clear."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, update

from content.db import unit_of_work
from scheduler.emergencies import service
from scheduler.emergencies.service import EmergencyRequest
from scheduler.models import Emergency, EmergencyDelivery

from servers.sounds import wav_tone
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


# --- a recording uploaded with the form, and a start --------------------------------------------------------------


def _confirm_fields(html: str) -> dict[str, str]:
    """The hidden fields of the confirmation form, as the browser posts them back."""
    import html as markup
    import re

    form = html[html.index('<form method="post" action="/emergencies">'):]
    return {name: markup.unescape(value) for name, value in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form[:form.index("</form>")])}


def _heard_src(html: str) -> str:
    import re

    found = re.search(r'<audio id="heard" controls preload="none" src="([^"]+)">', html)
    assert found, "no <audio> of what loudspeakers will play"
    return found[1]


def test_a_recording_uploaded_with_the_form_is_heard_in_the_preview_then_stored_sealed_and_pushed(web):
    import hashlib

    from content import seals

    wav = wav_tone()
    approver = web.client("hung")
    page = approver.get("/emergencies")
    assert 'enctype="multipart/form-data"' in page.text and 'name="audio" type="file"' in page.text
    recorded = {**FORM, "title": "Thông báo sơ tán", "text": "", "repeat_minutes": ""}
    preview = approver.post("/emergencies/preview", data={**recorded, "csrf": csrf_of(page.text)},
                            files={"audio": ("ghi-am.wav", wav, "audio/wav")})
    assert preview.status_code == 200, preview.text
    assert "Tới 2 xã, 6 điểm phát" in preview.text and "ghi-am.wav" in preview.text
    heard = approver.get(_heard_src(preview.text))  # the spoken title, then the recording, as loudspeakers play it
    assert heard.status_code == 200 and heard.headers["content-type"] == "audio/mpeg" and len(heard.content) > 10_000
    assert web.client("mai").get(_heard_src(preview.text)).status_code == 404  # signed for the one who previewed
    with unit_of_work(web.services.sessions) as session:
        assert session.scalar(select(Emergency.id)) is None  # nothing issued before the confirmation

    fields = _confirm_fields(preview.text)
    assert fields["recording"] and "audio" not in fields  # the file is not uploaded twice
    forged = approver.post("/emergencies", data={**fields, "recording": fields["recording"][:-2] + "xx"})
    assert forged.status_code == 400
    done = approver.post("/emergencies", data=fields)
    assert done.status_code == 303
    emergency_id = int(done.headers["location"].rsplit("/", 1)[1])
    with unit_of_work(web.services.sessions) as session:
        emergency = session.get(Emergency, emergency_id)
        assert emergency.audio_sha256 == hashlib.sha256(wav).hexdigest() and emergency.text == ""
        stored = Path(emergency.audio_path)
        assert stored.is_file() and stored.is_relative_to(web.services.settings.media_dir)
        assert stored.read_bytes() == wav and emergency.seal and seals.key_of(session) is not None
        service.check_sealed(session, emergency)  # sealed with the recording's hash

    dispatcher = web.services.dispatcher()
    try:
        assert dispatcher.run_emergencies(web.services.now()) == {"delivered": 6}
    finally:
        dispatcher.close()
    with unit_of_work(web.services.sessions) as session:
        speech_sha = session.get(Emergency, emergency_id).speech_sha256
    assert speech_sha == hashlib.sha256(heard.content).hexdigest()  # the lane played what the preview let us hear
    folder = web.services.settings.station("99001").outlet("loudspeaker").dir / "99001"
    playlist = next(folder.glob("*/emergency.m3u8"))
    played = playlist.parent / playlist.read_text().splitlines()[-1]
    assert hashlib.sha256(played.read_bytes()).hexdigest() == speech_sha
    assert approver.get(f"/emergencies/{emergency_id}/audio").content == heard.content
    assert web.client("xa-khac").get(f"/emergencies/{emergency_id}/audio").status_code == 404  # not their stations


def test_a_file_that_is_no_recording_is_refused_beside_its_field_and_what_was_typed_stays(web):
    approver = web.client("hung")
    page = approver.get("/emergencies")
    typed = {**FORM, "title": "Thông báo sơ tán khẩn", "text": "", "until": "23/11/2026 20:00"}
    refused = approver.post("/emergencies/preview", data={**typed, "csrf": csrf_of(page.text)},
                            files={"audio": ("tin.mp3", b"ID3 but not really audio", "audio/mpeg")})
    assert refused.status_code == 400 and 'id="error-audio"' in refused.text
    assert "tin.mp3: đây không phải bản ghi âm loa phát được" in refused.text  # the upload path's own refusal
    assert 'value="Thông báo sơ tán khẩn"' in refused.text and 'value="23/11/2026 20:00"' in refused.text
    assert 'name="recording"' not in refused.text
    assert not any(web.services.settings.media_dir.rglob("*.mp3"))  # nothing kept

    # A recording that passed stays uploaded while another field is put right.
    wrong = approver.post("/emergencies/preview", data={**typed, "stations": "khong-co", "csrf": csrf_of(page.text)},
                          files={"audio": ("ghi-am.wav", wav_tone(1.0), "audio/wav")})
    assert wrong.status_code == 400 and 'id="error-stations"' in wrong.text
    assert 'id="recording-kept"' in wrong.text and "ghi-am.wav" in wrong.text
    again = approver.post("/emergencies/preview", data={**typed, "csrf": csrf_of(wrong.text),
                                                        "recording": _hidden(wrong.text, "recording")})
    assert again.status_code == 200 and "ghi-am.wav" in again.text
    # Another user cannot post that token: it names an upload of hung's.
    other = web.client("mai")
    stolen = other.post("/emergencies/preview", data={**typed, "csrf": csrf_of(other.get("/emergencies").text),
                                                      "recording": _hidden(wrong.text, "recording")})
    assert stolen.status_code == 400 and 'id="error-audio"' in stolen.text


def _hidden(html: str, name: str) -> str:
    import html as markup
    import re

    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert found, f"no hidden {name}"
    return markup.unescape(found[1])


def test_a_start_later_is_issued_now_and_pushes_nothing_before_it(web):
    from datetime import timedelta

    from conftest import MONDAY

    approver = web.client("hung")
    page = approver.get("/emergencies")
    wrong = approver.post("/emergencies/preview", data={**FORM, "start": "31/02/2026 10:00",
                                                        "csrf": csrf_of(page.text)})
    assert wrong.status_code == 400 and 'id="error-start"' in wrong.text and 'value="31/02/2026 10:00"' in wrong.text
    start = MONDAY + timedelta(hours=2)
    preview = approver.post("/emergencies/preview", data={**FORM, "start": f"{start:%d/%m/%Y %H:%M}",
                                                          "csrf": csrf_of(page.text)})
    assert preview.status_code == 200
    assert "Bắt đầu phát lúc 23/11/2026 10:00; trước giờ đó chưa gửi đi điểm phát nào." in preview.text
    done = approver.post("/emergencies", data=_confirm_fields(preview.text))
    assert done.status_code == 303
    detail = approver.get(done.headers["location"]).text
    assert "chưa bắt đầu: sẽ gửi đi đúng giờ bắt đầu" in detail
    with unit_of_work(web.services.sessions) as session:
        emergency = session.scalars(select(Emergency)).one()
        assert emergency.state == "active" and emergency.starts_at == start
        assert {p.due_at for p in session.scalars(select(EmergencyDelivery))} == {start}
    assert 'id="emergencies"' not in approver.get("/").text  # not under way yet

    dispatcher = web.services.dispatcher()
    try:
        assert dispatcher.run_emergencies(start - timedelta(seconds=1)) == {}  # the fake clock, just before
        folder = web.services.settings.station("99001").outlet("loudspeaker").dir
        assert not any(folder.rglob("emergency.m3u8"))
        assert dispatcher.run_emergencies(start) == {"delivered": 6}
    finally:
        dispatcher.close()
    assert any(folder.rglob("emergency.m3u8"))
