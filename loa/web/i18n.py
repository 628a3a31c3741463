"""Vietnamese (default) and English for the web pages: the shared catalogs (``loa.i18n``), dates dd/mm/yyyy."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

# The catalogs and the rendering of errors are shared with the command line (loa/i18n.py); the names stay
# importable from here for the web's modules.
from loa.i18n import DEFAULT, DOMAINS, DYNAMIC, LANGUAGES, LOCALES, error_text, render, translations

__all__ = ["DEFAULT", "DOMAINS", "DYNAMIC", "LANGUAGES", "LOCALES", "error_text", "fmt_date", "fmt_datetime",
           "fmt_duration", "fmt_time", "local", "pick_language", "render", "translations"]


def pick_language(cookie: str | None, accept: str | None) -> str:
    """The language a visitor chose (cookie), else Vietnamese: the editors' language."""
    return cookie if cookie in LANGUAGES else DEFAULT


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone) if moment is not None else None


def fmt_date(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y") if moment else ""


def fmt_bound(moment: datetime | None, zone: ZoneInfo, end: bool = False) -> str:
    """A validity's start (or ``end``) as the forms take it: 31/12/2026 for a whole day, else with the time."""
    from loa.clock import format_moment

    return format_moment(moment, zone, end_of_day=end) if moment else ""


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
