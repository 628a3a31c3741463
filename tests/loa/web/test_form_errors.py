"""A refused form comes back as typed, with a Vietnamese message beside the field, in a 4xx status; refusals
that no form holds are friendly Vietnamese pages with a way back and no command-line hints."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import func, select

from content.db import unit_of_work
from content.models import Piece, Revision
from scheduler.models import Airing, Delivery, DeliveryState

from servers.web import csrf_of

#: What Chromium asks for when a person opens a page.
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'id="error-{re.escape(name)}"[^>]*>([^<]*)<', html)
    assert match, f"no error shown beside {name}"
    return unescape(match[1])


def _form_error(html: str) -> str:
    match = re.search(r'id="form-error"[^>]*>([^<]*)<', html)
    assert match, "no error shown above the form"
    return unescape(match[1])


def _count(web, model) -> int:
    with unit_of_work(web.services.sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_bad_date_keeps_everything_typed_and_says_so_in_vietnamese_beside_the_field(web):
    lan = web.client("lan")
    token = csrf_of(lan.get("/pieces/new").text)
    typed = {"csrf": token, "title": "Lịch tiêm chủng tháng 12", "body": "Mời bà con đưa trẻ đến trạm y tế.\nMang sổ.",
             "campaign": "guong-dien-hinh", "channels": ["loudspeaker", "portal"], "valid_from": "31/02/2026",
             "valid_until": "15/12/2026", "priority": "3", "urgent": "on"}
    response = lan.post("/pieces/new", data=typed)
    assert response.status_code == 400
    page = response.text
    assert _field_error(page, "valid_from") == ("“31/02/2026” không phải ngày hợp lệ; hãy nhập dạng 31/12/2026 "
                                                "hoặc 31/12/2026 17:00")
    assert 'value="Lịch tiêm chủng tháng 12"' in page
    assert ">Mời bà con đưa trẻ đến trạm y tế.\nMang sổ.</textarea>" in page
    assert 'value="31/02/2026"' in page and 'value="15/12/2026"' in page and 'value="3"' in page
    assert 'value="guong-dien-hinh" selected' in page
    assert 'value="loudspeaker" checked' in page and 'value="portal" checked' in page
    assert 'value="board" checked' not in page
    assert 'value="priority" selected' in page  # the older urgent checkbox, as clients posted it
    assert 'aria-invalid="true" aria-describedby="error-valid_from"' in page
    assert "is not a date" not in page and "valid_from:" not in page
    assert _count(web, Piece) == 0


def test_an_edit_refused_by_the_content_rules_keeps_the_edit_and_stores_nothing(web):
    piece = web.piece()
    lan = web.client("lan")
    token = csrf_of(lan.get(f"/pieces/{piece}/edit").text)
    response = lan.post(f"/pieces/{piece}/edit", data={
        "csrf": token, "title": "Thông báo tiêm chủng (sửa)", "body": "Nội dung mới", "channels": "board",
        "valid_from": "20/12/2026", "valid_until": "10/12/2026", "priority": "5"})
    assert response.status_code == 400
    assert _field_error(response.text, "valid_until") == "Ngày hết hiệu lực phải sau ngày bắt đầu hiệu lực"
    assert 'value="Thông báo tiêm chủng (sửa)"' in response.text and "Nội dung mới</textarea>" in response.text
    assert _count(web, Revision) == 1
    # English is one click away and reads the same message in English
    lan.get("/lang/en")
    english = lan.post(f"/pieces/{piece}/edit", data={"csrf": token, "title": "x", "body": "y", "channels": "board",
                                                      "priority": "12"})
    assert english.status_code == 400
    assert _field_error(english.text, "priority") == "priority must be between 1 and 9; got 12"


def test_a_file_that_is_not_an_image_is_named_beside_the_upload_and_the_choice_stays(web):
    piece = web.piece()
    lan = web.client("lan")
    token = csrf_of(lan.get(f"/pieces/{piece}").text)
    response = lan.post(f"/pieces/{piece}/upload", data={"csrf": token, "kind": "image"},
                        files={"file": ("ghi-chu.txt", "Ghi chú cuộc họp".encode(), "text/plain")})
    assert response.status_code == 400
    assert _field_error(response.text, "upload") == "ghi-chu.txt: Tệp này không phải ảnh (PNG, JPEG, GIF hoặc WebP)"
    assert '<option value="image" selected>' in response.text
    assert "this file is not an image" not in response.text
    assert _count(web, Revision) == 1


def test_a_rejection_without_a_reason_and_an_author_approving_are_shown_on_the_piece(web):
    piece = web.piece(submitted=True, author="mai")
    hung = web.client("hung")
    token = csrf_of(hung.get(f"/pieces/{piece}").text)
    response = hung.post(f"/pieces/{piece}/reject", data={"csrf": token, "note": "  "})
    assert response.status_code == 400
    assert _field_error(response.text, "reject") == "Trả lại bài cần ghi rõ lý do"
    mai = web.client("mai")  # the author: no review form on the page, so the refusal shows above it
    response = mai.post(f"/pieces/{piece}/approve", data={"csrf": csrf_of(mai.get(f"/pieces/{piece}").text),
                                                          "note": "tự duyệt"})
    assert response.status_code == 403
    assert _form_error(response.text) == f"mai là người viết bài số {piece}; cần một người duyệt khác duyệt bài này"
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Piece, piece).state == "submitted"


def test_a_stale_move_shows_the_calendar_again_with_a_vietnamese_message(web):
    web.piece(approved=True)
    web.services.plan(days=7)
    with unit_of_work(web.services.sessions) as session:
        first, *later = session.scalars(select(Delivery).where(Delivery.outlet == "loudspeaker")
                                        .order_by(Delivery.station_id, Delivery.start_at)).all()
        target = next(d for d in later if d.station_id == first.station_id)
        airing = session.scalar(select(Airing.id).where(Airing.delivery_id == first.id))
        station = first.station.code
        target.state = DeliveryState.DELIVERED  # sent by the dispatcher since the page was opened
        target_id = target.id
    hung = web.client("hung")
    week = f"/calendar?week=2026-11-23&station={station}"
    token = csrf_of(hung.get(week).text)
    response = hung.post(f"/calendar/airings/{airing}/move", data={"csrf": token, "delivery": target_id},
                         headers={"referer": f"http://testserver{week}"})
    assert response.status_code == 409
    message = _form_error(response.text)
    assert message == ("Chương trình loa truyền thanh này đã ở trạng thái “đã gửi”; "
                       "chỉ thay đổi được chương trình chưa gửi đi")
    assert target_id not in response.text.split('id="form-error"')[1].split("</p>")[0]
    assert "Thông báo tiêm chủng" in response.text  # the calendar of that station is there again
    response = hung.post(f"/calendar/airings/{airing}/move", data={"csrf": token, "delivery": "khong-co"},
                         headers={"referer": f"http://testserver{week}"})
    assert response.status_code == 404
    assert _form_error(response.text) == "Không tìm thấy chương trình đã chọn"
    assert "--to" not in response.text and "loa schedule" not in response.text
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Airing, airing).delivery_id == first.id


def test_missing_things_are_friendly_vietnamese_pages_with_a_link_back(web):
    lan = web.client("lan")
    for path, message in (("/pieces/999", "Không có bài số 999"), ("/khong-co-trang-nay", "Không có trang này."),
                          ("/pieces/abc", "Không có trang này.")):
        response = lan.get(path, headers={"referer": "http://testserver/pieces", "accept": BROWSER})
        assert response.status_code == 404, path
        assert "<h1>Không tìm thấy</h1>" in response.text
        assert message in response.text
        assert 'href="/pieces" id="back">Quay lại</a>' in response.text
        assert "loa piece list" not in response.text and "detail" not in response.text
    assert lan.get("/api/pieces/999", headers=web.token("lan")).json()["detail"].startswith("no piece with id 999")
    assert lan.get("/khong-co-trang-nay").json() == {"detail": "Not Found"}  # a program, not a person, asked
    typed_address = lan.get("/pieces/1/approve", headers={"accept": BROWSER})  # a button's address, typed
    assert typed_address.status_code == 405 and "hãy quay lại và bấm nút trên trang" in typed_address.text


def test_a_conflict_is_a_409_page_that_says_what_to_do(web):
    piece = web.piece(submitted=True)
    lan = web.client("lan")
    response = lan.post(f"/pieces/{piece}/submit", data={"csrf": csrf_of(lan.get(f"/pieces/{piece}").text)})
    assert response.status_code == 409
    assert _form_error(response.text) == (f"Bài số {piece} đang ở trạng thái “chờ duyệt”; chỉ gửi duyệt được "
                                          "bài nháp hoặc bài bị trả lại")


def test_a_wrong_password_keeps_the_name_typed(web):
    client = web.client()
    page = client.get("/login")
    response = client.post("/login", data={"name": "lan", "password": "sai", "csrf": csrf_of(page.text)})
    assert response.status_code == 401
    assert 'name="name" autocomplete="username" required autofocus value="lan"' in response.text


ODD = ("", " ", "abc", "-1", "99999999999999999999", "31/12/99999", "2026-02-30", "\u0000", "x" * 5000,
       "<script>alert(1)</script>", "../../etc/passwd")


def test_odd_values_in_every_form_field_are_refused_with_a_4xx_never_a_500(web):
    piece = web.piece(submitted=True, author="mai")
    admin = web.client("quan-tri")
    token = csrf_of(admin.get("/account").text)
    forms = {
        "/pieces/new": ("title", "body", "campaign", "channels", "valid_from", "valid_until", "priority"),
        f"/pieces/{piece}/edit": ("title", "valid_from", "valid_until", "priority", "channels"),
        f"/pieces/{piece}/reject": ("note",),
        f"/pieces/{piece}/upload": ("kind",),
        "/users": ("name", "role", "stations"),
        f"/users/{web.ids['lan']}": ("role", "stations"),
        "/account/password": ("current", "password", "repeated"),
        "/account/tokens": ("name",),
        "/calendar/airings/999999/move": ("delivery",),
    }
    base = {"title": "Tin", "body": "Nội dung", "channels": "board", "priority": "5", "role": "editor",
            "name": "moi", "note": "lý do", "kind": "image", "current": "x", "password": "mat-khau-dai-du",
            "repeated": "mat-khau-dai-du"}
    anonymous = web.client()
    for value in ODD:  # the login form too, where the name is written to the audit log
        response = anonymous.post("/login", data={"csrf": csrf_of(anonymous.get("/login").text), "name": value,
                                                  "password": value})
        assert response.status_code == 401, value
    for path, fields in forms.items():
        for field in fields:
            for value in ODD:
                response = admin.post(path, data={**base, "csrf": token, field: value})
                assert response.status_code < 500, (path, field, value)
                assert "Traceback" not in response.text
