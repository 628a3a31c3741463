"""The one place loa reads the wall clock; ``--now`` shifts it for rehearsals and tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# The one date parser lives with the content (CSV imports read dates too); the shell imports it from here.
from content.dates import (  # noqa: F401
    DAY_FORMATS,
    FIRST_DAY,
    LAST_DAY,
    check_day,
    format_moment,
    parse_day,
    parse_moment,
)


class Clock:
    """Tells the time in the configured zone, optionally shifted so that the moment the process
    started reads as ``start_at``; time then runs on from there."""

    def __init__(self, zone: ZoneInfo, start_at: datetime | None = None) -> None:
        self.zone = zone
        self.offset = (start_at - datetime.now(zone)) if start_at is not None else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(self.zone) + self.offset

    __call__ = now
