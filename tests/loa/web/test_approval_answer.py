"""After an approval the page and the API say when the piece will air per outlet, or why not, in Vietnamese."""

from __future__ import annotations

import re

from apscheduler.schedulers.background import BackgroundScheduler

from content.db import unit_of_work
from content.models import User
from content.pieces import PieceContent, add_piece, submit
from scheduler.live import LivePlanner
from scheduler.planning import triggers

from servers.web import csrf_of, seen_of


def _submitted(web, title: str, campaign: str | None, channels=("loudspeaker", "portal"), level="normal") -> int:
    services = web.services
    with unit_of_work(services.sessions) as session:
        writer = session.get(User, web.ids["lan"])
        piece = add_piece(session, PieceContent(title, "Mời bà con đến nhà văn hóa thôn dự họp.", campaign=campaign,
                                                channels=channels, level=level), author=writer, now=services.now())
        submit(session, piece.id, actor=writer, now=services.now())
        return piece.id


def _replan(services) -> None:
    """What the leader does with the waiting requests (here without waiting for the debounce)."""
    planner = LivePlanner(sessions=services.sessions, scheduler=BackgroundScheduler(), replan=services.plan_scope,
                          clock=services.now, offset=services.clock.offset)
    with unit_of_work(services.sessions) as session:
        planner.add([(r.id, triggers.Scope.of(r)) for r in triggers.waiting(session)])
    planner.run()


def test_the_api_says_scheduling_without_a_leader_then_the_page_names_times_and_communes(web):
    piece_id = _submitted(web, "Họp thôn cuối năm", "guong-dien-hinh")
    read = web.client().get(f"/api/pieces/{piece_id}", headers=web.token("hung")).json()
    answer = web.client().post(f"/api/review/{piece_id}/approve", headers=web.token("hung"),
                               json={"note": "", "revision_id": read["revision_id"], "sha256": read["sha256"]})
    assert answer.status_code == 200, answer.text
    airings = answer.json()["airings"]
    assert airings["status"] == "scheduling"
    assert "chưa có tiến trình lập lịch" in airings["message"]  # honest: nothing will plan it until serve runs

    _replan(web.services)
    page = web.client("mai").get(f"/pieces/{piece_id}").text
    assert "Lịch phát sắp tới" in page
    # Monday 23/11 08:00: the next loudspeaker program is today's 17:00.
    assert "Loa truyền thanh: sẽ phát lúc 17:00 hôm nay (23/11) tại 3 xã" in page
    # The portal time 07:30 today has passed but its article is not out yet: published late, at once.
    assert "Cổng thông tin: sẽ đăng ngay (khung 07:30 hôm nay (23/11) đã bắt đầu) tại 3 xã" in page


def test_a_piece_whose_campaign_is_off_is_told_why_it_will_not_air(web):
    piece_id = _submitted(web, "Tuần lễ học tập", "tuan-hoc-tap", channels=("loudspeaker",))  # 1–7 October only
    hung = web.client("hung")
    page = hung.get(f"/pieces/{piece_id}")
    assert hung.post(f"/pieces/{piece_id}/approve", data={"note": "", "csrf": csrf_of(page.text),
                                                            **seen_of(page.text)}).status_code == 303
    assert "Đang xếp lịch" in hung.get(f"/pieces/{piece_id}").text
    _replan(web.services)
    text = hung.get(f"/pieces/{piece_id}").text
    # The planner's reason said through the catalog, the same sentence `loa plan` prints (planner.po).
    assert re.search(r"Loa truyền thanh: không phát tại 3 xã — chiến dịch của bài không diễn ra từ "
                     r"\d\d/\d\d/2026 đến \d\d/\d\d/2026\.", text), text
    assert "sẽ phát lúc" not in text


def test_a_retired_piece_says_it_will_not_air_any_more(web):
    piece_id = web.piece("Thông báo cũ", approved=True)
    hung = web.client("hung")
    page = hung.get(f"/pieces/{piece_id}")
    assert hung.post(f"/pieces/{piece_id}/retire", data={"note": "", "csrf": csrf_of(page.text)}).status_code == 303
    assert "Bài đã bị thu hồi: không phát nữa." in hung.get(f"/pieces/{piece_id}").text


def _approve(web, piece_id: int):
    hung = web.client("hung")
    page = hung.get(f"/pieces/{piece_id}")
    assert hung.post(f"/pieces/{piece_id}/approve", data={"note": "", "csrf": csrf_of(page.text),
                                                            **seen_of(page.text)}).status_code == 303
    _replan(web.services)
    return hung


def test_a_priority_piece_is_said_to_lead_and_leads_the_next_programs(web):
    piece_id = _submitted(web, "Lịch cắt điện", None, level="priority")
    text = _approve(web, piece_id).get(f"/pieces/{piece_id}").text
    assert "Loa truyền thanh: sẽ phát lúc 17:00 hôm nay (23/11) tại 3 xã" in text
    assert "Bài ưu tiên: đứng đầu mọi chương trình mà bài còn hiệu lực, trên mọi kênh" in text
    schedule = web.client().get("/api/schedule?days=2", headers=web.token("hung")).json()
    holding = [p for p in schedule if any(item["piece"] == piece_id for item in p["items"])]
    assert {p["outlet"] for p in holding} == {"loudspeaker", "portal"}
    assert all(p["items"][0]["piece"] == piece_id for p in holding)


def test_an_emergency_piece_is_not_scheduled_and_says_it_goes_by_the_emergency_broadcast(web):
    piece_id = _submitted(web, "Lũ về sông Đà", None, level="emergency")
    text = _approve(web, piece_id).get(f"/pieces/{piece_id}").text
    assert "Bài khẩn cấp: gửi bằng phát khẩn cấp, không xếp lịch." in text
    assert "sẽ phát lúc" not in text
    schedule = web.client().get("/api/schedule?days=7", headers=web.token("hung")).json()
    assert not any(item["piece"] == piece_id for p in schedule for item in p["items"])
