"""The outbox: claiming due deliveries and recording what became of each push.

Life of a delivery (``scheduler.models.DeliveryState``)::

    pending ──claim──► sending ──2xx/409──► delivered (receipt kept: status, remote id, time)
       ▲                  │
       │                  ├─ transient (timeout, refused, 5xx, 408, 429) ─► pending, later (backoff + jitter)
       │                  ├─ permanent (other 4xx) or max_attempts reached ─► dead
       │                  ├─ approval or hash check fails ─────────────────► refused
       │                  └─ process killed ─► stays "sending" until the lease ends, then pending again
       │
    missed (slot passed beyond grace while nobody pushed it) / dead / refused ──retry_delivery──► pending

The delivery id is the idempotency key and never changes; the payload of the first attempt is
stored (``Delivery.payload``) and re-sent as it is on every retry.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from content import audit
from content.errors import NotFound, StateError
from scheduler.models import Delivery, DeliveryState

RETRYABLE = (DeliveryState.DEAD, DeliveryState.REFUSED, DeliveryState.MISSED)


def backoff_seconds(attempt: int, base_s: float, rng: random.Random, retry_after: float | None = None,
                    max_s: float = 3600.0) -> float:
    """Exponential backoff with jitter for the ``attempt``-th failure; ``Retry-After`` wins if longer.

    "Equal jitter": a uniform draw in [b/2, b] where b = min(base · 2^(attempt-1), max_s), so retries
    of many deliveries that failed together spread out instead of hitting the receiver again at once.
    """
    exponential = min(base_s * 2 ** min(max(attempt - 1, 0), 60), max_s)
    delay = rng.uniform(exponential / 2, exponential)
    return max(delay, retry_after or 0.0)


def mark_missed(session: Session, *, now: datetime, grace: timedelta, actor: str) -> list[str]:
    """Deliveries whose moment passed beyond ``grace`` while nobody pushed them become ``missed``.

    A board rotation is a window, so it stays deliverable until its end. After an editor's
    retry, the grace period counts from the retry instead of the slot's start.
    """
    cutoff = now - grace
    late = or_(
        and_(Delivery.outlet != "board", Delivery.retried_at.is_(None), Delivery.start_at < cutoff),
        and_(Delivery.outlet != "board", Delivery.retried_at < cutoff),
        and_(Delivery.outlet == "board", Delivery.end_at <= now,
             or_(Delivery.retried_at.is_(None), Delivery.retried_at < cutoff)),
    )
    rows = session.execute(select(Delivery.id, Delivery.attempts, Delivery.last_error)
                           .where(Delivery.state == DeliveryState.PENDING, late)).all()
    for delivery_id, attempts, last_error in rows:
        reason = "the slot passed while loa was not running (beyond the grace period)"
        if attempts:
            reason = f"the slot passed beyond the grace period after {attempts} failed attempts; last: {last_error}"
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            state=DeliveryState.MISSED, updated_at=now, next_attempt_at=None, last_error=reason))
        audit.record(session, actor=actor, action="delivery.missed", subject=f"delivery:{delivery_id}", at=now,
                     details={"attempts": attempts})
    return [row[0] for row in rows]


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


def store_payloads(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store the first attempt's payloads (``prepared_id``, ``new_payload`` each) in one multi-row update."""
    if rows:
        table = Delivery.__table__
        session.execute(update(table).where(table.c.id == bindparam("prepared_id"))
                        .values(payload=bindparam("new_payload", type_=table.c.payload.type)), rows)


def release(session: Session, delivery_ids: list[str], *, until: datetime, now: datetime) -> None:
    """Give claimed deliveries back untried (their outlet's circuit is open): no attempt is used up."""
    if delivery_ids:
        session.execute(update(Delivery).where(Delivery.id.in_(delivery_ids),
                                               Delivery.state == DeliveryState.SENDING).values(
            state=DeliveryState.PENDING, claimed_by=None, next_attempt_at=until,
            attempts=Delivery.attempts - 1, updated_at=now))


def record_delivered(session: Session, delivery: Delivery, *, receipt: dict[str, Any], now: datetime,
                     actor: str) -> None:
    """Keep the receipt of a confirmed push: the as-run record."""
    delivery.state = DeliveryState.DELIVERED
    delivery.delivered_at = now
    delivery.receipt = receipt
    delivery.last_error = None
    delivery.next_attempt_at = None
    delivery.claimed_by = None
    delivery.updated_at = now
    audit.record(session, actor=actor, action="delivery.push", subject=f"delivery:{delivery.id}", at=now,
                 details={"outlet": delivery.outlet, "location": receipt.get("location"),
                          "status": receipt.get("status"), "remote_id": receipt.get("remote_id"),
                          "attempt": delivery.attempts})


def record_delivered_many(session: Session, receipts: list[tuple[str, str, int, dict[str, Any]]], *,
                          now: datetime, actor: str) -> None:
    """``record_delivered`` for many pushes at once: ``(delivery id, outlet, attempt, receipt)`` each,
    written with one multi-row update and one batched audit append."""
    if not receipts:
        return
    table = Delivery.__table__
    session.execute(
        update(table).where(table.c.id == bindparam("delivered_id")).values(
            state=DeliveryState.DELIVERED, delivered_at=now, last_error=None, next_attempt_at=None,
            claimed_by=None, updated_at=now, receipt=bindparam("new_receipt", type_=table.c.receipt.type)),
        [{"delivered_id": delivery_id, "new_receipt": receipt} for delivery_id, _, _, receipt in receipts])
    audit.record_many(session, [audit.Entry(
        actor=actor, action="delivery.push", subject=f"delivery:{delivery_id}", at=now,
        details={"outlet": outlet, "location": receipt.get("location"), "status": receipt.get("status"),
                 "remote_id": receipt.get("remote_id"), "attempt": attempt})
        for delivery_id, outlet, attempt, receipt in receipts])


def record_failure(session: Session, delivery: Delivery, *, error: str, transient: bool, now: datetime,
                   max_attempts: int, base_s: float, rng: random.Random, actor: str,
                   retry_after: float | None = None, max_s: float = 3600.0) -> str:
    """Schedule a retry for a transient failure, or send the delivery to dead letter."""
    delivery.last_error = error
    delivery.updated_at = now
    delivery.claimed_by = None
    if transient and delivery.attempts < max_attempts:
        delivery.state = DeliveryState.PENDING
        delivery.next_attempt_at = now + timedelta(
            seconds=backoff_seconds(delivery.attempts, base_s, rng, retry_after, max_s))
    else:
        delivery.state = DeliveryState.DEAD
        delivery.next_attempt_at = None
        if transient:
            delivery.last_error = f"gave up after {delivery.attempts} attempts; last: {error}"
    audit.record(session, actor=actor, action="delivery.failed", subject=f"delivery:{delivery.id}", at=now,
                 details={"error": error[:500], "attempt": delivery.attempts, "state": delivery.state,
                          "next_attempt_at": delivery.next_attempt_at.isoformat()
                          if delivery.next_attempt_at else None})
    return delivery.state


def record_refused(session: Session, delivery: Delivery, *, reason: str, now: datetime, actor: str) -> None:
    delivery.state = DeliveryState.REFUSED
    delivery.last_error = reason
    delivery.claimed_by = None
    delivery.updated_at = now
    audit.record(session, actor=actor, action="delivery.refused", subject=f"delivery:{delivery.id}", at=now,
                 details={"reason": reason})


def retry_delivery(session: Session, delivery_id: str, *, actor: str, now: datetime) -> None:
    """Put a dead, refused or missed delivery back to pending, due now, under the same id and payload.

    The attempt count starts again and the grace period counts from ``now``, so an editor's retry
    of a slot that has passed is pushed at once (or recorded as missed again if loa stays down).
    Raises NotFound for an unknown id and StateError for a delivery that is pending, in flight
    or delivered.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}")
    if delivery.state not in RETRYABLE:
        raise StateError(f"delivery {delivery_id} is {delivery.state}; only dead, refused or missed "
                         "deliveries can be retried")
    previous = delivery.state
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.claimed_by = None
    delivery.claimed_at = None
    delivery.retried_at = now
    delivery.updated_at = now
    audit.record(session, actor=actor, action="delivery.retry", subject=f"delivery:{delivery_id}", at=now,
                 details={"from": previous, "last_error": (delivery.last_error or "")[:500]})


def get_delivery(session: Session, delivery_id: str) -> Delivery:
    """The delivery ``delivery_id``; a unique prefix of at least 6 characters is enough."""
    delivery = session.get(Delivery, delivery_id)
    if delivery is None and len(delivery_id) >= 6:
        found = session.scalars(select(Delivery).where(Delivery.id.startswith(delivery_id)).limit(2)).all()
        delivery = found[0] if len(found) == 1 else None
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id!r}; `loa delivery list` shows them")
    return delivery
