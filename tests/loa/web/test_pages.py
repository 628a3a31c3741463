"""The editors' pages through the real app: logging in, writing and reviewing a piece, the calendar, deliveries."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from content.db import unit_of_work
from content.models import AuditEvent, Piece, Revision
from scheduler.models import Airing, Delivery

from servers.web import csrf_of, seen_of


def _post(client, path: str, data: dict, page: str = "/account"):
    return client.post(path, data={"csrf": csrf_of(client.get(page).text), **data})


def test_login_page_is_vietnamese_and_a_wrong_password_is_refused_and_audited(web):
    client = web.client()
    page = client.get("/login")
    assert "Đăng nhập" in page.text and "Mật khẩu" in page.text
    response = client.post("/login", data={"name": "lan", "password": "sai-mat-khau", "csrf": csrf_of(page.text)})
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.text
    assert client.get("/pieces").status_code == 303
    with unit_of_work(web.services.sessions) as session:
        actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions[-1] == "user.login_failed"


def test_login_goes_back_to_the_page_asked_for_but_never_to_another_site(web):
    client = web.client()
    assert client.get("/calendar").headers["location"] == "/login?next=/calendar"
    for wanted, landing in (("/calendar", "/calendar"), ("//evil.example/x", "/"), ("https://evil.example", "/")):
        page = client.get(f"/login?next={wanted}")
        response = client.post("/login", data={"name": "lan", "password": "mat-khau-du-dai",
                                               "csrf": csrf_of(page.text), "next": wanted})
        assert response.headers["location"] == landing


def test_logout_ends_the_session(web):
    client = web.client("lan")
    assert client.get("/pieces").status_code == 200
    assert _post(client, "/logout", {}).status_code == 303
    assert client.get("/pieces").status_code == 303


def test_editor_writes_and_submits_then_another_approver_approves_with_a_note(web):
    lan = web.client("lan")
    response = _post(lan, "/pieces/new", {
        "title": "Lịch tiêm chủng tháng 12", "body": "Trạm y tế xã tiêm chủng vào sáng thứ Bảy.",
        "campaign": "guong-dien-hinh", "channels": ["loudspeaker", "board"], "valid_until": "31/12/2026",
        "priority": "3"}, page="/pieces/new")
    assert response.status_code == 303
    piece_url = response.headers["location"]
    page = lan.get(piece_url).text
    assert "Lịch tiêm chủng tháng 12" in page and "bản nháp" in page and "31/12/2026" in page
    assert "/approve" not in page  # an editor sees no approve button
    assert _post(lan, f"{piece_url}/submit", {}, page=piece_url).status_code == 303
    hung = web.client("hung")
    review = hung.get(piece_url).text
    assert "chờ duyệt" in review and f'action="{piece_url}/approve"' in review
    assert '<audio id="speech"' in review
    assert _post(hung, f"{piece_url}/approve", {"note": "Đạt", **seen_of(review)}, page=piece_url).status_code == 303
    page = hung.get(piece_url).text
    assert "đã duyệt" in page and "Đạt" in page
    with unit_of_work(web.services.sessions) as session:
        piece = session.get(Piece, int(piece_url.rsplit("/", 1)[1]))
        assert piece.state == "approved" and piece.approved_revision.valid_until is not None
        # 31/12/2026 typed in the form means the whole of that day in the configured zone: until the midnight
        # that closes it, as on the command line
        local = piece.approved_revision.valid_until.astimezone(web.services.settings.zone)
        assert (local.year, local.month, local.day, local.hour, local.minute) == (2027, 1, 1, 0, 0)


def test_a_bad_form_names_the_field_and_stores_nothing(web):
    lan = web.client("lan")
    response = _post(lan, "/pieces/new", {"title": "Tin", "body": "Nội dung", "channels": "board",
                                          "valid_from": "32/13/2026"}, page="/pieces/new")
    assert response.status_code == 400
    assert "valid_from" in response.text and "31/12/2026" in response.text
    with unit_of_work(web.services.sessions) as session:
        assert session.scalar(select(Piece)) is None


def test_review_shows_a_diff_against_the_last_approved_revision(web):
    piece = web.piece(approved=True, body="Họp dân lúc 8 giờ sáng Chủ nhật.")
    lan = web.client("lan")
    form = {"title": "Thông báo tiêm chủng", "body": "Họp dân lúc 9 giờ sáng Chủ nhật.", "channels":
            ["loudspeaker", "board", "portal"], "campaign": "guong-dien-hinh", "priority": "5"}
    assert _post(lan, f"/pieces/{piece}/edit", form, page=f"/pieces/{piece}/edit").status_code == 303
    page = lan.get(f"/pieces/{piece}").text
    assert "Thay đổi so với bản đã duyệt" in page
    # the changed word is marked on both lines; the campaign reads by its name, never its code
    assert "<del>8</del>" in page and "<ins>9</ins>" in page
    assert "Gương điển hình trong học tập, khuyến học" in page and "guong-dien-hinh" not in page
    assert "bản đã duyệt: 1" in page


def test_english_is_one_click_away_and_dates_stay_day_first(web):
    web.piece()
    client = web.client("lan")
    response = client.get("/lang/en?next=/pieces")
    assert response.headers["location"] == "/pieces"
    page = client.get("/pieces").text
    assert "New piece" in page and "draft" in page and "Tin bài mới" not in page
    assert "23/11/2026" in page


def _planned(web):
    piece = web.piece(approved=True)
    web.services.plan(days=7)
    with unit_of_work(web.services.sessions) as session:
        airing = session.scalar(select(Airing).join(Delivery).where(Delivery.outlet == "loudspeaker")
                                .order_by(Delivery.start_at))
        return piece, airing.id, airing.delivery_id, airing.delivery.station.code


def test_calendar_shows_the_placed_piece_with_totals_and_targets(web):
    _planned(web)
    page = web.client("lan").get("/calendar?week=2026-11-23").text
    assert "Thông báo tiêm chủng" in page
    assert "T2 23/11" in page and "CN 29/11" in page
    assert "Gương điển hình trong học tập, khuyến học" in page and ("✓" in page or "✗" in page)
    assert "guong-dien-hinh" not in page and "Bản tin sáng" in page and ">sang<" not in page
    assert "/30:00" in page  # a 30-minute loudspeaker slot shows its planned total against its length


def test_pin_remove_restore_and_move_from_the_calendar_menu_and_refusals_in_vietnamese(web):
    piece, airing, _, station = _planned(web)
    lan = web.client("lan")  # an editor may pin and move, as on the command line
    week = f"/calendar?week=2026-11-23&station={station}"
    page = lan.get(week).text
    assert page.count('<details class="menu">') >= 7  # each item's actions behind one small menu
    assert _post(lan, f"/calendar/airings/{airing}/pin", {"pinned": "1"}, page=week).status_code == 303
    assert f'class="pinned" data-airing="{airing}"' in lan.get(week).text
    assert _post(lan, f"/calendar/airings/{airing}/remove", {}, page=week).status_code == 303
    page = lan.get(week).text
    assert f'data-airing="{airing}"' not in page and f'data-removed="{airing}"' in page
    assert f'action="/calendar/airings/{airing}/restore"' in page  # undo for a removal
    assert _post(lan, f"/calendar/airings/{airing}/restore", {}, page=week).status_code == 303
    assert f'data-airing="{airing}"' in lan.get(week).text
    # the move offers only programs that take the piece: here the piece is in every program of the row
    assert "Tuần này không còn chương trình nào khác nhận được bài này" in lan.get(week).text
    with unit_of_work(web.services.sessions) as session:
        source = session.get(Airing, airing).delivery
        second = session.scalar(select(Airing).join(Delivery).where(
            Airing.piece_id == piece, Airing.removed.is_(False), Airing.delivery_id != source.id,
            Delivery.station_id == source.station_id, Delivery.outlet == source.outlet))
        freed = second.delivery_id
    assert _post(lan, f"/calendar/airings/{second.id}/remove", {}, page=week).status_code == 303
    menu = re.search(rf'data-airing="{airing}".*?</details>', lan.get(week).text, re.S)[0]
    offered = set(re.findall(r'<option value="([^"]+)"', menu))
    assert offered == {freed}  # the one program of this station and outlet without the piece
    target = sorted(offered)[0]
    assert _post(lan, f"/calendar/airings/{airing}/move", {"delivery": target}, page=week).status_code == 303
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Airing, airing).delivery_id == target
    # a stale page: the target was sent meanwhile; the refusal is Vietnamese and names no internal id
    with unit_of_work(web.services.sessions) as session:
        other = session.scalar(select(Airing).join(Delivery).where(
            Airing.removed.is_(False), Airing.delivery_id != target, Delivery.station_id == source.station_id,
            Delivery.outlet == source.outlet, Delivery.state == "pending"))
        session.get(Delivery, target).state = "delivered"
        other_id = other.id
    response = _post(lan, f"/calendar/airings/{other_id}/move", {"delivery": target}, page=week)
    assert response.status_code == 409  # the calendar again, with the refusal above it
    said = re.search(r'<p class="error" role="alert" id="form-error">(.*?)</p>', response.text)[1]
    assert "chỉ thay đổi được chương trình chưa gửi đi" in said and target not in said and "program" not in said
    response = _post(lan, f"/calendar/airings/{airing}/pin", {}, page=week)  # its program is now delivered
    assert response.status_code == 409 and "chưa gửi đi" in response.text
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Airing, other_id).delivery_id != target


def test_the_calendar_offers_no_move_to_a_day_the_piece_may_not_air_and_refuses_one_in_vietnamese(web):
    """Moves are offered only where the piece may air: not after its validity ends. The same rule refuses
    such a move (``scheduler.planning.editing.move_problem``), as ``loa airing move`` does."""
    piece, airing, _, station = _planned(web)
    until = datetime(2026, 11, 25, tzinfo=web.services.settings.zone)  # valid until 24/11 included
    with unit_of_work(web.services.sessions) as session:
        source = session.get(Airing, airing)
        session.execute(update(Revision).where(Revision.id == source.revision_id).values(valid_until=until))
        others = session.execute(select(Airing.id, Delivery.id, Delivery.start_at).join(Delivery).where(
            Airing.piece_id == piece, Airing.removed.is_(False), Airing.delivery_id != source.delivery_id,
            Delivery.station_id == source.delivery.station_id, Delivery.outlet == source.delivery.outlet)).all()
    lan = web.client("lan")
    week = f"/calendar?week=2026-11-23&station={station}"
    for other, *_ in others:  # every other program of the row is free for the piece
        assert _post(lan, f"/calendar/airings/{other}/remove", {}, page=week).status_code == 303
    valid = {program for _, program, start in others if start < until}
    late = {program for _, program, start in others if start >= until}
    assert valid and late
    menu = re.search(rf'data-airing="{airing}".*?</details>', lan.get(week).text, re.S)[0]
    assert set(re.findall(r'<option value="([^"]+)"', menu)) == valid
    response = _post(lan, f"/calendar/airings/{airing}/move", {"delivery": sorted(late)[0]}, page=week)
    assert response.status_code == 400
    said = re.search(r'<p class="error" role="alert" id="form-error">(.*?)</p>', response.text)[1]
    assert f"Bài số {piece} không phát được lúc" in said and "bài chỉ có hiệu lực đến 24/11/2026" in said
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Airing, airing).delivery_id not in late


def test_the_day_view_holds_the_days_programs_as_blocks_with_the_weeks_actions(web):
    piece, _, _, station = _planned(web)
    lan = web.client("lan")
    day = f"/calendar?day=24/11/2026&station={station}"  # written as the app writes days (ISO works too)
    page = lan.get(day).text
    assert "T3 24/11/2026" in page and "Bản tin sáng" in page and "/30:00" in page
    # previous and next day, and the week of that day, one click away
    assert f'href="/calendar?day=2026-11-23&amp;station={station}' in page
    assert f'href="/calendar?day=2026-11-25&amp;station={station}' in page
    assert f'href="/calendar?week=2026-11-23&amp;station={station}&amp;outlet=">Tuần</a>' in page
    assert f'href="/calendar?day=2026-11-24&amp;station={station}&amp;outlet=" aria-current="page">Ngày</a>' in page
    # the same programs and items as the calendar's JSON for that station and day
    api = lan.get("/api/schedule", params={"station": station, "days": 3}, headers=web.token("lan")).json()
    zone = web.services.settings.zone
    wanted = [p for p in api if datetime.fromisoformat(p["start_at"]).astimezone(zone).date() == date(2026, 11, 24)]
    assert wanted and sorted(re.findall(r'data-delivery="([^"]+)"', page)) == sorted(p["delivery"] for p in wanted)
    items = sorted(str(i["airing"]) for p in wanted for i in p["items"])
    assert sorted(re.findall(r'<li class="[^"]*" data-airing="(\d+)"', page)) == items
    assert page.count('<details class="menu">') == len(items)  # each item's actions behind one menu
    # the week links each day to its day view
    week = lan.get(f"/calendar?week=2026-11-23&station={station}").text
    assert f'href="/calendar?day=2026-11-24&amp;station={station}' in week
    # remove and restore from the day view come back to it
    on_day = next(i for p in wanted for i in p["items"] if i["piece"] == piece)["airing"]
    back = {"referer": f"http://testserver{day}"}
    answer = lan.post(f"/calendar/airings/{on_day}/remove", data={"csrf": csrf_of(page)}, headers=back)
    assert answer.status_code == 303 and answer.headers["location"] == day
    page = lan.get(day).text
    assert f'data-removed="{on_day}"' in page and f'action="/calendar/airings/{on_day}/restore"' in page
    answer = lan.post(f"/calendar/airings/{on_day}/restore", data={"csrf": csrf_of(page)}, headers=back)
    assert answer.status_code == 303 and f'data-airing="{on_day}"' in lan.get(day).text
    assert lan.get("/calendar?day=31/02/2026").status_code == 400  # a day that does not exist is named


def test_a_dead_delivery_is_listed_as_needing_action_and_can_be_retried(web):
    _, _, delivery, _ = _planned(web)
    with unit_of_work(web.services.sessions) as session:
        row = session.get(Delivery, delivery)
        row.state, row.last_error, row.attempts = "dead", "HTTP 500 from the gateway", 5
        row.start_at = web.services.now() - timedelta(hours=1)
    hung = web.client("hung")
    today = hung.get("/").text
    assert "Cần xử lý" in today and "HTTP 500 from the gateway" in today and "Gửi không thành" in today
    page = hung.get(f"/deliveries/{delivery}").text
    assert "gửi hỏng" in page and "Gửi lại" in page
    assert _post(hung, f"/deliveries/{delivery}/retry", {}, page=f"/deliveries/{delivery}").status_code == 303
    assert "chờ gửi" in hung.get(f"/deliveries/{delivery}").text
    assert _post(hung, f"/deliveries/{delivery}/retry", {}).status_code == 409  # pending: nothing to retry
    with unit_of_work(web.services.sessions) as session:
        assert session.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"delivery:{delivery}")) \
            .all() == ["delivery.retry"]


def test_uploads_are_checked_and_a_path_in_the_name_goes_nowhere(web, tmp_path):
    import io

    from PIL import Image

    piece = web.piece()
    lan = web.client("lan")
    token = csrf_of(lan.get(f"/pieces/{piece}").text)
    png = io.BytesIO()
    Image.new("RGBA", (40, 30), (200, 30, 30, 128)).save(png, "PNG")
    response = lan.post(f"/pieces/{piece}/upload", data={"csrf": token, "kind": "image"},
                        files={"file": ("../../../etc/evil.png", png.getvalue(), "image/png")})
    assert response.status_code == 303
    stored = list(web.services.settings.media_dir.rglob("*.png"))
    assert len(stored) == 1 and stored[0].is_relative_to(web.services.settings.media_dir)
    assert not (tmp_path / "etc").exists()
    response = lan.post(f"/pieces/{piece}/upload", data={"csrf": token, "kind": "image"},
                        files={"file": ("photo.png", b"not an image at all", "image/png")})
    assert response.status_code == 400 and "photo.png: Tệp này không phải ảnh" in response.text
    response = lan.post(f"/pieces/{piece}/upload", data={"csrf": token, "kind": "audio"},
                        files={"file": ("tin.mp3", b"ID3 but not really audio", "audio/mpeg")})
    assert response.status_code == 400 and "tin.mp3: đây không phải bản ghi âm loa phát được" in response.text


def test_the_speech_preview_is_an_mp3(web):
    piece = web.piece()
    client = web.client("lan")
    with unit_of_work(web.services.sessions) as session:
        revision = session.get(Piece, piece).current_revision_id
    response = client.get(f"/previews/speech/{revision}.mp3")
    assert response.status_code == 200 and response.headers["content-type"] == "audio/mpeg"
    assert response.content[:3] == b"ID3" or response.content[:2] == b"\xff\xfb"
    preview = client.get(f"/previews/revision/{revision}").text
    assert "Mời bà con đưa trẻ đi tiêm chủng" in preview and "Trang bảng tin" in preview


def test_icalendar_subscription_lists_the_users_programs(web):
    _planned(web)
    client = web.client("xa-khac")
    page = client.get("/account").text
    link = page.split('id="ical"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert link.startswith("http://testserver/ical/")  # the address the request came to, not 127.0.0.1
    path = link.removeprefix("http://testserver")
    response = web.client().get(path)  # calendar apps cannot log in: the signed address is the key
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    from icalendar import Calendar

    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert events and all("Phú Xuân" in str(e["summary"]) for e in events)
    summaries = {str(e["summary"]) for e in events}  # names, never the codes sang/loudspeaker
    assert any(s.startswith("Bản tin sáng · ") and s.endswith("· loa truyền thanh") for s in summaries), summaries
    assert not any("loudspeaker" in s or "sang ·" in s for s in summaries)
    assert web.client().get(path.replace(".ics", "x.ics")).status_code == 404


def test_api_tokens_are_shown_once_and_can_be_revoked(web):
    client = web.client("lan")
    assert _post(client, "/account/tokens", {"name": "cổng tỉnh"}).status_code == 303
    page = client.get("/account").text
    token = page.split('id="new-token">', 1)[1].split("<", 1)[0]
    assert "new-token" not in client.get("/account").text
    api = web.client()
    assert api.get("/api/pieces", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    token_id = page.split("/account/tokens/", 1)[1].split("/", 1)[0]
    # revoking asks first (static/loa.js asks the question of a form's data-confirm before it is sent)
    assert (f'action="/account/tokens/{token_id}/revoke" class="inline" data-confirm="Thu hồi mã “cổng tỉnh”? Hệ '
            'thống đang dùng mã này sẽ không kết nối được với loa nữa."') in page
    assert _post(client, f"/account/tokens/{token_id}/revoke", {}).status_code == 303
    assert api.get("/api/pieces", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_text_typed_by_editors_is_shown_as_text_never_run_as_html(web):
    piece = web.piece(title="<script>alert('x')</script> Họp dân", body="<img src=x onerror=alert(1)> nội dung")
    client = web.client("hung")
    for path in ("/pieces", f"/pieces/{piece}"):
        page = client.get(path).text
        assert "<script>alert(" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in client.get(f"/pieces/{piece}").text


def test_a_board_rotation_pushed_again_shows_which_delivery_superseded_it(web):
    web.piece(approved=True)
    web.services.plan(days=1)
    with unit_of_work(web.services.sessions) as session:
        board = session.scalar(select(Delivery).join(Delivery.station).where(Delivery.outlet == "board")
                               .order_by(Delivery.station_id))
        board.state, old = "delivered", board.id  # the morning push went out
    web.piece("Lịch trực ban của Ủy ban xã", approved=True)
    assert web.services.plan(days=1).deliveries_superseded == 1  # the two not yet pushed are simply re-planned
    with unit_of_work(web.services.sessions) as session:
        new = session.scalar(select(Delivery.id).where(Delivery.replaces == old))
    hung = web.client("hung")
    page = hung.get(f"/deliveries/{old}").text
    assert "Được thay bằng bản mới lúc" in page and f'href="/deliveries/{new}"' in page
    assert "Gửi lại" not in page
    assert f'href="/deliveries/{old}"' in hung.get(f"/deliveries/{new}").text
    listed = hung.get("/deliveries?state=superseded").text
    assert f"/deliveries/{old}" in listed and f"/deliveries/{new}" not in listed
    assert "đã được thay bằng bản mới" in listed


def test_the_calendar_reorders_a_program_keeping_priority_items_first(web):
    """"Phát sớm hơn" / "Phát muộn hơn" swap an item with a neighbour of its own kind; a priority item (Circular
    39/2020: aired first) is never offered a place after a normal one, and such a request is refused in the form."""
    storm = web.piece("Bão số 5 đổ bộ", approved=True, body="Bà con không ra khơi.", level="priority")
    first = web.piece("Lịch tiêm chủng", approved=True)
    second = web.piece("Thu gom rác", approved=True, body="Xe rác đi qua các thôn chiều thứ Năm.")
    web.services.plan(days=2)
    with unit_of_work(web.services.sessions) as session:
        program = session.scalar(select(Delivery).where(Delivery.outlet == "loudspeaker").order_by(Delivery.start_at))
        airings = {a.piece_id: a.id for a in program.airings}
        station, order = program.station.code, [a.piece_id for a in program.airings]
    assert order[0] == storm and set(order) == {storm, first, second}
    lan = web.client("lan")
    day = f"/calendar?day=2026-11-23&station={station}"
    page = lan.get(day).text

    def offered(piece: int) -> set[str]:
        menu = re.search(rf'data-airing="{airings[piece]}".*?</details>', page, re.S)[0]
        return set(re.findall(r'name="direction" value="(up|down)"', menu))

    assert re.search(rf'data-airing="{airings[storm]}">.*?class="level level-priority">Ưu tiên<', page, re.S)
    assert offered(storm) == set() and offered(order[1]) == {"down"} and offered(order[2]) == {"up"}
    assert _post(lan, f"/calendar/airings/{airings[order[2]]}/order", {"direction": "up"}, page=day).status_code == 303
    refused = _post(lan, f"/calendar/airings/{airings[storm]}/order", {"direction": "down"}, page=day)
    assert refused.status_code == 400
    said = re.search(r'<p class="error" role="alert" id="form-error">(.*?)</p>', refused.text)[1]
    assert "Bản tin ưu tiên luôn phát trước" in said
    with unit_of_work(web.services.sessions) as session:
        kept = session.get(Delivery, program.id)
        assert [a.piece_id for a in kept.airings if not a.removed] == [storm, order[2], order[1]]
        assert all(a.pinned for a in kept.airings)
