"""Puts a dead or refused delivery back in the outbox at a person's request, and audits it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from content import audit
from content.errors import NotFound, StateError
from scheduler.models import Delivery, DeliveryState

RETRYABLE = (DeliveryState.DEAD, DeliveryState.REFUSED)


def retry_delivery(session: Session, delivery_id: str, *, actor: str, now: datetime, grace: timedelta) -> Delivery:
    """Make a dead or refused delivery pending again with a fresh set of attempts.

    A slot already past its grace period (a board rotation: past its end) would only be marked
    missed, so it is refused here with the reason; the old error stays in the audit entry.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}", where="delivery")
    if delivery.state not in RETRYABLE:
        raise StateError(f"delivery {delivery_id} is {delivery.state}; only dead or refused deliveries are retried")
    late = delivery.end_at <= now if delivery.outlet == "board" else delivery.start_at < now - grace
    if late:
        raise StateError(f"delivery {delivery_id}: its slot at {delivery.start_at.isoformat()} has passed; "
                         "plan the piece into a coming slot instead")
    previous = {"state": delivery.state, "attempts": delivery.attempts, "error": (delivery.last_error or "")[:500]}
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.claimed_by = None
    delivery.updated_at = now
    audit.record(session, actor=actor, action="delivery.retry", subject=f"delivery:{delivery.id}", at=now,
                 details=previous)
    return delivery
