"""The edge fleet on the Thiết bị page: an admin lists the ``loa edge`` devices of their stations, makes a one-time
enrolment code for an outlet, and disables (revokes) a device after a confirmation page — all audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from content.db import unit_of_work
from content.errors import InputError, NotFound
from content.models import User
from content.scope import sees_station
from content.users import require_role
from loa.web.auth import current_user
from loa.web.forms import Form
from loa.web.view import back, language, public_base, render
from scheduler.config import StationSpec

router = APIRouter(tags=["pages"], include_in_schema=False)
#: The outlets an edge device plays or shows (scheduler.devices.edge_feed serves these).
EDGE_OUTLETS = ("loudspeaker", "board")
MAX_HOURS = 720


@dataclass(frozen=True)
class EdgeRow:
    """One enrolled device as the page lists it."""

    id: int
    name: str
    station_code: str
    station_name: str
    outlet: str
    enrolled_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


def is_fleet_admin(user: User) -> bool:
    return user.role == "admin"


def targets(stations: Sequence[StationSpec]) -> list[tuple[str, str]]:
    """The ``station/outlet`` choices of the enrolment form: each edge-capable outlet of ``stations``."""
    return [(f"{s.code}/{outlet}", s.name) for s in stations for outlet in EDGE_OUTLETS if s.outlet(outlet)]


def edge_rows(session: Session, user: User, stations: Sequence[StationSpec]) -> list[EdgeRow]:
    """The enrolled devices of ``stations`` the user reaches, newest first (none for a non-admin)."""
    from scheduler.devices import edges

    if not is_fleet_admin(user):
        return []
    names = {s.code: s.name for s in stations}
    return [EdgeRow(d.id, d.name, d.station.code, names[d.station.code], d.outlet, d.enrolled_at, d.revoked_at,
                    d.revoked_by)
            for d in edges.devices(session) if d.station.code in names and sees_station(user, d.station.code)]


def _device_in_reach(session: Session, user: User, device_id: int) -> object:
    """The device, when the user is an admin reaching its station; NotFound otherwise (as if it did not exist)."""
    from scheduler.models import EdgeDevice

    require_role(user, "admin")
    device = session.get(EdgeDevice, device_id)
    if device is None or not sees_station(user, device.station.code):
        raise NotFound("no edge device {device}", device=device_id)
    return device


def _hours(form: Form) -> int:
    text = str(form.get("hours") or "").strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_HOURS:
        raise InputError("the code's lifetime must be a whole number of hours from 1 to {most}", where="hours",
                         most=MAX_HOURS)
    return int(text)


@router.post("/devices/enrol-code", response_class=HTMLResponse)
def enrol_code(request: Request, form: Form, user: User = Depends(current_user)) -> HTMLResponse:
    """A one-time code for the chosen outlet, shown once on the page with its expiry and the device's command."""
    from loa.web.devices import page as devices_page
    from scheduler.devices import edges

    require_role(user, "admin")
    services = request.app.state.services
    target = str(form.get("target") or "")
    station, _, outlet = target.partition("/")
    values = {"target": target, "hours": str(form.get("hours") or "")}
    try:
        if not station or outlet not in EDGE_OUTLETS:
            raise InputError("choose the station and outlet the device serves", where="target")
        if not sees_station(user, station):
            raise NotFound("no station with code {code!r}", code=station)
        hours = _hours(form)
        with unit_of_work(services.sessions) as session:
            row, code = edges.make_enrolment_code(session, station=station, outlet=outlet, actor=user.name,
                                                  now=services.now(), hours=hours)
            expires = row.expires_at
    except NotFound:
        raise  # not theirs (or no such outlet): 404, as for any page
    except InputError as error:
        from loa.web.i18n import error_text

        return devices_page(request, user=user, status=400, enrol_form=values,
                            errors={error.where or "": error_text(error, language(request))})
    names = {s.code: s.name for s in request.app.state.services.settings.stations}
    issued = {"code": code, "station": station, "station_name": names.get(station, station), "outlet": outlet,
              "expires_at": expires,
              "command": f"loa edge enrol --server {public_base(request)} --code {code}"}
    response = devices_page(request, user=user, issued=issued)
    response.headers["Cache-Control"] = "no-store"  # the code is shown once: not kept in a cache
    return response


@router.get("/devices/edge/{device_id}/revoke", response_class=HTMLResponse)
def confirm_revoke(request: Request, device_id: int, user: User = Depends(current_user)) -> HTMLResponse:
    """The second step: which device, and the one button that disables it."""
    with request.app.state.reads.session() as session:
        device = _device_in_reach(session, user, device_id)
        row = EdgeRow(device.id, device.name, device.station.code, device.station.name,  # type: ignore[attr-defined]
                      device.outlet, device.enrolled_at, device.revoked_at, device.revoked_by)  # type: ignore[attr-defined]
    return render(request, "edge_revoke_confirm.html", {"device": row})


@router.post("/devices/edge/{device_id}/revoke")
def revoke(request: Request, device_id: int, form: Form, user: User = Depends(current_user)) -> RedirectResponse:
    """Disable the device: its token is refused from now on (audited as ``edge.revoke``)."""
    from scheduler.devices import edges

    services = request.app.state.services
    with unit_of_work(services.sessions) as session:
        _device_in_reach(session, user, device_id)
        edges.revoke(session, device_id, user.name, services.now())
    return back(f"/devices?disabled={device_id}#edge-devices")  # the page says so beside the device


__all__ = ["EDGE_OUTLETS", "EdgeRow", "edge_rows", "router", "targets"]
