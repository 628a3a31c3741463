"""Issue 20, "a stolen device can be disabled from the devices page": an admin makes a one-time enrolment code on
the Thiết bị page (shown once, with its local expiry and the command to type on the device), sees the enrolled
edge devices and disables one after a confirmation page — its next API call gets 401. Editors and admins of
another centre can do neither (403/404), and nothing is changed or audited then."""

from __future__ import annotations

import re
from datetime import timedelta

from centres_support import PASSWORD as TREE_PASSWORD
from fastapi.testclient import TestClient
from sqlalchemy import select

from content.db import unit_of_work
from content.models import AuditEvent
from loa.edge import protocol
from loa.web import create_app
from scheduler.devices import edges
from scheduler.models import EdgeDevice

from servers.web import csrf_of


def _fleet_audit(services) -> list[tuple[str, str]]:
    with unit_of_work(services.sessions) as session:
        fleet = AuditEvent.action.in_(("edge.enrol_code", "edge.revoke"))
        return [(e.action, e.actor) for e in session.scalars(select(AuditEvent).where(fleet).order_by(AuditEvent.id))]


def _signed_pull(services, client, device: dict):
    headers = {"Authorization": f"Bearer {device['token']}",
               **protocol.sign_request(device["key"], "GET", "/api/edge/schedule?days=2", b"",
                                       int(services.now().timestamp()))}
    return client.get("/api/edge/schedule?days=2", headers=headers)


def _code_from(html: str) -> str:
    match = re.search(r'<strong class="code">([0-9a-f-]+)</strong>', html)
    assert match, "no code shown"
    return match[1]


def test_an_admin_makes_a_code_on_the_page_and_disables_the_enrolled_device_which_then_gets_401(web):
    admin = web.client("quan-tri")
    page = admin.get("/devices")
    assert page.status_code == 200 and 'id="edge-fleet"' in page.text
    assert "Chưa có thiết bị nào được đăng ký." in page.text
    made = admin.post("/devices/enrol-code", data={"target": "99001/loudspeaker", "hours": "48",
                                                    "csrf": csrf_of(page.text)})
    assert made.status_code == 200, made.text
    assert made.headers["cache-control"] == "no-store"
    code = _code_from(made.text)
    until = (web.services.now().astimezone(web.services.settings.zone) + timedelta(hours=48)).strftime("%d/%m/%Y %H:%M")
    assert f"dùng được đến {until}" in made.text and "Mã chỉ hiện một lần này." in made.text
    assert f"loa edge enrol --server http://testserver --code {code}" in made.text
    assert code not in admin.get("/devices").text  # shown once

    api = web.client()
    enrolled = api.post("/api/edge/enrol", json={"code": code, "name": "loa-cho-xa"})
    assert enrolled.status_code == 200 and enrolled.json()["station"] == "99001"
    device = enrolled.json()
    assert _signed_pull(web.services, api, device).status_code == 200

    listed = admin.get("/devices")
    row = re.search(rf'<tr data-edge="{device["device_id"]}">.*?</tr>', listed.text, re.S)
    assert row and "loa-cho-xa" in row[0] and "đang hoạt động" in row[0] and "Vô hiệu hoá" in row[0]
    confirm = admin.get(f"/devices/edge/{device['device_id']}/revoke")
    assert confirm.status_code == 200 and "Xác nhận: vô hiệu hoá thiết bị này" in confirm.text
    assert _signed_pull(web.services, api, device).status_code == 200  # the confirmation page changes nothing

    forged = admin.post(f"/devices/edge/{device['device_id']}/revoke", data={"csrf": "not-the-token"})
    assert forged.status_code == 403 and _signed_pull(web.services, api, device).status_code == 200

    done = admin.post(f"/devices/edge/{device['device_id']}/revoke", data={"csrf": csrf_of(confirm.text)})
    assert done.status_code == 303
    refused = _signed_pull(web.services, api, device)
    assert refused.status_code == 401 and refused.json()["error"] == "unknown or revoked device"
    after = admin.get(done.headers["location"])
    assert "Đã vô hiệu hoá thiết bị loa-cho-xa" in after.text
    row = re.search(rf'<tr data-edge="{device["device_id"]}">.*?</tr>', after.text, re.S)
    assert row and "đã vô hiệu hoá lúc" in row[0] and "Vô hiệu hoá</a>" not in row[0]
    assert _fleet_audit(web.services) == [("edge.enrol_code", "quan-tri"), ("edge.revoke", "quan-tri")]


def test_a_bad_enrolment_form_is_answered_in_vietnamese_beside_its_field_and_makes_no_code(web):
    admin = web.client("quan-tri")
    csrf = csrf_of(admin.get("/devices").text)
    for hours in ("abc", "0", "721", ""):
        bad = admin.post("/devices/enrol-code", data={"target": "99001/loudspeaker", "hours": hours, "csrf": csrf})
        assert bad.status_code == 400
        assert 'id="error-hours"' in bad.text and "thời hạn của mã phải là số giờ nguyên từ 1 đến 720" in bad.text
        assert 'class="code"' not in bad.text
    no_target = admin.post("/devices/enrol-code", data={"target": "", "hours": "48", "csrf": csrf})
    assert no_target.status_code == 400 and "hãy chọn xã và kênh phát mà thiết bị phục vụ" in no_target.text
    assert _fleet_audit(web.services) == []


def _device(services, station: str) -> int:
    with unit_of_work(services.sessions) as session:
        code = edges.make_enrolment_code(session, station=station, outlet="loudspeaker", actor="system",
                                         now=services.now())[1]
        return edges.enrol(session, code=code, name=f"may-{station}", install_secret="s", now=services.now()).device.id


def _unrevoked(services) -> set[int]:
    with unit_of_work(services.sessions) as session:
        return set(session.scalars(select(EdgeDevice.id).where(EdgeDevice.revoked_at.is_(None))))


def test_an_editor_can_neither_enrol_nor_disable(web):
    device = _device(web.services, "99001")
    before = _fleet_audit(web.services)
    editor = web.client("lan")
    page = editor.get("/devices")
    assert page.status_code == 200 and 'id="edge-fleet"' not in page.text
    csrf = csrf_of(page.text)
    assert editor.post("/devices/enrol-code", data={"target": "99001/loudspeaker", "hours": "48",
                                                     "csrf": csrf}).status_code == 403
    assert editor.get(f"/devices/edge/{device}/revoke").status_code == 403
    assert editor.post(f"/devices/edge/{device}/revoke", data={"csrf": csrf}).status_code == 403
    assert _unrevoked(web.services) == {device} and _fleet_audit(web.services) == before


def _client(app, name: str) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    page = client.get("/login")
    answer = client.post("/login", data={"name": name, "password": TREE_PASSWORD, "csrf": csrf_of(page.text)})
    assert answer.status_code == 303, answer.text
    return client


def test_an_admin_of_another_district_neither_sees_nor_enrols_nor_disables_its_devices(centre_tree):
    services = centre_tree.services
    ours, theirs = _device(services, "99011"), _device(services, "99021")  # DONG's Tân Lập, TAY's Phú Xuân
    before = _fleet_audit(services)
    app = create_app(services)
    dong = _client(app, "qt-DONG")
    page = dong.get("/devices")
    assert f'data-edge="{ours}"' in page.text and f'data-edge="{theirs}"' not in page.text
    assert 'value="99021/loudspeaker"' not in page.text
    csrf = csrf_of(page.text)
    assert dong.post("/devices/enrol-code", data={"target": "99021/loudspeaker", "hours": "48",
                                                   "csrf": csrf}).status_code == 404
    assert dong.get(f"/devices/edge/{theirs}/revoke").status_code == 404
    assert dong.post(f"/devices/edge/{theirs}/revoke", data={"csrf": csrf}).status_code == 404
    assert _unrevoked(services) == {ours, theirs} and _fleet_audit(services) == before
    province = _client(app, "qt-TINH")
    assert f'data-edge="{theirs}"' in province.get("/devices").text
    assert province.post(f"/devices/edge/{theirs}/revoke", data={"csrf": csrf_of(province.get("/devices").text)}
                         ).status_code == 303
    assert _unrevoked(services) == {ours}


def _fits(page, where: str) -> None:
    """No sideways scroll, and every visible button and field of the page lies within the 360 px screen."""
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, where
    outside = page.evaluate("""() => [...document.querySelectorAll(
            'main button, main .button, main input:not([type=hidden]), main select, main pre, main .code')]
        .filter(e => e.offsetParent !== null)
        .filter(e => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > 360.5; })
        .map(e => e.textContent.trim() || e.name || e.tagName)""")
    assert not outside, f"{where}: off screen: {outside}"


def test_on_a_phone_an_admin_makes_a_code_and_disables_a_device(web, server):
    from playwright.sync_api import expect

    from servers.browser import SHOTS, chromium
    from servers.web import PASSWORD

    device = _device(web.services, "99001")
    with chromium() as browser:
        page = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN").new_page()
        page.goto(f"{server}/login")
        page.get_by_label("Tên đăng nhập").fill("quan-tri")
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.goto(f"{server}/devices")
        _fits(page, "/devices")
        page.get_by_label("Mã dùng được trong (giờ)").fill("abc")
        page.get_by_role("button", name="Tạo mã đăng ký thiết bị").click()
        expect(page.locator("#error-hours")).to_contain_text("thời hạn của mã phải là số giờ nguyên")
        _fits(page, "/devices refused form")
        page.get_by_label("Mã dùng được trong (giờ)").fill("24")
        page.get_by_role("button", name="Tạo mã đăng ký thiết bị").click()
        expect(page.locator("#enrol-command")).to_contain_text(f"loa edge enrol --server {server} --code ")
        _fits(page, "/devices code shown")
        (SHOTS / "devices").mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "devices" / "phone-enrol-code.png"), full_page=True)
        page.locator(f'tr[data-edge="{device}"]').get_by_role("link", name="Vô hiệu hoá").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Vô hiệu hoá thiết bị")
        _fits(page, "confirmation")
        page.get_by_role("button", name="Xác nhận: vô hiệu hoá thiết bị này").click()
        expect(page.locator(f'tr[data-edge="{device}"]')).to_contain_text("đã vô hiệu hoá lúc")
        expect(page.locator("#disabled-note")).to_contain_text("Đã vô hiệu hoá thiết bị may-99001")
        _fits(page, "/devices after disabling")
        page.screenshot(path=str(SHOTS / "devices" / "phone-disabled.png"), full_page=True)
    assert _unrevoked(web.services) == set()
