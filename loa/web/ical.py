"""A user's iCalendar subscription: the coming programs of their stations, at a secret signed address."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer

from content.models import User

router = APIRouter(tags=["calendar"], include_in_schema=False)
DAYS = 14


def _serializer(app) -> URLSafeSerializer:
    return URLSafeSerializer(app.state.secret_key, salt="loa-ical")


def feed_token(app, user: User, key: str) -> str:
    """The secret part of the user's calendar address: signed, and naming the user's current link key."""
    return _serializer(app).dumps({"u": user.id, "k": key})


@router.get("/ical/{token}.ics")
def ical(request: Request, token: str) -> Response:
    """Calendar apps cannot log in, so the address itself is the key (signed, per user)."""
    from icalendar import Calendar, Event

    from content.logins import current_calendar_key
    from loa.web.auth import sees_station
    from loa.web.i18n import translations
    from loa.web.names import Names
    from loa.web.view import language
    from scheduler.views.schedule import upcoming

    try:
        signed = _serializer(request.app).loads(token)
        user_id, key = signed["u"], signed["k"]
    except (BadSignature, KeyError, TypeError):
        raise HTTPException(404, "no such calendar") from None
    services = request.app.state.services
    now = services.now()
    with request.app.state.reads.session() as session:
        user = session.get(User, user_id) if isinstance(user_id, int) else None
        if user is None or not isinstance(key, str) or current_calendar_key(session, user.id) != key:
            raise HTTPException(404, "no such calendar")  # a reset link, or one never given out
        programs = [p for p in upcoming(session, start=now - timedelta(days=1), end=now + timedelta(days=DAYS))
                    if sees_station(user, p.station_code)]
    names = Names(services.settings, translations(language(request)).gettext)
    calendar = Calendar()
    calendar.add("prodid", "-//loa//lich phat//VI")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"loa – {user.name}")
    for program in programs:
        event = Event()
        event.add("uid", f"{program.delivery_id}@loa")
        event.add("dtstamp", now)
        event.add("dtstart", program.start_at)
        event.add("dtend", program.end_at)
        event.add("summary", f"{names.slot(program.slot_name)} · {program.station_name} · "
                             f"{names.outlet(program.outlet)}")
        event.add("description", "\n".join(f"- {item.title}" for item in program.items) or "(trống / empty)")
        calendar.add_component(event)
    return Response(calendar.to_ical(), media_type="text/calendar; charset=utf-8")
