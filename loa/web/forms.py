"""Reading what editors type into forms: dates as dd/mm/yyyy in the configured zone, channels, stations, numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from starlette.datastructures import FormData

from content.errors import InputError
from content.models import CHANNELS


async def posted_form(request: Request) -> FormData:
    """The posted form (empty for a request without one), read on the event loop, since reading a body
    is async, and handed to plain ``def`` handlers and dependencies, which FastAPI runs in its thread
    pool: database work never blocks the event loop. FastAPI reads it once per request."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return FormData()
    return await request.form()


#: A handler's parameter for the posted form.
Form = Annotated[FormData, Depends(posted_form)]


def optional_moment(form: Any, field: str, zone: ZoneInfo, *, end_of_day: bool = False) -> datetime | None:
    """The form's ``field`` read as the command line reads a time (:func:`loa.clock.parse_moment`: a day alone
    is its local midnight, or for an end the midnight that closes it); None when left empty."""
    from loa.clock import parse_moment

    text = str(form.get(field) or "").strip()
    return parse_moment(text, zone, field, end_of_day=end_of_day) if text else None


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
        "valid_from": optional_moment(form, "valid_from", zone),
        "valid_until": optional_moment(form, "valid_until", zone, end_of_day=True),
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
