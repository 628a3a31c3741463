"""Sessions end on the server: logout, a new password and timeouts stop a saved cookie; logins are throttled
per name and per address; an unknown name costs the same argon2 verification as a known one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import content.accounts
from content.accounts import authenticate, set_password
from content.db import unit_of_work
from content.models import AuditEvent, Piece, User

from servers.web import PASSWORD, csrf_of


def _login(client, name: str, password: str):
    page = client.get("/login")
    return client.post("/login", data={"name": name, "password": password, "csrf": csrf_of(page.text)})


def _pieces(web) -> int:
    with unit_of_work(web.services.sessions) as session:
        return session.scalar(select(func.count()).select_from(Piece))


def _actions(web) -> list[str]:
    with unit_of_work(web.services.sessions) as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _later(web, **delta) -> None:
    web.services.clock.offset += timedelta(**delta)


def test_a_cookie_saved_before_logout_neither_reads_nor_writes_afterwards(web):
    lan = web.client("lan")
    saved = dict(lan.cookies)
    form_csrf = csrf_of(lan.get("/pieces/new").text)
    assert lan.post("/logout", data={"csrf": form_csrf}).status_code == 303
    thief = web.client()
    thief.cookies.update(saved)
    assert thief.get("/pieces").headers["location"].startswith("/login")
    before = _pieces(web)
    response = thief.post("/pieces/new", data={"csrf": form_csrf, "title": "Giả mạo", "body": "Nội dung giả",
                                               "channels": "board"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert _pieces(web) == before
    assert thief.get("/api/pieces", headers={"x-csrf-token": form_csrf}).status_code == 401
    assert "user.logout" in _actions(web)


def test_a_new_password_signs_out_every_session_of_that_user_only(web):
    lan, hung = web.client("lan"), web.client("hung")
    with unit_of_work(web.services.sessions) as session:
        set_password(session, session.get(User, web.ids["lan"]), "mat-khau-moi-hon", actor="quan-tri",
                     now=web.services.now())
    assert lan.get("/pieces").status_code == 303
    assert hung.get("/pieces").status_code == 200
    assert "user.sessions_ended" in _actions(web)


def test_a_session_ends_after_two_idle_hours_and_after_twelve_hours_however_used(web):
    idle = web.client("lan")
    _later(web, hours=1, minutes=59)
    assert idle.get("/pieces").status_code == 200  # used: the idle time starts again
    _later(web, hours=1, minutes=59)
    assert idle.get("/pieces").status_code == 200
    _later(web, hours=2, minutes=1)
    assert idle.get("/pieces").status_code == 303
    busy = web.client("hung")
    for _ in range(11):
        _later(web, hours=1)
        assert busy.get("/pieces").status_code == 200
    _later(web, hours=1, minutes=1)
    assert busy.get("/pieces").status_code == 303


def test_five_wrong_passwords_lock_the_name_with_a_growing_delay_even_for_the_right_password(web):
    client = web.client()
    for _ in range(4):
        assert _login(client, "lan", "sai-mat-khau").status_code == 401
    assert _login(client, "lan", "sai-mat-khau").status_code == 401  # the fifth failure locks
    locked = _login(client, "lan", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) <= 31
    assert "Đăng nhập sai quá nhiều lần" in locked.text and "thử lại sau 1 phút" in locked.text
    assert _actions(web)[-1] == "user.login_throttled"
    _later(web, seconds=31)
    assert _login(client, "lan", "sai-mat-khau").status_code == 401  # the sixth failure: twice as long
    _later(web, seconds=31)
    assert _login(client, "lan", PASSWORD).status_code == 429
    _later(web, seconds=30)
    assert _login(client, "lan", PASSWORD).status_code == 303
    assert _login(web.client(), "lan", "sai-mat-khau").status_code == 401  # a success starts the count again


def test_one_address_trying_many_names_is_locked_out_of_every_name(web):
    """Twenty failures, not five: the editors of one commune office share one address."""
    client = web.client()
    for n in range(20):
        assert _login(client, f"nguoi-{n}", "mat-khau-doan-bua").status_code == 401
    assert _login(client, "mai", PASSWORD).status_code == 429
    _later(web, seconds=31)
    assert _login(client, "mai", PASSWORD).status_code == 303


def test_failures_spread_over_time_do_not_lock(web):
    client = web.client()
    for _ in range(8):
        assert _login(client, "lan", "sai-mat-khau").status_code == 401
        _later(web, minutes=16)
    assert _login(client, "lan", PASSWORD).status_code == 303


class CountingHasher:
    """The test hasher, counting the argon2 verifications that a login makes."""

    def __init__(self, hasher) -> None:
        self.hasher, self.verified = hasher, 0

    def verify(self, stored: str, password: str) -> bool:
        self.verified += 1
        return self.hasher.verify(stored, password)

    def __getattr__(self, name: str):
        return getattr(self.hasher, name)


@pytest.mark.parametrize("name", ["lan", "khong-co-ai", "khong-mat-khau"])
def test_an_unknown_name_costs_one_argon2_verification_like_a_known_one(web, monkeypatch, name):
    from content.users import add_user

    counting = CountingHasher(content.accounts._hasher)
    monkeypatch.setattr(content.accounts, "_hasher", counting)
    with unit_of_work(web.services.sessions) as session:
        add_user(session, "khong-mat-khau", "editor", now=web.services.now())
        assert authenticate(session, name, "sai-mat-khau", now=web.services.now()) is None
    assert counting.verified == 1


def _ical_path(client) -> str:
    page = client.get("/account").text
    link = page.split('id="ical"')[0].rsplit('value="', 1)[1].split('"')[0]
    return link.split("8080", 1)[1]


def test_a_calendar_address_stops_working_when_its_user_makes_a_new_one(web):
    lan = web.client("lan")
    old = _ical_path(lan)
    assert _ical_path(lan) == old  # the same address every time the page is shown
    assert web.client().get(old).status_code == 200
    reset = lan.post("/account/ical/reset", data={"csrf": csrf_of(lan.get("/account").text)})
    assert reset.status_code == 303
    new = _ical_path(lan)
    assert new != old
    assert web.client().get(old).status_code == 404
    assert web.client().get(new).status_code == 200
    assert "user.ical_reset" in _actions(web)
    hung = web.client("hung")
    assert web.client().get(_ical_path(hung)).status_code == 200  # another user's address is untouched


def test_a_nul_character_in_the_user_name_is_a_wrong_login_not_a_crash(web):
    client = web.client()
    assert _login(client, "lan\x00", PASSWORD).status_code == 401
    assert _actions(web)[-1] == "user.login_failed"


def test_sessions_and_failure_counts_long_over_are_deleted_at_a_later_login(web):
    from content.models import LoginSession, LoginThrottle

    web.client("lan")
    _login(web.client(), "khong-co-ai", "sai-mat-khau")
    _later(web, days=31)
    web.client("hung")
    with unit_of_work(web.services.sessions) as session:
        users = list(session.scalars(select(LoginSession.user_id)))
        keys = list(session.scalars(select(LoginThrottle.key)))
    assert users == [web.ids["hung"]] and keys == []
