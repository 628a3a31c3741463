"""Reading what editors type into forms: dates as dd/mm/yyyy in the configured zone, channels, stations, numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from starlette.datastructures import FormData

from content.errors import InputError
from content.models import CHANNELS

DATE_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


async def posted_form(request: Request) -> FormData:
    """The posted form (empty for a request without one), read on the event loop, since reading a body
    is async, and handed to plain ``def`` handlers and dependencies, which FastAPI runs in its thread
    pool: database work never blocks the event loop. FastAPI reads it once per request."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return FormData()
    return await request.form()


#: A handler's parameter for the posted form.
Form = Annotated[FormData, Depends(posted_form)]


def parse_local(text: str | None, zone: ZoneInfo, *, field: str, end_of_day: bool = False) -> datetime | None:
    """``dd/mm/yyyy`` (optionally ``HH:MM``) in ``zone``; a day alone means its start (or its end)."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in DATE_FORMATS:
        try:
            moment = datetime.strptime(text, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
        if end_of_day and "%H" not in fmt:
            moment = moment.replace(hour=23, minute=59)
        from loa.clock import check_day

        check_day(moment, field)
        return moment
    raise InputError("{text!r} is not a date like 31/12/2026 or 31/12/2026 17:00", where=field, text=text)


def piece_fields(form: Any, zone: ZoneInfo) -> dict[str, Any]:
    """The piece fields of a submitted form, checked enough to name the field that is wrong."""
    channels = tuple(c for c in CHANNELS if c in form.getlist("channels"))
    if not channels:
        raise InputError("choose at least one channel", where="channels")
    try:
        priority = int(str(form.get("priority") or 5))
    except ValueError:
        raise InputError("priority must be a whole number from 1 to 9", where="priority") from None
    return {
        "title": str(form.get("title") or ""),
        "body": str(form.get("body") or ""),
        "campaign": str(form.get("campaign") or "").strip() or None,
        "channels": channels,
        "valid_from": parse_local(str(form.get("valid_from") or ""), zone, field="valid_from"),
        "valid_until": parse_local(str(form.get("valid_until") or ""), zone, field="valid_until", end_of_day=True),
        "priority": priority,
        "level": form_level(form),
        "slogan": form.get("slogan") in ("on", "1", "true"),
    }


def form_level(form: Any) -> str:
    """The piece's level from the form's select; a client posting the older ``urgent`` checkbox means priority."""
    level = str(form.get("level") or "").strip()
    if not level:
        level = "priority" if form.get("urgent") in ("on", "1", "true") else "normal"
    return level


def piece_stations(form: Any, settings: Any) -> dict[str, Any]:
    """``{"stations": codes}`` from the form's station checkboxes (``*``: every station), or ``{}`` when the
    form has none (a client posting only the older fields keeps the author's scope or the piece's stations)."""
    if not form.get("stations_shown") and not form.getlist("stations"):
        return {}
    chosen = [str(code) for code in form.getlist("stations")]
    if not chosen:
        raise InputError("choose at least one station", where="stations")
    return {"stations": settings.resolve_stations(chosen, where="stations")}
