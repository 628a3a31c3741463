"""Writes an emergency's pushes into the emergency outbox: one per targeted station × outlet, in one insert.

The first push, each repeat, the all-clear and the end (an emergency that ran out without an all-clear) are
each a fan-out of their own (``kind`` and ``repeat`` tell them apart; the unique index makes a second fan-out of
the same push impossible, even from two workers).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from content import audit
from scheduler.dispatch import notify
from scheduler.models import DeliveryState, Emergency, EmergencyDelivery, EmergencyState, Station, new_delivery_id
from scheduler.outlets import ALERT_OUTLETS, takes_alert, takes_alert_end

#: The kinds of push: the emergency (and its repeats), its all-clear, and its end when it ran out (``until``)
#: without an all-clear; the end goes only where an outlet keeps the emergency until told (scheduler.outlets).
ALERT, ALL_CLEAR, END = "alert", "all_clear", "end"
CANCELLED = "cancelled"


def reach(session: Session, codes: list[str], *, repeat: int = 0, kind: str = ALERT) -> list[tuple[int, str, str]]:
    """(station id, station code, outlet) for every outlet of the active stations ``codes`` that takes push
    number ``repeat`` of an emergency, or its ``kind`` of push (scheduler.outlets: the first and the all-clear go
    to every outlet but the printed bulletin, repeats only to loudspeakers and boards, the end only to outlets
    that keep an emergency until told)."""
    rows = session.execute(select(Station.id, Station.code, Station.outlets)
                           .where(Station.code.in_(codes), Station.active.is_(True)).order_by(Station.code)).all()
    takes = (lambda outlet: takes_alert_end(outlet)) if kind == END else (lambda outlet: takes_alert(outlet, repeat))
    return [(station_id, code, outlet) for station_id, code, outlets in rows
            for outlet in ALERT_OUTLETS if outlet in (outlets or []) and takes(outlet)]


def fan_out(session: Session, emergency: Emergency, *, kind: str, repeat: int, due_at: datetime,
            now: datetime) -> int:
    """One pending push of ``kind`` per station × outlet the emergency reaches, due at ``due_at``; how many."""
    rows = [dict(id=new_delivery_id(), emergency_id=emergency.id, station_id=station_id, outlet=outlet, kind=kind,
                 repeat=repeat, due_at=due_at, state=DeliveryState.PENDING, attempts=0, created_at=now, updated_at=now)
            for station_id, _, outlet in reach(session, list(emergency.stations),
                                               repeat=repeat if kind == ALERT else 0, kind=kind)]
    if rows:
        session.execute(insert(EmergencyDelivery), rows)
        notify.outbox_changed(session)
    return len(rows)


def cancel_pending(session: Session, emergency_id: int, *, now: datetime) -> int:
    """The emergency's alerts and repeats not yet out never go: it was cleared or ended."""
    result = session.execute(update(EmergencyDelivery).where(
        EmergencyDelivery.emergency_id == emergency_id, EmergencyDelivery.kind == ALERT,
        EmergencyDelivery.state == DeliveryState.PENDING,
    ).values(state=CANCELLED, updated_at=now, next_attempt_at=None, last_error="the emergency ended before this push"))
    return int(getattr(result, "rowcount", 0) or 0)


def due_repeats(session: Session, now: datetime) -> int:
    """Fan out every repeat that has come due (a repeat missed while loa was down goes once, now); how many
    pushes were written."""
    written = 0
    for emergency in session.scalars(select(Emergency).where(
            Emergency.state == EmergencyState.ACTIVE, Emergency.next_push_at.is_not(None),
            Emergency.next_push_at <= now).with_for_update(skip_locked=True)):
        assert emergency.next_push_at is not None and emergency.repeat_every_s
        if emergency.until is not None and emergency.next_push_at >= emergency.until:
            emergency.next_push_at = None
            continue
        emergency.repeats += 1
        written += fan_out(session, emergency, kind=ALERT, repeat=emergency.repeats, due_at=emergency.next_push_at,
                           now=now)
        step = timedelta(seconds=emergency.repeat_every_s)
        following = emergency.next_push_at + step
        while following <= now:
            following += step
        emergency.next_push_at = following
        emergency.updated_at = now
        audit.record(session, actor="system", action="emergency.repeat", subject=f"emergency:{emergency.id}", at=now,
                     details={"repeat": emergency.repeats, "next": following.isoformat()})
    return written
