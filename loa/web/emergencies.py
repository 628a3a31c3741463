"""The "Phát khẩn cấp" pages: write an emergency, see what will be heard and who it reaches, confirm once; follow
each outlet's state; send a draft; clear it (hết cảnh báo). Only users with the emergency right see the forms.

The pushes themselves go out from the scheduler's emergency lane (``scheduler.runtime``, about every second).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from content.db import unit_of_work
from content.errors import InputError, LoaError, NotAllowed, NotFound
from content.models import User
from content.scope import touches
from loa.web.auth import current_user
from loa.web.forms import Form, optional_moment
from loa.web.view import back, language, render

router = APIRouter(tags=["pages"], include_in_schema=False)
FIELDS = ("title", "text", "stream_url", "stations", "repeat_minutes", "until")


def _request(form: Form, zone: object) -> object:
    from scheduler.emergencies.service import EmergencyRequest

    minutes = str(form.get("repeat_minutes") or "").strip()
    try:
        repeat = timedelta(minutes=float(minutes)) if minutes else None
    except ValueError:
        raise InputError("repeat every {minutes} minutes: choose between 1 minute and 24 hours", where="repeat_every",
                         minutes=minutes) from None
    stations = str(form.get("stations") or "*")
    return EmergencyRequest(
        title=str(form.get("title") or "").strip() or "Tin khẩn cấp", text=str(form.get("text") or ""),
        stream_url=str(form.get("stream_url") or "").strip() or None,
        targets=tuple(part.strip() for part in stations.split(",") if part.strip()), repeat_every=repeat,
        until=optional_moment(form, "until", zone), source="web")  # read as loa emergency send --until reads it


def _may(request: Request, user: User) -> bool:
    from scheduler.emergencies.service import may_issue

    with unit_of_work(request.app.state.services.sessions) as session:
        return may_issue(session, user)


def _page(request: Request, user: User, status: int = 200, **context: object) -> HTMLResponse:
    from scheduler.emergencies import service
    from scheduler.models import Emergency

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        # Only those reaching a station of the user's: another centre's emergencies are not theirs to see.
        under_way = [e for e in service.active(session, services.now()) if touches(user, e.stations)]
        recent = [e for e in session.scalars(select(Emergency).order_by(Emergency.id.desc()).limit(200))
                  if touches(user, e.stations)][:20]
    return render(request, "emergencies.html", {"may": _may(request, user), "under_way": under_way,
                                                 "recent": recent, "form": {}, "errors": {}, **context}, status)


@router.get("/emergencies", response_class=HTMLResponse)
def emergencies_page(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    return _page(request, user)


@router.post("/emergencies/preview", response_class=HTMLResponse)
def preview(request: Request, form: Form, user: User = Depends(current_user)) -> HTMLResponse:
    """What will be heard and who it reaches, with the one confirmation button; nothing is stored yet."""
    from content.render.normalize import normalize
    from scheduler.emergencies import service

    services = request.app.state.services
    values = {name: str(form.get(name) or "") for name in FIELDS}
    if not _may(request, user):
        raise NotAllowed("user {name!r} is {role}; issuing an emergency needs the emergency right ({roles})",
                         name=user.name, role=user.role, roles="")
    try:
        emergency_request = _request(form, services.settings.zone)
        with unit_of_work(services.sessions) as session:
            reach = service.preview(session, emergency_request, now=services.now(),  # type: ignore[arg-type]
                                   actor=session.get(User, user.id))
    except LoaError as error:
        where = getattr(error, "where", None) or ""
        return _page(request, user, form=values, errors={where: i18n_text(error, request)}, status=400)
    spoken = normalize(f"{emergency_request.title}. {emergency_request.text}",  # type: ignore[attr-defined]
                       services.settings.loa.normalize.abbreviations)
    return render(request, "emergency_confirm.html", {"form": values, "reach": reach, "spoken": spoken})


def i18n_text(error: LoaError, request: Request) -> str:
    from loa.web import i18n

    return i18n.error_text(error, language(request))


@router.post("/emergencies")
def issue(request: Request, form: Form, user: User = Depends(current_user)) -> RedirectResponse:
    """The confirmation: issued and sent at once (the emergency lane pushes it within about a second)."""
    from scheduler.emergencies import service

    services = request.app.state.services
    emergency_request = _request(form, services.settings.zone)
    with unit_of_work(services.sessions) as session:
        actor = session.get(User, user.id)
        emergency = service.issue(session, emergency_request, actor=actor, now=services.now())  # type: ignore[arg-type]
        emergency_id = emergency.id
    return back(f"/emergencies/{emergency_id}")


@router.get("/emergencies/{emergency_id}", response_class=HTMLResponse)
def emergency_page(request: Request, emergency_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    from scheduler.emergencies.service import get
    from scheduler.models import EmergencyDelivery

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        emergency = get(session, emergency_id)
        if not touches(user, emergency.stations):
            raise NotFound("no emergency {id}", id=emergency_id)
        pushes = list(session.scalars(select(EmergencyDelivery).options(joinedload(EmergencyDelivery.station))
                                      .where(EmergencyDelivery.emergency_id == emergency_id)
                                      .order_by(EmergencyDelivery.kind, EmergencyDelivery.repeat.desc(),
                                                EmergencyDelivery.outlet)))
    counts = Counter(p.state for p in pushes)
    return render(request, "emergency.html", {"emergency": emergency, "pushes": pushes, "counts": counts,
                                              "may": _may(request, user)})


@router.post("/emergencies/{emergency_id}/send")
def send_draft(request: Request, emergency_id: int, user: User = Depends(current_user)) -> RedirectResponse:
    from scheduler.emergencies import service

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        service.send(session, emergency_id, actor=session.get(User, user.id), now=services.now())  # type: ignore[arg-type]
    return back(f"/emergencies/{emergency_id}")


@router.post("/emergencies/{emergency_id}/clear")
def clear(request: Request, emergency_id: int, user: User = Depends(current_user)) -> RedirectResponse:
    from scheduler.emergencies import service

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        service.clear(session, emergency_id, actor=session.get(User, user.id), now=services.now())
    return back(f"/emergencies/{emergency_id}")
