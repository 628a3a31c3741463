"""Re-plans through the database: what an unchanged plan and a delivered program keep."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from content.db import unit_of_work
from content.pieces import PieceContent, add_piece, approve, retire, submit
from content.users import add_user
from scheduler.models import Airing, Delivery, DeliveryState

from conftest import MONDAY


@pytest.fixture
def approved(services):
    """Two approved pieces in the services' database; returns their ids."""
    now = services.now()
    with unit_of_work(services.sessions) as session:
        editor = add_user(session, "bien-tap", "editor", now=now)
        approver = add_user(session, "duyet", "approver", now=now)
        ids = [add_piece(session, PieceContent(title, body), author=editor, now=now).id for title, body in (
            ("Lịch tiêm chủng", "Trạm y tế xã tiêm chủng cho trẻ em vào sáng thứ Bảy."),
            ("Thu gom rác", "Xe thu gom rác đi qua các thôn vào chiều thứ Năm."),
        )]
    for piece_id in ids:
        with unit_of_work(services.sessions) as session:
            submit(session, piece_id, actor=editor, now=now)
        with unit_of_work(services.sessions) as session:
            approve(session, piece_id, actor=approver, now=now)
    return ids


def stored_airings(services) -> set[tuple]:
    with unit_of_work(services.sessions) as session:
        return set(session.execute(select(Delivery.id, Delivery.outlet, Airing.position, Airing.piece_id,
                                          Airing.revision_id).join(Airing)).all())


def test_replanning_with_nothing_changed_changes_nothing(services, approved) -> None:
    first = services.plan()
    assert first.programs_changed > 0 and first.deliveries_created > 0
    before = stored_airings(services)
    assert {piece for *_, piece, _ in before} == set(approved)
    again = services.plan()
    assert (again.programs_changed, again.airings_added, again.airings_dropped, again.deliveries_created,
            again.deliveries_deleted) == (0, 0, 0, 0, 0)
    assert stored_airings(services) == before


def test_delivered_programs_keep_their_airings_after_a_replan(services, approved) -> None:
    services.plan()
    with unit_of_work(services.sessions) as session:
        delivered_id = session.scalars(select(Delivery.id).where(Delivery.outlet == "loudspeaker")
                                       .order_by(Delivery.start_at, Delivery.id)).first()
        session.execute(update(Delivery).where(Delivery.id == delivered_id)
                        .values(state=DeliveryState.DELIVERED, delivered_at=MONDAY))
        kept = list(session.execute(select(Airing.position, Airing.piece_id, Airing.revision_id)
                                    .where(Airing.delivery_id == delivered_id).order_by(Airing.position)).all())
        editor = add_user(session, "truong-tram", "admin", now=services.now())
    assert approved[0] in [piece for _, piece, _ in kept]
    with unit_of_work(services.sessions) as session:
        retire(session, approved[0], actor=editor, now=services.now())

    changes = services.plan()
    assert changes.programs_changed > 0
    with unit_of_work(services.sessions) as session:
        delivery = session.get(Delivery, delivered_id)
        assert delivery.state == DeliveryState.DELIVERED
        assert [(a.position, a.piece_id, a.revision_id) for a in delivery.airings] == kept
        pending = set(session.scalars(select(Airing.piece_id).join(Delivery)
                                      .where(Delivery.state == DeliveryState.PENDING)))
    assert pending == {approved[1]}


def test_the_database_refuses_an_airing_whose_piece_is_not_its_revisions(services, approved) -> None:
    """A row written past loa (a bug, or someone with write access) cannot air one piece's text under another's
    name: the airing's key is its revision and that revision's piece together."""
    services.plan()
    with unit_of_work(services.sessions) as session:
        airing = session.scalars(select(Airing).where(Airing.piece_id == approved[0])).first()
        other = approved[1]
        airing_id, revision_id = airing.id, airing.revision_id
    with pytest.raises(IntegrityError), unit_of_work(services.sessions) as session:
        session.execute(update(Airing).where(Airing.id == airing_id).values(piece_id=other))
    with unit_of_work(services.sessions) as session:
        assert session.get(Airing, airing_id).piece_id == approved[0]
        assert session.get(Airing, airing_id).revision_id == revision_id
