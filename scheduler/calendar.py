"""Calendars: when a campaign is on, and which slot instances a slot produces over some days."""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.config import parse_clock, parse_month_day


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
    outlets: tuple[str, ...] = ("loudspeaker", "board", "portal")


def _month_day_in(year: int, month: int, day: int) -> date:
    # 29 February falls back to 28 February in common years.
    return date(year, month, min(day, _calendar.monthrange(year, month)[1]))


def campaign_windows(rule: CampaignRule, around: date) -> list[tuple[date, date]]:
    """The campaign's windows (first day, last day) that may touch ``around``'s year."""
    if rule.yearly is None:
        assert rule.date_from and rule.date_to
        return [(rule.date_from, rule.date_to)]
    first, _, last = rule.yearly.partition("..")
    (m1, d1), (m2, d2) = parse_month_day(first), parse_month_day(last)
    windows = []
    for year in (around.year - 1, around.year, around.year + 1):
        start = _month_day_in(year, m1, d1)
        end = _month_day_in(year + (1 if (m2, d2) < (m1, d1) else 0), m2, d2)
        windows.append((start, end))
    return windows


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

    @property
    def length_s(self) -> int:
        return int((self.end_at - self.start_at).total_seconds())


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
    for slot in slots:
        clock = parse_clock(slot.at)
        targets = stations_of(slot, stations)
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            if day in closed:
                continue
            if slot.once_on is not None:
                if slot.once_on != day:
                    continue
            elif day.weekday() not in slot.weekdays:
                continue
            start = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
            end = start + timedelta(seconds=slot.length_s)
            out.extend(Instance(start, station.code, slot.outlet, slot.name, end, day) for station in targets)
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
