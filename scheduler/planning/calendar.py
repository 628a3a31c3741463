"""Calendars: when a campaign is on, and which slot instances a slot produces over some days."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, YEARLY, rrule

from scheduler.config import parse_clock, parse_month_day
from scheduler.outlets import OUTLETS


@dataclass(frozen=True)
class CampaignRule:
    """A campaign's calendar as the planner needs it."""

    code: str
    priority: int
    yearly: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    lead_days: int = 0
    per_day: int = 0
    outlets: tuple[str, ...] = OUTLETS


def leap_day_fallbacks(rule: CampaignRule, first: date, last: date) -> list[int]:
    """The common years between ``first`` and ``last`` in which the rule's 29 February falls on the 28th."""
    if rule.yearly is None or "02-29" not in rule.yearly:
        return []
    return [year for year in range(first.year, last.year + 1) if not _calendar.isleap(year)]


@lru_cache(maxsize=4096)
def _yearly_windows(yearly: str, year: int) -> tuple[tuple[date, date], ...]:
    first, _, last = yearly.partition("..")
    (m1, d1), (m2, d2) = parse_month_day(first), parse_month_day(last)
    across = (m2, d2) < (m1, d1)  # e.g. 12-20..01-10 ends in the next year
    # relativedelta(month=2, day=29) lands on 28 February in common years: the documented fallback.
    return tuple(
        (start.date() + relativedelta(month=m1, day=d1),
         start.date() + relativedelta(years=1 if across else 0, month=m2, day=d2))
        for start in rrule(YEARLY, dtstart=datetime(year - 1, 1, 1, tzinfo=UTC), count=3)
    )


def campaign_windows(rule: CampaignRule, around: date) -> list[tuple[date, date]]:
    """The campaign's windows (first day, last day) that may touch ``around``'s year."""
    if rule.yearly is None:
        assert rule.date_from and rule.date_to
        return [(rule.date_from, rule.date_to)]
    return list(_yearly_windows(rule.yearly, around.year))


def campaign_active(rule: CampaignRule, day: date) -> bool:
    """Whether the campaign is on for ``day``, counting its ``lead_days`` before each window."""
    return any(
        start - timedelta(days=rule.lead_days) <= day <= end for start, end in campaign_windows(rule, day)
    )


@dataclass(frozen=True, order=True)
class Instance:
    """One occurrence of a slot on one outlet of one station."""

    start_at: datetime
    station_code: str
    outlet: str
    slot_name: str
    end_at: datetime
    day: date
    #: Seconds of the slot taken by the live programs it relays (``[[slot.relay]]``).
    relays_s: int = 0

    @property
    def length_s(self) -> int:
        """The room the slot's pieces have: its length less what its relays take."""
        return int((self.end_at - self.start_at).total_seconds()) - self.relays_s


@dataclass(frozen=True)
class SlotRule:
    """A slot as the calendar needs it (from the database, or from configuration)."""

    name: str
    outlet: str
    stations: tuple[str, ...]
    weekdays: tuple[int, ...]
    at: str
    length_s: int
    once_on: date | None = None
    relays_s: int = 0


@dataclass(frozen=True)
class StationRule:
    code: str
    groups: tuple[str, ...]
    outlets: tuple[str, ...]


def stations_of(slot: SlotRule, stations: Sequence[StationRule]) -> list[StationRule]:
    """The stations a slot applies to that have the slot's outlet."""
    selectors = set(slot.stations)
    return [
        station for station in stations
        if slot.outlet in station.outlets
        and ("*" in selectors or station.code in selectors or selectors & set(station.groups))
    ]


def instances(
    slots: Iterable[SlotRule],
    stations: Sequence[StationRule],
    *,
    first_day: date,
    days: int,
    zone: ZoneInfo,
    blackout: Iterable[date] = (),
) -> list[Instance]:
    """Every slot instance from ``first_day`` for ``days`` days, in time order.

    Times are wall-clock times in ``zone``; the instance times are returned in UTC.
    """
    closed = set(blackout)
    out: list[Instance] = []
    last_day = first_day + timedelta(days=days - 1)
    for slot in slots:
        clock = parse_clock(slot.at)
        targets = stations_of(slot, stations)
        if slot.once_on is not None:
            occurrences = [slot.once_on] if first_day <= slot.once_on <= last_day else []
        elif slot.weekdays and days > 0:
            midnight = datetime.min.time()
            occurrences = [moment.date() for moment in rrule(
                DAILY, byweekday=slot.weekdays, dtstart=datetime.combine(first_day, midnight, UTC),
                until=datetime.combine(last_day, midnight, UTC))]
        else:
            occurrences = []
        for day in occurrences:
            if day in closed:
                continue
            start = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
            end = start + timedelta(seconds=slot.length_s)
            out.extend(Instance(start, station.code, slot.outlet, slot.name, end, day, slot.relays_s)
                       for station in targets)
    out.sort()
    # Two slots starting at the same moment on one outlet make one program, not two.
    seen: set[tuple[str, str, datetime]] = set()
    unique = []
    for instance in out:
        key = (instance.station_code, instance.outlet, instance.start_at)
        if key not in seen:
            seen.add(key)
            unique.append(instance)
    return unique
