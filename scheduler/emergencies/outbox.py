"""The emergency outbox: claiming due emergency pushes ahead of everything else and recording what became of them.

Life of an emergency delivery (the states of ``scheduler.models.DeliveryState`` plus ``cancelled``)::

    pending ──claim──► sending ──2xx/409──► delivered
       ▲                  ├─ transient failure ─► pending again in seconds (short backoff), until max attempts ─► dead
       │                  ├─ permanent failure ─► dead
       │                  ├─ the emergency or its stored payload fails its seal ─► refused
       │                  └─ the outlet's circuit is open and its probe failed ─► pending again in seconds
    pending alert of an emergency cleared or ended ─► cancelled

Claims are ordered by due time; a loudspeaker push of an emergency whose audio is not rendered yet is not
claimable (boards and portals go first while it renders).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, not_, or_, select, update
from sqlalchemy.orm import Session

from content import audit
from scheduler.dispatch.outbox import backoff_seconds
from scheduler.emergencies.fanout import ALERT
from scheduler.models import DeliveryState, Emergency, EmergencyDelivery

#: A loudspeaker alert whose emergency must be spoken (or its recording normalised) before it can go.
AWAITS_AUDIO = and_(EmergencyDelivery.outlet == "loudspeaker", EmergencyDelivery.kind == ALERT,
                    EmergencyDelivery.payload.is_(None), Emergency.speech_sha256.is_(None),
                    Emergency.stream_url.is_(None))


def claim_due(session: Session, *, now: datetime, worker: str, limit: int, lease: timedelta) -> list[str]:
    """Take up to ``limit`` due emergency pushes for ``worker`` (``SKIP LOCKED`` on PostgreSQL)."""
    session.execute(update(EmergencyDelivery).where(
        EmergencyDelivery.state == DeliveryState.SENDING, EmergencyDelivery.claimed_at < now - lease,
    ).values(state=DeliveryState.PENDING, claimed_by=None))
    query = (select(EmergencyDelivery.id).join(Emergency, Emergency.id == EmergencyDelivery.emergency_id)
             .where(EmergencyDelivery.state == DeliveryState.PENDING, EmergencyDelivery.due_at <= now,
                    or_(EmergencyDelivery.next_attempt_at.is_(None), EmergencyDelivery.next_attempt_at <= now),
                    not_(AWAITS_AUDIO))
             .order_by(EmergencyDelivery.due_at, EmergencyDelivery.id).limit(limit)
             .with_for_update(skip_locked=True, of=EmergencyDelivery))
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(EmergencyDelivery).where(EmergencyDelivery.id.in_(ids)).values(
            state=DeliveryState.SENDING, claimed_at=now, claimed_by=worker, attempts=EmergencyDelivery.attempts + 1,
            updated_at=now))
    return ids


def awaiting_audio(session: Session, now: datetime) -> list[int]:
    """The emergencies with a due loudspeaker push that waits for its audio."""
    return list(session.scalars(select(Emergency.id).join(
        EmergencyDelivery, EmergencyDelivery.emergency_id == Emergency.id).where(
        EmergencyDelivery.state == DeliveryState.PENDING, EmergencyDelivery.due_at <= now, AWAITS_AUDIO).distinct()))


def next_due(session: Session) -> datetime | None:
    """When the next pending emergency push or repeat comes due (None: nothing waits)."""
    from sqlalchemy import func, type_coerce

    from content.db import UTCDateTime

    push = session.scalar(select(type_coerce(func.min(func.coalesce(
        EmergencyDelivery.next_attempt_at, EmergencyDelivery.due_at)), UTCDateTime()))
        .where(EmergencyDelivery.state == DeliveryState.PENDING))
    repeat = session.scalar(select(type_coerce(func.min(Emergency.next_push_at), UTCDateTime()))
                            .where(Emergency.state == "active"))
    moments = [moment for moment in (push, repeat) if moment is not None]
    return min(moments) if moments else None


def store_payloads(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        table = EmergencyDelivery.__table__
        session.execute(update(table).where(table.c.id == bindparam("prepared_id")).values(
            payload=bindparam("new_payload", type_=table.c.payload.type), payload_seal=bindparam("new_seal")), rows)


def record_delivered(session: Session, receipts: list[tuple[str, str, int, dict[str, Any]]], *, now: datetime,
                     actor: str) -> None:
    """``(delivery id, outlet, attempt, receipt)`` each, in one multi-row update and one batched audit append."""
    if not receipts:
        return
    table = EmergencyDelivery.__table__
    session.execute(update(table).where(table.c.id == bindparam("delivered_id")).values(
        state=DeliveryState.DELIVERED, delivered_at=now, last_error=None, next_attempt_at=None, claimed_by=None,
        updated_at=now, receipt=bindparam("new_receipt", type_=table.c.receipt.type)),
        [{"delivered_id": delivery_id, "new_receipt": receipt} for delivery_id, _, _, receipt in receipts])
    audit.record_many(session, [audit.Entry(
        actor=actor, action="emergency.push", subject=f"emergency-delivery:{delivery_id}", at=now,
        details={"outlet": outlet, "status": receipt.get("status"), "attempt": attempt})
        for delivery_id, outlet, attempt, receipt in receipts])


def record_failure(session: Session, delivery: EmergencyDelivery, *, error: str, transient: bool, now: datetime,
                   max_attempts: int, base_s: float, rng: random.Random, actor: str,
                   retry_after: float | None = None) -> str:
    """Retry a transient failure within seconds, or send the push to dead letter."""
    delivery.last_error, delivery.updated_at, delivery.claimed_by = error, now, None
    if transient and delivery.attempts < max_attempts:
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(
            delivery.attempts, base_s, rng, min(retry_after or 0.0, 60.0), max_s=60.0))
    else:
        delivery.state, delivery.next_attempt_at = DeliveryState.DEAD, None
    audit.record(session, actor=actor, action="emergency.push-failed", subject=f"emergency-delivery:{delivery.id}",
                 at=now, details={"error": error[:500], "attempt": delivery.attempts, "state": delivery.state})
    return delivery.state


def record_final(session: Session, delivery: EmergencyDelivery, state: str, *, reason: str, now: datetime,
                 actor: str, integrity: bool = False) -> None:
    """``refused`` (a seal did not hold: an ALERT) or ``cancelled`` (its emergency ended first)."""
    delivery.state, delivery.last_error, delivery.claimed_by, delivery.updated_at = state, reason, None, now
    details = {"reason": reason} | ({"alert": "integrity"} if integrity else {})
    audit.record(session, actor=actor, action=f"emergency.push-{state}", subject=f"emergency-delivery:{delivery.id}",
                 at=now, details=details)


def release(session: Session, ids: list[str], *, until: datetime, now: datetime, actor: str) -> None:
    """Hand claims back untried, due again at ``until`` (their outlet's circuit is open and its probe failed, or
    preparing their batch failed)."""
    if ids:
        session.execute(update(EmergencyDelivery).where(
            EmergencyDelivery.id.in_(ids), EmergencyDelivery.state == DeliveryState.SENDING,
            EmergencyDelivery.claimed_by == actor,
        ).values(state=DeliveryState.PENDING, claimed_by=None, claimed_at=None, next_attempt_at=until,
                 attempts=EmergencyDelivery.attempts - 1, updated_at=now))
