"""Accounts in the browser: an admin lists, adds, edits and disables users and makes one-time reset links."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from content.db import unit_of_work
from content.errors import LoaError, NotFound
from content.models import ROLES, User
from loa.web.auth import needs
from loa.web.forms import Form
from loa.web.view import back, refused, render

router = APIRouter(tags=["pages"], include_in_schema=False)
FIELDS = ("name", "role", "stations", "centre")


def _stations(text: str) -> list[str]:
    """Station codes typed as ``99001 99003`` or ``99001, 99003``."""
    return [code for code in re.split(r"[\s,;]+", text) if code]


def _known(request: Request) -> set[str]:
    return {station.code for station in request.app.state.services.settings.stations}


def _typed(form: Any) -> dict[str, Any]:
    return {"name": str(form.get("name") or ""), "role": str(form.get("role") or "editor"),
            "stations": str(form.get("stations") or ""), "disabled": form.get("disabled") in ("on", "1"),
            "centre": str(form.get("centre") or "") or None}


def _centres(admin: User) -> dict[str, Any]:
    """The centres an admin may put accounts in: their own and those below it, parents first."""
    from content import scope

    tree = scope.tree_for(admin)
    mine = scope.centres_reached(admin)
    return {"centres": [node for node in tree.ordered() if node.code in mine], "root": tree.root,
            "centre_names": {node.code: node.name for node in tree.ordered()}}


def _target(session: Any, user_id: int, admin: User) -> User:
    """The account ``user_id`` if it belongs to the admin's centre or one below it; NotFound otherwise."""
    from content import scope

    target = session.get(User, user_id)
    if target is None or not scope.tree_for(admin).contains(scope.home(admin), target.centre):
        raise NotFound("no user {id}", id=user_id)
    return target


def _list_context(request: Request, admin: User, values: dict[str, Any] | None = None) -> dict[str, Any]:
    from content import scope
    from content.users import list_users

    with request.app.state.reads.session() as session:
        users = list_users(session, within=scope.home(admin))
    values = values or {"name": "", "role": "editor", "stations": "", "centre": scope.home(admin)}
    return {"users": users, "roles": ROLES, "values": values, "reset_link": request.session.pop("reset_link", None),
            **_centres(admin)}


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, user: User = needs("admin")) -> HTMLResponse:
    return render(request, "users.html", _list_context(request, user))


def _reset_link(request: Request, session: Any, target: User, actor: User) -> dict[str, str]:
    """A new reset link for ``target``, to keep in the session once stored and show once on the next page."""
    from content.accounts import create_reset

    token = create_reset(session, target, actor=actor.name, now=request.app.state.services.now())
    return {"name": target.name, "url": str(request.url_for("reset_page", token=token))}


@router.post("/users", response_model=None)
def add(request: Request, form: Form, user: User = needs("admin")) -> RedirectResponse | HTMLResponse:
    """A new account; it gets no password from the admin but a one-time link to choose one."""
    from content import scope
    from content.users import add_user

    services = request.app.state.services
    values = _typed(form)
    try:
        with unit_of_work(services.sessions) as session:
            added = add_user(session, values["name"], values["role"], now=services.now(), actor=user.name,
                             stations=_stations(values["stations"]), known_stations=_known(request),
                             centre=values["centre"], within=scope.home(user))
            link = _reset_link(request, session, added, user)
            added_id = added.id
    except LoaError as error:
        return refused(request, error, "users.html", _list_context(request, user, values), FIELDS)
    request.session["reset_link"] = link
    return back(f"/users/{added_id}")


def _user_context(request: Request, user_id: int, admin: User, values: dict[str, Any] | None = None,
                  ) -> dict[str, Any]:
    from content import scope

    with request.app.state.reads.session() as session:
        target = _target(session, user_id, admin)
    values = values or {"role": target.role, "stations": " ".join(target.stations or []),
                        "disabled": target.disabled, "centre": scope.tree_for(admin).home(target.centre)}
    return {"target": target, "roles": ROLES, "values": values, "reset_link": request.session.pop("reset_link", None),
            **_centres(admin)}


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, user_id: int, user: User = needs("admin")) -> HTMLResponse:
    return render(request, "user.html", _user_context(request, user_id, user))


@router.post("/users/{user_id}", response_model=None)
def update(request: Request, user_id: int, form: Form, user: User = needs("admin")) -> RedirectResponse | HTMLResponse:
    from content import scope
    from content.users import update_user

    services = request.app.state.services
    values = _typed(form)
    try:
        with unit_of_work(services.sessions) as session:
            update_user(session, user_id, role=values["role"], stations=_stations(values["stations"]),
                        disabled=values["disabled"], actor=user.name, now=services.now(),
                        known_stations=_known(request), centre=values["centre"], within=scope.home(user))
    except NotFound:
        raise
    except LoaError as error:
        return refused(request, error, "user.html", _user_context(request, user_id, user, values),
                       ("role", "stations", "disabled", "centre"))
    return back("/users")


@router.post("/users/{user_id}/reset", response_model=None)
def reset_link(request: Request, user_id: int, user: User = needs("admin")) -> RedirectResponse | HTMLResponse:
    services = request.app.state.services
    try:
        with unit_of_work(services.sessions) as session:
            target = _target(session, user_id, user)
            link = _reset_link(request, session, target, user)
    except NotFound:
        raise
    except LoaError as error:
        return refused(request, error, "user.html", _user_context(request, user_id, user))
    request.session["reset_link"] = link
    return back(f"/users/{user_id}")


def _reset_context(request: Request, token: str, typed_name: str = "") -> dict[str, Any]:
    from content.accounts import reset_for

    with request.app.state.reads.session() as session:
        _, target = reset_for(session, token, now=request.app.state.services.now())
    # No user: the first admin's link, where the admin also chooses their name.
    return {"token": token, "name": target.name if target else None, "typed_name": typed_name}


@router.get("/reset/{token}", response_class=HTMLResponse, name="reset_page")
def reset_page(request: Request, token: str) -> HTMLResponse:
    """Anyone holding a live link may choose the password of its account (or create the first admin), once."""
    return render(request, "reset.html", _reset_context(request, token))


@router.post("/reset/{token}", response_model=None)
def reset(request: Request, token: str, form: Form) -> RedirectResponse | HTMLResponse:
    from content.accounts import use_reset
    from loa.web.auth import check_csrf

    services = request.app.state.services
    check_csrf(request, form)
    name = str(form.get("name") or "")
    try:
        with unit_of_work(services.sessions) as session:
            target = use_reset(session, token, str(form.get("password") or ""), str(form.get("repeated") or ""),
                               now=services.now(), name=name)
            name = target.name
    except NotFound:
        raise
    except LoaError as error:
        return refused(request, error, "reset.html", _reset_context(request, token, name),
                       ("name", "password", "repeated"))
    request.session["password_set"] = name
    return back("/login")
