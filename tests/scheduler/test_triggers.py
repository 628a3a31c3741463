"""Every change that may alter what airs queues a plan request in its own transaction, and nothing else does."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from content.models import User
from content.pieces import PieceContent, add_piece, approve, edit_piece, reject, retire, submit
from content.users import add_user
from scheduler.models import Airing, Delivery, PlanRequest, Station
from scheduler.planning import triggers
from scheduler.planning.editing import move_airing, pin_airing, remove_airing
from scheduler.planning.triggers import Scope


@pytest.fixture
def people(services):
    now = services.now()
    with unit_of_work(services.sessions) as session:
        return (add_user(session, "bien-tap", "editor", now=now), add_user(session, "duyet", "approver", now=now))


def _user(session, name: str) -> User:
    return session.scalars(select(User).where(User.name == name)).one()


def _requests(services) -> list[tuple[str, int | None, Scope]]:
    with unit_of_work(services.sessions) as session:
        rows = session.scalars(select(PlanRequest).order_by(PlanRequest.id))
        return [(r.action, r.piece_id, Scope.of(r)) for r in rows]


def _piece(services, people, channels=("loudspeaker", "board")) -> int:
    editor = people[0]
    now = services.now()
    with unit_of_work(services.sessions) as session:
        piece_id = add_piece(session, PieceContent("Lịch tiêm chủng", "Trạm y tế xã tiêm chủng vào thứ Bảy.",
                                                   channels=channels), author=editor, now=now).id
        submit(session, piece_id, actor=editor, now=now)
    return piece_id


def test_approval_queues_a_request_for_its_outlets_and_wakes_this_process(services, people):
    with unit_of_work(services.sessions) as session:  # init's config.sync is older than this test
        session.execute(PlanRequest.__table__.delete())
    piece_id = _piece(services, people)
    assert _requests(services) == []  # adding and submitting change nothing that airs
    services.plan_requested.clear()
    with unit_of_work(services.sessions) as session:
        approve(session, piece_id, actor=people[1], now=services.now())
    assert _requests(services) == [("piece.approve", piece_id, Scope(outlets=frozenset({"loudspeaker", "board"})))]
    assert services.plan_requested.is_set()


def test_a_rolled_back_approval_queues_nothing(services, people):
    with unit_of_work(services.sessions) as session:
        session.execute(PlanRequest.__table__.delete())
    piece_id = _piece(services, people)
    services.plan_requested.clear()
    with pytest.raises(RuntimeError), unit_of_work(services.sessions) as session:
        approve(session, piece_id, actor=people[1], now=services.now())
        raise RuntimeError("the request failed after the approval")
    assert _requests(services) == []
    assert not services.plan_requested.is_set()


def test_rejecting_a_correction_and_retiring_queue_requests_a_rejected_first_draft_does_not(services, people):
    editor, approver = people
    now = services.now()
    first = _piece(services, people, channels=("portal",))
    with unit_of_work(services.sessions) as session:
        reject(session, first, actor=approver, now=now, note="sai chính tả")
    aired = _piece(services, people, channels=("loudspeaker",))
    with unit_of_work(services.sessions) as session:
        session.execute(PlanRequest.__table__.delete())
        approve(session, aired, actor=approver, now=now)
        edit_piece(session, aired, {"channels": ("loudspeaker", "portal")}, actor=editor, now=now)
        submit(session, aired, actor=editor, now=now)
    with unit_of_work(services.sessions) as session:
        reject(session, aired, actor=approver, now=now, note="chưa đúng")
    with unit_of_work(services.sessions) as session:
        retire(session, aired, actor=editor, now=now)
    both = Scope(outlets=frozenset({"loudspeaker", "portal"}))
    assert [(a, p) for a, p, _ in _requests(services)] == [
        ("piece.approve", aired), ("piece.reject", aired), ("piece.retire", aired)]
    assert _requests(services)[1][2] == both  # the approved revision's outlets and the rejected one's


def test_pin_remove_and_move_name_their_station_outlet_and_day(services, people):
    piece_id = _piece(services, people, channels=("loudspeaker",))
    with unit_of_work(services.sessions) as session:
        approve(session, piece_id, actor=people[1], now=services.now())
    services.plan(days=3)
    with unit_of_work(services.sessions) as session:
        session.execute(PlanRequest.__table__.delete())
        rows = session.execute(select(Airing.id, Delivery.id, Delivery.start_at).join(Delivery).join(Station)
                               .where(Station.code == "99002").order_by(Delivery.start_at)).all()
    zone = services.settings.zone
    tomorrow = services.now().date() + timedelta(days=1)
    (airing, _, start), (later, later_program, later_start) = [
        row for row in rows if row.start_at.astimezone(zone).date() >= tomorrow][:2]
    with unit_of_work(services.sessions) as session:
        pin_airing(session, airing, actor=_user(session, "bien-tap"), now=services.now())
    with unit_of_work(services.sessions) as session:
        remove_airing(session, later, actor=_user(session, "bien-tap"), now=services.now())
    with unit_of_work(services.sessions) as session:
        move_airing(session, airing, delivery_id=later_program, actor=_user(session, "bien-tap"), now=services.now(),
                    zone=zone)

    def scope(*starts) -> Scope:
        return Scope(frozenset({"99002"}), frozenset({"loudspeaker"}), min(s.astimezone(zone).date() for s in starts))

    assert _requests(services) == [("airing.pin", piece_id, scope(start)),
                                   ("airing.remove", piece_id, scope(later_start)),
                                   ("airing.move", piece_id, scope(start, later_start))]


def test_a_config_load_that_changes_slots_queues_a_request_for_everything(services):
    with unit_of_work(services.sessions) as session:
        session.execute(PlanRequest.__table__.delete())
    services.init()  # nothing changed: nothing to re-plan
    assert _requests(services) == []
    services.settings = dataclasses.replace(services.settings, slots=services.settings.slots[:-1])
    services.init()
    assert _requests(services) == [("config.sync", None, Scope())]


def test_scopes_merge_to_the_widest():
    a = Scope(frozenset({"99001"}), frozenset({"board"}), None)
    b = Scope(frozenset({"99002"}), frozenset({"loudspeaker"}), None)
    assert a.merge(b) == Scope(frozenset({"99001", "99002"}), frozenset({"board", "loudspeaker"}), None)
    assert a.merge(Scope()) == Scope()


def test_done_requests_keep_their_piece_unplaced_reasons_and_old_ones_go(services):
    now = services.now()
    with unit_of_work(services.sessions) as session:
        session.execute(PlanRequest.__table__.delete())
        old = triggers.request(session, Scope(), action="config.sync", now=now - timedelta(days=2))
        new = triggers.request(session, Scope(outlets=frozenset({"portal"})), action="piece.approve", now=now,
                               piece_id=7)
        session.flush()
        old_id, new_id = old.id, new.id
        triggers.mark_done(session, [old_id], now=now - timedelta(days=2), unplaced={})
    with unit_of_work(services.sessions) as session:
        assert triggers.newest(session) == new_id
        assert [r.id for r in triggers.waiting(session)] == [new_id]
        triggers.mark_done(session, [new_id], now=now, unplaced={7: [{"outlet": "portal", "code": "no_room"}]})
    with unit_of_work(services.sessions) as session:
        assert triggers.waiting(session) == []
        rows = session.scalars(select(PlanRequest)).all()
        assert [(r.id, r.unplaced) for r in rows] == [(new_id, [{"outlet": "portal", "code": "no_room"}])]
