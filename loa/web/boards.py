"""Board kiosk pages: ``/boards/<station>`` shows the rotation delivered for now."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from channels.board.kiosk import current_rotation, load_board

router = APIRouter(tags=["boards"])
#: Slide refs are ``piece-<id>-r<revision>-<n>`` (see scheduler.dispatch.dispatcher).
_PIECE_REF = re.compile(r"^piece-(\d+)-")


def _without_withdrawn(services: Any, rotation: dict[str, Any]) -> dict[str, Any]:
    """A rotation is pushed once a day; a piece retired since then leaves the board at once."""
    from content.db import unit_of_work
    from content.pieces import retired_among

    ids = {int(m[1]) for slide in rotation["slides"] if (m := _PIECE_REF.match(slide["ref"]))}
    with unit_of_work(services.sessions) as session:
        retired = retired_among(session, ids)
    if not retired:
        return rotation
    return {**rotation, "slides": [slide for slide in rotation["slides"]
                                   if not ((m := _PIECE_REF.match(slide["ref"])) and int(m[1]) in retired)]}


def _rotation(request: Request, station: str) -> tuple[Any, dict[str, Any] | None]:
    services = request.app.state.services
    spec = next((s for s in services.settings.stations if s.code == station), None)
    if spec is None or spec.board is None or spec.board.type != "kiosk":
        raise HTTPException(404, f"no kiosk board for station {station!r}")
    try:
        document = load_board(spec.board.dir, station)
    except ValueError:
        raise HTTPException(404, f"no kiosk board for station {station!r}") from None
    rotation = current_rotation(document, services.now()) if document else None
    return spec, _without_withdrawn(services, rotation) if rotation else None


@router.get("/boards/{station}.json")
def board_json(request: Request, station: str) -> dict[str, Any]:
    """The slides the board shows now (from the last delivered rotation)."""
    spec, rotation = _rotation(request, station)
    return {"station": spec.code, "station_name": spec.name, "rotation": rotation}


@router.get("/boards/{station}", response_class=HTMLResponse)
def board_page(request: Request, station: str) -> HTMLResponse:
    """The kiosk page a board's browser shows full screen; it reloads itself to follow the plan."""
    from loa.web import templates

    spec, rotation = _rotation(request, station)
    return templates.TemplateResponse(request, "board.html", {"station": spec, "rotation": rotation})
