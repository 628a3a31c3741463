"""Withdrawals: what went out of a piece on an outlet that can take it down is taken down through the outbox
once the piece is retired, or its approved revision no longer names that outlet.

A withdrawal is a row of ``deliveries`` whose ``withdraws`` names the delivery that put the articles up::

    piece retired, or approved without the outlet (content.pieces, audited)
        └─ in the same transaction (scheduler.planning.triggers): queue() ─► one pending withdrawal, due at
           once, per delivery of the piece on a withdrawable outlet that may have published it (its payload
           stored: delivered, or tried with an outcome unsure; or being prepared right now)
    claimed like any push ─► prepare(): the articles of that delivery's stored payload whose piece is
        withdrawn, under that delivery's id (the outlet finds its posts by slug, marker or guid); stored
        and sealed as the withdrawal's own payload, re-sent as it is on every retry
        ├─ that delivery is being pushed right now ──► handed back untried, tried again after WAIT
        └─ nothing of the piece went out ──────────► delivered at once, the receipt says so
    pushed through ``Channel.withdraw`` ─► delivered / retried / dead by the outbox's rules; an outlet
        that cannot take posts down (Viber) raises PermanentError naming what an admin must delete: dead at
        once, shown among the deliveries that need a person, never retried by itself.

``scheduler.outlets.OutletRules.withdrawable`` says which outlets (portals, social networks) are concerned.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

import channels
from channels import snapshot
from content import audit, seals
from content.models import Piece, PieceState, Revision
from scheduler.dispatch import notify
from scheduler.dispatch.payloads import piece_of
from scheduler.models import Airing, Delivery, DeliveryState, new_delivery_id
from scheduler.outlets import RULES

#: The outlets whose publications can be taken down.
WITHDRAWABLE = frozenset(str(outlet) for outlet, rules in RULES.items() if rules.withdrawable)
#: How long a withdrawal waits for the delivery it withdraws while that one is being pushed.
WAIT = timedelta(minutes=1)
#: The audit action of a withdrawal queued, and of one done.
QUEUED, DONE = "delivery.withdraw", "delivery.withdrawn"


class Waiting(Exception):
    """The delivery to withdraw from is being pushed right now: what it publishes is not known yet."""


def withdrawn(session: Session, piece_ids: Iterable[int], outlet: str) -> set[int]:
    """Which of ``piece_ids`` may no longer be on ``outlet``: retired, or approved without it."""
    ids = set(piece_ids)
    if not ids:
        return set()
    rows = session.execute(select(Piece.id, Piece.state, Revision.channels)
                           .outerjoin(Revision, Revision.id == Piece.approved_revision_id)
                           .where(Piece.id.in_(ids))).all()
    return {piece_id for piece_id, state, outlets in rows
            if state == PieceState.RETIRED or outlet not in (outlets or ())}


def _outlets_of(session: Session, piece_id: int) -> Collection[str]:
    piece = session.get(Piece, piece_id)
    if piece is None or piece.approved_revision_id is None:  # never approved: nothing of it went out
        return ()
    return {outlet for outlet in WITHDRAWABLE if withdrawn(session, {piece_id}, outlet)}


def queue(session: Session, piece_id: int, *, now: datetime, actor: str) -> list[str]:
    """Queue, in the caller's transaction, a withdrawal of ``piece_id`` from every delivery that may have put it
    up on an outlet it may no longer be on; returns the new withdrawals' ids (audited as ``delivery.withdraw``).

    A delivery whose withdrawal is still waiting unprepared gets no second one: that one takes down every
    withdrawn piece it finds when it is prepared."""
    outlets = _outlets_of(session, piece_id)
    if not outlets:
        return []
    targets = session.execute(
        select(Delivery.id, Delivery.station_id, Delivery.outlet, Delivery.slot_name)
        .join(Airing, Airing.delivery_id == Delivery.id)
        .where(Airing.piece_id == piece_id, Delivery.outlet.in_(sorted(outlets)), Delivery.withdraws.is_(None),
               or_(Delivery.payload.is_not(None), Delivery.state == DeliveryState.SENDING))
        .distinct().order_by(Delivery.id)).all()
    if not targets:
        return []
    waiting = set(session.scalars(select(Delivery.withdraws).where(
        Delivery.withdraws.in_([t.id for t in targets]), Delivery.state == DeliveryState.PENDING,
        Delivery.payload.is_(None))))
    rows = [dict(id=new_delivery_id(), station_id=t.station_id, outlet=t.outlet, slot_name=t.slot_name,
                 start_at=now, end_at=now, due_at=now, state=DeliveryState.PENDING, attempts=0, withdraws=t.id,
                 created_at=now, updated_at=now) for t in targets if t.id not in waiting]
    if not rows:
        return []
    session.execute(insert(Delivery), rows)
    audit.record_many(session, [audit.Entry(
        actor=actor, action=QUEUED, subject=f"delivery:{row['id']}", at=now,
        details={"withdraws": row["withdraws"], "piece": piece_id, "outlet": row["outlet"]}) for row in rows])
    notify.outbox_changed(session)
    return [row["id"] for row in rows]


def prepare(session: Session, withdrawal: Delivery) -> tuple[channels.Delivery | None, dict[str, Any] | None]:
    """What ``withdrawal`` takes down, and the document to store as its payload on its first attempt (None on a
    retry, which re-sends the stored one after checking its seal). ``(None, document)`` when nothing of the
    withdrawn pieces went out; :class:`Waiting` while the delivery it withdraws is being pushed; IntegrityError
    when a stored payload's seal does not hold."""
    if withdrawal.payload is not None:
        seals.check_payload(session, withdrawal.id, withdrawal.payload, withdrawal.payload_seal)
        return snapshot.load(withdrawal.payload["delivery"]), None
    target = session.get(Delivery, withdrawal.withdraws)
    assert target is not None, "deliveries.withdraws is a foreign key"
    if target.state == DeliveryState.SENDING:
        raise Waiting(f"delivery {target.id} is being pushed")
    if target.payload is None:
        return None, {"withdraws": target.id, "pieces": [], "nothing": "it never went out"}
    seals.check_payload(session, target.id, target.payload, target.payload_seal)
    sent = snapshot.load(target.payload["delivery"])
    pieces = withdrawn(session, {p for a in sent.articles if (p := piece_of(a.ref)) is not None}, target.outlet)
    articles = tuple(a for a in sent.articles if piece_of(a.ref) in pieces)
    if not articles:
        return None, {"withdraws": target.id, "pieces": [], "nothing": "none of its pieces is withdrawn"}
    payload = replace(sent, articles=articles, published=_published(target.receipt, {a.ref for a in articles}))
    return payload, {"delivery": snapshot.dump(payload), "withdraws": target.id, "pieces": sorted(pieces)}


def _published(receipt: dict[str, Any] | None, refs: set[str]) -> tuple[tuple[str, str], ...]:
    """The ``(ref, remote id)`` pairs of ``refs`` that a delivery's receipt recorded (its ``details.posts``: a
    Facebook post's or a Zalo article's id), for the outlet to take down by id; none when it has no receipt
    (its outcome unsure) or recorded none: the outlet then looks for them by marker."""
    posts = ((receipt or {}).get("details") or {}).get("posts") or ()
    return tuple((str(post["ref"]), str(post["id"])) for post in posts
                 if isinstance(post, dict) and post.get("ref") in refs and post.get("id"))


def nothing_to_take_down(document: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The receipt of a withdrawal done without a push: what it withdraws from published none of its pieces."""
    return {"location": None, "status": None, "remote_id": None, "at": now.isoformat(), "attempt": 0,
            "details": {"withdrawn": [], "why": f"nothing to take down: delivery {document['withdraws']}: "
                                                f"{document['nothing']}"}}
