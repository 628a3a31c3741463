"""The outbox: claiming due deliveries and recording what became of each push.

Life of a delivery (``scheduler.models.DeliveryState``)::

    pending ──claim──► sending ──2xx/409──► delivered (receipt kept: status, remote id, time)
       ▲                  │
       │                  ├─ transient (timeout, refused, 5xx, 408, 429) ─► pending, later (backoff + jitter)
       │                  ├─ permanent (other 4xx) or max_attempts reached ─► dead
       │                  ├─ approval or hash check fails ─────────────────► refused
       │                  └─ process killed ─► stays "sending" until the lease ends, then pending again
       │
    missed (nobody pushed it in time: its outlet's lateness rule) / dead / refused ──retry_delivery──► pending

    A withdrawal (``withdraws`` set: scheduler.dispatch.withdrawals) lives the same life, due at once and
    never missed; it takes down what the delivery it names put up.

    A re-plan that changes a running board rotation supersedes its delivery (scheduler.planning.succession):
    one that went out stays delivered with ``superseded_at``; one still pending becomes ``superseded``;
    a new delivery (its own id) takes over, due at once. A superseded delivery is never retried.

The delivery id is the idempotency key and never changes; the payload of the first attempt is
stored (``Delivery.payload``) and re-sent as it is on every retry.
"""

from __future__ import annotations

import hmac
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, exists, or_, select, update
from sqlalchemy.orm import Session

from content import audit, seals
from content.errors import NotFound, StateError
from content.models import Revision
from scheduler.dispatch import notify
from scheduler.models import Airing, Delivery, DeliveryState
from scheduler.outlets import RULES, Lateness, rules_of

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


#: Why a delivery was missed, by its outlet's lateness rule.
_MISSED = {
    Lateness.GRACE: "the slot passed while loa was not running (beyond the grace period)",
    Lateness.UNTIL_END: "the window ended while loa was not running (or beyond the grace period of a retry)",
    Lateness.UNTIL_EXPIRY: "every piece in it expired before it could go out",
}


def _too_late(lateness: Lateness, *, now: datetime, cutoff: datetime) -> ColumnElement[bool]:
    """The deliveries of an outlet with ``lateness`` that may no longer go out at ``now``."""
    if lateness is Lateness.GRACE:
        return or_(and_(Delivery.retried_at.is_(None), Delivery.start_at < cutoff), Delivery.retried_at < cutoff)
    if lateness is Lateness.UNTIL_END:
        return and_(Delivery.end_at <= now, or_(Delivery.retried_at.is_(None), Delivery.retried_at < cutoff))
    still_valid = (select(Airing.id).join(Revision, Revision.id == Airing.revision_id)
                   .where(Airing.delivery_id == Delivery.id, Airing.removed.is_(False),
                          or_(Revision.valid_until.is_(None), Revision.valid_until > now)))
    return and_(Delivery.start_at <= now, ~exists(still_valid))


def mark_missed(session: Session, *, now: datetime, grace: timedelta, actor: str) -> list[str]:
    """Pending deliveries that nobody pushed in time become ``missed``, by their outlet's lateness rule
    (``scheduler.outlets``): a loudspeaker program ``grace`` after its start; a board rotation, a window,
    at its end; a portal article, which is not time-critical, only once every piece in it has expired
    (until then it is published late). After an editor's retry, the grace period counts from the retry.
    """
    cutoff = now - grace
    late = or_(*(and_(Delivery.outlet == str(outlet), _too_late(rules.lateness, now=now, cutoff=cutoff))
                 for outlet, rules in RULES.items()))
    rows = session.execute(select(Delivery.id, Delivery.outlet, Delivery.attempts, Delivery.last_error)
                           .where(Delivery.state == DeliveryState.PENDING, Delivery.withdraws.is_(None), late)).all()
    for delivery_id, outlet, attempts, last_error in rows:
        reason = _MISSED[rules_of(outlet).lateness]
        if attempts:
            reason = f"{reason}, after {attempts} failed attempts; last: {last_error}"
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
    """Store the first attempt's payloads (``prepared_id``, ``new_payload``, ``new_seal`` each: see
    ``content.seals.seal_payload``) in one multi-row update."""
    if rows:
        table = Delivery.__table__
        session.execute(update(table).where(table.c.id == bindparam("prepared_id"))
                        .values(payload=bindparam("new_payload", type_=table.c.payload.type),
                                payload_seal=bindparam("new_seal")), rows)


def seal_stored_payloads(session: Session) -> int:
    """Seal the payloads stored before seals existed (``loa audit seal-approvals``, once after upgrading);
    how many were sealed."""
    sealed = 0
    for delivery in session.scalars(select(Delivery).where(Delivery.payload.is_not(None),
                                                           Delivery.payload_seal.is_(None))):
        if delivery.payload is None:  # a JSON null
            continue
        delivery.payload_seal = seals.seal_payload(session, delivery.id, delivery.payload)
        sealed += 1
    return sealed


def reseal_payloads(session: Session, old: bytes, new: bytes) -> tuple[int, int]:
    """Re-seal under ``new`` the stored payloads whose seal holds under ``old`` (``loa audit rotate-key``);
    (re-sealed, kept broken). A payload whose seal does not hold keeps it, so it stays refused."""
    resealed = broken = 0
    for delivery in session.scalars(select(Delivery).where(Delivery.payload_seal.is_not(None))):
        if delivery.payload is not None and hmac.compare_digest(
                delivery.payload_seal, seals.payload_seal(old, delivery.id, delivery.payload)):
            delivery.payload_seal = seals.payload_seal(new, delivery.id, delivery.payload)
            resealed += 1
        else:
            broken += 1
    return resealed, broken


def release(session: Session, delivery_ids: list[str], *, now: datetime, actor: str, reason: str,
            until: datetime | None = None) -> list[str]:
    """Hand deliveries that ``actor`` claimed back untried, as if never claimed: no attempt is used up.

    With ``until`` they wait till then (their outlet's circuit is open); without it any worker may take
    them at once (this one is stopping, or a program changed while it was being prepared), and sleeping
    workers are woken. Returns the ids handed back (not those another worker took back meanwhile).
    """
    if not delivery_ids:
        return []
    released = list(session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.state == DeliveryState.SENDING, Delivery.claimed_by == actor)
        .values(state=DeliveryState.PENDING, claimed_by=None, claimed_at=None, next_attempt_at=until,
                attempts=Delivery.attempts - 1, updated_at=now)
        .returning(Delivery.id)))
    details = {"reason": reason, "until": until.isoformat() if until else None}
    audit.record_many(session, [audit.Entry(actor=actor, action="delivery.release", subject=f"delivery:{delivery_id}",
                                            at=now, details=details) for delivery_id in released])
    if released and until is None:
        notify.outbox_changed(session)
    return released


def record_delivered(session: Session, delivery: Delivery, *, receipt: dict[str, Any], now: datetime,
                     actor: str, action: str = "delivery.push") -> None:
    """Keep the receipt of a confirmed push: the as-run record (audited as ``action``)."""
    delivery.state = DeliveryState.DELIVERED
    delivery.delivered_at = now
    delivery.receipt = receipt
    delivery.last_error = None
    delivery.next_attempt_at = None
    delivery.claimed_by = None
    delivery.updated_at = now
    audit.record(session, actor=actor, action=action, subject=f"delivery:{delivery.id}", at=now,
                 details={"outlet": delivery.outlet, "location": receipt.get("location"),
                          "status": receipt.get("status"), "remote_id": receipt.get("remote_id"),
                          "attempt": delivery.attempts})


def record_delivered_many(session: Session, receipts: list[tuple[str, str, int, dict[str, Any]]], *,
                          now: datetime, actor: str, action: str = "delivery.push") -> None:
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
        actor=actor, action=action, subject=f"delivery:{delivery_id}", at=now,
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


#: ``details["alert"]`` of a ``delivery.refused`` entry for a seal or hash that did not hold (shown on Today).
INTEGRITY_ALERT = "integrity"


def record_refused(session: Session, delivery: Delivery, *, reason: str, now: datetime, actor: str,
                   integrity: bool = False) -> None:
    """Refuse a delivery, audited; ``integrity`` when a seal or hash did not hold (an ALERT: tampering)."""
    delivery.state = DeliveryState.REFUSED
    delivery.last_error = reason
    delivery.claimed_by = None
    delivery.updated_at = now
    details = {"reason": reason} | ({"alert": INTEGRITY_ALERT} if integrity else {})
    audit.record(session, actor=actor, action="delivery.refused", subject=f"delivery:{delivery.id}", at=now,
                 details=details)


def retry_delivery(session: Session, delivery_id: str, *, actor: str, now: datetime) -> None:
    """Put a dead, refused or missed delivery back to pending, due now, under the same id and payload.

    The attempt count starts again and the grace period counts from ``now``, so an editor's retry
    of a slot that has passed is pushed at once (or recorded as missed again if loa stays down).
    Raises NotFound for an unknown id and StateError for a delivery that is pending, in flight
    or delivered.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("no delivery {id!r}", id=delivery_id)
    if delivery.superseded_at is not None:
        raise StateError("delivery {id} was superseded by a newer push of its window ({at}); retry that one instead",
                         id=delivery_id, at=delivery.superseded_at.isoformat())
    if delivery.state not in RETRYABLE:
        raise StateError("delivery {id} is {state}; only dead, refused or missed deliveries can be retried",
                         id=delivery_id, state=delivery.state)
    if delivery.payload is not None:  # refused now, not just at the push: an edited payload never waits
        seals.check_payload(session, delivery.id, delivery.payload, delivery.payload_seal)
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
        raise NotFound("no delivery {id!r}", hint="`loa delivery list` shows them", id=delivery_id)
    return delivery
