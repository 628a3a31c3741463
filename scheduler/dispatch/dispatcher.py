"""The dispatcher: turns claimed deliveries into channel payloads, checks them, pushes, records.

One run: mark what was missed, then repeatedly claim a batch (one transaction), prepare each
payload (re-check approvals and hashes; build it on the first attempt and store it, reuse the
stored one on a retry), push the batch concurrently, and record every outcome in one transaction.
The next batch is claimed and prepared while the current one is being pushed.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

import channels
from channels import snapshot
from content.config import RenderSettings
from content.db import unit_of_work
from content.errors import IntegrityError, NotFound
from content.media import find_media
from content.models import Revision
from content.pieces import check_airable
from content.render.article import make_article
from content.render.program import ProgramPart, assemble_program
from content.render.renditions import ensure_speech
from content.render.slides import make_slides
from scheduler.config import DispatchSettings, StationSpec
from scheduler.dispatch import outbox
from scheduler.dispatch.breaker import CircuitBreaker
from scheduler.dispatch.pushing import Job, Outcome, Pusher
from scheduler.models import Campaign, Delivery, DeliveryState

log = logging.getLogger(__name__)


@dataclass
class DispatchSummary:
    """How many deliveries ended in each state during one run."""

    counts: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class Refusal(Exception):
    """The delivery must not go out; the message says why."""


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
    ) -> None:
        self.sessions = sessions
        self.stations = stations
        self.render = render
        self.settings = dispatch
        self.zone = zone
        self.worker = worker
        self.abbreviations = dict(abbreviations or {})
        self.rng = rng or random.Random()
        # Adapters (and their HTTP sessions) and breakers are shared by stations with identical options.
        self._channels: dict[str, channels.Channel] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._pusher: Pusher | None = None
        self._background: ThreadPoolExecutor | None = None
        self._memo: dict[object, object] = {}
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

    def close(self) -> None:
        if self._pusher is not None:
            self._pusher.close()
            self._pusher = None
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def run_once(self, now: datetime, *, due_by: datetime | None = None) -> DispatchSummary:
        """Push everything due by ``due_by`` (default ``now``) once; returns what happened."""
        with self._running:
            return self._run_once(now, due_by)

    def _run_once(self, now: datetime, due_by: datetime | None) -> DispatchSummary:
        summary = DispatchSummary()
        with unit_of_work(self.sessions) as session:
            missed = outbox.mark_missed(session, now=now, grace=timedelta(minutes=self.settings.grace_minutes),
                                        actor=self.worker)
        if missed:
            summary.counts[DeliveryState.MISSED] += len(missed)
        for delivery_id in missed:
            log.warning("delivery %s missed its slot", delivery_id)
        if self._background is None:
            self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="loa-batch")
        pushing: Future[list[Outcome]] | None = None
        while True:
            jobs = self._claim_and_prepare(now, due_by or now, summary)
            if pushing is not None:
                self._record(pushing.result(), now, summary)
                pushing = None
            if jobs is None:
                return summary
            pushing = self._background.submit(self.pusher.push_all, jobs, now)

    def push_claimed(self, ids: list[str], now: datetime) -> DispatchSummary:
        """Prepare, push (concurrently) and record deliveries this dispatcher has already claimed.

        For a caller that claims by itself, such as ``loa worker``, which hands back what it has not
        pushed when it is told to stop.
        """
        summary = DispatchSummary()
        with self._running:
            jobs = self._prepare(ids, now, summary)
            if jobs:
                self._record(self.pusher.push_all(jobs, now), now, summary)
        return summary

    def _claim_and_prepare(self, now: datetime, due_by: datetime, summary: DispatchSummary) -> list[Job] | None:
        """Claim the next batch and prepare it; None when nothing more is due."""
        with unit_of_work(self.sessions) as session:
            ids = outbox.claim_due(session, now=now, due_by=due_by, worker=self.worker,
                                   limit=self.settings.claim_batch,
                                   lease=timedelta(minutes=self.settings.lease_minutes))
        if not ids:
            return None
        return self._prepare(ids, now, summary)

    def _prepare(self, ids: list[str], now: datetime, summary: DispatchSummary) -> list[Job]:
        """Check and build (or load) the payload of each claimed delivery, all in one transaction.

        The payloads are committed before anything is pushed, so a crash after a push finds the
        very body that went out. Each delivery has its own savepoint: one that fails is refused
        (or retried, for an unexpected error) without undoing the others.
        """
        jobs = []
        stored: list[dict[str, object]] = []
        with unit_of_work(self.sessions) as session:
            self._memo = {}
            # Held here: the session's identity map keeps loaded objects only while someone refers to them.
            deliveries = {d.id: d for d in session.scalars(
                select(Delivery).where(Delivery.id.in_(ids))
                .options(selectinload(Delivery.airings), joinedload(Delivery.station))).all()}
            for delivery_id in ids:
                delivery = deliveries[delivery_id]
                try:
                    with session.begin_nested():
                        payload, first = self._checked_payload(session, delivery, now)
                        key = self.outlet_key(payload.station_code, payload.outlet)
                        channel = self.channel(payload.station_code, payload.outlet)
                except (Refusal, IntegrityError, channels.ChannelError, KeyError) as refusal:
                    log.error("ALERT: delivery %s refused: %s", delivery_id, refusal)
                    outbox.record_refused(session, delivery, reason=str(refusal), now=now, actor=self.worker)
                    summary.counts[DeliveryState.REFUSED] += 1
                    continue
                except Exception as error:  # e.g. rendering failed: try again later, like a transient error
                    log.exception("delivery %s could not be prepared", delivery_id)
                    state = outbox.record_failure(
                        session, delivery, error=f"preparing failed: {type(error).__name__}: {error}",
                        transient=True, now=now, max_attempts=self.settings.max_attempts,
                        base_s=self.settings.retry_base_s, rng=self.rng, max_s=self.settings.retry_max_s,
                        actor=self.worker)
                    summary.counts[state] += 1
                    continue
                stored_payload = first if first is not None else delivery.payload or {}
                if first is not None:
                    stored.append({"prepared_id": delivery_id, "new_payload": first})
                jobs.append(Job(delivery_id, key, channel, payload, attempt=delivery.attempts,
                                skipped=tuple(stored_payload.get("skipped", []))))
            # New payloads are written together, and committed with the batch before anything is pushed.
            outbox.store_payloads(session, stored)
        return jobs

    def _checked_payload(self, session: Session, delivery: Delivery,
                         now: datetime) -> tuple[channels.Delivery, dict[str, object] | None]:
        """The payload to send: the stored one on a retry (after re-checking it), else built now and
        returned with the document to store (the second item, None on a retry)."""
        if delivery.payload is None:
            payload, skipped = self._payload(session, delivery, now)
            moment = now if delivery.outlet == "board" else max(now, delivery.start_at)
            included = sorted({a.revision_id for a in delivery.airings
                               if not a.removed and self._airable(session, a.revision_id, moment) is None})
            return payload, {"delivery": snapshot.dump(payload), "revisions": included, "skipped": skipped}
        moment = now if delivery.outlet == "board" else max(now, delivery.start_at)
        for revision_id in delivery.payload.get("revisions", []):
            reason = self._airable(session, revision_id, moment)  # raises on tampering
            if reason:
                raise Refusal(f"{reason} since the first attempt; the program as first pushed must not go out "
                              "again (re-plan and retry to push the rest)")
        return snapshot.load(delivery.payload["delivery"]), None

    def _airable(self, session: Session, revision_id: int, moment: datetime) -> str | None:
        """``check_airable``, asked once per revision and moment within one prepared batch."""
        key = ("airable", revision_id, moment)
        if key not in self._memo:
            self._memo[key] = check_airable(session, revision_id, moment)  # raises on tampering: not kept
        reason = self._memo[key]
        assert reason is None or isinstance(reason, str)
        return reason

    def _revision(self, session: Session, revision_id: int) -> Revision:
        """The revision, loaded once per prepared batch (and held, so the session does not forget it)."""
        key = ("revision", revision_id)
        if key not in self._memo:
            self._memo[key] = session.get(Revision, revision_id)
        revision = self._memo[key]
        assert isinstance(revision, Revision)
        return revision

    def _campaign_names(self, session: Session) -> dict[str, str]:
        if "campaigns" not in self._memo:
            self._memo["campaigns"] = dict(session.execute(select(Campaign.code, Campaign.name)).all())
        names = self._memo["campaigns"]
        assert isinstance(names, dict)
        return names

    def _record(self, outcomes: list[Outcome], now: datetime, summary: DispatchSummary) -> None:
        """Write every outcome of a batch in one transaction: the receipts and their audit entries in bulk."""
        deferred: dict[datetime, list[str]] = {}
        delivered: list[Outcome] = []
        failed: list[Outcome] = []
        for outcome in outcomes:
            if outcome.deferred_until is not None:
                deferred.setdefault(outcome.deferred_until, []).append(outcome.job.delivery_id)
                summary.counts["deferred"] += 1
            elif outcome.receipt is not None:
                delivered.append(outcome)
            else:
                failed.append(outcome)
        with unit_of_work(self.sessions) as session:
            receipts = []
            for outcome in delivered:
                job, receipt = outcome.job, outcome.receipt
                assert receipt is not None
                receipts.append((job.delivery_id, job.payload.outlet, job.attempt, {
                    "location": receipt.location, "status": receipt.status, "remote_id": receipt.remote_id,
                    "details": dict(receipt.details), "skipped": list(job.skipped),
                    "at": now.isoformat(), "attempt": job.attempt,
                }))
                log.info("delivered %s %s to %s", job.payload.outlet, job.delivery_id, receipt.location)
            outbox.record_delivered_many(session, receipts, now=now, actor=self.worker)
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
                outbox.release(session, ids, until=until, now=now)

    def _image(self, revision: Revision) -> Path | None:
        """The uploaded image approved with ``revision`` (its SHA-256 is covered by the content hash)."""
        if not revision.image_sha256 or self.render.media_dir is None:
            return None
        try:
            return find_media(self.render.media_dir, revision.image_sha256)
        except NotFound as gone:  # the approved image was deleted from disk: refuse rather than push less
            raise Refusal(f"piece {revision.piece_id}: its approved image is missing: {gone}") from gone

    def _payload(self, session: Session, delivery: Delivery, now: datetime) -> tuple[channels.Delivery, list[str]]:
        station = self.stations.get(delivery.station.code)
        if station is None:
            raise Refusal(f"station {delivery.station.code} is no longer in stations.toml")
        moment = now if delivery.outlet == "board" else max(now, delivery.start_at)
        names = self._campaign_names(session)
        revisions: list[Revision] = []
        skipped: list[str] = []
        for airing in delivery.airings:
            if airing.removed:
                continue
            reason = self._airable(session, airing.revision_id, moment)  # raises on tampering
            if reason:
                skipped.append(reason)
                continue
            revision = self._revision(session, airing.revision_id)
            revisions.append(revision)
        if not revisions:
            raise Refusal("nothing approved is left to push" + (f": {'; '.join(skipped)}" if skipped else ""))
        for reason in skipped:
            log.warning("delivery %s: left out a piece: %s", delivery.id, reason)
        clips, slides, articles = [], [], []
        for revision in revisions:
            ref = f"piece-{revision.piece_id}-r{revision.number}"
            campaign = names.get(revision.campaign or "", "")
            if delivery.outlet == "loudspeaker":
                rendition = ensure_speech(session, revision, self.render, now=now,
                                          abbreviations=self.abbreviations)
                clips.append(channels.AudioClip(ref, revision.title, Path(rendition.path), rendition.sha256,
                                                rendition.duration_s))
            elif delivery.outlet == "board":
                options = station.board
                chars, seconds = getattr(options, "slide_chars", 280), getattr(options, "slide_seconds", 15)
                until = revision.valid_until.astimezone(self.zone) if revision.valid_until else None
                image = self._image(revision)
                slides.extend(channels.Slide(f"{ref}-{n}", part.text, part.seconds, revision.title, campaign,
                                             image_path=image if n == 1 else None, valid_until=until)
                              for n, part in enumerate(make_slides(revision.body, max_chars=chars,
                                                                   seconds=seconds), start=1))
            else:
                article = make_article(revision.body)
                articles.append(channels.Article(ref, revision.title, article.html, article.summary, campaign,
                                                 image_path=self._image(revision)))
        start_at = delivery.start_at.astimezone(self.zone)
        program = None
        if clips:
            built = assemble_program([ProgramPart(c.title, c.path, c.sha256) for c in clips], self.render,
                                     station=station.name, day=start_at.date(),
                                     title=f"{station.name} {start_at:%H:%M %d/%m/%Y}")
            program = channels.AudioClip(f"program-{delivery.id}", f"{station.name} {start_at:%H:%M}",
                                         built.path, built.sha256, built.duration_s)
        payload = channels.Delivery(
            id=delivery.id, station_code=station.code, station_name=station.name, outlet=delivery.outlet,
            start_at=start_at, end_at=delivery.end_at.astimezone(self.zone),
            clips=tuple(clips), slides=tuple(slides), articles=tuple(articles), program=program,
        )
        return payload, skipped
