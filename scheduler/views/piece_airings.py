"""Where one piece is planned from now on, and what the last re-plan said of it: the answer after an approval."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.models import Piece
from scheduler.models import Airing, Delivery, DeliveryState, PlanRequest, Station


@dataclass(frozen=True)
class PieceAirings:
    """``airings``: (outlet, start, end, station code) in time order; ``waiting``: a plan request for the piece
    not re-planned yet; ``unplaced``: what the last re-plan of its requests could not place, and why."""

    state: str
    airings: list[tuple[str, datetime, datetime, str]] = field(default_factory=list)
    waiting: bool = False
    unplaced: list[dict[str, Any]] = field(default_factory=list)
    #: The level of the revision that airs (the approved one, else the one in review): normal, priority, emergency.
    level: str = "normal"


def piece_airings(session: Session, piece_id: int, *, now: datetime) -> PieceAirings:
    piece = session.get(Piece, piece_id)
    state = piece.state if piece is not None else "missing"
    revision = (piece.approved_revision or piece.current_revision) if piece is not None else None
    level = revision.level if revision is not None else "normal"
    rows = session.execute(
        select(Delivery.outlet, Delivery.start_at, Delivery.end_at, Station.code)
        .join(Airing, Airing.delivery_id == Delivery.id).join(Station)
        .where(Airing.piece_id == piece_id, Airing.removed.is_(False), Delivery.end_at > now,
               Delivery.state.in_([DeliveryState.PENDING, DeliveryState.SENDING, DeliveryState.DELIVERED]))
        .order_by(Delivery.start_at, Station.code)).all()
    requests = session.scalars(select(PlanRequest).where(PlanRequest.piece_id == piece_id)
                               .order_by(PlanRequest.id.desc())).all()
    waiting = any(r.done_at is None for r in requests)
    last_done = next((r for r in requests if r.done_at is not None), None)
    return PieceAirings(state, [tuple(row) for row in rows], waiting,  # type: ignore[misc]
                        list(last_done.unplaced or []) if last_done is not None else [], level)


def request_done(session: Session, piece_id: int, after_id: int) -> bool:
    """Whether every plan request of the piece newer than ``after_id`` was re-planned (and there is one)."""
    rows = session.execute(select(PlanRequest.done_at).where(PlanRequest.piece_id == piece_id,
                                                             PlanRequest.id > after_id)).all()
    return bool(rows) and all(done is not None for (done,) in rows)
