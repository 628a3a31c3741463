"""Signing in and out, the language switch, and a user's own page: API tokens and calendar subscription."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from content.db import unit_of_work
from content.errors import LoaError
from content.models import User
from loa.web import i18n
from loa.web.auth import CSRF_FIELD, SESSION_FIELD, check_csrf, csrf_token, current_user
from loa.web.forms import Form
from loa.web.view import back, refused, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def _safe_next(url: str) -> str:
    """Only a path on this site (never ``//elsewhere`` or ``http://…``): no open redirect after login."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:
    return render(request, "login.html", {"next": _safe_next(next),
                                          "password_set": request.session.pop("password_set", None)})


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


@router.post("/login")
def login(request: Request, form: Form) -> Response:
    from content.logins import sign_in

    services = request.app.state.services
    check_csrf(request, form)
    next_url = _safe_next(str(form.get("next") or "/"))
    with unit_of_work(services.sessions) as session:
        outcome = sign_in(session, str(form.get("name") or ""), str(form.get("password") or ""),
                          address=_address(request), now=services.now())
    if outcome.wait_s:
        response = render(request, "login.html", {"next": next_url, "wait_min": -(-outcome.wait_s // 60)},
                          status=429)
        response.headers["Retry-After"] = str(outcome.wait_s)
        return response
    if outcome.user is None:
        return render(request, "login.html", {"next": next_url, "error": True,
                                              "name": str(form.get("name") or "")}, status=401)
    request.session.clear()
    request.session[SESSION_FIELD] = outcome.token
    request.session[CSRF_FIELD] = secrets.token_urlsafe(24)
    return back(next_url)


@router.post("/logout")
def logout(request: Request, user: User = Depends(current_user)) -> RedirectResponse:
    """Ends the session in the database, not only in this browser: a copied cookie stops working too."""
    from content.logins import end_session

    services = request.app.state.services
    token = request.session.get(SESSION_FIELD)
    if isinstance(token, str):
        with unit_of_work(services.sessions) as session:
            end_session(session, token, actor=user.name, now=services.now())
    request.session.clear()
    return back("/login")


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> RedirectResponse:
    response = back(_safe_next(next))
    if code in i18n.LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 86400, samesite="lax")
    return response


def ical_link(request: Request, user: User) -> str:
    from content.logins import calendar_key
    from loa.web.ical import feed_token
    from loa.web.view import public_base

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        key = calendar_key(session, user.id, now=services.now())
    return f"{public_base(request)}/ical/{feed_token(request.app, user, key)}.ics"


@router.post("/account/ical/reset")
def reset_ical(request: Request, user: User = Depends(current_user)) -> RedirectResponse:
    """A new calendar address; the old one stops working (it was shared, or the phone was lost)."""
    from content.logins import reset_calendar_key

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        reset_calendar_key(session, user, now=services.now())
    return back("/account")


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    return render(request, "account.html", _account_context(request, user))


def _account_context(request: Request, user: User) -> dict:
    from content.accounts import tokens_of

    with request.app.state.reads.session() as session:
        tokens = tokens_of(session, user)
    return {"tokens": tokens, "new_token": request.session.pop("new_token", None), "ical": ical_link(request, user),
            "password_changed": request.session.pop("password_changed", False)}


@router.post("/account/password", response_model=None)
def change_password(request: Request, form: Form, user: User = Depends(current_user)) -> Response:
    """A user's own password: the current one, then the new one twice; a refusal keeps nothing typed
    (passwords are never sent back in a page)."""
    from content.accounts import change_password as change

    services = request.app.state.services
    try:
        with unit_of_work(services.sessions) as session:
            change(session, session.get(User, user.id), str(form.get("current") or ""),
                   str(form.get("password") or ""), str(form.get("repeated") or ""), now=services.now())
    except LoaError as error:
        if getattr(error, "where", None) == "current":
            from content.accounts import record_wrong_password

            with unit_of_work(services.sessions) as session:
                record_wrong_password(session, user, now=services.now())
        return refused(request, error, "account.html", _account_context(request, user),
                       ("current", "password", "repeated"))
    request.session["password_changed"] = True
    return back("/account")


@router.post("/account/tokens", response_model=None)
def new_token(request: Request, form: Form, user: User = Depends(current_user)) -> Response:
    from content.accounts import create_token

    services = request.app.state.services
    name = str(form.get("name") or "")
    try:
        with unit_of_work(services.sessions) as session:
            token = create_token(session, user, name, now=services.now())
    except LoaError as error:
        return refused(request, error, "account.html", _account_context(request, user), ("token",),
                       aliases={"name": "token"})
    request.session["new_token"] = token  # shown once on the next page, then gone
    return back("/account")


@router.post("/account/tokens/{token_id}/revoke")
def revoke(request: Request, token_id: int, user: User = Depends(current_user)) -> RedirectResponse:
    from content.accounts import revoke_token

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        revoke_token(session, user, token_id, now=services.now())
    return back("/account")


__all__ = ["csrf_token", "router"]
