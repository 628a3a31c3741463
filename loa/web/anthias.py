"""Serves the slide pages of Anthias boards (``/anthias/<station>/<page>``) to the players that show them.

An Anthias asset points at a page the ``board.anthias`` adapter wrote into the station's
``pages_dir``; set ``pages_url`` to loa's address plus ``/anthias`` and loa serves them. A page
whose piece has been withdrawn since the push is served empty, so it leaves the screen at once,
as it does on kiosk boards.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(tags=["boards"])
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")
#: Pages are named ``<slide ref>.<hashes>.html`` and slide refs ``piece-<id>-r<revision>-<n>``.
_PIECE = re.compile(r"^piece-(\d+)-")
_WITHDRAWN = ('<!doctype html><html lang="vi"><head><meta charset="utf-8"><title></title></head>'
              '<body style="margin:0;background:#0b3d2e"></body></html>')


def _folder(request: Request, station: str) -> tuple[Any, Path]:
    services = request.app.state.services
    spec = next((s for s in services.settings.stations if s.code == station), None)
    if spec is None or spec.board is None or spec.board.type != "anthias" or not _FILE.match(station):
        raise HTTPException(404, f"no Anthias board for station {station!r}")
    return services, spec.board.pages_dir / station


def _file(folder: Path, name: str) -> Path:
    path = folder / name
    if not _FILE.match(name) or ".." in name or not path.is_file():
        raise HTTPException(404, "no such page")
    return path


@router.get("/anthias/{station}/media/{name}")
def slide_image(request: Request, station: str, name: str) -> FileResponse:
    """An image shown on a slide page."""
    _, folder = _folder(request, station)
    return FileResponse(_file(folder / "media", name))


@router.get("/anthias/{station}/{name}", response_class=HTMLResponse)
def slide_page(request: Request, station: str, name: str) -> Any:
    """One slide as the player shows it; empty when its piece has been withdrawn."""
    from content.db import unit_of_work
    from content.pieces import retired_among

    services, folder = _folder(request, station)
    path = _file(folder, name)
    match = _PIECE.match(name)
    if match:
        with unit_of_work(services.sessions) as session:
            if retired_among(session, {int(match[1])}):
                return HTMLResponse(_WITHDRAWN, headers={"Cache-Control": "no-store"})
    return FileResponse(path, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-store"})
