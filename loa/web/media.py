"""``/media/<station>/<sha256>.<ext>``: the audio and images that HTTP outlets link to, behind signed, expiring URLs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse

from channels.signing import verify_media

router = APIRouter(tags=["media"])
_NAME = re.compile(r"^([0-9a-f]{64})\.(mp3|png|jpg|jpeg|webp|gif)$")
_TYPES = {"mp3": "audio/mpeg", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
          "webp": "image/webp", "gif": "image/gif"}


def _secrets(services: Any, station: str) -> list[str]:
    """The secrets of the station's outlets that link to media (those with ``secret_env``)."""
    spec = next((s for s in services.settings.stations if s.code == station), None)
    if spec is None:
        return []
    names = [getattr(spec.outlet(outlet), "secret_env", None) for outlet in spec.outlets]
    return [value for name in names if name and (value := services.settings.env.get(name))]


def _find(services: Any, sha256: str) -> Path | None:
    from sqlalchemy import select

    from content.db import unit_of_work
    from content.errors import NotFound
    from content.media import find_media
    from content.models import Rendition

    with unit_of_work(services.sessions) as session:
        stored = session.scalars(select(Rendition.path).where(Rendition.sha256 == sha256)).first()
        if stored is None:  # an emergency's loudspeaker audio (scheduler.emergencies)
            from scheduler.models import Emergency

            stored = session.scalars(select(Emergency.speech_path).where(Emergency.speech_sha256 == sha256)).first()
    if stored and Path(stored).is_file():
        return Path(stored)
    try:
        return find_media(services.settings.media_dir, sha256)
    except NotFound:
        return None


@router.get("/media/{station}/{name}")
def media(request: Request, station: str, name: str, expires: int = Query(...),
          signature: str = Query(..., max_length=128)) -> FileResponse:
    """The file whose SHA-256 is in ``name``, if the link was signed by loa for ``station`` and has not expired."""
    services = request.app.state.services
    match = _NAME.match(name)
    if not match:
        raise HTTPException(404, "no such media")
    sha256, extension = match.groups()
    now = int(services.now().timestamp())
    if not any(verify_media(secret, station, sha256, expires, signature, now)
               for secret in _secrets(services, station)):
        raise HTTPException(403, "this media link is not valid or has expired")
    path = _find(services, sha256)
    if path is None:
        raise HTTPException(404, "the file is no longer stored")
    return FileResponse(path, media_type=_TYPES[extension], filename=name)
