"""The planner places a piece only on the stations it targets, and airing edits respect the editor's scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import NotAllowed
from content.pieces import PieceContent, add_piece, approve, edit_piece, submit
from content.users import add_user, get_user
from scheduler.models import Airing, Delivery, Station
from scheduler.planning.calendar import Instance
from scheduler.planning.editing import move_airing, pin_airing, remove_airing
from scheduler.planning.planner import Candidate, PlanInputs, key_of, plan

from conftest import ZONE

DAY = date(2026, 11, 23)
STATIONS = ("99001", "99002", "99003")


def inst(station: str, *, outlet: str = "loudspeaker", at: time = time(6), length_s: int = 1800) -> Instance:
    start = datetime.combine(DAY, at, tzinfo=ZONE).astimezone(UTC)
    return Instance(start, station, outlet, f"{outlet}-{at:%H%M}", start + timedelta(seconds=length_s), DAY)


def cand(piece_id: int, stations: set[str], seconds: float = 60.0, channels: tuple[str, ...] = ("loudspeaker",),
         ) -> Candidate:
    return Candidate(piece_id, piece_id * 100, f"Tin {piece_id}", None, frozenset(channels), None, None, 5, False,
                     {"loudspeaker": seconds}, frozenset(stations))


def placed(result, instance: Instance) -> list[int]:
    return [item.piece_id for item in result.programs.get(key_of(instance), [])]


def test_a_piece_goes_only_to_its_stations() -> None:
    instances = [inst(code) for code in STATIONS]
    result = plan(PlanInputs(instances=instances, campaigns={},
                             candidates=[cand(1, {"99002"}), cand(2, {"*"}), cand(3, {"99001", "99003"})]))
    assert [sorted(placed(result, i)) for i in instances] == [[2, 3], [1, 2], [2, 3]]
    assert result.unplaced == []  # every station a piece targets got it


def test_what_is_unplaced_counts_only_the_pieces_own_stations() -> None:
    instances = [inst(code, length_s=120) for code in STATIONS]
    result = plan(PlanInputs(instances=instances, campaigns={},
                             candidates=[cand(1, {"99002"}, seconds=600), cand(2, {"99003"}, channels=("board",))]))
    by_piece = {u.piece_id: u for u in result.unplaced}
    assert (by_piece[1].stations, by_piece[1].code) == (1, "too_long")
    assert by_piece[2].code == "no_slot"  # no board slot at its station in these days
    assert all(placed(result, i) == [] for i in instances)


@hypothesis_settings(max_examples=60, deadline=None)
@given(targets=st.lists(st.sets(st.sampled_from([*STATIONS, "*"]), min_size=1), min_size=1, max_size=8),
       lengths=st.sampled_from([120, 600, 1800]))
def test_no_piece_is_ever_placed_on_a_station_it_does_not_target(targets: list[set[str]], lengths: int) -> None:
    instances = [inst(code, at=at, length_s=lengths) for code in STATIONS for at in (time(6), time(17))]
    candidates = [cand(n + 1, stations, seconds=50 + 7 * n) for n, stations in enumerate(targets)]
    result = plan(PlanInputs(instances=instances, candidates=candidates, campaigns={}))
    for instance in instances:
        for piece in placed(result, instance):
            wanted = targets[piece - 1]
            assert "*" in wanted or instance.station_code in wanted


# --- with the database: the real plan, re-plans and airing edits -------------------------------------------------

def _approved(services, title: str, stations: tuple[str, ...]) -> int:
    now = services.now()
    with unit_of_work(services.sessions) as session:
        editor, approver = get_user(session, "lan"), get_user(session, "hung")
        piece = add_piece(session, PieceContent(title, f"{title}: mời bà con chú ý.", channels=("loudspeaker",),
                                                stations=stations), author=editor, now=now)
        submit(session, piece.id, actor=editor, now=now)
        approve(session, piece.id, actor=approver, now=now)
        return piece.id


def _where(services, piece_id: int) -> set[str]:
    with unit_of_work(services.sessions) as session:
        return set(session.scalars(select(Station.code).join(Delivery, Delivery.station_id == Station.id)
                                   .join(Airing, Airing.delivery_id == Delivery.id)
                                   .where(Airing.piece_id == piece_id, Airing.removed.is_(False))))


@pytest.fixture
def people(services):
    with unit_of_work(services.sessions) as session:
        for name, role, stations in (("lan", "editor", []), ("hung", "approver", []), ("ba", "editor", ["99002"])):
            add_user(session, name, role, now=services.now(), stations=stations)


def test_the_plan_follows_the_stations_and_a_replan_moves_a_piece_whose_stations_changed(services, people):
    one = _approved(services, "Tin cho xã 99001", ("99001",))
    every = _approved(services, "Tin cho mọi xã", ("*",))
    services.plan(days=2)
    assert _where(services, one) == {"99001"}
    assert _where(services, every) == {"99001", "99002", "99003"}
    now = services.now()
    with unit_of_work(services.sessions) as session:
        edit_piece(session, one, {"stations": ("99002",)}, actor=get_user(session, "lan"), now=now)
    services.plan(days=2)
    assert _where(services, one) == {"99001"}, "the approved revision keeps airing until the edit is approved"
    with unit_of_work(services.sessions) as session:
        submit(session, one, actor=get_user(session, "lan"), now=now)
        approve(session, one, actor=get_user(session, "hung"), now=now)
    services.plan(days=2)
    assert _where(services, one) == {"99002"}


def test_airing_edits_need_a_scope_covering_the_piece(services, people):
    ours = _approved(services, "Tin cho xã 99002", ("99002",))
    every = _approved(services, "Tin cho mọi xã", ("*",))
    services.plan(days=2)

    def airing_of(piece_id: int, station: str) -> int:
        with unit_of_work(services.sessions) as session:
            return session.scalars(select(Airing.id).join(Delivery).join(Station).where(
                Airing.piece_id == piece_id, Station.code == station).order_by(Delivery.start_at)).first()

    now = services.now()
    mine, shared, elsewhere = airing_of(ours, "99002"), airing_of(every, "99002"), airing_of(every, "99001")
    with unit_of_work(services.sessions) as session:
        ba = get_user(session, "ba")
        pin_airing(session, mine, actor=ba, now=now)
        for edit in (pin_airing, remove_airing):  # a piece for every station is beyond an editor of 99002
            with pytest.raises(NotAllowed, match="mọi xã"):
                edit(session, shared, actor=ba, now=now)
        with pytest.raises(NotAllowed, match="99001"):  # and so is another station's program
            move_airing(session, elsewhere, delivery_id="x", actor=ba, now=now, zone=ZONE)
    with unit_of_work(services.sessions) as session:
        assert session.get(Airing, mine).pinned
        assert not session.get(Airing, shared).pinned and not session.get(Airing, shared).removed
