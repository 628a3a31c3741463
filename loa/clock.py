"""The one place loa reads the wall clock; ``--now`` shifts it for rehearsals and tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

#: The days loa plans, reports and runs in; a date outside them is a typing mistake, and far enough out
#: (year 1 or 9999) it would overflow the date arithmetic of planning and reports.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def check_day(moment: date, where: str) -> None:
    """InputError unless ``moment`` (a date or a time) falls within FIRST_DAY..LAST_DAY."""
    from content.errors import InputError

    day = moment.date() if isinstance(moment, datetime) else moment
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{day.isoformat()} is outside the years loa works with "
                         f"({FIRST_DAY.year}–{LAST_DAY.year})", where=where)


class Clock:
    """Tells the time in the configured zone, optionally shifted so that the moment the process
    started reads as ``start_at``; time then runs on from there."""

    def __init__(self, zone: ZoneInfo, start_at: datetime | None = None) -> None:
        self.zone = zone
        self.offset = (start_at - datetime.now(zone)) if start_at is not None else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(self.zone) + self.offset

    __call__ = now
