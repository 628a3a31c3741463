"""The dispatcher: the claim, push and record loop over the outbox.

One run: mark what was missed, then repeatedly claim a batch (one short transaction), render what its
first pushes need with no transaction open (``payloads.Payloads.render_ahead``), prepare each payload
in one transaction (re-check approvals and hashes; build it from stored renditions on the first attempt
and store it, reuse the stored one on a retry), push the batch concurrently, and record every outcome in
one transaction. The next batch is claimed, rendered and prepared while the current one is pushed and
recorded, so the receipts of a batch never wait for the next one's rendering. A withdrawal
(``scheduler.dispatch.withdrawals``) is claimed, prepared and recorded the same way, and pushed through its
channel's ``withdraw``.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

import channels
from content import seals
from content.config import RenderSettings
from content.db import unit_of_work
from content.errors import IntegrityError
from scheduler.config import DispatchSettings, RelaySpec, StationSpec
from scheduler.dispatch import interruptions, outbox, withdrawals
from scheduler.dispatch.batch import Batch
from scheduler.dispatch.breaker import CircuitBreaker
from scheduler.dispatch.payloads import NotReady, Payloads, Refusal
from scheduler.dispatch.pushing import Job, Outcome, Pusher
from scheduler.emergencies.lane import EmergencyLane
from scheduler.models import Delivery, DeliveryState

__all__ = ["DispatchSummary", "Dispatcher", "Refusal"]

log = logging.getLogger(__name__)
#: Summary counts besides the delivery states: pushes put off while an outlet's circuit is open, and
#: claims handed back untried because the dispatcher was told to stop.
DEFERRED, HANDED_BACK = "deferred", "handed_back"


@dataclass
class DispatchSummary:
    """How many deliveries ended in each state during one run."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def pushed(self) -> int:
        """Deliveries this run took in hand, whatever became of them: not those missed, deferred or handed back."""
        return self.total - sum(self.counts[key] for key in (DeliveryState.MISSED, DEFERRED, HANDED_BACK))


@dataclass
class _Run:
    now: datetime
    due_by: datetime
    stop: threading.Event | None
    summary: DispatchSummary = field(default_factory=DispatchSummary)
    #: Deliveries handed back once this run because their program changed while being prepared.
    requeued: set[str] = field(default_factory=set)

    @property
    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()


class _PreparingFailed(Exception):
    """Rendering ahead failed for this delivery; the message says how."""


class Dispatcher:
    """Pushes due deliveries through their outlets' channels. Safe to run in several processes:
    the outbox claim decides who pushes what."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        stations: Mapping[str, StationSpec],
        render: RenderSettings,
        dispatch: DispatchSettings,
        zone: ZoneInfo,
        worker: str = "dispatcher",
        abbreviations: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
        relays: Mapping[str, Sequence[RelaySpec]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.stations = stations
        self.settings = dispatch
        self.worker = worker
        self.payloads = Payloads(stations=stations, render=render, zone=zone, abbreviations=abbreviations,
                                relays=relays)
        self.rng = rng or random.Random()
        # Adapters (and their HTTP sessions) and breakers are shared by stations with identical options.
        self._channels: dict[str, channels.Channel] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._pusher: Pusher | None = None
        self._emergencies: EmergencyLane | None = None
        self._background: ThreadPoolExecutor | None = None
        # APScheduler may fire the sweep and a due-time job together: one run at a time per dispatcher.
        self._running = threading.Lock()

    def outlet_key(self, station_code: str, outlet: str) -> str:
        options = self.stations[station_code].outlet(outlet)
        if options is None:
            raise Refusal(f"station {station_code} has no {outlet} in stations.toml")
        return f"{outlet}.{options.type}:{options.model_dump_json()}"

    def channel(self, station_code: str, outlet: str) -> channels.Channel:
        key = self.outlet_key(station_code, outlet)
        if key not in self._channels:
            options = self.stations[station_code].outlet(outlet)
            assert options is not None
            self._channels[key] = channels.open_channel(f"{outlet}.{options.type}", options)
        return self._channels[key]

    def breaker(self, key: str) -> CircuitBreaker:
        if key not in self._breakers:
            self._breakers[key] = CircuitBreaker(self.settings.breaker_failures,
                                                 timedelta(seconds=self.settings.breaker_cooldown_s))
        return self._breakers[key]

    @property
    def pusher(self) -> Pusher:
        if self._pusher is None:
            self._pusher = Pusher(workers=self.settings.workers, per_outlet=self.settings.per_outlet,
                                  breaker=self.breaker)
        return self._pusher

    @property
    def emergencies(self) -> EmergencyLane:
        if self._emergencies is None:
            self._emergencies = EmergencyLane(self)
        return self._emergencies

    def run_emergencies(self, now: datetime) -> Counter[str]:
        """Push the emergency deliveries due at ``now`` (``scheduler.emergencies.lane``), ahead of and apart from
        the planned ones."""
        return self.emergencies.run(now)

    def close(self) -> None:
        if self._emergencies is not None:
            self._emergencies.close()
            self._emergencies = None
        if self._pusher is not None:
            self._pusher.close()
            self._pusher = None
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def run_once(self, now: datetime, *, due_by: datetime | None = None,
                 stop: threading.Event | None = None) -> DispatchSummary:
        """Push everything due by ``due_by`` (default ``now``) once; returns what happened.

        Once ``stop`` is set, the pushes under way finish and every other claim is handed back to the
        outbox untried (``loa worker`` on SIGTERM).
        """
        emergencies = self.run_emergencies(now)  # first, and not behind a planned run under way
        with self._running:
            summary = self._run_once(_Run(now, due_by or now, stop))
        summary.counts.update({f"emergency {state}": n for state, n in emergencies.items() if n})
        return summary

    def _run_once(self, run: _Run) -> DispatchSummary:
        summary, now = run.summary, run.now
        with unit_of_work(self.sessions) as session:
            missed = outbox.mark_missed(session, now=now, grace=timedelta(minutes=self.settings.grace_minutes),
                                        actor=self.worker)
        if missed:
            summary.counts[DeliveryState.MISSED] += len(missed)
        for delivery_id in missed:
            log.warning("delivery %s missed its slot", delivery_id)
        if self._background is None:
            self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loa-batch")
        pushing: Future[DispatchSummary] | None = None
        while True:
            jobs = None if run.stopping else self._claim_and_prepare(run)
            if pushing is not None:
                summary.counts.update(pushing.result().counts)
                pushing = None
            if jobs is None:
                return summary
            if run.stopping:  # told to stop while this batch was prepared: none of it is pushed
                self._record([Outcome(job, handed_back=True) for job in jobs], now, summary)
                return summary
            pushing = self._background.submit(self._push_and_record, jobs, now, run.stop)

    def _push_and_record(self, jobs: list[Job], now: datetime, stop: threading.Event | None) -> DispatchSummary:
        """Push a batch and record what became of it; what it recorded, to add to the run's summary."""
        recorded = DispatchSummary()
        self._record(self.pusher.push_all(jobs, now, stop), now, recorded)
        return recorded

    def _claim_and_prepare(self, run: _Run) -> list[Job] | None:
        """Claim the next batch, render what it needs, prepare it; None when nothing more is due."""
        with unit_of_work(self.sessions) as session:
            ids = outbox.claim_due(session, now=run.now, due_by=run.due_by, worker=self.worker,
                                   limit=self.settings.claim_batch,
                                   lease=timedelta(minutes=self.settings.lease_minutes))
        if not ids:
            return None
        try:
            failed = self.payloads.render_ahead(self.sessions, ids, run.now)
            return self._prepare(ids, failed, run)
        except Exception:  # e.g. the database stayed locked: hand the batch back now rather than at the lease's end
            self._hand_back(ids, run.now, "preparing the batch failed; handed back to be tried again")
            raise

    def _hand_back(self, ids: list[str], now: datetime, reason: str) -> None:
        try:
            with unit_of_work(self.sessions) as session:
                outbox.release(session, ids, now=now, actor=self.worker, reason=reason)
        except Exception:
            log.exception("could not hand back %d claimed deliveries; they return when their lease ends", len(ids))

    def _prepare(self, ids: list[str], failed: Mapping[str, str], run: _Run) -> list[Job]:
        """Check and build (or load) the payload of each claimed delivery, all in one transaction.

        The payloads are committed before anything is pushed, so a crash after a push finds the
        very body that went out. Each delivery has its own savepoint: one that fails is refused
        (or retried, for an unexpected error) without undoing the others. Nothing slow happens
        here: speech and programs were rendered ahead, and one found missing is handed back to be
        rendered again (once per run; a second time it is retried later like a transient error).
        """
        now, summary = run.now, run.summary
        jobs = []
        stored: list[dict[str, object]] = []
        requeue: list[str] = []
        waiting: list[str] = []  # withdrawals whose delivery is being pushed right now
        with unit_of_work(self.sessions) as session:
            batch = Batch(session)
            # Held here: the session's identity map keeps loaded objects only while someone refers to them.
            deliveries = {d.id: d for d in session.scalars(
                select(Delivery).where(Delivery.id.in_(ids))
                .options(selectinload(Delivery.airings), joinedload(Delivery.station))).all()}
            for delivery_id in ids:
                delivery = deliveries[delivery_id]
                try:
                    with session.begin_nested():
                        if delivery.withdraws is not None:
                            payload, first = withdrawals.prepare(session, delivery)
                        elif delivery.payload is None and delivery_id in failed:
                            raise _PreparingFailed(failed[delivery_id])
                        else:
                            payload, first = self.payloads.checked(batch, delivery, now)
                        if payload is None:  # a withdrawal with nothing to take down: done without a push
                            assert first is not None
                            outbox.record_delivered(session, delivery, now=now, actor=self.worker,
                                                    receipt=withdrawals.nothing_to_take_down(first, now),
                                                    action=withdrawals.DONE)
                            summary.counts[DeliveryState.DELIVERED] += 1
                            continue
                        key = self.outlet_key(payload.station_code, payload.outlet)
                        channel = self.channel(payload.station_code, payload.outlet)
                except withdrawals.Waiting:
                    waiting.append(delivery_id)
                    continue
                except NotReady as missing:
                    if delivery_id not in run.requeued:
                        run.requeued.add(delivery_id)
                        requeue.append(delivery_id)
                        continue
                    self._failed_to_prepare(session, delivery, missing, now, summary)
                    continue
                except (Refusal, IntegrityError, channels.ChannelError, KeyError) as refusal:
                    log.error("ALERT: delivery %s refused: %s", delivery_id, refusal)
                    outbox.record_refused(session, delivery, reason=str(refusal), now=now, actor=self.worker,
                                          integrity=isinstance(refusal, IntegrityError))
                    summary.counts[DeliveryState.REFUSED] += 1
                    continue
                except Exception as error:  # e.g. rendering failed: try again later, like a transient error
                    self._failed_to_prepare(session, delivery, error, now, summary)
                    continue
                stored_payload = first if first is not None else delivery.payload or {}
                if first is not None:
                    stored.append({"prepared_id": delivery_id, "new_payload": first,
                                   "new_seal": seals.seal_payload(session, delivery_id, first)})
                jobs.append(Job(delivery_id, key, channel, payload, attempt=delivery.attempts,
                                skipped=tuple(stored_payload.get("skipped", [])),
                                withdraw=delivery.withdraws is not None))
            # New payloads are written together, and committed with the batch before anything is pushed.
            outbox.store_payloads(session, stored)
            outbox.release(session, requeue, now=now, actor=self.worker,
                           reason="its program changed while it was being prepared; prepared again at once")
            outbox.release(session, waiting, now=now, actor=self.worker, until=now + withdrawals.WAIT,
                           reason="the delivery it withdraws from is being pushed; tried again once that is recorded")
        return jobs

    def _failed_to_prepare(self, session: Session, delivery: Delivery, error: Exception, now: datetime,
                           summary: DispatchSummary) -> None:
        if isinstance(error, _PreparingFailed):
            log.error("delivery %s could not be prepared: %s", delivery.id, error)
            message = f"preparing failed: {error}"
        else:
            log.error("delivery %s could not be prepared", delivery.id, exc_info=error)
            message = f"preparing failed: {type(error).__name__}: {error}"
        state = outbox.record_failure(
            session, delivery, error=message, transient=True, now=now, max_attempts=self.settings.max_attempts,
            base_s=self.settings.retry_base_s, rng=self.rng, max_s=self.settings.retry_max_s, actor=self.worker)
        summary.counts[state] += 1

    def _record(self, outcomes: list[Outcome], now: datetime, summary: DispatchSummary) -> None:
        """Write every outcome of a batch in one transaction: the receipts and their audit entries in bulk."""
        deferred: dict[datetime, list[str]] = {}
        handed_back: list[str] = []
        delivered: list[Outcome] = []
        failed: list[Outcome] = []
        for outcome in outcomes:
            if outcome.deferred_until is not None:
                deferred.setdefault(outcome.deferred_until, []).append(outcome.job.delivery_id)
                summary.counts[DEFERRED] += 1
            elif outcome.handed_back:
                handed_back.append(outcome.job.delivery_id)
            elif outcome.receipt is not None:
                delivered.append(outcome)
            else:
                failed.append(outcome)
        with unit_of_work(self.sessions) as session:
            receipts: dict[bool, list[tuple[str, str, int, dict[str, object]]]] = {False: [], True: []}
            for outcome in delivered:
                job, receipt = outcome.job, outcome.receipt
                assert receipt is not None
                receipts[job.withdraw].append((job.delivery_id, job.payload.outlet, job.attempt, {
                    "location": receipt.location, "status": receipt.status, "remote_id": receipt.remote_id,
                    "details": dict(receipt.details), "skipped": list(job.skipped),
                    "at": now.isoformat(), "attempt": job.attempt,
                }))
                log.info("%s %s %s at %s", "withdrew" if job.withdraw else "delivered", job.payload.outlet,
                         job.delivery_id, receipt.location)
            outbox.record_delivered_many(session, receipts[False], now=now, actor=self.worker)
            outbox.record_delivered_many(session, receipts[True], now=now, actor=self.worker, action=withdrawals.DONE)
            interruptions.record_interruptions(session, [(delivery_id, receipt) for delivery_id, _, _, receipt
                                                         in receipts[False]], now=now, actor=self.worker)
            if delivered:
                summary.counts[DeliveryState.DELIVERED] += len(delivered)
            if failed:
                session.scalars(select(Delivery).where(Delivery.id.in_([o.job.delivery_id for o in failed]))).all()
            for outcome in failed:
                job = outcome.job
                delivery = session.get(Delivery, job.delivery_id)
                assert delivery is not None and outcome.error is not None
                state = outbox.record_failure(
                    session, delivery, error=outcome.error, transient=outcome.transient, now=now,
                    max_attempts=self.settings.max_attempts, base_s=self.settings.retry_base_s, rng=self.rng,
                    max_s=self.settings.retry_max_s,
                    actor=self.worker, retry_after=outcome.retry_after)
                summary.counts[state] += 1
                log.warning("delivery %s failed (%s): %s", job.delivery_id, state, outcome.error)
            for until, ids in deferred.items():
                outbox.release(session, ids, until=until, now=now, actor=self.worker,
                               reason=f"the outlet's circuit is open until {until.isoformat()}")
            if handed_back:
                released = outbox.release(session, handed_back, now=now, actor=self.worker, reason="worker stopping")
                summary.counts[HANDED_BACK] += len(released)
                log.info("handed back %d claimed deliveries", len(released))
