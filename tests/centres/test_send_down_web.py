"""Issue 19 in the browser's pages and the JSON API: "Gửi xuống" on an approved piece, the inbox "Bản tin cấp trên" in
the menu, accept or decline (a reason, shown beside its field when missing), the status per centre and commune,
an emergency shown once more before it goes, and the same through ``/api``."""

from __future__ import annotations

import re

from centres_support import PASSWORD
from fastapi.testclient import TestClient
from sqlalchemy import select

from content import pieces
from content.accounts import create_token
from content.bulletin_models import Bulletin
from content.db import unit_of_work
from content.models import User
from loa.web import create_app
from scheduler.models import Emergency

from servers.web import csrf_of

TITLE = "Phòng chống dịch sốt xuất huyết"
BODY = "Bà con thực hiện diệt lăng quăng, bọ gậy, phát quang bụi rậm quanh nhà mỗi tuần."


def _client(app, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf": csrf_of(page.text)})
    assert answer.status_code == 303, answer.text
    return client


def _approved(tree) -> int:
    with unit_of_work(tree.services.sessions) as session:
        editor = session.scalar(select(User).where(User.name == "bt-TINH"))
        approver = session.scalar(select(User).where(User.name == "dd-TINH"))
        piece = pieces.add_piece(session, pieces.PieceContent(TITLE, BODY, channels=("loudspeaker",)),
                                 author=editor, now=tree.services.now())
        pieces.submit(session, piece.id, actor=editor, now=tree.services.now())
        pieces.approve(session, piece.id, actor=approver, now=tree.services.now())
        return piece.id


def _token(tree, name: str) -> dict[str, str]:
    with unit_of_work(tree.services.sessions) as session:
        user = session.scalar(select(User).where(User.name == name))
        return {"Authorization": f"Bearer {create_token(session, user, 'tests', now=tree.services.now())}"}


def test_send_down_accept_decline_and_follow_in_the_pages(centre_tree):
    app = create_app(centre_tree.services)
    piece = _approved(centre_tree)
    province = _client(app, "bt-TINH")
    page = province.get(f"/pieces/{piece}")
    assert f'href="/pieces/{piece}/send-down"' in page.text and "Gửi xuống" in page.text
    form = province.get(f"/pieces/{piece}/send-down")
    assert form.status_code == 200 and 'value="DONG"' in form.text and 'value="TANLAP"' in form.text
    assert 'value="TINH"' not in form.text  # not below itself
    empty = province.post(f"/pieces/{piece}/send-down", data={"level": "normal", "csrf": csrf_of(form.text)})
    assert empty.status_code == 400 and 'id="error-to"' in empty.text
    sent = province.post(f"/pieces/{piece}/send-down", data={"to": ["DONG"], "level": "normal",
                                                             "note": "Phát trong tuần", "csrf": csrf_of(form.text)})
    assert sent.status_code == 303
    location = sent.headers["location"]

    commune = _client(app, "bt-HOABINH")
    home = commune.get("/")
    assert 'href="/bulletins"' in home.text and "Bản tin cấp trên" in home.text
    inbox = commune.get("/bulletins")
    assert TITLE in inbox.text and "đã nhận" in inbox.text
    detail = commune.get(location)
    assert 'id="accept-form"' in detail.text and 'id="decline-form"' in detail.text and BODY in detail.text
    missing = commune.post(f"{location}/decline", data={"reason": "", "csrf": csrf_of(detail.text)})
    assert missing.status_code == 400 and 'id="error-reason"' in missing.text
    declined = commune.post(f"{location}/decline", data={"reason": "Xã vừa phát tin này", "csrf": csrf_of(detail.text)})
    assert declined.status_code == 303
    assert "từ chối" in commune.get(location).text

    other = _client(app, "bt-TANLAP")
    detail = other.get(location)
    assert other.post(f"{location}/accept", data={"programs": "", "csrf": csrf_of(detail.text)}).status_code == 303

    status = province.get(location)
    assert 'id="centres"' in status.text and 'id="communes"' in status.text
    assert "Xã vừa phát tin này" in status.text and "đã tiếp nhận" in status.text
    headers = re.findall(r"<th>([^<]+)</th>", status.text.split('id="centres"')[1].split("</thead>")[0])
    assert headers[1:] == ["Đã nhận", "Đã tiếp nhận", "Đã phát", "Từ chối"]  # received and taken in told apart
    assert 'name="viewport"' in status.text  # phone-first, as every page


def test_an_emergency_is_shown_once_more_before_it_goes(centre_tree):
    app = create_app(centre_tree.services)
    piece = _approved(centre_tree)
    approver = _client(app, "dd-TINH")
    form = approver.get(f"/pieces/{piece}/send-down")
    asked = approver.post(f"/pieces/{piece}/send-down",
                          data={"to": ["TAY"], "level": "emergency", "csrf": csrf_of(form.text)})
    assert asked.status_code == 200 and "99021" in asked.text and 'name="confirmed"' in asked.text
    with unit_of_work(centre_tree.services.sessions) as session:
        assert session.scalar(select(Emergency.id)) is None and session.scalar(select(Bulletin.id)) is None
    done = approver.post(f"/pieces/{piece}/send-down", data={"to": ["TAY"], "level": "emergency", "confirmed": "yes",
                                                             "csrf": csrf_of(asked.text)})
    assert done.status_code == 303
    with unit_of_work(centre_tree.services.sessions) as session:
        assert sorted(session.scalars(select(Emergency)).one().stations) == ["99021", "99022"]


def test_the_json_api_sends_lists_decides_and_reports(centre_tree):
    client = TestClient(create_app(centre_tree.services))
    piece = _approved(centre_tree)
    sent = client.post(f"/api/pieces/{piece}/send-down", json={"to": ["DONG", "TAY"], "level": "normal"},
                       headers=_token(centre_tree, "bt-TINH"))
    assert sent.status_code == 201, sent.text
    bulletin = sent.json()["id"]
    assert sent.json()["communes"] == ["ANTHAI", "HOABINH", "PHUXUAN", "TANLAP"]
    refused = client.post(f"/api/pieces/{piece}/send-down", json={"to": ["TAY"], "level": "emergency"},
                          headers=_token(centre_tree, "dd-TINH"))
    assert refused.status_code == 400 and "confirm" in refused.text

    inbox = client.get("/api/bulletins/inbox", headers=_token(centre_tree, "bt-PHUXUAN")).json()
    assert [(row["id"], row["title"], row["state"]) for row in inbox] == [(bulletin, TITLE, "received")]
    no_reason = client.post(f"/api/bulletins/{bulletin}/decline", json={"reason": " "},
                            headers=_token(centre_tree, "bt-PHUXUAN"))
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    assert client.post(f"/api/bulletins/{bulletin}/decline", json={"reason": "Không phù hợp"},
                       headers=_token(centre_tree, "bt-PHUXUAN")).json()["state"] == "declined"
    assert client.post(f"/api/bulletins/{bulletin}/accept", json={},
                       headers=_token(centre_tree, "bt-ANTHAI")).json()["state"] == "accepted"
    outsider = client.post(f"/api/bulletins/{bulletin}/accept", json={}, headers=_token(centre_tree, "bt-TAY"))
    assert outsider.status_code == 404

    status = client.get(f"/api/bulletins/{bulletin}/status", headers=_token(centre_tree, "bt-TINH")).json()
    assert {row["centre"]: (row["received"], row["accepted"], row["declined"]) for row in status["centres"]} == {
        "TINH": (4, 1, 1), "DONG": (2, 0, 0), "TAY": (2, 1, 1)}
    assert {row["centre"]: row["reason"] for row in status["communes"]}["PHUXUAN"] == "Không phù hợp"


def test_the_bulletin_pages_fit_a_phone(centre_tree):
    """At 360 px: the send-down form, the inbox and a bulletin's page (decisions and status) scroll only down."""
    from playwright.sync_api import expect

    from scheduler.bulletins import sending

    from servers.browser import chromium
    from servers.web import Served

    piece = _approved(centre_tree)
    with unit_of_work(centre_tree.services.sessions) as session:
        editor = session.scalar(select(User).where(User.name == "bt-TINH"))
        bulletin = sending.send(session, piece, ["DONG"], level="normal", actor=editor,
                                now=centre_tree.services.now()).id
    served = Served(create_app(centre_tree.services)).start()
    try:
        with chromium() as browser:
            for name, paths in (("bt-TINH", [f"/pieces/{piece}/send-down", f"/bulletins/{bulletin}", "/bulletins"]),
                                ("bt-TANLAP", ["/bulletins", f"/bulletins/{bulletin}"])):
                page = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
                page.goto(f"{served.url}/login")
                page.get_by_label("Tên đăng nhập").fill(name)
                page.get_by_label("Mật khẩu").fill(PASSWORD)
                page.get_by_role("button", name="Đăng nhập").click()
                expect(page.get_by_role("heading", level=1)).to_be_visible()
                for path in paths:
                    page.goto(served.url + path)
                    expect(page.get_by_role("heading", level=1)).to_be_visible()
                    width = page.evaluate("document.documentElement.scrollWidth")
                    assert width <= 360, f"{name} {path}: {width} px wide on a 360 px screen"
                    outside = page.evaluate("""() => [...document.querySelectorAll(
                        'main button, main input:not([type=hidden]), main select, main textarea')]
                        .filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect())
                        .filter(r => r.left < 0 || r.right > 360.5).length""")
                    assert outside == 0, f"{name} {path}: {outside} controls off screen"
                page.context.close()
    finally:
        served.stop()



def test_a_commune_reads_a_piece_sent_down_to_it_but_cannot_change_it(centre_tree):
    app = create_app(centre_tree.services)
    piece = _approved(centre_tree)
    commune = _client(app, "bt-TANLAP")
    assert commune.get(f"/pieces/{piece}").status_code in (403, 404)  # not sent down yet: the province's own
    province = _client(app, "bt-TINH")
    form = province.get(f"/pieces/{piece}/send-down")
    assert province.post(f"/pieces/{piece}/send-down", data={"to": ["TANLAP"], "level": "normal",
                                                             "csrf": csrf_of(form.text)}).status_code == 303
    assert TITLE in commune.get("/pieces").text
    page = commune.get(f"/pieces/{piece}")
    assert page.status_code == 200 and BODY in page.text
    assert f'action="/pieces/{piece}/retire"' not in page.text and f'href="/pieces/{piece}/edit"' not in page.text
    refused = commune.post(f"/pieces/{piece}/retire", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 403
    assert f'href="/pieces/{piece}/edit"' in province.get(f"/pieces/{piece}").text  # still the province's to edit
    assert _client(app, "bt-PHUXUAN").get(f"/pieces/{piece}").status_code in (403, 404)  # not sent there


def test_only_a_centre_with_centres_below_is_offered_to_send_down(centre_tree):
    app = create_app(centre_tree.services)
    with unit_of_work(centre_tree.services.sessions) as session:
        editor = session.scalar(select(User).where(User.name == "bt-TANLAP"))
        approver = session.scalar(select(User).where(User.name == "dd-TANLAP"))
        own = pieces.add_piece(session, pieces.PieceContent("Tin của xã", BODY, channels=("loudspeaker",)),
                               author=editor, now=centre_tree.services.now())
        pieces.submit(session, own.id, actor=editor, now=centre_tree.services.now())
        pieces.approve(session, own.id, actor=approver, now=centre_tree.services.now())
        own_id = own.id
    page = _client(app, "bt-TANLAP").get(f"/pieces/{own_id}")
    assert page.status_code == 200 and 'id="send-down"' not in page.text  # a commune has no centre below
