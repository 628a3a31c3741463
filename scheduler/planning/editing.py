"""An editor's hand on the plan: pin, unpin, remove, restore, move and reorder single airings, each audited."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from content import audit, scope
from content.dates import format_moment
from content.errors import InputError, NotFound, StateError
from content.models import Revision, User
from content.pieces import get_piece
from scheduler.bulletins.planning import leading
from scheduler.catalog import campaign_rules
from scheduler.config import relays_seconds
from scheduler.models import Airing, Campaign, Delivery, DeliveryState, Slot
from scheduler.outlets import rules_of
from scheduler.planning.calendar import CampaignRule, campaign_active
from scheduler.planning.planner_types import Held


def _airing(session: Session, airing_id: int, actor: User) -> Airing:
    """The airing, once the actor's scope covers its station and either every station its piece targets (a piece
    of their subtree) or the piece was sent down and taken into the plan of that station's centre (scope.took_in)."""
    airing = session.get(Airing, airing_id)
    if airing is None:
        raise NotFound("no airing {id}", where="airing", id=airing_id, hint="`loa schedule --json` lists airing ids")
    station = airing.delivery.station.code
    scope.require_covers(actor, [station], f"lượt phát {airing_id}")
    if not scope.took_in(actor, get_piece(session, airing.piece_id), station):
        get_piece(session, airing.piece_id, actor)
    return airing


def _open(delivery: Delivery) -> None:
    """Delivered, in-flight and failed programs are history: nothing in them changes."""
    if delivery.state != DeliveryState.PENDING:
        raise StateError("program {id} ({outlet}, {start}) is {state}; only programs not yet sent can be changed",
                         id=delivery.id, outlet=delivery.outlet, start=delivery.start_at.isoformat(),
                         state=delivery.state)


def _live(delivery: Delivery) -> list[Airing]:
    return [a for a in delivery.airings if not a.removed]


def room_s(delivery: Delivery) -> float:
    """What a program's pieces may fill: its length, less what the live programs its slot relays take."""
    session = object_session(delivery)
    relays = session.scalar(select(Slot.relays).where(Slot.name == delivery.slot_name)) if session else None
    return (delivery.end_at - delivery.start_at).total_seconds() - relays_seconds(relays)


def _check_room(delivery: Delivery, seconds: float, piece: int) -> None:
    """A timed program (loudspeaker, board) has a length; the pieces' measured seconds must fit in it."""
    if not rules_of(delivery.outlet).timed:
        return
    length = room_s(delivery)
    used = sum(a.seconds for a in _live(delivery))
    if used + seconds > length + 1e-9:
        raise InputError("no room for piece {piece}: program {id} holds {used:.0f} s of {length:.0f} s and the "
                         "piece lasts {seconds:.0f} s; remove something first", where="airing", piece=piece,
                         id=delivery.id, used=used, length=length, seconds=seconds)


@dataclass(frozen=True, slots=True)
class Airable:
    """When the piece an airing carries may air, from the revision planned there: its validity window and its
    campaign's calendar (``rule`` None with a ``campaign``: the campaign is no longer configured, so never)."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None
    campaign: str | None = None
    campaign_name: str = ""
    rule: CampaignRule | None = None


def airable(session: Session, revision_ids: Collection[int]) -> dict[int, Airable]:
    """revision id → when its piece may air, in two queries (the calendar asks for a week's worth at once)."""
    if not revision_ids:
        return {}
    rows = session.execute(select(Revision.id, Revision.valid_from, Revision.valid_until, Revision.campaign)
                           .where(Revision.id.in_(sorted(set(revision_ids))))).all()
    codes = {row.campaign for row in rows if row.campaign}
    rules = campaign_rules(session, codes) if codes else {}
    names = dict(session.execute(select(Campaign.code, Campaign.name).where(Campaign.code.in_(sorted(codes))))
                 .all()) if codes else {}
    return {row.id: Airable(row.valid_from, row.valid_until, row.campaign, names.get(row.campaign, ""),
                            rules.get(row.campaign)) for row in rows}


def move_problem(*, state: str, station: str, outlet: str, start_at: datetime, end_at: datetime, day: date,
                 length_s: float, used_s: float, piece_ids: Collection[int], source: tuple[str, str],
                 piece_id: int, seconds: float, when: Airable) -> str | None:
    """Why a program (of ``station`` and ``outlet``, ``start_at``–``end_at`` on the local ``day``) would refuse
    a piece moved into it from a program of ``source`` (station, outlet), or None if it takes it:
    ``"sent"`` (no longer pending), ``"other-station"`` (a move stays on the station and outlet the piece was
    planned for, so never reaches a station the piece does not target), ``"already-there"``, ``"campaign-off"``
    (its campaign is not on that day), ``"not-valid"`` (outside the piece's validity), ``"no-room"``: what the
    planner would hold a pin out for. ``move_airing`` refuses, and the calendar offers only programs where this
    is None."""
    if state != DeliveryState.PENDING:
        return "sent"
    if (station, outlet) != source:
        return "other-station"
    if piece_id in piece_ids:
        return "already-there"
    if when.campaign is not None and (when.rule is None or outlet not in when.rule.outlets
                                      or not campaign_active(when.rule, day)):
        return "campaign-off"
    rules = rules_of(outlet)
    if not rules.valid_in(when.valid_from, when.valid_until, start_at, end_at):
        return "not-valid"
    if rules.timed and used_s + seconds > length_s + 1e-9:
        return "no-room"
    return None


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%d/%m/%Y %H:%M}"


def _subject(airing: Airing) -> str:
    return f"airing:{airing.id}"


def pin_airing(session: Session, airing_id: int, *, actor: User, now: datetime, pinned: bool = True) -> None:
    """Pin an airing so re-plans keep it where it is (or unpin it: re-plans may move it again)."""
    airing = _airing(session, airing_id, actor)
    delivery = airing.delivery
    _open(delivery)
    if airing.held is not None and not pinned:  # a pin held out, let go: the planner places the piece freely
        audit.record(session, actor=actor.name, action="airing.unpin", subject=_subject(airing), at=now,
                     details={"delivery": delivery.id, "piece": airing.piece_id, "held": airing.held})
        session.delete(airing)
        delivery.updated_at = now
        session.flush()
        return
    if airing.removed and airing.held is None:
        raise StateError("airing {id} was removed; restore it before pinning it", id=airing_id)
    if airing.pinned == pinned:
        return
    airing.pinned = pinned
    delivery.updated_at = now
    audit.record(session, actor=actor.name, action="airing.pin" if pinned else "airing.unpin",
                 subject=_subject(airing),
                 at=now, details={"delivery": delivery.id, "piece": airing.piece_id})
    session.flush()


def remove_airing(session: Session, airing_id: int, *, actor: User, now: datetime, removed: bool = True) -> None:
    """Take an airing out of its program (re-plans do not put the piece back there), or restore it."""
    airing = _airing(session, airing_id, actor)
    delivery = airing.delivery
    _open(delivery)
    if airing.held is not None and not removed:
        raise StateError("airing {id} is a pin held out of its program: {reason}; make room and re-plan, or unpin it "
                         "so the planner places the piece elsewhere", id=airing_id, reason=Held.of(airing.held).reason)
    if airing.removed == removed and airing.held is None:
        return
    if not removed:
        if any(a.piece_id == airing.piece_id for a in _live(delivery)):
            raise StateError("piece {piece} is already in program {id}", piece=airing.piece_id, id=delivery.id)
        _check_room(delivery, airing.seconds, airing.piece_id)
        airing.position = max((a.position for a in _live(delivery)), default=-1) + 1
    airing.removed = removed
    airing.pinned = False
    airing.held = None  # a held pin removed becomes an editor's tombstone: the piece is not put back there
    delivery.updated_at = now
    audit.record(session, actor=actor.name, action="airing.remove" if removed else "airing.restore",
                 subject=_subject(airing), at=now, details={"delivery": delivery.id, "piece": airing.piece_id})
    session.flush()


def move_airing(session: Session, airing_id: int, *, delivery_id: str, actor: User, now: datetime,
                zone: ZoneInfo) -> None:
    """Move an airing to another program of the same station and outlet, on a day (in ``zone``) and at a time
    its piece may air, where it stays pinned; the program it left will not get that piece back from a re-plan."""
    airing = _airing(session, airing_id, actor)
    source = airing.delivery
    _open(source)
    if airing.removed:
        raise StateError("airing {id} is out of its program; restore it (or unpin a held pin) first", id=airing_id)
    target = session.get(Delivery, delivery_id)
    if target is None:
        raise NotFound("no program {id!r}", where="--to", id=delivery_id,
                       hint="`loa schedule --json` lists program ids")
    if target.id == source.id:
        raise InputError("airing {airing} is already in program {id}", where="--to", airing=airing_id,
                         id=delivery_id)
    when = airable(session, [airing.revision_id]).get(airing.revision_id, Airable())
    day = target.start_at.astimezone(zone).date()
    problem = move_problem(state=target.state, station=target.station.code, outlet=target.outlet,
                           start_at=target.start_at, end_at=target.end_at, day=day, length_s=room_s(target),
                           used_s=sum(a.seconds for a in _live(target)),
                           piece_ids={a.piece_id for a in _live(target)},
                           source=(source.station.code, source.outlet), piece_id=airing.piece_id,
                           seconds=airing.seconds, when=when)
    if problem == "other-station":
        raise InputError("program {id} is on another station or outlet ({station} {outlet}); an airing moves only "
                         "between programs of {source_station} {source_outlet}", where="--to", id=delivery_id,
                         station=target.station.code, outlet=target.outlet, source_station=source.station.code,
                         source_outlet=source.outlet)
    if problem == "sent":
        _open(target)
    if problem == "already-there":
        raise InputError("piece {piece} is already in program {id}", where="--to", piece=airing.piece_id,
                         id=delivery_id)
    if problem == "campaign-off":
        raise InputError("piece {piece} cannot air on {day}: its campaign {campaign} is not on that day",
                         where="--to", piece=airing.piece_id, day=f"{day:%d/%m/%Y}",
                         campaign=when.campaign_name or when.campaign)
    if problem == "not-valid" and when.valid_from is not None and when.valid_from > target.start_at:
        raise InputError("piece {piece} cannot air at {start}: it is valid only from {valid_from}", where="--to",
                         piece=airing.piece_id, start=_local(target.start_at, zone),
                         valid_from=format_moment(when.valid_from, zone))
    if problem == "not-valid":
        raise InputError("piece {piece} cannot air at {start}: it is valid only until {valid_until}",
                         where="--to", piece=airing.piece_id, start=_local(target.start_at, zone),
                         valid_until=format_moment(when.valid_until, zone, end_of_day=True)
                         if when.valid_until else "")
    if problem == "no-room":
        _check_room(target, airing.seconds, airing.piece_id)

    # A tombstone where it was, so re-plans do not put it back there.
    session.add(Airing(delivery_id=source.id, position=airing.position, piece_id=airing.piece_id,
                       revision_id=airing.revision_id, campaign=airing.campaign, seconds=airing.seconds,
                       pinned=False, removed=True))
    for stale in [a for a in target.airings if a.removed and a.piece_id == airing.piece_id]:
        session.delete(stale)
    airing.position = max((a.position for a in _live(target)), default=-1) + 1
    airing.delivery = target
    airing.pinned = True
    source.updated_at = target.updated_at = now
    audit.record(session, actor=actor.name, action="airing.move", subject=_subject(airing), at=now,
                 details={"from": source.id, "to": target.id, "piece": airing.piece_id})
    session.flush()


def reorder_airing(session: Session, airing_id: int, *, up: bool, actor: User, now: datetime) -> None:
    """Swap an airing with the one before it (``up``) or after it in its program. Priority items stay ahead of
    the others (Circular 39/2020: they air first), so one changes places only with an item of its own kind.
    Every item of the program is then pinned: re-plans keep the order the editor chose (a new priority
    piece still goes to the head)."""
    airing = _airing(session, airing_id, actor)
    delivery = airing.delivery
    _open(delivery)
    if airing.removed:
        raise StateError("airing {id} is out of its program; restore it first", id=airing_id)
    live = sorted(_live(delivery), key=lambda a: a.position)
    index = live.index(airing) + (-1 if up else 1)
    if index < 0:
        raise InputError("airing {id} is already first in its program", where="airing", id=airing_id)
    if index >= len(live):
        raise InputError("airing {id} is already last in its program", where="airing", id=airing_id)
    other = live[index]
    first = leading(session, delivery.station.code, [airing.revision_id, other.revision_id])
    if (airing.revision_id in first) != (other.revision_id in first):
        raise InputError("priority items air first: airing {id} changes places only with another item of its "
                         "kind", where="airing", id=airing_id)
    airing.position, other.position = other.position, airing.position
    for item in live:
        item.pinned = True
    delivery.updated_at = now
    audit.record(session, actor=actor.name, action="airing.reorder", subject=_subject(airing), at=now,
                 details={"delivery": delivery.id, "piece": airing.piece_id, "up": up, "with": other.id})
    session.flush()
