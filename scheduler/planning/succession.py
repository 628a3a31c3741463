"""Pushes a running program again when a re-plan changes it: a new delivery of the same slot instance
that supersedes the one already pushed, for outlets whose rules allow it (a board rotation follows the day).

The old delivery is kept as the record of what went out (``superseded_at`` set; one that never went
out becomes ``superseded`` and is never pushed); the new one has its own id, so its idempotency key
and stored payload are its own, and names the old one in ``replaces`` so the outlet takes down what
the old one put up. Loudspeaker programs and portal articles are never touched here
(``OutletRules.replaceable_while_running``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from content import audit
from scheduler.models import Airing, Delivery, DeliveryState, new_delivery_id
from scheduler.outlets import rules_of
from scheduler.planning.planner_types import PlannedItem
from scheduler.planning.stored import StoredProgram

#: States of an attempted delivery that a successor may replace: not while a worker is pushing it
#: (``sending``; the next re-plan replaces it once its push is recorded), nor once its window was missed.
REPLACEABLE = (DeliveryState.DELIVERED, DeliveryState.PENDING, DeliveryState.DEAD, DeliveryState.REFUSED)


def attempted(delivery: StoredProgram) -> bool:
    """Whether a delivery has left the planner's hands: tried at least once, or its payload stored."""
    return delivery.state != DeliveryState.PENDING or delivery.has_payload


def replaceable(delivery: StoredProgram, now: datetime) -> bool:
    """Whether an attempted delivery would be superseded, rather than kept as it is, by a changed plan:
    its outlet's rules allow it, its window has not ended and no worker is pushing it right now."""
    return (attempted(delivery) and delivery.superseded_at is None and delivery.end_at > now
            and delivery.state in REPLACEABLE and rules_of(delivery.outlet).replaceable_while_running)


def supersede(session: Session, delivery: Delivery, items: Sequence[PlannedItem], *, end_at: datetime,
              slot_name: str, now: datetime, actor: str) -> str:
    """Replace ``delivery`` by a new delivery of the same instance holding ``items``, due at once, in the
    caller's transaction; returns its id. Pins and an editor's removals carry over to the new one."""
    successor = new_delivery_id()
    delivery.superseded_at = now
    delivery.updated_at = now
    if delivery.state == DeliveryState.PENDING:  # tried and waiting for a retry: its old body must not go out
        delivery.state = DeliveryState.SUPERSEDED
        delivery.next_attempt_at = None
    session.flush()  # one delivery per instance is not superseded: the old one first
    session.execute(insert(Delivery), [dict(
        id=successor, station_id=delivery.station_id, outlet=delivery.outlet, slot_name=slot_name,
        start_at=delivery.start_at, end_at=end_at, due_at=now, state=DeliveryState.PENDING, attempts=0,
        replaces=delivery.id, created_at=now, updated_at=now)])
    rows = [dict(delivery_id=successor, position=position, piece_id=item.piece_id, revision_id=item.revision_id,
                 campaign=item.campaign, seconds=item.seconds, pinned=item.pinned, removed=False)
            for position, item in enumerate(items)]
    rows += [dict(delivery_id=successor, position=len(rows) + n, piece_id=a.piece_id, revision_id=a.revision_id,
                  campaign=a.campaign, seconds=a.seconds, pinned=False, removed=True)
             for n, a in enumerate(a for a in delivery.airings if a.removed)]
    if rows:
        session.execute(insert(Airing), rows)
    audit.record(session, actor=actor, action="delivery.superseded", subject=f"delivery:{delivery.id}", at=now,
                 details={"by": successor, "outlet": delivery.outlet, "was": delivery.state,
                          "pieces": [item.piece_id for item in items]})
    return successor


def predecessors(session: Session, delivery: Delivery) -> tuple[str, ...]:
    """The ids of the deliveries of ``delivery``'s instance that it supersedes, oldest first: what the
    outlet should take down when it puts this one up."""
    if delivery.replaces is None:
        return ()
    return tuple(session.scalars(
        select(Delivery.id).where(Delivery.station_id == delivery.station_id, Delivery.outlet == delivery.outlet,
                                  Delivery.start_at == delivery.start_at, Delivery.id != delivery.id,
                                  Delivery.superseded_at.is_not(None))
        .order_by(Delivery.created_at, Delivery.id)))


def successor_of(session: Session, delivery_id: str) -> str | None:
    """The id of the delivery that superseded ``delivery_id``, if one did."""
    return session.scalar(select(Delivery.id).where(Delivery.replaces == delivery_id))
