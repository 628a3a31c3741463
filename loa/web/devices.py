"""The Thiết bị page (``/devices``): every outlet of the user's stations with its device's state, filterable."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from content.centres import Tree
from content.models import User
from content.scope import tree_for
from loa.web.auth import current_user
from loa.web.today import visible_stations
from loa.web.view import render
from scheduler.config import StationSpec
from scheduler.devices.states import DeviceState

router = APIRouter(tags=["pages"], include_in_schema=False)
#: The order of the states on the page: what needs someone first.
ORDER = (DeviceState.OFFLINE, DeviceState.FAULTY, DeviceState.LATE, DeviceState.UNKNOWN, DeviceState.ONLINE)


def station_filters(stations: Sequence[StationSpec], tree: Tree | None = None,
                    home: str | None = None) -> dict[str, tuple[str, frozenset[str]]]:
    """The choices of the filter: key → (label, the station codes it keeps). One per centre below ``home`` in
    ``tree`` (``centre:<code>``, parents first), then one per station group (``group:<name>``)."""
    codes = frozenset(s.code for s in stations)
    out: dict[str, tuple[str, frozenset[str]]] = {}
    if tree is not None and not tree.implicit:
        below = tree.subtree(home)
        for node in tree.ordered():
            held = tree.stations(node.code)
            if node.code in below and node.code != tree.home(home) and held is not None:
                out[f"centre:{node.code}"] = (node.name, codes & held)
    groups = sorted({group for spec in stations for group in spec.groups})
    out.update({f"group:{group}": (group, frozenset(s.code for s in stations if group in s.groups))
                for group in groups})
    return out


def chosen(stations: Sequence[StationSpec], codes: frozenset[str] | None) -> list[StationSpec]:
    """``stations`` narrowed to ``codes`` (all of them when no filter is chosen)."""
    return list(stations) if codes is None else [s for s in stations if s.code in codes]


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, only: str = "", disabled: int | None = None,
                 user: User = Depends(current_user)) -> HTMLResponse:
    return page(request, user, only, disabled=disabled)


def page(request: Request, user: User, only: str = "", status: int = 200, **extra: object) -> HTMLResponse:
    """The page, with ``extra`` for the fleet forms (loa.web.fleet: a code just made, a refused form)."""
    from loa.web.fleet import edge_rows, is_fleet_admin, targets
    from scheduler.devices.roster import roster

    services = request.app.state.services
    now = services.now()
    stations = visible_stations(request, user)
    filters = station_filters(stations, tree_for(user), user.centre)
    codes = filters[only][1] if only in filters else None
    shown = chosen(stations, codes)
    with request.app.state.reads.session() as session:
        rows = roster(session, shown, services.settings.loa.devices, now)
        edge = edge_rows(session, user, shown)
    rows.sort(key=lambda row: ORDER.index(row.state))
    counts = Counter(row.state for row in rows)
    return render(request, "devices.html", {
        "rows": rows, "counts": [(state, counts[state]) for state in ORDER if counts[state]],
        "filters": [(key, label) for key, (label, _) in filters.items()], "only": only if codes is not None else "",
        "max_skew_s": services.settings.loa.devices.max_clock_skew_s,
        "fleet": is_fleet_admin(user), "edge_devices": edge, "targets": targets(stations),
        "enrol_form": {}, "errors": {}, "issued": None, "disabled": None, **extra}, status)
