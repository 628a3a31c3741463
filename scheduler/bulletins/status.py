"""Where a bulletin sent down stands, per commune and rolled up per centre: received, accepted, aired, declined.

A commune's bulletin has aired once the commune took it in and a delivery holding its revision was delivered on one
of the commune's stations (or, for an emergency, once the emergency's push was delivered there). Each centre
between the sender and the communes (the sender's own, each district) counts its communes' states, so every level
reads the same figures.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.bulletin_models import Bulletin, BulletinReceipt, ReceiptState
from content.centres import tree_of
from content.errors import NotAllowed
from content.models import Revision, User
from scheduler.bulletins.sending import get_bulletin
from scheduler.models import Airing, Delivery, DeliveryState, EmergencyDelivery, Station

#: The columns of the roll-up, in the order pages and tables show them.
COUNTED = ("received", "accepted", "declined", "aired")


@dataclass(frozen=True)
class CommuneStatus:
    """One receiving commune: its receipt's state, who decided and why, and how often it aired."""

    centre: str
    name: str
    via: str
    state: str
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    aired: int
    first_aired_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"centre": self.centre, "name": self.name, "via": self.via, "state": self.state,
                "reason": self.reason, "decided_by": self.decided_by,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None, "aired": self.aired,
                "first_aired_at": self.first_aired_at.isoformat() if self.first_aired_at else None}


@dataclass(frozen=True)
class CentreStatus:
    """A centre between the sender and the communes, with its communes' states counted (COUNTED)."""

    code: str
    name: str
    level: str
    depth: int
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"centre": self.code, "name": self.name, "level": self.level, **self.counts}


@dataclass(frozen=True)
class BulletinStatus:
    bulletin: Bulletin
    title: str
    centres: list[CentreStatus]
    communes: list[CommuneStatus]

    def to_dict(self) -> dict[str, Any]:
        b = self.bulletin
        return {"id": b.id, "piece": b.piece_id, "revision": b.revision_id, "sha256": b.sha256, "title": self.title,
                "level": b.level, "from": b.from_centre, "targets": b.targets, "sent_by": b.sent_by,
                "sent_at": b.sent_at.isoformat(), "note": b.note, "emergency": b.emergency_id,
                "centres": [c.to_dict() for c in self.centres], "communes": [c.to_dict() for c in self.communes]}


def _aired(session: Session, bulletin: Bulletin) -> dict[str, tuple[int, datetime | None]]:
    """Station code → (delivered airings or emergency pushes of the bulletin, the first one's time)."""
    if bulletin.emergency_id is not None:
        query = (select(Station.code, func.count(EmergencyDelivery.id), func.min(EmergencyDelivery.delivered_at))
                 .join(Station, Station.id == EmergencyDelivery.station_id)
                 .where(EmergencyDelivery.emergency_id == bulletin.emergency_id, EmergencyDelivery.kind == "alert",
                        EmergencyDelivery.state == DeliveryState.DELIVERED).group_by(Station.code))
    else:
        query = (select(Station.code, func.count(Airing.id), func.min(Delivery.delivered_at))
                 .join(Delivery, Airing.delivery_id == Delivery.id).join(Station, Station.id == Delivery.station_id)
                 .where(Airing.piece_id == bulletin.piece_id, Airing.revision_id == bulletin.revision_id,
                        Airing.removed.is_(False), Delivery.state == DeliveryState.DELIVERED)
                 .group_by(Station.code))
    return {code: (n, first) for code, n, first in session.execute(query).all()}


def may_follow(session: Session, user: User, bulletin: Bulletin) -> bool:
    """Whether ``user`` may follow the whole bulletin: they work at the sending centre or above it."""
    return tree_of(session).contains(user.centre, bulletin.from_centre)


def _followed(session: Session, user: User, bulletin: Bulletin) -> frozenset[str] | None:
    """The centres whose part of the bulletin ``user`` may read: None for all of it (the sender's side), else their
    own subtree (a district or commune it was sent down to)."""
    if may_follow(session, user, bulletin):
        return None
    return tree_of(session).subtree(user.centre)


def status(session: Session, bulletin_id: int, *, actor: User) -> BulletinStatus:
    """The bulletin's status per commune and per centre: all of it for the sender's side, a receiving district's or
    commune's own part for them."""
    bulletin = get_bulletin(session, bulletin_id)
    tree = tree_of(session)
    mine = _followed(session, actor, bulletin)
    if mine is not None and not session.scalar(select(func.count(BulletinReceipt.id)).where(
            BulletinReceipt.bulletin_id == bulletin.id, BulletinReceipt.centre.in_(sorted(mine)))):
        raise NotAllowed("{name} works for centre {home}; bulletin {id} was sent by centre {centre}",
                         name=actor.name, home=tree.home(actor.centre), id=bulletin_id, centre=bulletin.from_centre)
    aired = _aired(session, bulletin)
    communes = []
    query = select(BulletinReceipt).where(BulletinReceipt.bulletin_id == bulletin.id).order_by(BulletinReceipt.centre)
    if mine is not None:
        query = query.where(BulletinReceipt.centre.in_(sorted(mine)))
    for receipt in session.scalars(query):
        node = tree.nodes.get(receipt.centre)
        stations = node.stations if node is not None else ()
        # Aired for this bulletin only where it was taken in (or alerted): the same revision may air there through
        # another bulletin of it, which does not make a declined one aired.
        ours = [aired[s] for s in stations if s in aired] if receipt.state in (*ReceiptState.IN_PLAN,
                                                                             ReceiptState.ALERTED) else []
        times = [first for _, first in ours if first is not None]
        communes.append(CommuneStatus(
            receipt.centre, node.name if node else receipt.centre, receipt.via, receipt.state, receipt.reason,
            receipt.decided_by, receipt.decided_at, sum(n for n, _ in ours), min(times) if times else None))
    counts: dict[str, Counter[str]] = {}
    top = tree.node(bulletin.from_centre)
    for commune in communes:
        node = tree.nodes.get(commune.centre)
        chain = tree.chain(commune.centre) if node is not None else (top.code,)
        start = chain.index(top.code) if top.code in chain else 0
        for code in chain[start:-1] or (top.code,):
            tally = counts.setdefault(code, Counter())
            tally["received"] += 1
            tally["accepted"] += commune.state in ReceiptState.IN_PLAN
            tally["declined"] += commune.state == ReceiptState.DECLINED
            tally["aired"] += commune.aired > 0
    centres = [CentreStatus(code, tree.nodes[code].name, tree.nodes[code].level,
                            len(tree.chain(code)) - len(tree.chain(top.code)),
                            {name: counts[code][name] for name in COUNTED})
               for code in sorted(counts, key=lambda c: tree.nodes[c].path)
               if code in tree.nodes and (mine is None or code in mine)]
    revision = session.get(Revision, bulletin.revision_id)
    return BulletinStatus(bulletin, revision.title if revision else "", centres, communes)


def sent_from(session: Session, user: User, *, limit: int = 50) -> list[tuple[Bulletin, str]]:
    """Bulletins sent down from the user's centre or below it, newest first, with their titles."""
    tree = tree_of(session)
    query = (select(Bulletin, Revision.title).join(Revision, Revision.id == Bulletin.revision_id)
             .order_by(Bulletin.id.desc()).limit(limit))
    if tree.home(user.centre) != tree.root:
        query = query.where(Bulletin.from_centre.in_(sorted(tree.subtree(user.centre))))
    return [(b, t) for b, t in session.execute(query).all()]


def rolled_up(session: Session, *, start_at: datetime, end_at: datetime,
              centres: Iterable[str]) -> dict[str, tuple[int, int, int]]:
    """Per centre code of ``centres``: (received, accepted, aired) of the communes of its subtree that bulletins sent
    between ``start_at`` and ``end_at`` reached, one per commune and bulletin (the report's roll-up); aired when a
    push of it was delivered on one of the commune's stations in the period."""
    tree = tree_of(session)
    wanted = set(centres)
    rows = session.execute(
        select(BulletinReceipt.centre, BulletinReceipt.state, Bulletin.id, Bulletin.piece_id, Bulletin.revision_id,
               Bulletin.emergency_id).join(Bulletin, Bulletin.id == BulletinReceipt.bulletin_id)
        .where(Bulletin.sent_at >= start_at, Bulletin.sent_at < end_at)).all()
    if not rows:
        return {}
    centre_of = {station: code for code, node in tree.nodes.items() for station in node.stations}
    aired: set[tuple[str, object]] = set()  # (commune, (piece, revision) or emergency id)
    pairs = {(r.piece_id, r.revision_id) for r in rows if r.emergency_id is None}
    if pairs:
        for code, piece, revision in session.execute(
                select(Station.code, Airing.piece_id, Airing.revision_id)
                .join(Delivery, Airing.delivery_id == Delivery.id).join(Station, Station.id == Delivery.station_id)
                .where(Airing.piece_id.in_(sorted({p for p, _ in pairs})), Airing.removed.is_(False),
                       Delivery.state == DeliveryState.DELIVERED, Delivery.delivered_at >= start_at,
                       Delivery.delivered_at < end_at).distinct()):
            aired.add((centre_of.get(code, ""), (piece, revision)))
    emergencies = {r.emergency_id for r in rows if r.emergency_id is not None}
    if emergencies:
        for code, emergency_id in session.execute(
                select(Station.code, EmergencyDelivery.emergency_id)
                .join(Station, Station.id == EmergencyDelivery.station_id)
                .where(EmergencyDelivery.emergency_id.in_(sorted(emergencies)), EmergencyDelivery.kind == "alert",
                       EmergencyDelivery.state == DeliveryState.DELIVERED, EmergencyDelivery.delivered_at >= start_at,
                       EmergencyDelivery.delivered_at < end_at).distinct()):
            aired.add((centre_of.get(code, ""), emergency_id))
    out: dict[str, list[int]] = {}
    for commune, state, _bulletin, piece, revision, emergency in rows:
        key = emergency if emergency is not None else (piece, revision)
        taken = state in ReceiptState.IN_PLAN
        counted = (1, int(taken), int((taken or state == ReceiptState.ALERTED) and (commune, key) in aired))
        for code in (tree.chain(commune) if commune in tree.nodes else ()):
            if code in wanted:
                tally = out.setdefault(code, [0, 0, 0])
                for index, n in enumerate(counted):
                    tally[index] += n
    return {code: (a, b, c) for code, (a, b, c) in out.items()}
