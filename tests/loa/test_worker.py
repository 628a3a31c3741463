"""`loa worker` in-process: a stopping worker hands back what it claimed but did not push; NOTIFY wakes it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from scale_support import Receiver, fill_outbox, probe_config, register
from sqlalchemy import select

from content.db import unit_of_work
from content.models import AuditEvent
from loa.settings import load_settings
from loa.wiring import open_services
from loa.worker import Waker, Worker
from scheduler.dispatch import notify
from scheduler.models import Delivery


def test_a_stopping_worker_finishes_its_push_and_hands_back_the_rest(tmp_path):
    receiver = Receiver()
    url = f"sqlite:///{tmp_path / 'loa.db'}"
    config_dir = probe_config(tmp_path / "config", 8, receiver.url)
    loa_toml = config_dir / "loa.toml"  # a pool of 3: a round of 3 pushes, then the stop
    loa_toml.write_text(loa_toml.read_text("utf-8").replace("[dispatch]\n", "[dispatch]\nworkers = 3\n"), "utf-8")
    now = datetime.now(UTC)
    fill_outbox(config_dir, url, 8, now)
    register()
    services = open_services(load_settings(config_dir, database_url=url, env={}))
    worker = Worker(services, name="w1")
    round_size = worker.settings.workers
    first_round = threading.Barrier(round_size, action=worker.stop.set)  # set before any of the round goes on
    open_channel = worker.dispatcher.channel

    class SignalledDuringTheFirstRound:  # SIGTERM arrives while the first round of pushes is in flight
        def __init__(self, channel):
            self.channel = channel

        def deliver(self, delivery):
            first_round.wait(timeout=60)
            return self.channel.deliver(delivery)

    worker.dispatcher.channel = lambda code, outlet: SignalledDuringTheFirstRound(open_channel(code, outlet))
    try:
        assert worker.drain() == round_size
        with unit_of_work(services.sessions) as session:
            rows = session.execute(select(Delivery.state, Delivery.claimed_by, Delivery.attempts)).all()
            released = session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "delivery.release")).all()
    finally:
        worker.dispatcher.close()
        services.close()
        receiver.close()
    assert sorted(state for state, _, _ in rows) == ["delivered"] * round_size + ["pending"] * (8 - round_size)
    assert {(by, attempts) for state, by, attempts in rows if state == "pending"} == {(None, 0)}
    assert len(released) == 8 - round_size and sum(receiver.keys.values()) == round_size


def test_a_sleeping_worker_wakes_on_notify(settings, postgres_url):
    services = open_services(load_settings(settings.config_dir, database_url=postgres_url, env={}))
    services.init()
    waker = Waker(services)
    stop = threading.Event()

    def planner_commits() -> None:
        with unit_of_work(services.sessions) as session:
            notify.outbox_changed(session)

    timer = threading.Timer(0.5, planner_commits)
    timer.start()
    try:
        assert waker.wait(120, stop) is True  # woken by the notification, long before the 120 s poll
    finally:
        timer.cancel()
        waker.close()
        services.close()
