"""Computes the results report of a period from the as-run records: final deliveries and their airings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from content.errors import InputError
from scheduler.models import Airing, Campaign, Delivery, DeliveryState, Station
from scheduler.outlets import Outlet, rules_of
from scheduler.reports import aired
from scheduler.reports.emergencies import EmergencySection, build_section
from scheduler.reports.levels import LevelLine, by_level
from scheduler.reports.relays import RelayLine, build_relays

#: What a report counts as "failed": a permanent error or too many attempts, or refused by the integrity checks.
FAILED = (DeliveryState.DEAD, DeliveryState.REFUSED)


@dataclass
class Counts:
    """The figures of one line. Bulletins, missed and failed count deliveries (slot instances), the rest airings."""

    airings: int = 0  # loudspeaker airings delivered
    seconds_aired: float = 0.0
    slides: int = 0  # board slides shown (pieces in delivered rotations)
    slide_seconds: float = 0.0  # their planned display time
    articles: int = 0  # portal articles published
    posts: int = 0  # social network posts published (Facebook, Zalo, Viber)
    printed: int = 0  # pieces in printed bulletins made
    bulletins: int = 0  # printed bulletins made (editions holding at least one piece)
    missed: int = 0
    failed: int = 0
    # what loa edge devices played of the airings pushed to them (scheduler.reports.aired)
    aired: int = 0  # played whole
    aired_partial: int = 0  # cut short
    not_aired: int = 0  # pushed, never played (or its record has not come back yet)
    seconds_played: float = 0.0  # measured by the devices from the audio they output
    # loudspeaker airings of delivered programs that an emergency cut before they played (scheduler.dispatch.
    # interruptions): counted here, not in airings, aired or not_aired
    cut: int = 0

    @property
    def minutes_played(self) -> float:
        return round(self.seconds_played / 60, 1)

    @property
    def minutes_aired(self) -> float:
        return round(self.seconds_aired / 60, 1)

    @property
    def slide_minutes(self) -> float:
        return round(self.slide_seconds / 60, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"airings": self.airings, "minutes_aired": self.minutes_aired, "slides": self.slides,
                "slide_minutes": self.slide_minutes, "articles": self.articles, "posts": self.posts,
                "printed": self.printed, "bulletins": self.bulletins, "missed": self.missed, "failed": self.failed,
                "aired": self.aired, "aired_partial": self.aired_partial, "not_aired": self.not_aired,
                "minutes_played": self.minutes_played, "cut": self.cut}


@dataclass(frozen=True)
class Line:
    """One line of a report: a campaign at a station, a campaign's total, a station's total, or the total."""

    campaign: str | None  # None: pieces outside any campaign, or an empty program
    campaign_name: str
    station: str | None
    station_name: str
    counts: Counts


@dataclass
class Report:
    start: date
    end: date
    zone: str
    stations: tuple[str, ...] | None
    campaigns: tuple[str, ...] | None
    detail: list[Line] = field(default_factory=list)
    by_campaign: list[Line] = field(default_factory=list)
    by_station: list[Line] = field(default_factory=list)
    total: Counts = field(default_factory=Counts)
    #: Emergencies (khẩn cấp) sent in the period, counted apart: they are never planned, so never in the lines.
    emergencies: EmergencySection = field(default_factory=EmergencySection)
    #: The live programs relayed into loudspeaker programs: planned minutes, and played where measured.
    relays: list[RelayLine] = field(default_factory=list)
    #: Aired beside pushed on edge devices, per level of the pieces aired; empty when no edge was pushed to.
    by_level: list[LevelLine] = field(default_factory=list)
    #: The figures rolled up the tree of centres (``scheduler.reports.centres.add_centres``); empty unless asked.
    centres: list[Any] = field(default_factory=list)


NO_CAMPAIGN = "(ngoài chiến dịch)"


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


class _Tally:
    """Counts keyed by (station, campaign), station and overall.

    Bulletins, missed and failed count distinct deliveries at each level: a delivery holding two campaigns
    counts once for each campaign but once for its station and once overall.
    """

    def __init__(self) -> None:
        self.counts: dict[Any, Counts] = defaultdict(Counts)
        self.missed: dict[Any, set[str]] = defaultdict(set)
        self.failed: dict[Any, set[str]] = defaultdict(set)
        self.bulletins: dict[Any, set[str]] = defaultdict(set)

    def delivered(self, station: str, campaign: str | None, outlet: str, airings: int, seconds: float) -> None:
        count_field, seconds_field = rules_of(outlet).tally
        for key in ((station, campaign), station, None):
            line = self.counts[key]
            setattr(line, count_field, getattr(line, count_field) + airings)
            if seconds_field is not None:
                setattr(line, seconds_field, getattr(line, seconds_field) + seconds)

    def cut(self, station: str, campaign: str | None, outlet: str, seconds: float) -> None:
        """One airing an emergency left unplayed: out of the delivered figures, into ``cut``."""
        count_field, seconds_field = rules_of(outlet).tally
        for key in ((station, campaign), station, None):
            line = self.counts[key]
            setattr(line, count_field, getattr(line, count_field) - 1)
            if seconds_field is not None:
                setattr(line, seconds_field, getattr(line, seconds_field) - seconds)
            line.cut += 1

    def played(self, station: str, campaign: str | None, outcome: str, seconds: float) -> None:
        """One airing pushed to an edge device: aired, partial or not aired, and the seconds it played."""
        for key in ((station, campaign), station, None):
            line = self.counts[key]
            setattr(line, outcome, getattr(line, outcome) + 1)
            line.seconds_played += seconds

    def unsent(self, station: str, campaign: str | None, delivery_id: str, state: str) -> None:
        for key in ((station, campaign), station, None):
            self.counts.setdefault(key, Counts())  # the line exists even when its deliveries only missed
            (self.missed if state == DeliveryState.MISSED else self.failed)[key].add(delivery_id)

    def edition(self, station: str, campaign: str | None, delivery_id: str) -> None:
        """A printed bulletin made, holding pieces of ``campaign``."""
        for key in ((station, campaign), station, None):
            self.bulletins[key].add(delivery_id)

    def result(self) -> dict[Any, Counts]:
        for key, line in self.counts.items():
            line.missed, line.failed = len(self.missed[key]), len(self.failed[key])
            line.bulletins = len(self.bulletins[key])
        return self.counts


def cut_airings(session: Session, scope: Sequence[Any]) -> dict[int, tuple[str, str | None, str, float]]:
    """``{airing id: (station, campaign, outlet, seconds)}`` of the live airings in ``scope`` that an emergency
    left unplayed: those listed in ``receipt["interrupted"]["remaining"]`` of a delivered program (the cut is
    rare, so the receipts are read only for the programs whose receipt has it)."""
    live = and_(Airing.delivery_id == Delivery.id, Airing.removed.is_(False))
    outlets = [outlet.value for outlet in Outlet if rules_of(outlet).interruptible]
    cut_ids = list(session.scalars(
        select(Delivery.id).distinct().select_from(Delivery).join(Station, Station.id == Delivery.station_id)
        .join(Airing, live)
        .where(Delivery.state == DeliveryState.DELIVERED, Delivery.outlet.in_(outlets),
               Delivery.superseded_at.is_(None), Delivery.receipt["interrupted"].as_string().is_not(None), *scope)))
    left: list[int] = []
    for start in range(0, len(cut_ids), 5000):
        for receipt in session.scalars(select(Delivery.receipt).where(Delivery.id.in_(cut_ids[start:start + 5000]))):
            remaining = ((receipt or {}).get("interrupted") or {}).get("remaining") or ()
            left += [int(r["airing"]) for r in remaining if isinstance(r, dict) and str(r.get("airing")).isdigit()]
    found: dict[int, tuple[str, str | None, str, float]] = {}
    for start in range(0, len(left), 5000):
        for airing_id, code, campaign, outlet, seconds in session.execute(
                select(Airing.id, Station.code, Airing.campaign, Delivery.outlet, Airing.seconds)
                .select_from(Delivery).join(Station, Station.id == Delivery.station_id).join(Airing, live)
                .where(Airing.id.in_(left[start:start + 5000]), *scope)):
            found[airing_id] = (code, campaign, outlet, float(seconds or 0.0))
    return found


def build_report(
    session: Session,
    *,
    start: date,
    end: date,
    zone: ZoneInfo,
    stations: Sequence[str] | None = None,
    campaigns: Sequence[str] | None = None,
) -> Report:
    """The report of the local days ``start``..``end`` (both included) in ``zone``.

    A delivery belongs to the day its slot starts. Delivered airings count by outlet, and delivered print
    editions once each (as bulletins) for each campaign they printed; a missed,
    dead or refused delivery counts once for each campaign it held (and once in station totals).
    Removed airings (an editor took them out) never count. A board rotation pushed again during its
    window (superseded) counts once: a piece in both the old and the new delivery counts in the new
    one only, a piece that left (withdrawn, corrected) counts in the old one; a superseded delivery
    never counts as missed or failed.
    """
    if end < start:
        raise InputError("the period ends ({end}) before it starts ({start})", where="--to", end=end.isoformat(),
                         start=start.isoformat())
    known = dict(session.execute(select(Station.code, Station.name)).all())
    for code in stations or ():
        if code not in known:
            raise InputError("no station with code {code!r}", where="--station", code=code)
    names = dict(session.execute(select(Campaign.code, Campaign.name)).all())
    for code in campaigns or ():
        if code not in names:
            raise InputError("no campaign with code {code!r}", where="--campaign", code=code)
    live = and_(Airing.delivery_id == Delivery.id, Airing.removed.is_(False))
    start_at, end_at = local_midnight_utc(start, zone), local_midnight_utc(end + timedelta(days=1), zone)
    scope = [Delivery.start_at >= start_at, Delivery.start_at < end_at]
    if stations is not None:  # an empty list: no station (a centre without any), not every station
        scope.append(Station.code.in_(list(stations)))
    if campaigns:
        scope.append(Airing.campaign.in_(list(campaigns)))
    later, later_airing = aliased(Delivery), aliased(Airing)
    shown_later = exists(
        select(later_airing.id).join(later, later.id == later_airing.delivery_id)
        .where(later.station_id == Delivery.station_id, later.outlet == Delivery.outlet,
               later.start_at == Delivery.start_at, later.id != Delivery.id, later.state == DeliveryState.DELIVERED,
               or_(later.superseded_at.is_(None), later.superseded_at > Delivery.superseded_at),
               later_airing.piece_id == Airing.piece_id, later_airing.removed.is_(False)))
    tally = _Tally()
    # Delivered airings are summed by the database; unsent deliveries are few and counted distinctly here.
    delivered = (
        select(Station.code, Airing.campaign, Delivery.outlet, func.count(Airing.id),
               func.coalesce(func.sum(Airing.seconds), 0.0))
        .select_from(Delivery).join(Station, Station.id == Delivery.station_id).join(Airing, live)
        .where(Delivery.state == DeliveryState.DELIVERED, or_(Delivery.superseded_at.is_(None), ~shown_later),
               *scope)
        .group_by(Station.code, Airing.campaign, Delivery.outlet)
    )
    for code, campaign, outlet, airings, seconds in session.execute(delivered):
        tally.delivered(code, campaign, outlet, airings, float(seconds))
    cut = cut_airings(session, scope)
    for code, campaign, outlet, seconds in cut.values():
        tally.cut(code, campaign, outlet, seconds)
    levels = []
    for code, campaign, level, outcome, seconds in aired.outcomes(session, scope, skip=set(cut)):
        tally.played(code, campaign, outcome, seconds)
        levels.append((level, outcome, seconds))
    editions = (
        select(Station.code, Airing.campaign, Delivery.id).distinct()
        .select_from(Delivery).join(Station, Station.id == Delivery.station_id).join(Airing, live)
        .where(Delivery.state == DeliveryState.DELIVERED, Delivery.outlet == Outlet.PRINT,
               Delivery.superseded_at.is_(None), *scope)
    )
    for code, campaign, delivery_id in session.execute(editions):  # one a week per station: few
        tally.edition(code, campaign, delivery_id)
    unsent = (
        select(Station.code, Airing.campaign, Delivery.id, Delivery.state).distinct()
        .select_from(Delivery).join(Station, Station.id == Delivery.station_id).outerjoin(Airing, live)
        .where(Delivery.state.in_((DeliveryState.MISSED, *FAILED)), Delivery.superseded_at.is_(None),
               Delivery.withdraws.is_(None), *scope)
    )
    for code, campaign, delivery_id, state in session.execute(unsent.execution_options(yield_per=20_000)):
        tally.unsent(code, campaign, delivery_id, state)
    counts = tally.result()
    detail = {key: line for key, line in counts.items() if isinstance(key, tuple)}
    per_station = {key: line for key, line in counts.items() if isinstance(key, str)}

    def campaign_name(code: str | None) -> str:
        return names.get(code, code) if code else NO_CAMPAIGN

    report = Report(start=start, end=end, zone=str(zone), stations=tuple(stations) if stations is not None else None,
                    campaigns=tuple(campaigns) if campaigns else None, total=counts.get(None, Counts()),
                    by_level=by_level(levels))
    order = sorted(detail, key=lambda key: (key[1] is None, key[1] or "", key[0]))
    report.detail = [Line(c, campaign_name(c), s, known.get(s, s), detail[(s, c)]) for s, c in order]
    by_campaign: dict[str | None, Counts] = {}
    for s, c in order:  # deliveries are per station, so a campaign's station lines add up exactly
        total = by_campaign.setdefault(c, Counts())
        for name, value in vars(detail[(s, c)]).items():
            setattr(total, name, getattr(total, name) + value)
    report.by_campaign = [Line(c, campaign_name(c), None, "", counts) for c, counts in by_campaign.items()]
    report.by_station = [Line(None, "", s, known.get(s, s), per_station[s]) for s in sorted(per_station)]
    report.emergencies = build_section(session, start_at=start_at, end_at=end_at,
                                       names=known, stations=stations)
    report.relays = build_relays(session, start_at=start_at, end_at=end_at, names=known, stations=stations)
    return report
