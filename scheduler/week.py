"""The calendar week as editors read it: programs per station, outlet and day, with campaign targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar import CampaignRule, campaign_active
from scheduler.models import Campaign
from scheduler.schedule_view import ProgramView, upcoming


@dataclass(frozen=True)
class Target:
    """A campaign's daily target on one station and day, and how many airings the plan holds."""

    campaign: str
    name: str
    per_day: int
    planned: int

    @property
    def met(self) -> bool:
        return self.planned >= self.per_day


@dataclass
class WeekRow:
    station_code: str
    station_name: str
    outlet: str
    days: list[list[ProgramView]]


@dataclass
class Week:
    monday: date
    days: list[date]
    rows: list[WeekRow]
    #: (station code, day) → the targets of the campaigns on that day.
    targets: dict[tuple[str, date], list[Target]] = field(default_factory=dict)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_grid(session: Session, *, monday: date, zone: ZoneInfo, stations: Collection[str] | None = None,
              outlet: str | None = None) -> Week:
    """Seven days from ``monday`` in ``zone``: three queries whatever the number of stations."""
    days = [monday + timedelta(days=n) for n in range(7)]
    start = datetime.combine(monday, time(0), tzinfo=zone)
    programs = upcoming(session, start=start, end=start + timedelta(days=7), outlet=outlet)
    wanted = set(stations) if stations is not None else None
    rows: dict[tuple[str, str], WeekRow] = {}
    counts: dict[tuple[str, date, str], int] = defaultdict(int)
    outlets_of: dict[str, set[str]] = {}
    rules = {row.code: (CampaignRule(row.code, row.priority, row.yearly, row.date_from, row.date_to,
                                     row.lead_days, row.per_day, tuple(row.outlets)), row.name)
             for row in session.scalars(select(Campaign).where(Campaign.per_day > 0))}
    for program in programs:
        if wanted is not None and program.station_code not in wanted:
            continue
        day = program.start_at.astimezone(zone).date()
        if not monday <= day < monday + timedelta(days=7):
            continue
        key = (program.station_code, program.outlet)
        row = rows.get(key)
        if row is None:
            row = rows[key] = WeekRow(program.station_code, program.station_name, program.outlet,
                                      [[] for _ in days])
        row.days[(day - monday).days].append(program)
        outlets_of.setdefault(program.station_code, set()).add(program.outlet)
        for item in program.items:
            if item.campaign in rules and program.outlet in rules[item.campaign][0].outlets:
                counts[(program.station_code, day, item.campaign)] += 1
    targets: dict[tuple[str, date], list[Target]] = {}
    for station in outlets_of:
        for day in days:
            targets[(station, day)] = [
                Target(code, name, rule.per_day, counts.get((station, day, code), 0))
                for code, (rule, name) in sorted(rules.items()) if campaign_active(rule, day)
            ]
    return Week(monday, days, [rows[key] for key in sorted(rows)], targets)
