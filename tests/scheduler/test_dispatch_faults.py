"""Fault injection against a local receiver: which answers are retried, when, and which go to dead letter.

Time is loa's clock handed to ``run_once`` (a fake one): retries become due by moving it, never by sleeping.
Only the timeout cases wait, for the adapter's read timeout (servers.outbox_world.HTTP_TIMEOUT_S).
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import NotFound, StateError
from content.models import AuditEvent
from content.pieces import retire
from content.users import get_user
from scheduler.dispatch.outbox import retry_delivery
from scheduler.models import DeliveryState

from conftest import MONDAY
from servers.outbox_world import (
    HTTP_TIMEOUT_S,
    SECRET_ENV,
    add_deliveries,
    approved_revision,
    delivery,
    open_http_services,
    write_config,
)
from servers.receiver import HANG, SECRET, Answer

NOW = MONDAY  # 08:00 local
BASE = 60.0  # retry_base_s of write_config


@pytest.fixture
def world(config_dir, receiver, monkeypatch):
    """One station whose board posts to ``receiver``; one approved piece; ``push(n)`` makes n board deliveries."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    write_config(config_dir, {"99001": receiver.url})
    services = open_http_services(config_dir, NOW)
    revision = approved_revision(services, NOW)

    class World:
        def __init__(self) -> None:
            self.services = services
            self.dispatcher = services.dispatcher("test-worker")
            self.dispatcher.rng = random.Random(7)
            self.receiver = receiver
            self.revision = revision

        def boards(self, n: int = 1, station: str = "99001") -> list[str]:
            starts = [NOW - timedelta(hours=1) + timedelta(minutes=i) for i in range(n)]
            return add_deliveries(services, revision, station=station, outlet="board", starts=starts,
                                  length=timedelta(hours=12), now=NOW)

        def run(self, now=NOW):
            return self.dispatcher.run_once(now).counts

    world = World()
    yield world
    world.dispatcher.close()
    services.close()


def test_a_500_is_retried_later_with_the_same_key_and_body_then_the_receipt_is_kept(world):
    [delivery_id] = world.boards()
    world.receiver.script = [Answer(500, body=b"database down")]

    assert world.run() == {"pending": 1}
    failed = delivery(world.services, delivery_id)
    wait = (failed.next_attempt_at - NOW).total_seconds()
    assert BASE / 2 <= wait <= BASE, wait  # first backoff: jitter within [base/2, base]
    assert "500" in failed.last_error and "database down" in failed.last_error

    assert world.run(NOW + timedelta(seconds=wait - 1)) == {}  # not due yet: nothing is sent
    assert len(world.receiver.requests) == 1
    assert world.run(failed.next_attempt_at) == {"delivered": 1}

    first, second = world.receiver.requests
    assert first.key == second.key == delivery_id
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery_id
    assert first.body == second.body
    assert first.signed and second.signed and first.standard and second.standard  # X-Loa and Standard Webhooks
    done = delivery(world.services, delivery_id)
    assert done.state == "delivered" and done.attempts == 2
    assert done.receipt["status"] == 200
    assert done.receipt["remote_id"] == f"remote-{delivery_id}"
    assert done.receipt["at"] == failed.next_attempt_at.isoformat()
    assert done.receipt["details"]["body_sha256"]


def test_a_400_goes_to_dead_letter_at_once(world):
    [delivery_id] = world.boards()
    world.receiver.script = [Answer(400, body=b'{"error": "slides[0].seconds must be an integer"}')]

    assert world.run() == {"dead": 1}
    dead = delivery(world.services, delivery_id)
    assert dead.state == "dead" and dead.attempts == 1 and dead.next_attempt_at is None
    assert "400" in dead.last_error and "slides[0].seconds" in dead.last_error
    assert world.run(NOW + timedelta(hours=2)) == {}
    assert len(world.receiver.requests) == 1


def test_408_and_409_follow_the_spec(world):
    timeout_id, conflict_id = world.boards(2)
    world.receiver.script = [Answer(408), Answer(409, body=b"{}")]

    assert world.run() == {"pending": 1, "delivered": 1}
    got_408, got_409 = (r.key for r in world.receiver.requests)  # answers go out in the order requests came
    assert {got_408, got_409} == {timeout_id, conflict_id}
    assert delivery(world.services, got_408).state == "pending"
    assert delivery(world.services, got_409).receipt["status"] == 409  # the receiver already had it


def test_a_429_is_retried_no_sooner_than_retry_after(world):
    [delivery_id] = world.boards()
    world.receiver.script = [Answer(429, headers={"Retry-After": "900"})]

    assert world.run() == {"pending": 1}
    assert delivery(world.services, delivery_id).next_attempt_at == NOW + timedelta(seconds=900)
    assert world.run(NOW + timedelta(seconds=899)) == {}
    assert world.run(NOW + timedelta(seconds=900)) == {"delivered": 1}


def test_repeated_5xx_back_off_exponentially_then_dead_letter_after_max_attempts(world):
    [delivery_id] = world.boards()
    world.receiver.default = Answer(503)
    now, waits = NOW, []
    for _attempt in range(3):
        assert world.run(now) == {"pending": 1}
        next_at = delivery(world.services, delivery_id).next_attempt_at
        waits.append((next_at - now).total_seconds())
        now = next_at
    for attempt, wait in enumerate(waits, start=1):
        ceiling = BASE * 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling, (attempt, waits)
    assert world.run(now) == {"dead": 1}  # the 4th attempt is max_attempts
    dead = delivery(world.services, delivery_id)
    assert dead.attempts == 4 and "gave up after 4 attempts" in dead.last_error
    assert len(world.receiver.requests) == 4 and set(world.receiver.keys()) == {delivery_id}
    assert len({r.body for r in world.receiver.requests}) == 1


@pytest.mark.parametrize("answer", [Answer(200, delay_s=HTTP_TIMEOUT_S + 3.0), HANG],
                         ids=["slow", "hangs-after-accepting"])
def test_a_receiver_that_does_not_answer_in_time_is_a_transient_failure(world, answer):
    [delivery_id] = world.boards()
    world.receiver.script = [answer]

    assert world.run() == {"pending": 1}
    failed = delivery(world.services, delivery_id)
    assert "timed out" in failed.last_error
    assert world.run(failed.next_attempt_at) == {"delivered": 1}


def test_a_refused_connection_is_a_transient_failure(world, config_dir, monkeypatch):
    [delivery_id] = world.boards()
    world.receiver.close()  # nothing listens on that port any more

    assert world.run() == {"pending": 1}
    assert "cannot connect" in delivery(world.services, delivery_id).last_error


def test_an_open_circuit_keeps_a_dead_outlet_from_using_attempts_and_spares_the_healthy_one(
        config_dir, receiver, monkeypatch):
    from servers.receiver import Receiver

    monkeypatch.setenv(SECRET_ENV, SECRET)
    dead_end = Receiver()
    dead_end.default = Answer(503)
    write_config(config_dir, {"99001": dead_end.url, "99002": receiver.url},
                 dispatch={"per_outlet": 1, "breaker_failures": 3})
    services = open_http_services(config_dir, NOW)
    revision = approved_revision(services, NOW)
    starts = [NOW - timedelta(hours=1) + timedelta(minutes=i) for i in range(6)]
    broken = add_deliveries(services, revision, station="99001", outlet="board", starts=starts,
                            length=timedelta(hours=12), now=NOW)
    healthy = add_deliveries(services, revision, station="99002", outlet="board", starts=starts,
                             length=timedelta(hours=12), now=NOW)
    dispatcher = services.dispatcher("test-worker")
    try:
        counts = dispatcher.run_once(NOW).counts
        assert counts == {"delivered": 6, "pending": 3, "deferred": 3}
        assert sorted(receiver.keys()) == sorted(healthy)
        assert len(dead_end.requests) == 3  # breaker_failures = 3, then the circuit opened
        untried = [d for d in map(lambda i: delivery(services, i), broken) if d.attempts == 0]
        assert len(untried) == 3
        assert {d.next_attempt_at for d in untried} == {NOW + timedelta(seconds=300)}  # the cooldown

        # After the cooldown all six are due, but only one probe goes; it fails, so the circuit opens again.
        later = NOW + timedelta(seconds=300)
        assert dispatcher.run_once(later).counts == {"pending": 1, "deferred": 5}
        assert len(dead_end.requests) == 4
        # The receiver comes back: the next probe succeeds and closes the circuit for the rest.
        dead_end.default = Answer(200)
        assert dispatcher.run_once(later + timedelta(hours=1)).counts == {"delivered": 6}
        assert set(dead_end.keys()) == set(broken)
    finally:
        dispatcher.close()
        services.close()
        dead_end.close()


def test_a_retry_resends_the_first_body_even_if_the_configuration_changed_in_between(world, config_dir):
    [delivery_id] = world.boards()
    world.receiver.script = [Answer(502)]
    assert world.run() == {"pending": 1}

    stations = config_dir / "stations.toml"
    stations.write_text(stations.read_text(encoding="utf-8").replace("Xã 99001", "Xã Tân Lập mới"),
                        encoding="utf-8")
    restarted = open_http_services(config_dir, NOW)  # a new process with the edited configuration
    dispatcher = restarted.dispatcher("another-worker")
    try:
        due = delivery(world.services, delivery_id).next_attempt_at
        assert dispatcher.run_once(due).counts == {"delivered": 1}
    finally:
        dispatcher.close()
        restarted.close()
    first, second = world.receiver.requests
    assert second.body == first.body and second.key == first.key
    assert first.json()["station_name"] == "Xã 99001"


def test_a_piece_retired_after_the_first_attempt_is_refused_instead_of_resent(world):
    [delivery_id] = world.boards()
    world.receiver.script = [Answer(503)]
    assert world.run() == {"pending": 1}
    with unit_of_work(world.services.sessions) as session:
        from content.models import Revision

        piece_id = session.get(Revision, world.revision).piece_id
        retire(session, piece_id, actor=get_user(session, "duyet"), now=NOW, note="đã hết hiệu lực")

    assert world.run(NOW + timedelta(hours=1)) == {"refused": 1}
    refused = delivery(world.services, delivery_id)
    assert "retired" in refused.last_error
    assert len(world.receiver.requests) == 1


def test_retry_delivery_puts_a_dead_delivery_back_under_the_same_key_and_audits_it(world):
    [delivery_id] = world.boards()
    world.receiver.script = [Answer(404)]
    assert world.run() == {"dead": 1}

    later = NOW + timedelta(minutes=10)
    with unit_of_work(world.services.sessions) as session:
        retry_delivery(session, delivery_id, actor="bien-tap", now=later)
    pending = delivery(world.services, delivery_id)
    assert (pending.state, pending.attempts, pending.next_attempt_at) == ("pending", 0, None)
    assert world.run(later) == {"delivered": 1}
    assert world.receiver.keys() == [delivery_id, delivery_id]
    assert world.receiver.requests[0].body == world.receiver.requests[1].body
    with unit_of_work(world.services.sessions) as session:
        actions = session.execute(select(AuditEvent.actor, AuditEvent.action)
                                  .where(AuditEvent.subject == f"delivery:{delivery_id}")).all()
        assert ("bien-tap", "delivery.retry") in actions
        with pytest.raises(StateError, match="delivered"):
            retry_delivery(session, delivery_id, actor="bien-tap", now=later)
        with pytest.raises(NotFound):
            retry_delivery(session, "khong-co", actor="bien-tap", now=later)


def test_a_missed_program_is_not_pushed_late_unless_an_editor_retries_it(world):
    revision = world.revision
    [program] = add_deliveries(world.services, revision, station="99001", outlet="loudspeaker",
                               starts=[NOW - timedelta(minutes=45)], length=timedelta(minutes=30), now=NOW)
    [in_grace] = add_deliveries(world.services, revision, station="99001", outlet="loudspeaker",
                                starts=[NOW - timedelta(minutes=20)], length=timedelta(minutes=30), now=NOW)
    counts = world.run()
    assert counts == {"missed": 1, "delivered": 1}, counts
    assert delivery(world.services, program).state == DeliveryState.MISSED
    assert world.receiver.keys() == [in_grace]

    with unit_of_work(world.services.sessions) as session:
        retry_delivery(session, program, actor="bien-tap", now=NOW)
    assert world.run(NOW + timedelta(minutes=1)) == {"delivered": 1}
    assert world.receiver.keys() == [in_grace, program]


def test_backoff_grows_with_jitter_up_to_its_ceiling_and_retry_after_can_ask_for_more():
    from scheduler.dispatch.outbox import backoff_seconds

    rng = random.Random(1)
    draws = [backoff_seconds(attempt, 30, rng, max_s=600) for attempt in range(1, 40)]
    for attempt, wait in enumerate(draws, start=1):
        ceiling = min(30 * 2 ** (attempt - 1), 600)
        assert ceiling / 2 <= wait <= ceiling
    assert len(set(draws)) == len(draws)  # jittered, not one fixed schedule
    assert backoff_seconds(50, 30, rng, retry_after=7200, max_s=600) == 7200


def test_a_batch_whose_preparation_fails_is_handed_back_at_once_not_left_claimed(world, monkeypatch):
    """A database error while preparing (SQLite stayed locked by a long write) ends the run; the batch it had
    claimed goes back to pending untried, so the next run pushes it instead of waiting out the lease."""
    from sqlalchemy.exc import OperationalError

    from scheduler.dispatch.dispatcher import Dispatcher
    from scheduler.models import Delivery

    ids = world.boards(2)
    prepare = Dispatcher._prepare

    def locked(self, *args, **kwargs):
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr(Dispatcher, "_prepare", locked)
    with pytest.raises(OperationalError):
        world.run()
    with unit_of_work(world.services.sessions) as session:
        rows = session.execute(select(Delivery.state, Delivery.attempts, Delivery.claimed_by)
                               .where(Delivery.id.in_(ids))).all()
        handed_back = session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "delivery.release")).all()
    assert set(rows) == {(DeliveryState.PENDING, 0, None)} and len(handed_back) == 2

    monkeypatch.setattr(Dispatcher, "_prepare", prepare)
    assert world.run() == {"delivered": 2}
    assert sorted(world.receiver.keys()) == sorted(ids)
