"""Editors' changes to the plan: pin an airing so a re-plan keeps it, remove it, or move it to another program."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from content import audit
from content.errors import NotFound, StateError
from scheduler.models import Airing, Delivery, DeliveryState


def _airing(session: Session, airing_id: int) -> Airing:
    airing = session.get(Airing, airing_id)
    if airing is None:
        raise NotFound(f"no airing with id {airing_id}")
    return airing


def _still_open(delivery: Delivery) -> None:
    if delivery.state != DeliveryState.PENDING:
        raise StateError(f"program {delivery.id} is {delivery.state}; only programs not yet pushed can change")


def pin_airing(session: Session, airing_id: int, *, actor: str, now: datetime, pinned: bool = True) -> None:
    """Pin (or unpin) an airing: a re-plan keeps a pinned airing where it is."""
    airing = _airing(session, airing_id)
    _still_open(airing.delivery)
    airing.pinned = pinned
    audit.record(session, actor=actor, action="airing.pin" if pinned else "airing.unpin",
                 subject=f"airing:{airing.id}", at=now, details={"delivery": airing.delivery_id})


def remove_airing(session: Session, airing_id: int, *, actor: str, now: datetime, removed: bool = True) -> None:
    """Take an airing out of its program (kept as a tombstone so a re-plan does not put it back)."""
    airing = _airing(session, airing_id)
    _still_open(airing.delivery)
    airing.removed = removed
    audit.record(session, actor=actor, action="airing.remove" if removed else "airing.restore",
                 subject=f"airing:{airing.id}", at=now, details={"delivery": airing.delivery_id})


def move_airing(session: Session, airing_id: int, *, delivery_id: str, actor: str, now: datetime) -> None:
    """Move an airing to another program of the same station and outlet that is not yet pushed."""
    airing = _airing(session, airing_id)
    source = airing.delivery
    target = session.get(Delivery, delivery_id)
    if target is None:
        raise NotFound(f"no program {delivery_id}")
    _still_open(source)
    _still_open(target)
    if (target.station_id, target.outlet) != (source.station_id, source.outlet):
        raise StateError("an airing can only move to another program of the same station and outlet")
    position = 1 + max((a.position for a in target.airings), default=-1)
    airing.delivery = target
    airing.position = position
    airing.pinned = True
    audit.record(session, actor=actor, action="airing.move", subject=f"airing:{airing.id}", at=now,
                 details={"from": source.id, "to": target.id})
