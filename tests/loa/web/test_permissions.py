"""Every page and API route refuses the anonymous and the wrong role; form posts without the CSRF token are refused."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from content.db import unit_of_work
from content.models import AuditEvent, Piece
from loa.web import create_app

from servers.web import routes_behind_login

#: Routes anyone may open: kiosk boards, feeds and their articles, health and metrics (for monitoring), login,
#: language, the calendar subscription (its address is the secret), the API's own documentation, the favicon,
#: what players fetch: Anthias slide pages and media behind signed, expiring links, and one-time password reset
#: links (their token is the secret; checked in their own tests).
PUBLIC = re.compile(r"^/(boards|feeds|articles|healthz|metrics|login|lang|ical|docs|redoc|openapi\.json|anthias|media"
                    r"|favicon|reset/)")


def _routes(app):
    for method, path in routes_behind_login(app, PUBLIC):
        yield method, re.sub(r"\{(\w+)\}", "1", path)


def test_the_route_list_covers_pages_and_api(services):
    routes = set(_routes(create_app(services)))
    assert ("GET", "/calendar") in routes and ("POST", "/api/review/1/approve") in routes
    assert ("POST", "/deliveries/1/retry") in routes and ("GET", "/api/schedule") in routes
    assert len(routes) > 30


def test_every_page_and_api_route_refuses_the_anonymous(web):
    client = web.client()
    for method, path in _routes(web.app):
        response = client.request(method, path)
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login"), (method, path)


def test_a_bad_token_is_anonymous(web):
    client = web.client()
    response = client.get("/api/pieces", headers={"Authorization": "Bearer loa_not-a-real-token"})
    assert response.status_code == 401


WRONG_ROLE = [
    # (who, method, path) where the role does not allow it
    ("lan", "POST", "/pieces/{piece}/approve"),
    ("lan", "POST", "/pieces/{piece}/reject"),
    ("lan", "POST", "/deliveries/x/retry"),
    ("lan", "POST", "/api/review/{piece}/approve"),
    ("lan", "POST", "/api/review/{piece}/reject"),
    ("lan", "GET", "/api/review"),
    ("lan", "POST", "/api/plan"),
    ("lan", "POST", "/api/deliveries/x/retry"),
]


def test_the_wrong_role_is_refused(web):
    from servers.web import csrf_of

    piece = web.piece(submitted=True, author="mai")
    headers = web.token("lan")
    client = web.client("lan")
    token = csrf_of(client.get("/account").text)
    for who, method, path in WRONG_ROLE:
        assert who == "lan"
        path = path.format(piece=piece)
        if path.startswith("/api/"):
            response = web.client().request(method, path, headers=headers, json={"note": "ok", "days": 1})
        else:
            response = client.request(method, path, data={"csrf": token, "note": "ok", "delivery": "x"})
        assert response.status_code == 403, (path, response.text)
        assert ("is editor; this needs approver" if path.startswith("/api/")
                else "là biên tập viên; việc này cần quyền người duyệt") in response.text
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Piece, piece).state == "submitted"


def test_the_author_cannot_approve_through_the_api(web):
    piece = web.piece(submitted=True, author="hung")  # an approver who wrote the piece
    seen = web.client().get(f"/api/pieces/{piece}", headers=web.token("hung")).json()
    response = web.client().post(f"/api/review/{piece}/approve", headers=web.token("hung"),
                                 json={"note": "", "revision_id": seen["revision_id"], "sha256": seen["sha256"]})
    assert response.status_code == 403
    assert "another approver" in response.json()["detail"]
    assert web.client().get(f"/api/pieces/{piece}", headers=web.token("hung")).json()["state"] == "submitted"
    # and the page shows the author no approve button, while another approver sees one
    assert f'action="/pieces/{piece}/approve"' not in web.client("hung").get(f"/pieces/{piece}").text
    assert f'action="/pieces/{piece}/approve"' in web.client("mai").get(f"/pieces/{piece}").text


def _post_routes(app):
    return [(m, p) for m, p in _routes(app) if m == "POST" and not p.startswith("/api/")]


def test_form_posts_without_the_csrf_token_are_refused(web):
    piece = web.piece(submitted=True)
    client = web.client("quan-tri")  # the admin holds every role, so only the CSRF check can refuse
    with unit_of_work(web.services.sessions) as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    for method, path in _post_routes(web.app):
        path = path.replace("/pieces/1/", f"/pieces/{piece}/")
        for data in ({}, {"csrf": "forged"}):
            response = client.request(method, path, data={**data, "title": "x", "body": "y", "note": "n",
                                                          "channels": "board", "name": "t"})
            assert response.status_code == 403, (path, response.status_code)
            assert "Biểu mẫu đã hết hạn" in response.text
    with unit_of_work(web.services.sessions) as session:
        assert session.get(Piece, piece).state == "submitted"
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_login_itself_needs_the_csrf_token(web):
    client = web.client()
    response = client.post("/login", data={"name": "lan", "password": "mat-khau-du-dai"})
    assert response.status_code == 403
    assert client.get("/pieces").status_code == 303


def test_cookie_sessions_need_the_csrf_header_for_api_writes(web):
    client = web.client("lan")
    body = {"title": "Tin", "body": "Nội dung"}
    assert client.post("/api/pieces", json=body).status_code == 403
    from servers.web import csrf_of

    token = csrf_of(client.get("/account").text)
    assert client.post("/api/pieces", json=body, headers={"X-CSRF-Token": token}).status_code == 201


def test_a_user_scoped_to_one_station_sees_and_changes_only_that_station(web):
    web.piece(approved=True)
    web.services.plan(days=2)
    client = web.client("xa-khac")
    schedule = client.get("/api/schedule?days=2", headers=web.token("xa-khac")).json()
    assert schedule and {p["station"] for p in schedule} == {"99003"}
    calendar = client.get("/calendar?week=2026-11-23").text
    assert ">Xã Phú Xuân</a></th>" in calendar and "99001" not in calendar
    other = next(p for p in web.client().get("/api/schedule?days=2", headers=web.token("hung")).json()
                 if p["station"] == "99001")
    assert client.get(f"/deliveries/{other['delivery']}").status_code == 403
    assert client.get("/api/schedule?station=99001", headers=web.token("xa-khac")).status_code == 403
