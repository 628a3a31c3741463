"""The start page: what goes out today per station and outlet, and the failures that need someone."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from content.models import User
from loa.web.auth import current_user, sees_station
from loa.web.view import render

router = APIRouter(tags=["pages"], include_in_schema=False)


def visible_stations(request: Request, user: User) -> list:
    return [s for s in request.app.state.services.settings.stations if sees_station(user, s.code)]


@router.get("/", response_class=HTMLResponse)
def today(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    from scheduler.views.deliveries import NEEDS_ACTION, deliveries
    from scheduler.views.schedule import upcoming

    services = request.app.state.services
    now = services.now()
    stations = visible_stations(request, user)
    codes = {s.code for s in stations}
    start = datetime.combine(now.astimezone(services.settings.zone).date(), time(0), tzinfo=services.settings.zone)
    with request.app.state.reads.session() as session:
        programs = [p for p in upcoming(session, start=start, end=start + timedelta(days=1))
                    if p.station_code in codes]
        failures = deliveries(session, start=now - timedelta(days=7), states=NEEDS_ACTION, stations=codes)
    return render(request, "today.html", {"programs": programs, "failures": failures, "stations": stations})
