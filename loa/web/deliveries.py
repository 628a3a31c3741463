"""Deliveries: each push's status, attempts, error and receipt, with retry for the ones that failed."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from content.db import unit_of_work
from content.errors import NotFound
from content.models import User
from loa.web.auth import current_user, needs, require_station, sees_station
from loa.web.view import back, render

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/deliveries", response_class=HTMLResponse)
def deliveries_page(request: Request, state: str = "", user: User = Depends(current_user)) -> HTMLResponse:
    from scheduler.views.deliveries import deliveries

    services = request.app.state.services
    now = services.now()
    codes = [s.code for s in services.settings.stations if sees_station(user, s.code)]
    with request.app.state.reads.session() as session:
        rows = deliveries(session, start=now - timedelta(days=14), end=now + timedelta(days=2),
                          states=[state] if state else None, stations=codes, limit=300)
    return render(request, "deliveries.html", {"rows": rows, "state": state,
                                               "can_retry": user.role in ("approver", "admin")})


@router.get("/deliveries/{delivery_id}", response_class=HTMLResponse)
def delivery_page(request: Request, delivery_id: str, user: User = Depends(current_user)) -> HTMLResponse:
    from scheduler.planning.succession import successor_of
    from scheduler.views.schedule import upcoming

    with request.app.state.reads.session() as session:
        delivery, station = _find(session, user, delivery_id)
        program = None if delivery.withdraws else next(  # a withdrawal carries no program of its own
            p for p in upcoming(session, start=delivery.start_at, end=delivery.end_at, station=station.code,
                                outlet=delivery.outlet, superseded=True) if p.delivery_id == delivery_id)
        successor = successor_of(session, delivery_id) if delivery.superseded_at else None
    return render(request, "delivery.html", {"delivery": delivery, "station": station, "program": program,
                                             "successor": successor,
                                             "can_retry": user.role in ("approver", "admin")})


def _find(session, user: User, delivery_id: str):
    from scheduler.models import Delivery

    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("no delivery {id}", id=delivery_id)
    require_station(user, delivery.station.code)
    return delivery, delivery.station


@router.post("/deliveries/{delivery_id}/retry")
def retry(request: Request, delivery_id: str, user: User = needs("approver")) -> RedirectResponse:
    from scheduler.dispatch.outbox import retry_delivery

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        _find(session, user, delivery_id)
        retry_delivery(session, delivery_id, actor=user.name, now=services.now())
    return back(f"/deliveries/{delivery_id}")
