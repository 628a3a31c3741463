"""Pushes a batch of prepared deliveries concurrently: a bounded thread pool, a cap per outlet, a breaker each."""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime

import channels
from scheduler.dispatch.breaker import CircuitBreaker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One claimed delivery, ready to go: its outlet key, the adapter and the payload to send."""

    delivery_id: str
    outlet_key: str
    channel: channels.Channel
    payload: channels.Delivery
    attempt: int = 0  # this push's attempt number, as claimed
    skipped: tuple[str, ...] = ()  # pieces left out when the payload was first built, for the receipt
    withdraw: bool = False  # take the payload's articles down (a withdrawal) rather than put them up


@dataclass(frozen=True)
class Outcome:
    """What one push came to. Exactly one of ``receipt``, ``error``, ``deferred_until`` or ``handed_back`` is set
    (``handed_back``: never started, because the dispatcher was told to stop)."""

    job: Job
    receipt: channels.Receipt | None = None
    error: str | None = None
    transient: bool = False
    retry_after: float | None = None
    deferred_until: datetime | None = None
    handed_back: bool = False


def _deliver(job: Job) -> Outcome:
    try:
        push = job.channel.withdraw if job.withdraw else job.channel.deliver
        return Outcome(job, receipt=push(job.payload))
    except channels.TransientError as error:
        return Outcome(job, error=f"TransientError: {error}", transient=True, retry_after=error.retry_after)
    except channels.ChannelError as error:
        return Outcome(job, error=f"{type(error).__name__}: {error}")
    except Exception as error:  # an adapter bug must not kill the dispatcher; retry it like a transient
        log.exception("channel %s crashed on delivery %s", job.payload.outlet, job.delivery_id)
        return Outcome(job, error=f"{type(error).__name__}: {error}", transient=True)


class Pusher:
    """At most ``workers`` pushes in flight, at most ``per_outlet`` to one outlet, none to an open circuit.

    With ``probe`` (the emergency lane) an open or half-open circuit is consulted, not obeyed: one push goes to
    the outlet as a probe (even while another lane holds the half-open probe); when it succeeds the circuit closes
    and the rest follow, when it fails the rest are deferred. Without it, a half-open circuit whose probe another
    push holds defers the outlet's jobs too: nothing ever waits here for a push it did not start.
    """

    def __init__(self, *, workers: int, per_outlet: int, breaker: Callable[[str], CircuitBreaker],
                 probe: bool = False) -> None:
        self.workers = workers
        self.per_outlet = per_outlet
        self.breaker = breaker
        self.probe = probe
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="loa-push")

    def push_all(self, jobs: Iterable[Job], now: datetime, stop: threading.Event | None = None) -> list[Outcome]:
        """Push every job once (or defer it while its outlet's circuit is open); returns one outcome each.

        Once ``stop`` is set no other push starts: those under way finish, the rest are handed back.
        """
        queues: dict[str, deque[Job]] = {}
        for job in jobs:
            queues.setdefault(job.outlet_key, deque()).append(job)
        in_flight: Counter[str] = Counter()
        futures: dict[Future[Outcome], Job] = {}
        outcomes: list[Outcome] = []
        probed: set[str] = set()
        while queues or futures:
            if stop is not None and stop.is_set():
                outcomes.extend(Outcome(job, handed_back=True) for queue in queues.values() for job in queue)
                queues.clear()
            self._start_more(queues, in_flight, futures, outcomes, now, probed)
            if not futures:
                continue
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in done:
                job = futures.pop(future)
                in_flight[job.outlet_key] -= 1
                outcome = future.result()
                self.breaker(job.outlet_key).record(not outcome.transient, now)
                outcomes.append(outcome)
        return outcomes

    def _start_more(self, queues: dict[str, deque[Job]], in_flight: Counter[str],
                    futures: dict[Future[Outcome], Job], outcomes: list[Outcome], now: datetime,
                    probed: set[str]) -> None:
        started = True
        while started and queues and len(futures) < self.workers:
            started = False
            for key in list(queues):  # round robin over outlets, one push each per turn
                if len(futures) >= self.workers:
                    return
                breaker = self.breaker(key)
                if self.probe and breaker.open_until is not None:
                    # an emergency: the breaker is consulted, but a probe of its own always goes, open or
                    # half-open, even while another lane holds the half-open probe
                    if key not in probed:
                        probed.add(key)
                        self._submit(queues, key, futures, in_flight)
                        started = True
                    elif not in_flight[key]:  # the probe failed: the circuit is still open, the rest wait
                        self._defer(queues, key, breaker.reopens_at(now), outcomes)
                    continue  # else wait for the probe's answer
                if breaker.open_until is not None and now < breaker.open_until:
                    self._defer(queues, key, breaker.open_until, outcomes)
                    continue
                if in_flight[key] >= self.per_outlet:
                    continue
                if not breaker.allows(now):
                    if not in_flight[key]:  # half-open, its probe held by another push: wait, do not spin
                        self._defer(queues, key, breaker.reopens_at(now), outcomes)
                    continue
                self._submit(queues, key, futures, in_flight)
                started = True

    @staticmethod
    def _defer(queues: dict[str, deque[Job]], key: str, until: datetime, outcomes: list[Outcome]) -> None:
        queue = queues.pop(key)
        outcomes.extend(Outcome(job, deferred_until=until) for job in queue)
        log.warning("outlet %s: circuit open until %s; %d deliveries wait", key, until.isoformat(), len(queue))

    def _submit(self, queues: dict[str, deque[Job]], key: str, futures: dict[Future[Outcome], Job],
                in_flight: Counter[str]) -> None:
        queue = queues[key]
        job = queue.popleft()
        if not queue:
            del queues[key]
        futures[self._pool.submit(_deliver, job)] = job
        in_flight[key] += 1

    def close(self) -> None:
        self._pool.shutdown(wait=True)
