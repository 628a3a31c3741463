"""Accounts in the browser, through HTTP with login and CSRF: the admin's user pages, one-time reset links,
a user's own password change, disabling; everything audited."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from sqlalchemy import select

from content.db import unit_of_work
from content.models import AuditEvent, User

from servers.web import PASSWORD, csrf_of


def _post(client, path: str, data: dict, page: str):
    return client.post(path, data={"csrf": csrf_of(client.get(page).text), **data})


def _field_error(html: str, name: str) -> str:
    match = re.search(rf'id="error-{re.escape(name)}"[^>]*>([^<]*)<', html)
    assert match, f"no error shown beside {name}"
    return unescape(match[1])


def _reset_link(html: str) -> str:
    match = re.search(r'<code id="reset-link">http://testserver(/reset/[^<]+)</code>', html)
    assert match, "no reset link on the page"
    return match[1]


def _audit(web, action: str) -> list[tuple[str, str, dict]]:
    with unit_of_work(web.services.sessions) as session:
        return [(e.actor, e.subject, e.details) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def _logs_in(web, name: str, password: str) -> bool:
    client = web.client()
    response = client.post("/login", data={"name": name, "password": password,
                                           "csrf": csrf_of(client.get("/login").text)})
    return response.status_code == 303


def test_an_admin_adds_a_user_who_sets_a_password_through_a_one_time_link(web):
    admin = web.client("quan-tri")
    assert "Người dùng" in admin.get("/").text  # the admin finds the page in the navigation
    response = _post(admin, "/users", {"name": "thu", "role": "editor", "stations": "99001"}, page="/users")
    assert response.status_code == 303
    page = admin.get(response.headers["location"]).text
    link = _reset_link(page)
    assert "Gửi liên kết này cho thu" in page
    assert "reset-link" not in admin.get(response.headers["location"]).text  # shown once
    users = admin.get("/users").text
    assert "thu" in users and "99001" in users and "chưa có mật khẩu" in users
    with unit_of_work(web.services.sessions) as session:
        thu = session.scalar(select(User).where(User.name == "thu"))
        assert (thu.role, thu.stations, thu.password_hash) == ("editor", ["99001"], None)
    assert _audit(web, "user.create")[-1][:2] == ("quan-tri", f"user:{thu.id}")
    assert _audit(web, "user.reset_link")[-1][:2] == ("quan-tri", f"user:{thu.id}")

    visitor = web.client()
    form = visitor.get(link)
    assert form.status_code == 200 and 'value="thu"' in form.text
    token = csrf_of(form.text)
    mismatch = visitor.post(link, data={"csrf": token, "password": "mat-khau-moi-1", "repeated": "mat-khau-moi-2"})
    assert mismatch.status_code == 400
    assert _field_error(mismatch.text, "repeated") == "Hai lần nhập mật khẩu mới không giống nhau"
    short = visitor.post(link, data={"csrf": token, "password": "ngan", "repeated": "ngan"})
    assert short.status_code == 400 and _field_error(short.text, "password") == "Mật khẩu cần ít nhất 8 ký tự"
    assert visitor.post(link, data={"password": "mat-khau-moi-1", "repeated": "mat-khau-moi-1"}).status_code == 403
    done = visitor.post(link, data={"csrf": token, "password": "mat-khau-moi-1", "repeated": "mat-khau-moi-1"})
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert "Đã đặt mật khẩu" in visitor.get("/login").text
    assert _logs_in(web, "thu", "mat-khau-moi-1")
    assert _audit(web, "user.reset_used")[-1][:2] == ("thu", f"user:{thu.id}")
    # single use: the same link again is a friendly 404 and changes nothing
    again = web.client()
    reused = again.get(link)
    assert reused.status_code == 404 and "đã dùng hoặc đã hết hạn" in reused.text
    assert again.post(link, data={"csrf": csrf_of(again.get("/login").text), "password": "ke-gian-doi-mat-khau",
                                  "repeated": "ke-gian-doi-mat-khau"}).status_code == 404
    assert _logs_in(web, "thu", "mat-khau-moi-1") and not _logs_in(web, "thu", "ke-gian-doi-mat-khau")


def test_a_reset_link_expires_after_a_day_and_a_newer_one_replaces_it(web):
    admin = web.client("quan-tri")
    lan = web.ids["lan"]
    first = _reset_link(admin.get(_post(admin, f"/users/{lan}/reset", {}, page=f"/users/{lan}")
                                  .headers["location"]).text)
    second = _reset_link(admin.get(_post(admin, f"/users/{lan}/reset", {}, page=f"/users/{lan}")
                                   .headers["location"]).text)
    visitor = web.client()
    assert visitor.get(first).status_code == 404  # the newer link replaced it
    assert visitor.get(second).status_code == 200
    web.services.clock.offset += timedelta(hours=24, minutes=1)
    expired = visitor.get(second)
    assert expired.status_code == 404 and "hết hạn" in expired.text
    assert _logs_in(web, "lan", PASSWORD)


def test_adding_a_user_twice_says_so_beside_the_name_and_keeps_the_form(web):
    admin = web.client("quan-tri")
    response = _post(admin, "/users", {"name": "lan", "role": "approver", "stations": "99001 99003"}, page="/users")
    assert response.status_code == 400
    assert _field_error(response.text, "name") == "Đã có người dùng tên “lan”; hãy chọn tên khác"
    assert 'value="lan"' in response.text and 'value="99001 99003"' in response.text
    assert '<option value="approver" selected>' in response.text
    unknown = _post(admin, "/users", {"name": "moi", "role": "editor", "stations": "99001 12345"}, page="/users")
    assert unknown.status_code == 400 and _field_error(unknown.text, "stations") == "Không có xã mã 12345"
    with unit_of_work(web.services.sessions) as session:
        assert session.scalar(select(User).where(User.name == "lan")).role == "editor"
        assert session.scalar(select(User).where(User.name == "moi")) is None


def test_the_cli_says_clearly_that_a_user_exists(cli, services):
    cli("user", "add", "lan", "--role", "editor")
    result = cli("user", "add", "lan", "--role", "approver", ok=False)
    assert result.exit_code == 2
    assert result.stderr.strip() == "loa: error: name: a user named 'lan' already exists"
    with unit_of_work(services.sessions) as session:
        assert [u.role for u in session.scalars(select(User).where(User.name == "lan"))] == ["editor"]


def test_disabling_a_user_ends_their_session_tokens_and_logins_and_is_audited(web):
    lan = web.client("lan")
    headers = web.token("lan")
    assert lan.get("/pieces").status_code == 200
    admin = web.client("quan-tri")
    page = f"/users/{web.ids['lan']}"
    response = _post(admin, page, {"role": "approver", "stations": "99003", "disabled": "on"}, page=page)
    assert response.status_code == 303
    assert lan.get("/pieces").status_code == 303  # back to the login form
    assert web.client().get("/api/pieces", headers=headers).status_code == 401
    assert not _logs_in(web, "lan", PASSWORD)
    assert "đã khóa" in admin.get("/users").text
    actor, subject, details = _audit(web, "user.update")[-1]
    assert (actor, subject) == ("quan-tri", f"user:{web.ids['lan']}")
    assert details == {"role": "approver", "stations": ["99003"], "disabled": True}
    # enabled again, the password still works
    assert _post(admin, page, {"role": "editor", "stations": ""}, page=page).status_code == 303
    assert _logs_in(web, "lan", PASSWORD)


def test_the_last_admin_cannot_demote_or_disable_themselves(web):
    admin = web.client("quan-tri")
    page = f"/users/{web.ids['quan-tri']}"
    response = _post(admin, page, {"role": "editor", "stations": ""}, page=page)
    assert response.status_code == 409
    assert "quản trị viên cuối cùng" in response.text
    assert '<option value="editor" selected>' in response.text  # what the admin chose stays on the form
    assert admin.get("/users").status_code == 200


def test_only_admins_manage_users(web):
    hung = web.client("hung")
    assert hung.get("/users").status_code == 403
    response = _post(hung, "/users", {"name": "x", "role": "admin"}, page="/account")
    assert response.status_code == 403 and "việc này cần quyền quản trị" in response.text
    assert "/users" not in hung.get("/").text.split("<main")[0]


def test_a_user_changes_their_own_password(web):
    lan = web.client("lan")
    wrong = _post(lan, "/account/password", {"current": "khong-phai", "password": "mat-khau-moi-9",
                                             "repeated": "mat-khau-moi-9"}, page="/account")
    assert wrong.status_code == 400
    assert _field_error(wrong.text, "current") == "Mật khẩu hiện tại không đúng"
    assert "mat-khau-moi-9" not in wrong.text and "khong-phai" not in wrong.text  # passwords never sent back
    differ = _post(lan, "/account/password", {"current": PASSWORD, "password": "mat-khau-moi-9",
                                              "repeated": "mat-khau-moi-8"}, page="/account")
    assert differ.status_code == 400 and _field_error(differ.text, "repeated")
    done = _post(lan, "/account/password", {"current": PASSWORD, "password": "mat-khau-moi-9",
                                            "repeated": "mat-khau-moi-9"}, page="/account")
    assert done.status_code == 303
    assert "Đã đổi mật khẩu" in lan.get("/account").text
    assert _logs_in(web, "lan", "mat-khau-moi-9") and not _logs_in(web, "lan", PASSWORD)
    assert _audit(web, "user.password")[-1][:2] == ("lan", f"user:{web.ids['lan']}")
    assert _audit(web, "user.password_failed")[-1][:2] == ("lan", f"user:{web.ids['lan']}")
