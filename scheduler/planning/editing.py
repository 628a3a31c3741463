"""An editor's hand on the plan: pin, unpin, remove, restore and move single airings, each audited."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from content import audit, scope
from content.errors import InputError, NotFound, StateError
from content.models import User
from content.pieces import get_piece
from scheduler.config import relays_seconds
from scheduler.models import Airing, Delivery, DeliveryState, Slot
from scheduler.outlets import rules_of
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


def move_problem(*, state: str, outlet: str, length_s: float, used_s: float, piece_ids: Collection[int],
                 piece_id: int, seconds: float) -> str | None:
    """Why a program would refuse a piece moved into it, or None if it takes it: ``"sent"`` (no longer
    pending), ``"already-there"``, ``"no-room"``. The calendar offers only programs where this is None."""
    if state != DeliveryState.PENDING:
        return "sent"
    if piece_id in piece_ids:
        return "already-there"
    if rules_of(outlet).timed and used_s + seconds > length_s + 1e-9:
        return "no-room"
    return None


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


def move_airing(session: Session, airing_id: int, *, delivery_id: str, actor: User, now: datetime) -> None:
    """Move an airing to another program of the same station and outlet, where it stays pinned;
    the program it left will not get that piece back from a re-plan."""
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
    if (target.station_id, target.outlet) != (source.station_id, source.outlet):
        raise InputError("program {id} is on another station or outlet ({station} {outlet}); an airing moves only "
                         "between programs of {source_station} {source_outlet}", where="--to", id=delivery_id,
                         station=target.station.code, outlet=target.outlet, source_station=source.station.code,
                         source_outlet=source.outlet)
    _open(target)
    problem = move_problem(state=target.state, outlet=target.outlet,
                           length_s=room_s(target),
                           used_s=sum(a.seconds for a in _live(target)),
                           piece_ids={a.piece_id for a in _live(target)}, piece_id=airing.piece_id,
                           seconds=airing.seconds)
    if problem == "already-there":
        raise InputError("piece {piece} is already in program {id}", where="--to", piece=airing.piece_id,
                         id=delivery_id)
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
