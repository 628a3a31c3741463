"""Issue 19, the live loop: a commune's acceptance, and a bulletin's arrival at priority level, reach the schedule
by themselves (the leader's live planner), with no `loa plan`: the request is queued in the decision's transaction."""

from __future__ import annotations

import time
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from content import pieces
from content.db import unit_of_work
from content.models import User
from loa.live import start_live
from loa.wiring import open_services
from scheduler.bulletins import decisions, sending
from scheduler.views.schedule import upcoming


def _wait(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_acceptance_and_priority_arrival_replan_by_themselves(centre_tree):
    leader = open_services(centre_tree.settings, now=centre_tree.services.now())
    other = centre_tree.services  # stands for `loa bulletin …` run by another process
    scheduler = BackgroundScheduler()
    scheduler.start()
    planner, watcher = start_live(leader, scheduler, after=None, offset=leader.clock.offset)
    now = other.now()

    def user(session, name: str) -> User:
        return session.scalar(select(User).where(User.name == name))

    def airing(piece_id: int) -> dict[str, int]:
        """Station → the piece's place in its next loudspeaker programs (0: it leads)."""
        with unit_of_work(other.sessions) as session:
            return {p.station_code: [i.piece_id for i in p.items].index(piece_id)
                    for p in upcoming(session, start=now, end=now + timedelta(days=2))
                    if p.outlet == "loudspeaker" and any(i.piece_id == piece_id for i in p.items)}

    try:
        _wait(lambda: planner.runs >= 1, "the requests left by `loa init`")
        with unit_of_work(other.sessions) as session:
            piece = pieces.add_piece(session, pieces.PieceContent(
                "Lịch thu gom rác", "Xe thu gom rác qua các thôn vào sáng thứ Ba và thứ Sáu hằng tuần.",
                channels=("loudspeaker",), stations=("99011",)), author=user(session, "bt-TINH"), now=now)
            pieces.submit(session, piece.id, actor=user(session, "bt-TINH"), now=now)
            pieces.approve(session, piece.id, actor=user(session, "dd-TINH"), now=now)
            piece_id = piece.id
        _wait(lambda: set(airing(piece_id)) == {"99011"}, "the approval's re-plan")

        with unit_of_work(other.sessions) as session:
            bulletin = sending.send(session, piece_id, ["TAY"], level="normal", actor=user(session, "bt-TINH"),
                                    now=now).id
        runs = planner.runs
        with unit_of_work(other.sessions) as session:
            decisions.accept(session, bulletin, actor=user(session, "bt-PHUXUAN"), now=now)
        _wait(lambda: "99021" in airing(piece_id), "the acceptance's re-plan")
        _wait(lambda: planner.runs > runs, "the live planner to count the run")  # counted just after it commits
        assert set(airing(piece_id)) == {"99011", "99021"}  # ANTHAI has not decided

        with unit_of_work(other.sessions) as session:
            sending.send(session, piece_id, ["HOABINH"], level="priority", actor=user(session, "bt-TINH"), now=now)
        _wait(lambda: airing(piece_id).get("99012") == 0, "the priority arrival's re-plan")
    finally:
        watcher.stop()
        scheduler.shutdown()
        leader.close()
