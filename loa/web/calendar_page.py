"""The calendar: a week grid per station and outlet, with totals, targets and conflicts; pin, remove, move."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from content.db import unit_of_work
from content.errors import InputError, NotFound
from content.models import User
from loa.web.auth import csrf_token, current_user, needs, require_station, sees_station
from loa.web.forms import Form
from loa.web.view import back, language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
PLANNERS = ("approver",)
DETAIL_STATIONS = 10


def _monday(request: Request, week: str) -> date:
    from scheduler.views.week import monday_of

    services = request.app.state.services
    if week:
        from loa.clock import check_day

        try:
            day = date.fromisoformat(week)
        except ValueError:
            raise InputError(f"{week!r} is not a date like 2026-11-23", where="week") from None
        check_day(day, "week")
        return monday_of(day)
    return monday_of(services.now().astimezone(services.settings.zone).date())


@router.get("/calendar", response_class=HTMLResponse)
def calendar(request: Request, week: str = "", station: str = "", outlet: str = "",
             user: User = Depends(current_user)) -> HTMLResponse:
    from scheduler.views.week import week_grid

    services = request.app.state.services
    monday = _monday(request, week)
    visible = [s for s in services.settings.stations if sees_station(user, s.code)]
    codes = [s.code for s in visible]
    if station:
        require_station(user, station)
        codes = [station]
    detail = len(codes) <= DETAIL_STATIONS  # beyond a few stations: counts and totals; one station: every title
    can_plan = user.role in ("approver", "admin")
    lang = language(request)
    csrf = csrf_token(request) if can_plan and station and detail else ""  # only the item forms carry it
    reads = request.app.state.reads
    with reads.session() as session:
        grid = reads.cached(session, ("week", monday, tuple(codes), outlet, detail), lambda: week_grid(
            session, monday=monday, zone=services.settings.zone, stations=codes, outlet=outlet or None,
            detail=detail))
        # The grid's HTML is the page's bulk (thousands of programs): rendered once per plan version and view.
        table = reads.cached(session, ("week-html", monday, tuple(codes), outlet, detail, lang, can_plan, station,
                                       csrf), lambda: _table(request, lang, {
                                           "grid": grid, "station": station, "outlet": outlet, "detail": detail,
                                           "can_plan": can_plan, "csrf": csrf}))
    return render(request, "calendar.html", {
        "grid": grid, "table": table, "station": station, "outlet": outlet, "stations": visible,
        "previous": (monday - timedelta(days=7)).isoformat(), "next": (monday + timedelta(days=7)).isoformat(),
        "can_plan": can_plan, "detail": detail,
    })


def _table(request: Request, lang: str, context: dict) -> Markup:
    from loa.web import i18n, templates

    zone = request.app.state.services.settings.zone
    gettext = i18n.translations(lang).gettext
    return Markup(templates.get_template("calendar_table.html").render(
        _=gettext, time=lambda m: i18n.fmt_time(m, zone), duration=i18n.fmt_duration, **context))


def _return_to(request: Request) -> str:
    """Back to the calendar page the form was on (path and query only: never another site)."""
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer") or "")
    if referer.path.startswith("/calendar") and not referer.path.startswith("/calendar/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/calendar"


def _check_airing(session, user: User, airing_id: int) -> None:
    from scheduler.models import Airing

    airing = session.get(Airing, airing_id)
    if airing is None:
        raise NotFound(f"no airing with id {airing_id}")
    require_station(user, airing.delivery.station.code)


@router.post("/calendar/airings/{airing_id}/pin")
def pin(request: Request, airing_id: int, form: Form, user: User = needs(*PLANNERS)) -> RedirectResponse:
    from scheduler.planning.editing import pin_airing

    services = request.app.state.services
    pinned = form.get("pinned", "1") != "0"
    with unit_of_work(services.sessions) as session:
        _check_airing(session, user, airing_id)
        pin_airing(session, airing_id, actor=user.name, now=services.now(), pinned=pinned)
    return back(_return_to(request))


@router.post("/calendar/airings/{airing_id}/remove")
def remove(request: Request, airing_id: int, user: User = needs(*PLANNERS)) -> RedirectResponse:
    from scheduler.planning.editing import remove_airing

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        _check_airing(session, user, airing_id)
        remove_airing(session, airing_id, actor=user.name, now=services.now())
    return back(_return_to(request))


@router.post("/calendar/airings/{airing_id}/move")
def move(request: Request, airing_id: int, form: Form, user: User = needs(*PLANNERS)) -> RedirectResponse:
    from scheduler.planning.editing import move_airing

    services = request.app.state.services
    target = str(form.get("delivery") or "").strip()
    if not target:
        raise InputError("choose the program to move it to", where="delivery")
    with unit_of_work(services.sessions) as session:
        _check_airing(session, user, airing_id)
        move_airing(session, airing_id, delivery_id=target, actor=user.name, now=services.now())
    return back(_return_to(request))
