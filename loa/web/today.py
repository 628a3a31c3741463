"""The start page: what needs this user (reviews waiting, pieces sent back, failures), then today in counts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from content.models import Piece, PieceState, Review, User
from loa.web.auth import current_user, sees_station
from loa.web.view import render

router = APIRouter(tags=["pages"], include_in_schema=False)
#: How many of a list Today shows before "and N more" links to the full page.
SHOWN = 5
#: Beyond this many stations, today's programs are counted per outlet only (the calendar has the rest).
STATION_CARDS = 12


@dataclass
class StationDay:
    """One station's day in counts: programs per outlet, items, and how many went out or failed."""

    code: str
    name: str
    programs: Counter = field(default_factory=Counter)
    items: int = 0
    delivered: int = 0
    failed: int = 0
    next_at: datetime | None = None


def visible_stations(request: Request, user: User) -> list:
    return [s for s in request.app.state.services.settings.stations if sees_station(user, s.code)]


def _to_review(session: Session, user: User) -> list[Piece]:
    """Submitted pieces this user may decide on (an approver never reviews their own)."""
    if user.role not in ("approver", "admin"):
        return []
    from content.scope import visible_clause

    rows = session.scalars(select(Piece).options(joinedload(Piece.current_revision))  # of their centre's subtree
                           .where(Piece.state == PieceState.SUBMITTED, visible_clause(user))
                           .order_by(Piece.updated_at)).unique()
    return [p for p in rows if user.id not in (p.author_id, p.current_revision and p.current_revision.created_by_id)]


def _sent_back(session: Session, user: User) -> list[tuple[Piece, str]]:
    """This user's pieces an approver sent back, with the approver's note."""
    pieces = list(session.scalars(select(Piece).options(joinedload(Piece.current_revision))
                                  .where(Piece.state == PieceState.REJECTED, Piece.author_id == user.id)
                                  .order_by(Piece.updated_at.desc())).unique())
    notes = {}
    if pieces:
        for revision_id, note in session.execute(
                select(Review.revision_id, Review.note).where(
                    Review.revision_id.in_([p.current_revision_id for p in pieces]),
                    Review.decision == "reject").order_by(Review.id)):
            notes[revision_id] = note
    return [(p, notes.get(p.current_revision_id, "")) for p in pieces]


def _days(programs: list, stations: list, now: datetime) -> list[StationDay]:
    days = {s.code: StationDay(s.code, s.name) for s in stations}
    for p in programs:
        day = days[p.station_code]
        day.programs[p.outlet] += 1
        day.items += len(p.items)
        day.delivered += p.state == "delivered"
        day.failed += p.state in ("dead", "refused", "missed")
        if p.start_at >= now and (day.next_at is None or p.start_at < day.next_at):
            day.next_at = p.start_at
    return [d for d in days.values() if d.programs]


@router.get("/", response_class=HTMLResponse)
def today(request: Request, user: User = Depends(current_user)) -> HTMLResponse:
    from scheduler.views.deliveries import NEEDS_ACTION, deliveries, integrity_alerts
    from scheduler.views.schedule import upcoming

    services = request.app.state.services
    now = services.now()
    stations = visible_stations(request, user)
    codes = {s.code for s in stations}
    start = datetime.combine(now.astimezone(services.settings.zone).date(), time(0), tzinfo=services.settings.zone)
    with request.app.state.reads.session() as session:
        programs = [p for p in upcoming(session, start=start, end=start + timedelta(days=1))
                    if p.station_code in codes]
        failures = deliveries(session, start=now - timedelta(days=7), states=NEEDS_ACTION, stations=codes)
        alerts = integrity_alerts(session, since=now - timedelta(days=7), stations=codes)
        to_review = _to_review(session, user)
        emergencies = _emergencies(session, now, codes)
        may_broadcast = _may_broadcast(request, user)
        drafts = _drafts(session, codes) if may_broadcast else []
        sent_back = _sent_back(session, user)
        device_alerts = _device_alerts(session, stations, services.settings.loa.devices, now)
    days = _days(programs, stations, now)
    outlets = Counter(p.outlet for p in programs)
    return render(request, "today.html", {
        "to_review": to_review, "sent_back": sent_back, "failures": failures, "alerts": alerts, "shown": SHOWN,
        "days": days if len(days) <= STATION_CARDS else [], "outlet_counts": sorted(outlets.items()),
        "program_count": len(programs), "item_count": sum(len(p.items) for p in programs),
        "stations": stations, "emergencies": emergencies, "may_broadcast": may_broadcast, "drafts": drafts,
        "device_alerts": device_alerts})


def _device_alerts(session: Session, stations: list, settings: object, now: datetime) -> list:
    """The devices of this user's stations with an open alert (offline before their slot)."""
    from scheduler.devices.alerts import open_alerts
    from scheduler.devices.roster import roster

    return open_alerts(roster(session, stations, settings, now))  # type: ignore[arg-type]


@dataclass(frozen=True)
class OutletReach:
    """How far an emergency under way got on one kind of outlet: of the ``total`` station outlets it is aimed
    at, how many have it (a push of it accepted) and how many could not be given it (dead or refused)."""

    outlet: str
    reached: int
    total: int
    failed: int


def _emergencies(session: Session, now: datetime, codes: set[str]) -> list[tuple[object, list[OutletReach]]]:
    """The emergencies under way at this user's stations, each with each outlet kind's state."""
    from sqlalchemy import case, func

    from scheduler.emergencies.fanout import ALERT
    from scheduler.emergencies.service import active
    from scheduler.models import DeliveryState, EmergencyDelivery
    from scheduler.outlets import ALERT_OUTLETS

    out = []
    for emergency in active(session, now):
        if not codes & set(emergency.stations):
            continue
        tally: dict[str, list[int]] = {}  # outlet → [stations reached, aimed at, failed and not reached]
        got = func.max(case((EmergencyDelivery.state == DeliveryState.DELIVERED, 1), else_=0))
        lost = func.max(case((EmergencyDelivery.state.in_((DeliveryState.DEAD, DeliveryState.REFUSED)), 1), else_=0))
        for outlet, reached, failed in session.execute(  # one row per station outlet, however many repeats
                select(EmergencyDelivery.outlet, got, lost)
                .where(EmergencyDelivery.emergency_id == emergency.id, EmergencyDelivery.kind == ALERT)
                .group_by(EmergencyDelivery.outlet, EmergencyDelivery.station_id)):
            counts = tally.setdefault(outlet, [0, 0, 0])
            counts[0] += reached
            counts[1] += 1
            counts[2] += failed and not reached
        out.append((emergency, [OutletReach(outlet, *tally[outlet]) for outlet in sorted(
            tally, key=lambda o: ALERT_OUTLETS.index(o) if o in ALERT_OUTLETS else len(ALERT_OUTLETS))]))
    return out


def _drafts(session: Session, codes: set[str]) -> list:
    """Emergency drafts at this user's stations waiting for someone with the right to send them (a CAP message
    from a feed not trusted, ``loa alert import``, ``loa emergency send --draft``), oldest first."""
    from scheduler.models import Emergency, EmergencyState

    return [e for e in session.scalars(select(Emergency).where(Emergency.state == EmergencyState.DRAFT)
                                       .order_by(Emergency.created_at, Emergency.id))
            if codes & set(e.stations)]


def _may_broadcast(request: Request, user: User) -> bool:
    from content.db import unit_of_work
    from scheduler.emergencies.service import may_issue

    with unit_of_work(request.app.state.services.sessions) as session:
        return may_issue(session, user)
