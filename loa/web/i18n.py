"""Vietnamese (default) and English for the web pages: Babel catalogs compiled in memory, dates dd/mm/yyyy."""

from __future__ import annotations

import gettext
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog of ``lang`` compiled from its committed .po file (no build step needed for .mo)."""
    po = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if lang not in LANGUAGES or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def pick_language(cookie: str | None, accept: str | None) -> str:
    """The language a visitor chose (cookie), else Vietnamese: the editors' language."""
    return cookie if cookie in LANGUAGES else DEFAULT


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None


def fmt_date(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y") if moment else ""


def fmt_datetime(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else ""


def fmt_time(moment: datetime | None, zone: ZoneInfo) -> str:
    if not moment:
        return ""
    local = moment.astimezone(zone)
    return f"{local.hour:02d}:{local.minute:02d}"  # faster than strftime; the calendar calls it 1000s of times


def fmt_duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


#: Words that reach templates as data (states, outlets, roles, weekdays) rather than as literals;
#: the catalog test checks these are translated too.
DYNAMIC = ("draft", "submitted", "approved", "rejected", "retired", "pending", "sending", "delivered", "dead",
           "refused", "missed", "loudspeaker", "board", "portal", "print", "editor", "approver", "admin",
           "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
