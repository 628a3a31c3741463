"""The calendar week as editors read it: programs per station, outlet and day, with campaign targets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from scheduler.models import Airing, Campaign, Delivery, Station
from scheduler.planning.calendar import CampaignRule, campaign_active
from scheduler.planning.planner_types import Held
from scheduler.views.schedule import ItemView, ProgramView, slot_relays, titles_and_leads


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


@dataclass(frozen=True, slots=True)
class ProgramSummary:
    """A program without its items: how many there are and how long they last (the many-station overview)."""

    delivery_id: str
    station_code: str
    station_name: str
    outlet: str
    slot_name: str
    start_at: datetime
    end_at: datetime
    state: str
    count: int
    total_s: float

    @property
    def length_s(self) -> float:
        return (self.end_at - self.start_at).total_seconds()


@dataclass
class WeekRow:
    station_code: str
    station_name: str
    outlet: str
    days: list[list[ProgramView | ProgramSummary]]


@dataclass
class Week:
    monday: date
    days: list[date]
    rows: list[WeekRow]
    #: (station code, day) → the targets of the campaigns on that day.
    targets: dict[tuple[str, date], list[Target]] = field(default_factory=dict)


def programs_between(session: Session, *, start: datetime, end: datetime, station: str | None = None,
                     outlet: str | None = None, removed: bool = False) -> list[ProgramView]:
    """What ``scheduler.views.schedule.upcoming`` returns, read as plain rows in three queries (no ORM
    objects), so a week of a hundred stations with thousands of airings loads in a blink; ``removed``
    adds each program's removed airings (for restoring them)."""
    where = [Delivery.end_at > start, Delivery.start_at < end, Delivery.superseded_at.is_(None),
             Delivery.withdraws.is_(None)]
    if station:
        where.append(Station.code == station)
    if outlet:
        where.append(Delivery.outlet == outlet)
    deliveries = session.execute(
        select(Delivery.id, Station.code, Station.name, Delivery.outlet, Delivery.slot_name, Delivery.start_at,
               Delivery.end_at, Delivery.state, Delivery.attempts, Delivery.last_error)
        .join(Station, Station.id == Delivery.station_id).where(*where)
        .order_by(Delivery.start_at, Station.code, Delivery.outlet)).all()
    items: dict[str, list[tuple]] = defaultdict(list)
    gone: dict[str, list[tuple]] = defaultdict(list)  # removed by an editor: restorable on the calendar
    held: dict[str, list[tuple]] = defaultdict(list)  # pins held out: shown with why, not in the push
    shown = [] if removed else [or_(Airing.removed.is_(False), Airing.held.is_not(None))]
    for row in session.execute(
        select(Airing.delivery_id, Airing.id, Airing.piece_id, Airing.revision_id, Airing.campaign, Airing.seconds,
               Airing.pinned, Airing.removed, Airing.held)
        .join(Delivery, Delivery.id == Airing.delivery_id).join(Station, Station.id == Delivery.station_id)
        .where(*where, *shown)
        .order_by(Airing.delivery_id, Airing.position)):
        (held if row[8] else gone if row[7] else items)[row[0]].append(row)
    revision_ids = {row[3] for rows in (*items.values(), *gone.values(), *held.values()) for row in rows}
    titles, leads = titles_and_leads(session, revision_ids)

    def views(rows: list[tuple], station: str) -> tuple[ItemView, ...]:
        return tuple(ItemView(a[1], a[2], a[3], titles.get(a[3], "?"), a[4], a[5], a[6],
                              Held.of(a[8]) if a[8] else None, leads(a[3], station)) for a in rows)

    relays = slot_relays(session)
    return [ProgramView(d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], views(items[d[0]], d[1]),
                        views(gone[d[0]], d[1]), views(held[d[0]], d[1]), relays.get(d[4], ())) for d in deliveries]


def _window(start: datetime, end: datetime, outlet: str | None) -> list[Any]:
    where = [Delivery.end_at > start, Delivery.start_at < end, Delivery.superseded_at.is_(None),
             Delivery.withdraws.is_(None)]
    if outlet:
        where.append(Delivery.outlet == outlet)
    return where


def summaries_between(session: Session, *, start: datetime, end: datetime,
                      outlet: str | None = None) -> list[ProgramSummary]:
    """Programs with their item count and total length, summed by the database: two queries."""
    where = _window(start, end, outlet)
    totals = dict((row[0], (row[1], row[2])) for row in session.execute(
        select(Airing.delivery_id, func.count(), func.coalesce(func.sum(Airing.seconds), 0.0))
        .join(Delivery, Delivery.id == Airing.delivery_id)
        .where(*where, Airing.removed.is_(False)).group_by(Airing.delivery_id)))
    rows = session.execute(
        select(Delivery.id, Station.code, Station.name, Delivery.outlet, Delivery.slot_name, Delivery.start_at,
               Delivery.end_at, Delivery.state)
        .join(Station, Station.id == Delivery.station_id).where(*where)
        .order_by(Delivery.start_at, Station.code, Delivery.outlet))
    return [ProgramSummary(*row, *totals.get(row[0], (0, 0.0))) for row in rows]


def _campaign_counts(session: Session, start: datetime, end: datetime, outlet: str | None) -> dict[str, dict]:
    """delivery id → campaign → airings, for the campaign targets."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for delivery_id, campaign, n in session.execute(
        select(Airing.delivery_id, Airing.campaign, func.count())
        .join(Delivery, Delivery.id == Airing.delivery_id)
        .where(*_window(start, end, outlet), Airing.removed.is_(False), Airing.campaign.is_not(None))
        .group_by(Airing.delivery_id, Airing.campaign)):
        counts[delivery_id][campaign] = n
    return counts


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_grid(session: Session, *, monday: date, zone: ZoneInfo, stations: Collection[str] | None = None,
              outlet: str | None = None, detail: bool = True) -> Week:
    """Seven days from ``monday`` in ``zone``, in a handful of queries whatever the number of stations;
    ``detail`` gives every program's items, otherwise their count and total length."""
    days = [monday + timedelta(days=n) for n in range(7)]
    start = datetime.combine(monday, time(0), tzinfo=zone)
    end = start + timedelta(days=7)
    programs: list[Any] = (programs_between(session, start=start, end=end, outlet=outlet, removed=True) if detail
                           else summaries_between(session, start=start, end=end, outlet=outlet))
    by_campaign = _campaign_counts(session, start, end, outlet)
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
        for campaign, n in by_campaign.get(program.delivery_id, {}).items():
            if campaign in rules and program.outlet in rules[campaign][0].outlets:
                counts[(program.station_code, day, campaign)] += n
    targets: dict[tuple[str, date], list[Target]] = {}
    for station in outlets_of:
        for day in days:
            targets[(station, day)] = [
                Target(code, name, rule.per_day, counts.get((station, day, code), 0))
                for code, (rule, name) in sorted(rules.items()) if campaign_active(rule, day)
            ]
    return Week(monday, days, [rows[key] for key in sorted(rows)], targets)
