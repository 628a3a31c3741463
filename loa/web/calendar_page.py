"""The calendar: a week grid per station and outlet, with totals, targets and conflicts; pin, remove, restore, move."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from content.db import unit_of_work
from content.errors import InputError, NotFound, StateError
from content.models import User
from loa.web.auth import csrf_token, current_user, needs, require_station, sees_station
from loa.web.forms import Form
from loa.web.view import back, flash, language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
PLANNERS = ("editor", "approver")  # as on the command line (loa airing …): whoever edits the station's pieces
DETAIL_STATIONS = 10


def _monday(request: Request, week: str) -> date:
    from scheduler.views.week import monday_of

    services = request.app.state.services
    if week:
        try:
            return monday_of(date.fromisoformat(week))
        except ValueError:
            raise InputError(f"{week!r} is not a date like 2026-11-23", where="week") from None
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
    can_plan = user.role in ("editor", "approver", "admin")
    lang = language(request)
    csrf = csrf_token(request) if can_plan and detail else ""  # only the item forms carry it
    reads = request.app.state.reads
    with reads.session() as session:
        grid = reads.cached(session, ("week", monday, tuple(codes), outlet, detail), lambda: week_grid(
            session, monday=monday, zone=services.settings.zone, stations=codes, outlet=outlet or None,
            detail=detail))
        # The grid's HTML is the page's bulk (thousands of programs): rendered once per plan version and view.
        table = reads.cached(session, ("week-html", monday, tuple(codes), outlet, detail, lang, can_plan, station,
                                       csrf), lambda: _table(request, lang, {
                                           "grid": grid, "station": station, "outlet": outlet, "detail": detail,
                                           "can_plan": can_plan, "csrf": csrf,
                                           "moves": move_targets(grid) if can_plan and detail else {}}))
    return render(request, "calendar.html", {
        "grid": grid, "table": table, "station": station, "outlet": outlet, "stations": visible,
        "previous": (monday - timedelta(days=7)).isoformat(), "next": (monday + timedelta(days=7)).isoformat(),
        "can_plan": can_plan, "detail": detail,
    })


def move_targets(grid) -> dict[int, list]:
    """airing id → the programs of its row (same station and outlet, this week) that would take it:
    the same rule ``move_airing`` applies, so the calendar never offers a move it then refuses."""
    from scheduler.planning.editing import move_problem

    targets: dict[int, list] = {}
    for row in grid.rows:
        programs = [p for day in row.days for p in day]
        shape = [(p, p.length_s, p.total_s, {i.piece_id for i in p.items}) for p in programs]
        for source in programs:
            if source.state != "pending":
                continue
            for item in source.items:
                targets[item.airing_id] = [
                    p for p, length, used, pieces in shape if p.delivery_id != source.delivery_id
                    and move_problem(state=p.state, outlet=p.outlet, length_s=length, used_s=used, piece_ids=pieces,
                                     piece_id=item.piece_id, seconds=item.seconds) is None]
    return targets


def _table(request: Request, lang: str, context: dict) -> Markup:
    from loa.web import i18n, templates
    from loa.web.names import Names

    settings = request.app.state.services.settings
    zone = settings.zone
    gettext = i18n.translations(lang).gettext

    def day(moment) -> str:
        local = moment.astimezone(zone)
        return f"{gettext(local.strftime('%a'))} {local:%d/%m}"

    return Markup(templates.get_template("calendar_table.html").render(
        _=gettext, time=lambda m: i18n.fmt_time(m, zone), duration=i18n.fmt_duration, day=day,
        names=Names(settings, gettext), **context))


def _return_to(request: Request) -> str:
    """Back to the calendar page the form was on (path and query only: never another site)."""
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer") or "")
    if referer.path.startswith("/calendar") and not referer.path.startswith("/calendar/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/calendar"


@router.post("/calendar/airings/{airing_id}/pin")
def pin(request: Request, airing_id: int, form: Form, user: User = needs(*PLANNERS)) -> RedirectResponse:
    from scheduler.planning.editing import pin_airing

    services = request.app.state.services
    pinned = form.get("pinned", "1") != "0"
    with unit_of_work(services.sessions) as session:
        try:
            pin_airing(session, airing_id, actor=user, now=services.now(), pinned=pinned)
        except (InputError, StateError) as error:
            return _refused(request, error)
    return back(_return_to(request))


@router.post("/calendar/airings/{airing_id}/remove")
def remove(request: Request, airing_id: int, user: User = needs(*PLANNERS)) -> RedirectResponse:
    return _set_removed(request, airing_id, user, removed=True)


@router.post("/calendar/airings/{airing_id}/restore")
def restore(request: Request, airing_id: int, user: User = needs(*PLANNERS)) -> RedirectResponse:
    """Undo a removal: the piece goes back to the end of its program, if it still fits."""
    return _set_removed(request, airing_id, user, removed=False)


def _set_removed(request: Request, airing_id: int, user: User, *, removed: bool) -> RedirectResponse:
    from scheduler.planning.editing import remove_airing

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        try:
            remove_airing(session, airing_id, actor=user, now=services.now(), removed=removed)
        except (InputError, StateError) as error:
            return _refused(request, error)
    return back(_return_to(request))


#: What the calendar says when the plan changed under the page (the refusal's own text names internal ids).
_REFUSALS = {
    "sent": "This program has already been sent; it can no longer be changed.",
    "already-there": "That program already has this piece.",
    "no-room": "That program has no room left for this piece; remove something from it first.",
}


def _refused(request: Request, error: Exception) -> RedirectResponse:
    """Back to the calendar with the refusal said in the reader's language (no internal ids)."""
    from loa.web import i18n

    gettext = i18n.translations(language(request)).gettext
    text = str(error)
    reason = ("sent" if "only programs not yet sent" in text else "already-there" if "already in program" in text
              else "no-room" if "no room" in text else "")
    message = gettext(_REFUSALS[reason]) if reason else gettext("The calendar changed meanwhile; look again.")
    flash(request, gettext("Not done") + ": " + message)
    return back(_return_to(request))


@router.post("/calendar/airings/{airing_id}/move")
def move(request: Request, airing_id: int, form: Form, user: User = needs(*PLANNERS)) -> RedirectResponse:
    from scheduler.planning.editing import move_airing

    services = request.app.state.services
    target = str(form.get("delivery") or "").strip()
    with unit_of_work(services.sessions) as session:
        try:
            move_airing(session, airing_id, delivery_id=target, actor=user, now=services.now())
        except (InputError, StateError, NotFound) as error:
            return _refused(request, error)
    return back(_return_to(request))
