"""The "Phát khẩn cấp" pages: write an emergency, see what will be heard and who it reaches, confirm once; follow
each outlet's state; send a draft; clear it (hết cảnh báo). Only users with the emergency right see the forms.

A recording is uploaded with the form, checked and stored by the one upload path (``content.ingest.uploads``, as
``loa emergency send --audio``); the confirmation carries it as a token signed for the uploader, and lets them hear
what loudspeakers will play (the spoken title, then the recording) before anything is sent.

The pushes themselves go out from the scheduler's emergency lane (``scheduler.runtime``, about every second).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from content.db import unit_of_work
from content.errors import InputError, LoaError, NotAllowed, NotFound
from content.models import User
from content.scope import touches
from loa.web.auth import current_user
from loa.web.forms import Form, optional_moment
from loa.web.view import back, language, render

log = logging.getLogger(__name__)
router = APIRouter(tags=["pages"], include_in_schema=False)
#: What the form posts back as typed (``recording``: the token of a recording already uploaded and checked).
FIELDS = ("title", "text", "stream_url", "stations", "start", "repeat_minutes", "until", "recording")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _gone() -> InputError:
    return InputError("the recording uploaded earlier is no longer there; choose the file again", where="audio")


def _signer(request: Request, what: str) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret_key, salt=f"loa-emergency-{what}")


def _recording(request: Request, user: User, token: str) -> tuple[Path, str] | None:
    """The stored recording (path, file name as uploaded) that a token from this user's preview names; None
    without a token. A token is signed for one user: nobody can name another upload of the media folder."""
    from content.media import find_media

    if not token:
        return None
    try:
        data = _signer(request, "recording").loads(token)
    except BadSignature:
        raise _gone() from None
    if not isinstance(data, dict) or data.get("u") != user.id or not _SHA.match(str(data.get("sha"))):
        raise _gone()
    try:
        return find_media(request.app.state.services.settings.media_dir, data["sha"]), str(data.get("name") or "")
    except NotFound:
        raise _gone() from None


def _request(form: Any, zone: object, recording: Path | None = None) -> object:
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
        audio_path=recording, stream_url=str(form.get("stream_url") or "").strip() or None,
        targets=tuple(part.strip() for part in stations.split(",") if part.strip()), repeat_every=repeat,
        starts_at=optional_moment(form, "start", zone),  # read as loa emergency send --start reads it
        until=optional_moment(form, "until", zone), source="web")  # and --until (a full time)


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
    now_typed = f"{services.now().astimezone(services.settings.zone):%d/%m/%Y %H:%M}"  # the start left empty
    return render(request, "emergencies.html", {"may": _may(request, user), "under_way": under_way,
                                                 "recent": recent, "form": {}, "errors": {}, "now_typed": now_typed,
                                                 **context}, status)


@router.get("/emergencies", response_class=HTMLResponse)
def emergencies_page(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    return _page(request, user)


@router.post("/emergencies/preview", response_class=HTMLResponse)
def preview(request: Request, form: Form, user: User = Depends(current_user)) -> HTMLResponse:
    """What will be heard and who it reaches, with the one confirmation button; nothing is stored yet but an
    uploaded recording (content-addressed, as a piece's upload is before it is attached)."""
    from content.ingest.uploads import UploadRefused
    from content.render.normalize import normalize
    from loa.web.i18n import translations
    from loa.web.uploads import receive_recording, refusal
    from scheduler.emergencies import service

    services = request.app.state.services
    values = {name: str(form.get(name) or "") for name in FIELDS}
    if not _may(request, user):
        raise NotAllowed("user {name!r} is {role}; issuing an emergency needs the emergency right ({roles})",
                         name=user.name, role=user.role, roles="")
    try:
        upload = receive_recording(form, "audio", services.settings)
    except UploadRefused as error:  # already in the reader's words, naming the file; the typed values stay
        values["recording"] = ""
        return _page(request, user, form=values, status=400,
                     errors={"audio": refusal(error, translations(language(request)).gettext)})
    if upload is not None:  # a new file replaces the one uploaded before
        values["recording"] = _signer(request, "recording").dumps({"u": user.id, "sha": upload.sha256,
                                                                   "name": upload.name})
    recording_name = None
    try:
        recording = _recording(request, user, values["recording"])
        recording_name = recording[1] if recording else None
        emergency_request = _request(values, services.settings.zone, recording[0] if recording else None)
        with unit_of_work(services.sessions) as session:
            reach = service.preview(session, emergency_request, now=services.now(),  # type: ignore[arg-type]
                                   actor=session.get(User, user.id))
    except LoaError as error:
        where = getattr(error, "where", None) or ""
        if where == "audio":
            values["recording"], recording_name = "", None
        return _page(request, user, form=values, errors={where: i18n_text(error, request)}, status=400,
                     recording_name=recording_name)
    title, text = service.words(emergency_request)  # type: ignore[arg-type]
    said = f"{title}." if recording else f"{title}. {text}"  # with a recording, the title only, then the recording
    spoken = normalize(said, services.settings.loa.normalize.abbreviations)
    now = services.now()
    starts_at = emergency_request.starts_at  # type: ignore[attr-defined]
    return render(request, "emergency_confirm.html", {
        "form": values, "reach": reach, "spoken": spoken, "recording_name": recording_name,
        "heard": _heard(request, user, emergency_request),
        "starts_later": starts_at if starts_at is not None and starts_at > now else None})


def _heard(request: Request, user: User, emergency_request: Any) -> str | None:
    """The address of what loudspeakers will play (rendered now, as the emergency lane renders it, so the
    lane finds it done), signed for this user; None for a live stream without a recording, or when rendering
    fails (the preview then shows the words only, and the lane says why on each loudspeaker)."""
    from content.render.alerts import render_alert
    from scheduler.emergencies import service

    if emergency_request.stream_url and emergency_request.audio_path is None:
        return None
    settings = request.app.state.services.settings
    title, text = service.words(emergency_request)
    try:
        rendered = render_alert(title, text, emergency_request.audio_path, settings.render,
                                abbreviations=settings.loa.normalize.abbreviations)
    except Exception:
        log.exception("emergency preview: rendering what loudspeakers will play failed")
        return None
    return f"/emergencies/heard/{_signer(request, 'heard').dumps({'u': user.id, 'key': rendered.path.stem})}"


@router.get("/emergencies/heard/{token}")
def heard(request: Request, token: str, user: User = Depends(current_user)) -> FileResponse:
    """The preview's audio, for the user who previewed it (and still holds the right)."""
    try:
        data = _signer(request, "heard").loads(token)
    except BadSignature:
        raise NotFound("no such preview") from None
    if not isinstance(data, dict) or data.get("u") != user.id or not _SHA.match(str(data.get("key"))) \
            or not _may(request, user):
        raise NotFound("no such preview")
    key = data["key"]
    path = request.app.state.services.settings.render.renditions_dir / "alerts" / key[:2] / f"{key}.mp3"
    if not path.is_file():
        raise NotFound("no such preview")
    return FileResponse(path, media_type="audio/mpeg", headers={"Cache-Control": "private, no-store"})


def i18n_text(error: LoaError, request: Request) -> str:
    from loa.web import i18n

    return i18n.error_text(error, language(request))


@router.post("/emergencies")
def issue(request: Request, form: Form, user: User = Depends(current_user)) -> RedirectResponse:
    """The confirmation: issued and sent at once (the emergency lane pushes it within about a second)."""
    from scheduler.emergencies import service

    services = request.app.state.services
    recording = _recording(request, user, str(form.get("recording") or ""))
    emergency_request = _request(form, services.settings.zone, recording[0] if recording else None)
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
                                              "may": _may(request, user),
                                              "starts_later": emergency.starts_at > services.now()})


@router.get("/emergencies/{emergency_id}/audio")
def emergency_audio(request: Request, emergency_id: int, user: User = Depends(current_user)) -> FileResponse:
    """What the emergency's loudspeakers play, once rendered, for those who see the emergency."""
    from scheduler.emergencies.service import get

    with unit_of_work(request.app.state.services.sessions) as session:
        emergency = get(session, emergency_id)
        if not touches(user, emergency.stations):
            raise NotFound("no emergency {id}", id=emergency_id)
        path = emergency.speech_path
    if not path or not Path(path).is_file():
        raise NotFound("emergency {id} has no audio yet", id=emergency_id)
    return FileResponse(path, media_type="audio/mpeg", headers={"Cache-Control": "private, no-store"})


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
