"""Who is asking: session login or API token, roles scoped to stations, and CSRF on every form post."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Any
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.datastructures import FormData

from content.errors import NotAllowed
from content.models import User
from content.users import require_role
from loa.web.forms import Form

log = logging.getLogger(__name__)
CSRF_FIELD = "csrf"
SESSION_FIELD = "sid"  # the random token of the server-side session (content/logins.py), in the signed cookie
CSRF_HEADER = "x-csrf-token"


class LoginRequired(Exception):
    """Nobody is signed in (pages redirect to the login form; the API answers 401)."""

    def __init__(self, next_url: str = "/") -> None:
        super().__init__("login required")
        self.next_url = next_url


def csrf_token(request: Request) -> str:
    """This session's CSRF token, created on first use; every form carries it in a hidden field."""
    token = request.session.get(CSRF_FIELD)
    if not token:
        token = request.session[CSRF_FIELD] = secrets.token_urlsafe(24)
    return token


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _load(request: Request) -> User | None:
    from content.accounts import user_for_token

    token = _bearer(request)
    if token is not None:
        request.state.via_token = True
        with request.app.state.reads.session() as session:
            return user_for_token(session, token)
    request.state.via_token = False
    token = request.session.get(SESSION_FIELD)
    if not isinstance(token, str):
        return None
    return _signed_in(request, token)


def _signed_in(request: Request, token: str) -> User | None:
    """The user of the server-side session the cookie names, if it is live; its use is recorded
    (at most once a minute) so the idle timeout counts from the last page seen."""
    from content.db import unit_of_work
    from content.logins import live_session, needs_touch, touch

    services = request.app.state.services
    now = services.now()
    with request.app.state.reads.session() as session:
        row = live_session(session, token, now=now)
        user = session.get(User, row.user_id) if row is not None else None
        if user is not None and user.disabled:  # disabling ends its sessions
            return None
        stale = row is not None and needs_touch(row, now)
    if row is None:
        return None
    if stale:
        with unit_of_work(services.sessions) as session:
            touch(session, row.id, now=now)
    return user


def check_csrf(request: Request, form: FormData) -> None:
    """A form post (or a cookie-authenticated API write) carries this session's CSRF token."""
    expected = request.session.get(CSRF_FIELD, "")
    if request.url.path.startswith("/api/"):
        given = request.headers.get(CSRF_HEADER, "")
    else:
        given = str(form.get(CSRF_FIELD, ""))
    if not expected or not hmac.compare_digest(expected, given):
        raise NotAllowed("the form has expired or did not come from loa; reload the page and try again")


def current_user(request: Request, form: Form) -> User:
    """The signed-in user; form posts (and cookie-authenticated API writes) must carry the CSRF token.
    Plain ``def``: it reads the database, so FastAPI runs it in its thread pool, off the event loop."""
    user = _load(request)
    if user is None:
        raise LoginRequired(quote(request.url.path))
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.state.via_token:
        check_csrf(request, form)
    request.state.user = user
    return user


def needs(*roles: str) -> Any:
    """A dependency giving the signed-in user when they hold one of ``roles`` (admins hold all)."""
    def dependency(user: User = Depends(current_user)) -> User:
        require_role(user, *roles)
        return user

    return Depends(dependency)


def sees_station(user: User, code: str) -> bool:
    """A user with no stations listed works on all of them; otherwise only on the listed ones."""
    from content.scope import sees_station as scoped

    return scoped(user, code)


def require_station(user: User, code: str) -> None:
    if not sees_station(user, code):
        raise NotAllowed("user {name!r} does not work on station {code}", name=user.name, code=code)
