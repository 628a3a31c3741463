"""Days and times as people type and read them: dd/mm/yyyy (HH:MM) or ISO, in the configured zone; one parser
for the command line, the web forms and file imports."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from content.errors import InputError

#: The days loa plans, reports and runs in; a date outside them is a typing mistake, and far enough out
#: (year 1 or 9999) it would overflow the date arithmetic of planning and reports.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def check_day(moment: date, where: str) -> None:
    """InputError unless ``moment`` (a date or a time) falls within FIRST_DAY..LAST_DAY."""
    day = moment.date() if isinstance(moment, datetime) else moment
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError("{day} is outside the years loa works with ({first}–{last})", where=where,
                         day=day.isoformat(), first=FIRST_DAY.year, last=LAST_DAY.year)


#: A day as the app shows it (31/12/2026) or in ISO (2026-12-31); a time adds `` HH:MM`` or ISO's ``T06:00``.
DAY_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


def parse_day(text: str, where: str) -> date:
    """The day written ``dd/mm/yyyy`` or ``yyyy-mm-dd``; InputError naming ``where`` otherwise."""
    for fmt in DAY_FORMATS:
        try:
            day = datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC).date()
        except ValueError:
            continue
        check_day(day, where)
        return day
    raise InputError("{text!r} is not a date; write 31/12/2026 or 2026-12-31", where=where, text=text)


def parse_moment(text: str, zone: ZoneInfo, where: str, *, end_of_day: bool = False) -> datetime:
    """A day (its local midnight, or the next one for ``end_of_day``), ``dd/mm/yyyy HH:MM`` or an ISO-8601
    time; a time without an offset is in ``zone``."""
    text = text.strip()
    if ":" not in text and "T" not in text:  # a day alone, also written 1/12/2026
        day = parse_day(text, where)
        return datetime.combine(day + timedelta(days=1 if end_of_day else 0), datetime.min.time(), tzinfo=zone)
    try:
        moment = datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=zone)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InputError("{text!r} is not a time; write 31/12/2026 06:00 or 2026-12-31T06:00", where=where,
                             text=text) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    check_day(moment, where)
    return moment


def format_moment(moment: datetime, zone: ZoneInfo, *, end_of_day: bool = False) -> str:
    """``moment`` written so that :func:`parse_moment` reads it back unchanged: the day alone at a local
    midnight (for an end, the day that midnight closes: valid until 31/12/2026 ends at 00:00 on 01/01/2027),
    else ``dd/mm/yyyy HH:MM`` (ISO when it has seconds)."""
    local = moment.astimezone(zone)
    if local.time() == time(0):
        return f"{local.date() - timedelta(days=1 if end_of_day else 0):%d/%m/%Y}"
    if local.second or local.microsecond:
        return local.replace(tzinfo=None).isoformat()
    return f"{local:%d/%m/%Y %H:%M}"
