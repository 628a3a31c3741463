"""The outbox: claiming due deliveries and recording what became of each push."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from content import audit
from scheduler.models import Delivery, DeliveryState


def backoff_seconds(attempt: int, base_s: float, rng: random.Random, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter for the ``attempt``-th failure; ``Retry-After`` wins if longer."""
    exponential = base_s * 2 ** max(attempt - 1, 0)
    delay = rng.uniform(exponential / 2, exponential)
    return max(delay, retry_after or 0.0)


def mark_missed(session: Session, *, now: datetime, grace: timedelta, actor: str) -> list[str]:
    """Deliveries whose moment passed beyond ``grace`` while nobody pushed them become ``missed``.

    A board rotation is a window, so it stays deliverable until its end.
    """
    late = or_(
        and_(Delivery.outlet != "board", Delivery.start_at < now - grace),
        and_(Delivery.outlet == "board", Delivery.end_at <= now),
    )
    ids = list(session.scalars(select(Delivery.id).where(Delivery.state == DeliveryState.PENDING, late)))
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            state=DeliveryState.MISSED, updated_at=now,
            last_error="the slot passed while loa was not running (beyond the grace period)"))
        for delivery_id in ids:
            audit.record(session, actor=actor, action="delivery.missed", subject=f"delivery:{delivery_id}", at=now)
    return ids


def claim_due(
    session: Session, *, now: datetime, due_by: datetime, worker: str, limit: int, lease: timedelta
) -> list[str]:
    """Take up to ``limit`` deliveries due by ``due_by`` for ``worker``, in one transaction.

    Claims left by a worker that died (older than ``lease``) are taken back first. On
    PostgreSQL, ``SKIP LOCKED`` lets several workers claim side by side without waiting.
    """
    session.execute(update(Delivery).where(
        Delivery.state == DeliveryState.SENDING, Delivery.claimed_at < now - lease,
    ).values(state=DeliveryState.PENDING, claimed_by=None))
    query = (
        select(Delivery.id)
        .where(Delivery.state == DeliveryState.PENDING, Delivery.due_at <= due_by,
               or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            state=DeliveryState.SENDING, claimed_at=now, claimed_by=worker,
            attempts=Delivery.attempts + 1, updated_at=now))
    return ids


def record_delivered(session: Session, delivery: Delivery, *, receipt: dict[str, Any], now: datetime,
                     actor: str) -> None:
    delivery.state = DeliveryState.DELIVERED
    delivery.delivered_at = now
    delivery.receipt = receipt
    delivery.last_error = None
    delivery.updated_at = now
    audit.record(session, actor=actor, action="delivery.push", subject=f"delivery:{delivery.id}", at=now,
                 details={"outlet": delivery.outlet, "location": receipt.get("location"),
                          "attempt": delivery.attempts})


def record_failure(session: Session, delivery: Delivery, *, error: str, transient: bool, now: datetime,
                   max_attempts: int, base_s: float, rng: random.Random, actor: str,
                   retry_after: float | None = None) -> str:
    """Schedule a retry for a transient failure, or send the delivery to dead letter."""
    delivery.last_error = error
    delivery.updated_at = now
    delivery.claimed_by = None
    if transient and delivery.attempts < max_attempts:
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now + timedelta(
            seconds=backoff_seconds(delivery.attempts, base_s, rng, retry_after))
    else:
        delivery.state = DeliveryState.DEAD
    audit.record(session, actor=actor, action="delivery.failed", subject=f"delivery:{delivery.id}", at=now,
                 details={"error": error[:500], "attempt": delivery.attempts, "state": delivery.state})
    return delivery.state


def record_refused(session: Session, delivery: Delivery, *, reason: str, now: datetime, actor: str) -> None:
    delivery.state = DeliveryState.REFUSED
    delivery.last_error = reason
    delivery.updated_at = now
    audit.record(session, actor=actor, action="delivery.refused", subject=f"delivery:{delivery.id}", at=now,
                 details={"reason": reason})


def retry_delivery(session: Session, delivery_id: str, *, actor: str, now: datetime) -> None:
    """Put a dead, refused or missed delivery back to pending so the dispatcher pushes it again."""
    from content.errors import NotFound, StateError

    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    if delivery.state not in (DeliveryState.DEAD, DeliveryState.REFUSED, DeliveryState.MISSED):
        raise StateError(f"delivery {delivery_id} is {delivery.state}; only dead, refused or missed ones are retried")
    previous = delivery.state
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.claimed_by = None
    delivery.updated_at = now
    audit.record(session, actor=actor, action="delivery.retry", subject=f"delivery:{delivery.id}", at=now,
                 details={"was": previous})
