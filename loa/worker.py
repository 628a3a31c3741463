"""``loa worker``: pushes due deliveries from the shared outbox, waking on PostgreSQL NOTIFY or at the next due time."""

from __future__ import annotations

import logging
import select as selectors
import signal
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, type_coerce

from content.db import UTCDateTime, unit_of_work
from loa.wiring import Services
from scheduler.dispatch import notify
from scheduler.emergencies import outbox as emergency_outbox
from scheduler.models import Delivery, DeliveryState

log = logging.getLogger(__name__)
#: Longest single wait, so SIGTERM is noticed promptly even while blocked on the socket.
TICK_S = 0.5
MIN_PAUSE_S = 0.1


class Waker:
    """Sleeps until a NOTIFY on the outbox channel, a deadline, or a stop; polls only when there is no PostgreSQL."""

    def __init__(self, services: Services) -> None:
        self.connection: Any = None
        url = services.engine.url
        if url.get_backend_name() == "postgresql":
            import psycopg

            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(conninfo, autocommit=True)
            self.connection.execute(f"LISTEN {notify.CHANNEL}")

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait up to ``seconds``; True when woken by a notification."""
        deadline = max(seconds, 0.0)
        while deadline > 0 and not stop.is_set():
            step = min(deadline, TICK_S)
            if self.connection is None:
                stop.wait(step)
            else:
                selectors.select([self.connection.fileno()], [], [], step)
                woken = False
                for _ in self.connection.notifies(timeout=0):
                    woken = True
                if woken:
                    return True
            deadline -= step
        return False

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class Worker:
    """The dispatcher's loop (``Dispatcher.run_once``: claims with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL),
    run whenever something may be due, until stopped; and beside it, in a thread of its own, the emergency
    lane's loop, so an emergency never waits for a planned batch (a long one: slow outlets, an Icecast program)
    to end. Both wake on PostgreSQL NOTIFY; the emergency loop looks at least every ``emergency_poll_s``.

    On stop, the pushes under way finish and the claims not yet pushed are handed back to the outbox.
    """

    def __init__(self, services: Services, *, name: str | None = None) -> None:
        self.services = services
        self.dispatcher = services.dispatcher(name)
        self.name = self.dispatcher.worker
        self.settings = services.settings.dispatch
        self.stop = threading.Event()
        self.pushed = 0
        self.pushed_emergencies = 0

    def drain(self) -> int:
        """Push everything due now; returns how many deliveries were pushed (whatever became of them)."""
        summary = self.dispatcher.run_once(self.services.now(), stop=self.stop)
        self.pushed += summary.pushed
        return summary.pushed

    def drain_emergencies(self) -> int:
        """Push every emergency push due now (its repeats and ends too); how many were pushed."""
        counts = self.dispatcher.run_emergencies(self.services.now())
        pushed = sum(n for state, n in counts.items() if state != "cancelled")
        self.pushed_emergencies += pushed
        return pushed

    def next_due_in(self) -> float:
        """Seconds until the next pending delivery is due (or a retry comes up), capped at the poll interval."""
        now = self.services.now()
        with unit_of_work(self.services.sessions) as session:
            next_due = session.scalar(select(type_coerce(
                func.min(func.coalesce(Delivery.next_attempt_at, Delivery.due_at)), UTCDateTime()))
                .where(Delivery.state == DeliveryState.PENDING))
        return self._pause(now, next_due, float(self.settings.poll_seconds))

    def next_emergency_in(self) -> float:
        """Seconds until the next emergency push, retry or repeat, capped at ``emergency_poll_s`` (which also
        catches an end coming up and an emergency issued while NOTIFY is not there to say so)."""
        now = self.services.now()
        with unit_of_work(self.services.sessions) as session:
            next_due = emergency_outbox.next_due(session)
        return self._pause(now, next_due, float(self.settings.emergency_poll_s))

    @staticmethod
    def _pause(now: datetime, next_due: datetime | None, poll: float) -> float:
        if next_due is None:
            return poll
        # Due already yet not claimable means another worker holds it right now: look again shortly.
        return min(poll, max((next_due - now).total_seconds(), MIN_PAUSE_S))

    def run(self) -> None:
        """Drain, then sleep until woken, until ``stop`` is set; the emergency lane in its own thread meanwhile."""
        waker = Waker(self.services)
        self.dispatcher.emergencies.warm_up()  # the lane exists before either loop uses it
        lane = threading.Thread(target=self.run_emergency_lane, name="loa-emergency-lane", daemon=True)
        lane.start()
        log.info("worker %s started (%s)", self.name,
                 "LISTEN/NOTIFY" if waker.connection is not None else "polling")
        try:
            while not self.stop.is_set():
                try:
                    self.drain()
                    pause = self.next_due_in()
                except Exception:
                    log.exception("dispatch run failed; trying again")
                    pause = float(self.settings.poll_seconds)
                waker.wait(pause, self.stop)
        finally:
            self.stop.set()
            lane.join()
            waker.close()
            self.dispatcher.close()
            log.info("worker %s stopped after %d pushes and %d emergency pushes", self.name, self.pushed,
                     self.pushed_emergencies)

    def run_emergency_lane(self) -> None:
        """The emergency lane's own loop, until ``stop``: never behind the planned loop's batch under way."""
        waker = Waker(self.services)
        try:
            while not self.stop.is_set():
                try:
                    self.drain_emergencies()
                    pause = self.next_emergency_in()
                except Exception:
                    log.exception("emergency dispatch failed; trying again")
                    pause = float(self.settings.emergency_poll_s)
                waker.wait(pause, self.stop)
        finally:
            waker.close()


def run_worker(services: Services) -> None:
    """``loa worker`` until SIGTERM or SIGINT: the push under way finishes, unpushed claims are handed back."""
    from loa.logs import configure_logging

    configure_logging(services.settings.zone)
    worker = Worker(services)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop.set())
    worker.run()
