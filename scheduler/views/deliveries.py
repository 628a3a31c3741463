"""Deliveries as editors follow them: status, attempts, last error and receipt, newest moments first."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from content.models import AuditEvent
from scheduler.dispatch.outbox import INTEGRITY_ALERT
from scheduler.models import Delivery, DeliveryState, Station

NEEDS_ACTION = (DeliveryState.DEAD, DeliveryState.REFUSED, DeliveryState.MISSED)


def delivery_dict(delivery: Delivery, station: Station) -> dict[str, Any]:
    return {
        "id": delivery.id, "station": station.code, "station_name": station.name, "outlet": delivery.outlet,
        "slot": delivery.slot_name, "start_at": delivery.start_at.isoformat(), "end_at": delivery.end_at.isoformat(),
        "state": delivery.state, "attempts": delivery.attempts, "last_error": delivery.last_error,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "receipt": delivery.receipt,
        "superseded_at": delivery.superseded_at.isoformat() if delivery.superseded_at else None,
        "replaces": delivery.replaces, "withdraws": delivery.withdraws,
    }


def _in_states(states: Collection[str]) -> ColumnElement[bool]:
    """Deliveries in ``states``; ``superseded`` also matches one that went out and was then replaced."""
    condition = Delivery.state.in_(list(states))
    if DeliveryState.SUPERSEDED in states:
        condition = or_(condition, Delivery.superseded_at.is_not(None))
    return condition


def deliveries(session: Session, *, start: datetime | None = None, end: datetime | None = None,
               states: Collection[str] | None = None, stations: Collection[str] | None = None,
               limit: int = 500) -> list[tuple[Delivery, Station]]:
    """Deliveries whose slot starts in [start, end), optionally in ``states`` and on ``stations``."""
    query = select(Delivery, Station).join(Station).order_by(Delivery.start_at.desc(), Station.code).limit(limit)
    if start is not None:
        query = query.where(Delivery.start_at >= start)
    if end is not None:
        query = query.where(Delivery.start_at < end)
    if states:
        query = query.where(_in_states(states))
    if stations is not None:
        query = query.where(Station.code.in_(list(stations)))
    return [(d, s) for d, s in session.execute(query).all()]


def integrity_alerts(session: Session, *, since: datetime,
                     stations: Collection[str] | None = None) -> list[tuple[AuditEvent, Delivery, Station]]:
    """Pushes refused since ``since`` because a seal or hash did not hold (read from the audit log, so a
    retry does not hide them), newest first, optionally on ``stations`` only."""
    events = [e for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action == "delivery.refused", AuditEvent.at >= since).order_by(AuditEvent.id.desc()))
        if e.details.get("alert") == INTEGRITY_ALERT]
    ids = {e.subject.removeprefix("delivery:") for e in events}
    found = {d.id: (d, s) for d, s in session.execute(
        select(Delivery, Station).join(Station).where(Delivery.id.in_(ids))).all()} if ids else {}
    return [(e, *found[key]) for e in events if (key := e.subject.removeprefix("delivery:")) in found
            and (stations is None or found[key][1].code in stations)]
