"""The calendar: a week or a day per station and outlet, with totals, targets and conflicts; pin, remove, move."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from content.db import unit_of_work
from content.errors import InputError, LoaError
from content.models import User
from loa.web.auth import csrf_token, current_user, needs, require_station, sees_station
from loa.web.forms import Form
from loa.web.view import back, language, refused, render

router = APIRouter(tags=["pages"], include_in_schema=False)
PLANNERS = ("editor", "approver")  # as on the command line (loa airing …): whoever edits the station's pieces
DETAIL_STATIONS = 10


@router.get("/calendar", response_class=HTMLResponse)
def calendar(request: Request, week: str = "", day: str = "", station: str = "", outlet: str = "",
             user: User = Depends(current_user)) -> HTMLResponse:
    """The week of ``week`` (this week by default), or with ``day`` that one day, per station and outlet."""
    return render(request, "calendar.html", _calendar_context(request, week, station, outlet, user, day))


def _calendar_context(request: Request, week: str, station: str, outlet: str, user: User, day: str = "") -> dict:
    from loa.clock import parse_day
    from scheduler.views.week import monday_of, week_grid

    services = request.app.state.services
    today = services.now().astimezone(services.settings.zone).date()
    one_day = parse_day(day, "day") if day else None  # 31/12/2026 or 2026-12-31
    monday = monday_of(one_day or (parse_day(week, "week") if week else today))
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
        table = reads.cached(session, ("week-html", monday, one_day, tuple(codes), outlet, detail, lang, can_plan,
                                       station, csrf), lambda: _table(request, lang, {
                                           "grid": grid, "station": station, "outlet": outlet, "detail": detail,
                                           "can_plan": can_plan, "csrf": csrf, "one_day": one_day,
                                           "moves": move_targets(session, grid, services.settings.zone)
                                           if can_plan and detail else {}}))
    step = timedelta(days=1) if one_day else timedelta(days=7)
    shown = one_day or monday
    return {
        "grid": grid, "table": table, "station": station, "outlet": outlet, "stations": visible,
        "one_day": one_day, "previous": (shown - step).isoformat(), "next": (shown + step).isoformat(),
        # the two views: the week of the day shown; the day shown, or in a week its today (else its Monday)
        "week_link": monday.isoformat(),
        "day_link": (one_day or (today if monday <= today < monday + timedelta(days=7) else monday)).isoformat(),
        "can_plan": can_plan, "detail": detail,
    }


def _calendar_refused(request: Request, user: User, error: LoaError) -> HTMLResponse:
    """The calendar page the action came from, again, with the refusal above it (in its 4xx status)."""
    from urllib.parse import parse_qs, urlsplit

    query = {key: values[-1] for key, values in parse_qs(urlsplit(_return_to(request)).query).items()}
    try:
        context = _calendar_context(request, query.get("week", ""), query.get("station", ""),
                                    query.get("outlet", ""), user, query.get("day", ""))
    except LoaError:
        context = _calendar_context(request, "", "", "", user)
    return refused(request, error, "calendar.html", context, aliases={"--to": "", "airing": "", "delivery": ""})


def move_targets(session, grid, zone) -> dict[int, list]:
    """airing id → the programs of its row (same station and outlet, this week) that would take it, at a time
    its piece may air: the same rule ``move_airing`` applies, so the calendar never offers a move it then
    refuses."""
    from scheduler.planning.editing import Airable, airable, move_problem

    when = airable(session, {item.revision_id for row in grid.rows for day in row.days for p in day
                             for item in p.items})
    targets: dict[int, list] = {}
    for row in grid.rows:
        programs = [p for day in row.days for p in day]
        shape = [(p, p.start_at.astimezone(zone).date(), {i.piece_id for i in p.items}) for p in programs]
        for source in programs:
            if source.state != "pending":
                continue
            for item in source.items:
                targets[item.airing_id] = [
                    p for p, day, pieces in shape if p.delivery_id != source.delivery_id
                    and move_problem(state=p.state, station=p.station_code, outlet=p.outlet, start_at=p.start_at,
                                     end_at=p.end_at, day=day, length_s=p.length_s, used_s=p.total_s,
                                     piece_ids=pieces, source=(source.station_code, source.outlet),
                                     piece_id=item.piece_id, seconds=item.seconds,
                                     when=when.get(item.revision_id, Airable())) is None]
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

    name = "calendar_day.html" if context["one_day"] else "calendar_table.html"
    return Markup(templates.get_template(name).render(
        _=gettext, time=lambda m: i18n.fmt_time(m, zone), duration=i18n.fmt_duration, day=day,
        names=Names(settings, gettext), **context))


def _return_to(request: Request) -> str:
    """Back to the calendar page the form was on (path and query only: never another site)."""
    from urllib.parse import urlsplit

    referer = urlsplit(request.headers.get("referer") or "")
    if referer.path.startswith("/calendar") and not referer.path.startswith("/calendar/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/calendar"


def _edit_airing(request: Request, user: User, change: Any) -> RedirectResponse | HTMLResponse:
    """Apply ``change(session)`` to an airing (the edit checks the user's scope); a refusal shows the calendar
    again with it."""
    services = request.app.state.services
    try:
        with unit_of_work(services.sessions) as session:
            change(session)
    except LoaError as error:
        return _calendar_refused(request, user, error)
    return back(_return_to(request))


@router.post("/calendar/airings/{airing_id}/pin", response_model=None)
def pin(request: Request, airing_id: int, form: Form,
        user: User = needs(*PLANNERS)) -> RedirectResponse | HTMLResponse:
    from scheduler.planning.editing import pin_airing

    now, pinned = request.app.state.services.now(), form.get("pinned", "1") != "0"
    return _edit_airing(request, user, lambda session: pin_airing(
        session, airing_id, actor=user, now=now, pinned=pinned))


@router.post("/calendar/airings/{airing_id}/remove", response_model=None)
def remove(request: Request, airing_id: int, user: User = needs(*PLANNERS)) -> RedirectResponse | HTMLResponse:
    from scheduler.planning.editing import remove_airing

    now = request.app.state.services.now()
    return _edit_airing(request, user, lambda session: remove_airing(
        session, airing_id, actor=user, now=now, removed=True))


@router.post("/calendar/airings/{airing_id}/restore", response_model=None)
def restore(request: Request, airing_id: int, user: User = needs(*PLANNERS)) -> RedirectResponse | HTMLResponse:
    """Undo a removal: the piece goes back to the end of its program, if it still fits."""
    from scheduler.planning.editing import remove_airing

    now = request.app.state.services.now()
    return _edit_airing(request, user, lambda session: remove_airing(
        session, airing_id, actor=user, now=now, removed=False))


@router.post("/calendar/airings/{airing_id}/order", response_model=None)
def order(request: Request, airing_id: int, form: Form,
          user: User = needs(*PLANNERS)) -> RedirectResponse | HTMLResponse:
    """Swap an item with the one before it (``direction=up``) or after it (``down``) in its program."""
    from scheduler.planning.editing import reorder_airing

    now, direction = request.app.state.services.now(), str(form.get("direction") or "")

    def change(session: Any) -> None:
        if direction not in ("up", "down"):
            raise InputError("choose up or down", where="direction")
        reorder_airing(session, airing_id, up=direction == "up", actor=user, now=now)

    return _edit_airing(request, user, change)


@router.post("/calendar/airings/{airing_id}/move", response_model=None)
def move(request: Request, airing_id: int, form: Form,
         user: User = needs(*PLANNERS)) -> RedirectResponse | HTMLResponse:
    from scheduler.planning.editing import move_airing

    services = request.app.state.services
    now, zone, target = services.now(), services.settings.zone, str(form.get("delivery") or "").strip()

    def change(session: Any) -> None:
        if not target:
            raise InputError("choose the program to move it to", where="delivery")
        move_airing(session, airing_id, delivery_id=target, actor=user, now=now, zone=zone)

    return _edit_airing(request, user, change)
