"""Bulk inserts (content.bulk): what goes in comes back the same on both databases, whichever way it is sent
(binary COPY on PostgreSQL, executemany on SQLite): NULLs, JSON, aware datetimes, floats, booleans, text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from content.bulk import insert_rows
from content.db import unit_of_work
from content.pieces import PieceContent, add_piece
from content.users import add_user
from scheduler.models import Airing, Delivery, DeliveryState, Station


def test_rows_come_back_as_they_went_in(services):
    start = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)
    with unit_of_work(services.sessions) as session:
        station = session.scalar(select(Station.id).order_by(Station.id))
        piece, revision = _a_piece(session, services.now())
        deliveries = [dict(id=f"bulk{n:028d}", station_id=station, outlet="loudspeaker", slot_name="Sáng",
                           start_at=start + timedelta(days=n), end_at=start + timedelta(days=n, minutes=30),
                           due_at=start + timedelta(days=n, minutes=-10), state=DeliveryState.PENDING, attempts=0,
                           created_at=start, updated_at=start) for n in range(3)]
        # ``removed`` as 0/1: bound as a bool, as an INSERT binds it
        airings = [dict(delivery_id=d["id"], position=p, piece_id=piece, revision_id=revision,
                        campaign=None if p else "hoc-tap-suot-doi", seconds=12.25 + p, pinned=p == 1,
                        removed=int(p == 2), held={"reason": "dài quá", "seconds": 131} if p == 2 else None)
                   for d in deliveries for p in range(3)]
        assert insert_rows(session, Delivery.__table__, deliveries) == 3
        assert insert_rows(session, Airing.__table__, iter(airings), chunk=4) == 9  # across several batches
    with unit_of_work(services.sessions) as session:
        stored = session.execute(select(Delivery.id, Delivery.slot_name, Delivery.start_at, Delivery.due_at,
                                        Delivery.state).where(Delivery.id.like("bulk%")).order_by(Delivery.id)).all()
        assert [tuple(row) for row in stored] == [(d["id"], "Sáng", d["start_at"], d["due_at"], "pending")
                                                  for d in deliveries]
        back = session.execute(select(Airing.delivery_id, Airing.position, Airing.campaign, Airing.seconds,
                                      Airing.pinned, Airing.removed, Airing.held).join(Delivery)
                               .where(Delivery.id.like("bulk%")).order_by(Airing.delivery_id, Airing.position)).all()
        assert [tuple(row) for row in back] == [(a["delivery_id"], a["position"], a["campaign"], a["seconds"],
                                                 a["pinned"], a["removed"] == 1, a["held"]) for a in airings]
        assert all(type(row.removed) is bool for row in back)


def _a_piece(session, now: datetime) -> tuple[int, int]:
    editor = add_user(session, "bien-tap", "editor", now=now)
    piece = add_piece(session, PieceContent("Lịch tiêm chủng", "Trạm y tế xã tiêm chủng vào sáng thứ Bảy."),
                      author=editor, now=now)
    session.flush()
    return piece.id, piece.current_revision_id
