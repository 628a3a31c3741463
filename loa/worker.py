"""``loa worker``: pushes due deliveries from the shared outbox, waking on PostgreSQL NOTIFY or at the next due time."""

from __future__ import annotations

import logging
import select as selectors
import signal
import threading
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, type_coerce, update

from content import audit
from content.db import UTCDateTime, unit_of_work
from loa.wiring import Services
from scheduler.dispatch import notify, outbox
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
    """Claims due deliveries with ``FOR UPDATE SKIP LOCKED`` (``outbox.claim_due``) and pushes a pool's round at a time.

    On stop, the round under way finishes and the claims not yet pushed are handed back to the outbox.
    """

    def __init__(self, services: Services, *, name: str | None = None) -> None:
        self.services = services
        self.dispatcher = services.dispatcher(name)
        self.name = self.dispatcher.worker
        self.settings = services.settings.dispatch
        self.stop = threading.Event()
        self.pushed = 0

    def drain(self) -> int:
        """Push everything due now; returns how many deliveries were pushed (whatever became of them)."""
        sessions, now = self.services.sessions, self.services.now()
        with unit_of_work(sessions) as session:
            outbox.mark_missed(session, now=now, grace=timedelta(minutes=self.settings.grace_minutes),
                               actor=self.name)
        count = 0
        while not self.stop.is_set():
            now = self.services.now()
            with unit_of_work(sessions) as session:
                ids = outbox.claim_due(session, now=now, due_by=now, worker=self.name,
                                       limit=self.settings.claim_batch,
                                       lease=timedelta(minutes=self.settings.lease_minutes))
            if not ids:
                break
            step = max(1, self.settings.workers)  # one round of the push pool at a time
            for start in range(0, len(ids), step):
                if self.stop.is_set():
                    self.release(ids[start:])
                    break
                self.dispatcher.push_claimed(ids[start:start + step], now)
                count += len(ids[start:start + step])
        self.pushed += count
        return count

    def release(self, ids: list[str]) -> None:
        """Hand claimed but unpushed deliveries back, as if never claimed, so another worker takes them at once."""
        now = self.services.now()
        with unit_of_work(self.services.sessions) as session:
            released = list(session.scalars(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.state == DeliveryState.SENDING, Delivery.claimed_by == self.name)
                .values(state=DeliveryState.PENDING, claimed_by=None, claimed_at=None, updated_at=now,
                        attempts=Delivery.attempts - 1)
                .returning(Delivery.id)))
            for delivery_id in released:
                audit.record(session, actor=self.name, action="delivery.release", subject=f"delivery:{delivery_id}",
                             at=now, details={"reason": "worker stopping"})
            if released:
                notify.outbox_changed(session)
        log.info("handed back %d claimed deliveries", len(released))

    def next_due_in(self) -> float:
        """Seconds until the next pending delivery is due (or a retry comes up), capped at the poll interval."""
        now = self.services.now()
        with unit_of_work(self.services.sessions) as session:
            next_due = session.scalar(select(type_coerce(
                func.min(func.coalesce(Delivery.next_attempt_at, Delivery.due_at)), UTCDateTime()))
                .where(Delivery.state == DeliveryState.PENDING))
        poll = float(self.settings.poll_seconds)
        if next_due is None:
            return poll
        # Due already yet not claimable means another worker holds it right now: look again shortly.
        return min(poll, max((next_due - now).total_seconds(), MIN_PAUSE_S))

    def run(self) -> None:
        """Drain, then sleep until woken, until ``stop`` is set."""
        waker = Waker(self.services)
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
            waker.close()
            self.dispatcher.close()
            log.info("worker %s stopped after %d pushes", self.name, self.pushed)


def run_worker(services: Services) -> None:
    """``loa worker`` until SIGTERM or SIGINT: the push under way finishes, unpushed claims are handed back."""
    from loa.logs import configure_logging

    configure_logging()
    worker = Worker(services)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop.set())
    worker.run()
