"""Board kiosk pages: ``/boards/<station>`` shows the rotation delivered for now and follows it as it changes.

The page (``board.html`` + ``static/board.js``) polls ``/boards/<station>.json`` every few seconds with
``If-None-Match``; the answer's ``version`` (also its ETag) is a hash of exactly what the board would
show, so an unchanged board costs a 304 and the page swaps slides only when the content moved on.
Every board polls this route, so it stays cheap: the board document is parsed once per change of the
file, one indexed query finds withdrawn pieces, and the rest is hashing a few kilobytes.

An emergency must be on screen within seconds, so the page also asks ``/boards/<station>/alert`` every
``alert_poll_seconds`` (2 s): a few bytes, no database, 304 while nothing changed. Its answer is the alert in
force (``channels.board.kiosk.current_alert``) or null; ``board.json`` carries the same ``alert``, so a
page whose alert requests fail still follows the emergency at the slower poll.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from channels.board.kiosk import MEDIA_DIR, board_path, current_alert, current_rotation, load_board

router = APIRouter(tags=["boards"])
#: Slide refs are ``piece-<id>-r<revision>-<n>`` (see scheduler.dispatch.dispatcher).
_PIECE_REF = re.compile(r"^piece-(\d+)-")
#: Names the kiosk adapter gives slide images (``channels.files.store_media``).
_IMAGE = re.compile(r"^[0-9a-f]{16}\.(png|jpg|jpeg|webp|gif)$")
_IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
                "gif": "image/gif"}
#: The files the page is made of: a change of any of them (an upgrade) makes running kiosks reload.
_PAGE_FILES = ("templates/board.html", "static/board.js", "static/board.css", "static/loa.css")
_NO_CACHE = {"Cache-Control": "no-cache"}  # browsers may keep it, but must ask again (cheaply, with the ETag)

_parsed: dict[Path, tuple[tuple[int, int, int], dict[str, Any] | None]] = {}
_parsed_lock = threading.Lock()


def _document(dir: Path, station: str) -> dict[str, Any] | None:
    """The station's board document, parsed again only when the file was replaced (the adapter always
    writes a new file and renames it over the old one, so inode, size and mtime change together)."""
    path = board_path(dir, station)
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _parsed_lock:
        cached = _parsed.get(path)
    if cached and cached[0] == key:
        return cached[1]
    document = load_board(dir, station)
    with _parsed_lock:
        _parsed[path] = (key, document)
    return document


def _without_withdrawn(request: Request, rotation: dict[str, Any]) -> dict[str, Any]:
    """A piece retired since its rotation was pushed leaves the board at once."""
    from content.pieces import retired_among

    ids = {int(m[1]) for slide in rotation["slides"] if (m := _PIECE_REF.match(slide["ref"]))}
    if not ids:
        return rotation
    with request.app.state.reads.session() as session:
        retired = retired_among(session, ids)
    if not retired:
        return rotation
    return {**rotation, "slides": [slide for slide in rotation["slides"]
                                   if not ((m := _PIECE_REF.match(slide["ref"])) and int(m[1]) in retired)]}


def _spec(request: Request, station: str) -> Any:
    """The station's settings, if its board is a kiosk served by loa; else 404."""
    services = request.app.state.services
    spec = next((s for s in services.settings.stations if s.code == station), None)
    if spec is None or spec.board is None or spec.board.type != "kiosk":
        raise HTTPException(404, f"no kiosk board for station {station!r}")
    return spec


def _board(request: Request, station: str) -> tuple[Any, dict[str, Any], str]:
    """The station's settings, what its board shows now (``station``, ``station_name``, ``rotation``
    with an ``image_url`` per slide) and the version of that content."""
    spec = _spec(request, station)
    try:
        document = _document(spec.board.dir, station)
    except ValueError:
        raise HTTPException(404, f"no kiosk board for station {station!r}") from None
    now = request.app.state.services.now()
    rotation = current_rotation(document, now) if document else None
    if rotation:
        rotation = _without_withdrawn(request, rotation)
        media = request.url_for("board_media", station=station, name="_").path[:-1]
        rotation["slides"] = [{**slide, "image_url": media + Path(slide["image"]).name if slide.get("image")
                               else None} for slide in rotation["slides"]]
    shown = {"station": spec.code, "station_name": spec.name, "rotation": rotation,
             "alert": _shown_alert(document, now)}
    digest = hashlib.sha256(json.dumps(shown, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return spec, shown, digest.hexdigest()[:20]


def _shown_alert(document: dict[str, Any] | None, now: Any) -> dict[str, Any] | None:
    """What the page's banner needs of the alert in force: its id, title, text and end."""
    alert = current_alert(document, now) if document else None
    if alert is None:
        return None
    return {key: alert.get(key) for key in ("ref", "title", "text", "issued_at", "until")}


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak or strong, as RFC 9110 compares for GET)."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags


@cache
def page_version() -> str:
    """A hash of the page's own files, so that kiosks running an older page reload after an upgrade."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in _PAGE_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


@router.get("/boards/{station}.json", responses={
    200: {"description": "The slides the board shows now; `version` is also the ETag."},
    304: {"description": "Unchanged since the version named in `If-None-Match`."}})
def board_json(request: Request, station: str) -> Response:
    """The slides the board shows now (from the last delivered rotation, without withdrawn pieces),
    with ``version``: send it back as ``If-None-Match`` to get a bodiless 304 while nothing changed."""
    _, shown, version = _board(request, station)
    etag = f'"{version}"'
    headers = {"ETag": etag, **_NO_CACHE}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = json.dumps({**shown, "version": version, "page": page_version()}, ensure_ascii=False)
    return Response(body.encode("utf-8"), media_type="application/json", headers=headers)


@router.get("/boards/{station}/alert", name="board_alert", responses={
    200: {"description": "The emergency in force on the board (`alert`, null when none), with an ETag."},
    304: {"description": "Unchanged since the version named in `If-None-Match`."}})
def board_alert(request: Request, station: str) -> Response:
    """The emergency the board must show now, or ``null``: the page asks every couple of seconds, so an
    alert is on screen within seconds of its push. No database is read; unchanged costs a 304."""
    spec = _spec(request, station)
    try:
        document = _document(spec.board.dir, station)
    except ValueError:
        raise HTTPException(404, f"no kiosk board for station {station!r}") from None
    alert = _shown_alert(document, request.app.state.services.now())
    body = json.dumps({"alert": alert}, sort_keys=True, ensure_ascii=False).encode("utf-8")
    etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
    headers = {"ETag": etag, **_NO_CACHE}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/boards/{station}/media/{name}", name="board_media")
def board_media(request: Request, station: str, name: str) -> FileResponse:
    """A slide image of the station's kiosk board, by its content-addressed name (cached for good)."""
    spec = _spec(request, station)
    match = _IMAGE.match(name)
    if match is None:
        raise HTTPException(404, "no such image on this board")
    path = spec.board.dir / station / MEDIA_DIR / name  # the station's code was checked against the config
    if not path.is_file():
        raise HTTPException(404, "no such image on this board")
    return FileResponse(path, media_type=_IMAGE_TYPES[match[1]],
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})


@router.get("/boards/{station}", response_class=HTMLResponse)
def board_page(request: Request, station: str) -> HTMLResponse:
    """The page a board's browser shows full screen: it cycles through every slide and swaps in new
    slides when ``/boards/<station>.json`` reports a new version (see ``static/board.js``)."""
    from loa.web import templates

    spec, shown, version = _board(request, station)
    return templates.TemplateResponse(request, "board.html", {
        "station": spec, "rotation": shown["rotation"], "version": version, "page": page_version(),
        "poll_seconds": spec.board.poll_seconds, "alert": shown["alert"],
        "alert_poll_seconds": spec.board.alert_poll_seconds}, headers=_NO_CACHE)
