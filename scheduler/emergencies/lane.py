"""The emergency lane of the dispatcher: its own claim order, its own pushing threads, breakers probed not obeyed.

One run: end the emergencies past their end, fan out the repeats that came due, then claim, prepare, push and
record batches until nothing due is left. Loudspeaker audio is rendered in a thread of its own with no
transaction open, while boards and portals are already being pushed; the loudspeaker pushes follow as soon as it
is stored. A run never waits for the planned deliveries' lane, nor they for it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import joinedload

import channels
from channels import snapshot
from content import seals
from content.db import unit_of_work
from content.errors import IntegrityError
from scheduler.dispatch import interruptions
from scheduler.dispatch.pushing import Job, Outcome, Pusher
from scheduler.emergencies import fanout, outbox, service
from scheduler.models import DeliveryState, Emergency, EmergencyDelivery, EmergencyState

if TYPE_CHECKING:
    from scheduler.dispatch.dispatcher import Dispatcher

log = logging.getLogger(__name__)
#: How long a nominal emergency lasts on an outlet that needs an end, when it has none (until its all-clear).
OPEN_ENDED = timedelta(hours=24)


class EmergencyLane:
    """Pushes due emergency deliveries through the dispatcher's channels and breakers, with its own pool."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.settings = dispatcher.settings
        self.worker = dispatcher.worker
        self.rng = random.Random()
        self._pusher: Pusher | None = None
        self._renderer: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def pusher(self) -> Pusher:
        if self._pusher is None:
            self._pusher = Pusher(workers=self.settings.emergency_workers,
                                  per_outlet=self.settings.emergency_per_outlet, breaker=self.dispatcher.breaker,
                                  probe=True)
        return self._pusher

    def warm_up(self) -> None:
        """Load the audio libraries in the background (about 5 s of imports on a 2-core machine), so the first
        spoken emergency of a long-running process does not wait for them (``loa serve``, ``loa worker``)."""
        def load() -> None:
            from content.render import alerts, audio, loudness  # noqa: F401

            log.info("emergency lane ready: audio libraries loaded")

        threading.Thread(target=load, name="loa-alert-warm-up", daemon=True).start()

    def close(self) -> None:
        if self._pusher is not None:
            self._pusher.close()
            self._pusher = None
        if self._renderer is not None:
            self._renderer.shutdown(wait=True)
            self._renderer = None

    def run(self, now: datetime) -> Counter[str]:
        """Push every emergency delivery due at ``now``; the count of each outcome. A run already under way in
        this process is not waited for (it pushes what is due)."""
        counts: Counter[str] = Counter()
        if not self._lock.acquire(blocking=False):
            return counts
        try:
            with unit_of_work(self.dispatcher.sessions) as session:
                service.expire(session, now)
                fanout.due_repeats(session, now)
            rendering: Future[None] | None = None
            while True:
                if rendering is None or rendering.done():
                    if rendering is not None:
                        rendering.result()
                    rendering = self._render_missing(now)
                with unit_of_work(self.dispatcher.sessions) as session:
                    ids = outbox.claim_due(session, now=now, worker=self.worker,
                                           limit=self.settings.emergency_claim_batch,
                                           lease=timedelta(seconds=self.settings.emergency_lease_s))
                if not ids:
                    if rendering is None:
                        return +counts  # without the zero counts
                    rendering.result()
                    rendering = None
                    continue
                try:
                    jobs = self._prepare(ids, now, counts)
                except Exception:  # e.g. the database went away: hand the batch back now, not at the lease's end
                    with unit_of_work(self.dispatcher.sessions) as session:
                        outbox.release(session, ids, until=now, now=now, actor=self.worker)
                    raise
                self._record(self.pusher.push_all(jobs, now), now, counts)
        finally:
            self._lock.release()

    # --- loudspeaker audio, outside any transaction ---------------------------------------------------------

    def _render_missing(self, now: datetime) -> Future[None] | None:
        with unit_of_work(self.dispatcher.sessions) as session:
            waiting = outbox.awaiting_audio(session, now)
        if not waiting:
            return None
        if self._renderer is None:
            self._renderer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loa-alert-audio")
        return self._renderer.submit(self._render, waiting, now)

    def _render(self, emergency_ids: list[int], now: datetime) -> None:
        from content.render.alerts import render_alert

        payloads = self.dispatcher.payloads
        for emergency_id in emergency_ids:
            with unit_of_work(self.dispatcher.sessions) as session:
                emergency = session.get(Emergency, emergency_id)
                assert emergency is not None
                title, text, recording = emergency.title, emergency.text, emergency.audio_path
            try:
                rendered = render_alert(title, text, Path(recording) if recording else None, payloads.render,
                                        abbreviations=payloads.abbreviations)
            except Exception as error:  # its loudspeaker pushes fail below, saying why; boards and portals go on
                log.exception("emergency %s: rendering its audio failed", emergency_id)
                self._fail_loudspeakers(emergency_id, f"rendering its audio failed: {type(error).__name__}: {error}",
                                        now)
                continue
            with unit_of_work(self.dispatcher.sessions) as session:
                emergency = session.get(Emergency, emergency_id)
                assert emergency is not None
                if emergency.speech_sha256 is None:
                    service.store_speech(session, emergency, rendered.path, rendered.sha256, rendered.duration_s)

    def _fail_loudspeakers(self, emergency_id: int, reason: str, now: datetime) -> None:
        with unit_of_work(self.dispatcher.sessions) as session:
            for delivery in session.scalars(select(EmergencyDelivery).where(
                    EmergencyDelivery.emergency_id == emergency_id, EmergencyDelivery.outlet == "loudspeaker",
                    EmergencyDelivery.state == DeliveryState.PENDING)):
                outbox.record_final(session, delivery, DeliveryState.DEAD, reason=reason, now=now, actor=self.worker)

    # --- inside one transaction: check, build or load, store ------------------------------------------------

    def _prepare(self, ids: list[str], now: datetime, counts: Counter[str]) -> list[Job]:
        jobs: list[Job] = []
        stored: list[dict[str, object]] = []
        checked: dict[int, Exception | None] = {}
        with unit_of_work(self.dispatcher.sessions) as session:
            deliveries = session.scalars(select(EmergencyDelivery).where(EmergencyDelivery.id.in_(ids)).options(
                joinedload(EmergencyDelivery.emergency), joinedload(EmergencyDelivery.station))).all()
            order = {delivery_id: position for position, delivery_id in enumerate(ids)}
            for delivery in sorted(deliveries, key=lambda d: order[d.id]):
                emergency = delivery.emergency
                if emergency.id not in checked:
                    try:
                        service.check_sealed(session, emergency)
                        checked[emergency.id] = None
                    except IntegrityError as error:
                        checked[emergency.id] = error
                try:
                    with session.begin_nested():
                        if (error := checked[emergency.id]) is not None:
                            raise error
                        if delivery.kind == fanout.ALERT and emergency.state != EmergencyState.ACTIVE:
                            outbox.record_final(session, delivery, fanout.CANCELLED, now=now, actor=self.worker,
                                                reason=f"the emergency is {emergency.state}")
                            counts[fanout.CANCELLED] += 1
                            continue
                        if delivery.payload is None:
                            payload = self._build(delivery, emergency)
                            document = {"delivery": snapshot.dump(payload)}
                            stored.append({"prepared_id": delivery.id, "new_payload": document,
                                           "new_seal": seals.seal_payload(session, delivery.id, document)})
                        else:
                            seals.check_payload(session, delivery.id, delivery.payload, delivery.payload_seal)
                            payload = snapshot.load(delivery.payload["delivery"])
                        key = self.dispatcher.outlet_key(delivery.station.code, delivery.outlet)
                        channel = self.dispatcher.channel(delivery.station.code, delivery.outlet)
                except Exception as refusal:  # a seal that does not hold, a station gone, an adapter refusing
                    log.error("ALERT: emergency delivery %s refused: %s", delivery.id, refusal)
                    outbox.record_final(session, delivery, DeliveryState.REFUSED, reason=str(refusal), now=now,
                                        actor=self.worker, integrity=isinstance(refusal, IntegrityError))
                    counts[DeliveryState.REFUSED] += 1
                    continue
                jobs.append(Job(delivery.id, key, channel, payload, attempt=delivery.attempts))
            outbox.store_payloads(session, stored)
        return jobs

    def _build(self, delivery: EmergencyDelivery, emergency: Emergency) -> channels.Delivery:
        zone = self.dispatcher.payloads.zone
        station = self.dispatcher.stations.get(delivery.station.code)
        if station is None:
            raise KeyError(f"station {delivery.station.code} is no longer in stations.toml")
        ended = delivery.kind == fanout.END  # ran out without an all-clear: taken down, nothing announced
        all_clear = ended or delivery.kind == fanout.ALL_CLEAR
        audio = None
        if delivery.outlet == "loudspeaker" and not all_clear and emergency.speech_sha256 is not None:
            audio = channels.AudioClip(f"emergency-{emergency.id}", emergency.title, Path(emergency.speech_path or ""),
                                       emergency.speech_sha256, emergency.speech_duration_s or 0.0)
        start = delivery.due_at.astimezone(zone)
        until = emergency.until.astimezone(zone) if emergency.until else None
        alert = channels.Alert(ref=f"emergency-{emergency.id}", title=emergency.title, text=emergency.text,
                               issued_at=(emergency.sent_at or emergency.starts_at).astimezone(zone), until=until,
                               all_clear=all_clear, audio=audio,
                               stream_url=None if all_clear else emergency.stream_url, repeat=delivery.repeat,
                               ended=ended)
        return channels.Delivery(id=delivery.id, station_code=station.code, station_name=station.name,
                                 outlet=delivery.outlet, start_at=start,
                                 end_at=start if all_clear else (until or start + OPEN_ENDED),
                                 level="emergency", alert=alert)

    # --- one transaction per batch: the receipts, the retries ------------------------------------------------

    def _record(self, outcomes: list[Outcome], now: datetime, counts: Counter[str]) -> None:
        retry = timedelta(seconds=self.settings.emergency_retry_s)
        with unit_of_work(self.dispatcher.sessions) as session:
            receipts = []
            deferred = []
            failed = []
            for outcome in outcomes:
                job = outcome.job
                if outcome.receipt is not None:
                    receipt = outcome.receipt
                    receipts.append((job.delivery_id, job.payload.outlet, job.attempt, {
                        "location": receipt.location, "status": receipt.status, "remote_id": receipt.remote_id,
                        "details": dict(receipt.details), "at": now.isoformat(), "attempt": job.attempt}))
                elif outcome.deferred_until is not None or outcome.handed_back:
                    deferred.append(job.delivery_id)
                else:
                    failed.append(outcome)
            outbox.record_delivered(session, receipts, now=now, actor=self.worker)
            # an emergency that took over a program it knew (a folder's slot playlist) names the pieces left
            interruptions.record_interruptions(session, [(delivery_id, receipt) for delivery_id, _, _, receipt
                                                         in receipts], now=now, actor=self.worker)
            counts[DeliveryState.DELIVERED] += len(receipts)
            outbox.release(session, deferred, until=now + retry, now=now, actor=self.worker)
            counts["deferred"] += len(deferred)
            if failed:
                session.scalars(select(EmergencyDelivery).where(
                    EmergencyDelivery.id.in_([o.job.delivery_id for o in failed]))).all()
            for outcome in failed:
                delivery = session.get(EmergencyDelivery, outcome.job.delivery_id)
                assert delivery is not None and outcome.error is not None
                state = outbox.record_failure(
                    session, delivery, error=outcome.error, transient=outcome.transient, now=now,
                    max_attempts=self.settings.emergency_max_attempts, base_s=self.settings.emergency_retry_s,
                    rng=self.rng, actor=self.worker, retry_after=outcome.retry_after)
                counts[state] += 1
                log.warning("emergency delivery %s failed (%s): %s", delivery.id, state, outcome.error)
