"""The live re-plan: a burst of requests is one re-plan; a change committed by another process is noticed
(the request counter on SQLite, NOTIFY on PostgreSQL) and reaches the schedule with no `loa plan`."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from content.db import unit_of_work
from content.pieces import PieceContent, add_piece, approve, submit
from content.render.audio import AudioInterrupted
from content.users import add_user
from loa.live import Watcher, start_live
from loa.wiring import open_services
from scheduler.live import Debounce, LivePlanner
from scheduler.models import PlanRequest
from scheduler.planning import triggers
from scheduler.planning.triggers import Scope
from scheduler.views.schedule import upcoming

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def _wait(predicate, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_debounce_waits_for_quiet_but_never_longer_than_the_longest_wait():
    debounce = Debounce(timedelta(seconds=1), timedelta(seconds=5))
    assert debounce.add(Scope(outlets=frozenset({"board"})), T0) == T0 + timedelta(seconds=1)
    assert debounce.add(Scope(outlets=frozenset({"portal"})), T0 + timedelta(seconds=0.8)) == \
        T0 + timedelta(seconds=1.8)
    assert debounce.add(Scope(), T0 + timedelta(seconds=4.5)) == T0 + timedelta(seconds=5)  # the cap
    assert debounce.take() == Scope()
    assert debounce.take() is None
    assert debounce.add(Scope(), T0 + timedelta(seconds=9)) == T0 + timedelta(seconds=10)  # a new gathering


def test_a_burst_of_requests_is_one_replan_of_their_merged_scope(services):
    calls: list[Scope] = []
    after = threading.Event()
    scheduler = BackgroundScheduler()
    scheduler.start()
    with unit_of_work(services.sessions) as session:
        session.execute(PlanRequest.__table__.delete())
        rows = [triggers.request(session, Scope(frozenset({code}), frozenset({"loudspeaker"})),
                                 action="piece.approve", now=services.now()) for code in ("99001", "99002", "99003")]
        session.flush()
        ids = [row.id for row in rows]
    planner = LivePlanner(sessions=services.sessions, scheduler=scheduler, replan=lambda s: calls.append(s),
                          clock=services.now, offset=services.clock.offset, quiet_s=0.3, longest_s=5,
                          after=after.set)
    try:
        for request_id, code in zip(ids, ("99001", "99002", "99003"), strict=True):
            planner.add([(request_id, Scope(frozenset({code}), frozenset({"loudspeaker"})))])
            time.sleep(0.1)
        _wait(after.is_set, "the re-plan")
        time.sleep(0.5)  # a second run, if there were one, would come by now
    finally:
        scheduler.shutdown()
    assert calls == [Scope(frozenset({"99001", "99002", "99003"}), frozenset({"loudspeaker"}))]
    with unit_of_work(services.sessions) as session:
        assert triggers.waiting(session) == []


def test_a_failed_replan_keeps_its_requests_and_tries_again(services, monkeypatch):
    monkeypatch.setattr("scheduler.live.RETRY_S", 0.2)
    attempts: list[Scope] = []

    def flaky(scope: Scope):
        attempts.append(scope)
        if len(attempts) == 1:
            raise RuntimeError("database is locked")

    scheduler = BackgroundScheduler()
    scheduler.start()
    planner = LivePlanner(sessions=services.sessions, scheduler=scheduler, replan=flaky, clock=services.now,
                          offset=services.clock.offset,
                          quiet_s=0.05)
    try:
        planner.add([(None, Scope(outlets=frozenset({"portal"})))])
        _wait(lambda: planner.runs == 1, "the second attempt")
    finally:
        scheduler.shutdown()
    assert attempts == [Scope(outlets=frozenset({"portal"}))] * 2


def test_a_replan_interrupted_by_a_stopping_service_says_so_in_one_line_and_tries_again(services, monkeypatch,
                                                                                         caplog):
    monkeypatch.setattr("scheduler.live.RETRY_S", 0.2)
    attempts: list[Scope] = []

    def interrupted(scope: Scope):
        attempts.append(scope)
        if len(attempts) == 1:
            raise AudioInterrupted("ffmpeg was stopped by signal 15")

    scheduler = BackgroundScheduler()
    scheduler.start()
    planner = LivePlanner(sessions=services.sessions, scheduler=scheduler, replan=interrupted, clock=services.now,
                          offset=services.clock.offset, quiet_s=0.05)
    try:
        planner.add([(None, Scope(outlets=frozenset({"portal"})))])
        _wait(lambda: planner.runs == 1, "the second attempt")
    finally:
        scheduler.shutdown()
    said = [r for r in caplog.records if r.name == "scheduler.live" and "interrupted" in r.getMessage()]
    assert len(said) == 1 and said[0].exc_info is None and "signal 15" in said[0].getMessage()


def test_an_approval_committed_by_another_process_reaches_the_schedule(settings):
    """Two Services on one database stand for `loa serve` (leading) and `loa piece approve` (another process):
    no in-process wake-up crosses between them, only the database (counter poll, or NOTIFY)."""
    leader = open_services(settings, now=datetime(2026, 11, 23, 8, 0, tzinfo=settings.zone))
    leader.init()
    other = open_services(settings, now=datetime(2026, 11, 23, 8, 0, tzinfo=settings.zone))
    scheduler = BackgroundScheduler()
    scheduler.start()
    planner, watcher = start_live(leader, scheduler, after=None, offset=leader.clock.offset)
    try:
        _wait(lambda: planner.runs >= 1, "the requests left by `loa init`")  # catalog loaded: plans everything
        now = other.now()
        with unit_of_work(other.sessions) as session:
            editor = add_user(session, "bien-tap", "editor", now=now)
            approver = add_user(session, "duyet", "approver", now=now)
            piece_id = add_piece(session, PieceContent("Lịch tiêm chủng", "Trạm y tế tiêm chủng vào thứ Bảy.",
                                                       channels=("loudspeaker",)), author=editor, now=now).id
            submit(session, piece_id, actor=editor, now=now)
        runs = planner.runs
        with unit_of_work(other.sessions) as session:
            approve(session, piece_id, actor=approver, now=now)
        _wait(lambda: planner.runs > runs, "the re-plan of the approval", timeout=20)

        def aired() -> set[str]:
            with unit_of_work(other.sessions) as session:
                return {p.station_code for p in upcoming(session, start=now, end=now + timedelta(days=2))
                        if any(i.piece_id == piece_id for i in p.items)}

        assert aired() == {"99001", "99002", "99003"}
        with unit_of_work(other.sessions) as session:
            row = session.scalars(select(PlanRequest).where(PlanRequest.piece_id == piece_id)).one()
            assert row.done_at is not None and row.unplaced == []
    finally:
        watcher.stop()
        scheduler.shutdown()
        leader.close()
        other.close()


def test_the_watcher_reads_the_counter_only_when_it_moved(services):
    handed: list[list] = []

    class Planner:
        def add(self, requests):
            handed.append(requests)

    with unit_of_work(services.sessions) as session:
        session.execute(PlanRequest.__table__.delete())
    watcher = Watcher(services, Planner())  # type: ignore[arg-type]
    assert watcher.check() == 0
    with unit_of_work(services.sessions) as session:
        triggers.request(session, Scope(), action="config.sync", now=services.now())
    assert watcher.check(woken=False) == 1
    assert watcher.check(woken=False) == 0  # the counter did not move
    assert watcher.check(woken=True) == 0  # woken, but that request was handed over already
    assert [len(batch) for batch in handed] == [0, 1, 0]
