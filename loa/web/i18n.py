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

from content.errors import LoaError

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"


#: The committed catalogs of a language: the pages' words, and the messages of loa's errors (their English
#: templates are the codes; ``tests/loa/web/test_catalogs.py`` extracts both from the sources).
DOMAINS = ("messages", "errors")


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogs of ``lang`` compiled from their committed .po files (no build step needed for .mo)."""
    files = [LOCALES / lang / "LC_MESSAGES" / f"{domain}.po" for domain in DOMAINS]
    if lang not in LANGUAGES or not files[0].exists():
        return gettext.NullTranslations()
    with files[0].open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    for po in files[1:]:
        if po.exists():
            with po.open("rb") as handle:
                for message in read_po(handle, locale=lang):
                    if message.id and message.string:
                        catalog[message.id] = message
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def error_text(error: LoaError, lang: str) -> str:
    """What ``error`` says in ``lang``: its template looked up in the catalog, its parameters filled in
    (states, outlets and roles translated too); no command-line hint and no field name, which the form
    shows by placing the message beside the field."""
    gettext = translations(lang).gettext

    def word(value: object) -> object:
        return gettext(value) if isinstance(value, str) and value in DYNAMIC else value

    params = {key: gettext(" or ").join(str(word(v)) for v in value) if isinstance(value, tuple) else word(value)
              for key, value in error.params.items()}
    template = gettext(error.template)
    try:
        return template.format(**params) if params else template
    except (KeyError, IndexError, ValueError):  # a catalog entry naming a field the message lacks
        return error.text


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


#: Words that reach templates as data (states, outlets, roles, weekdays) rather than as literals;
#: the catalog test checks these are translated too.
DYNAMIC = ("draft", "submitted", "approved", "rejected", "retired", "pending", "sending", "delivered", "dead",
           "refused", "missed", "loudspeaker", "board", "portal", "social", "print", "editor", "approver", "admin",
           "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
