"""The dispatcher: turns claimed deliveries into channel payloads, checks them, pushes, records."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import channels
from content.config import RenderSettings
from content.db import unit_of_work
from content.errors import IntegrityError
from content.models import Revision
from content.pieces import check_airable
from content.render.article import make_article
from content.render.program import ProgramPart, assemble_program
from content.render.renditions import ensure_speech
from content.render.slides import make_slides
from scheduler import outbox
from scheduler.config import DispatchSettings, StationSpec
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
        self._channels: dict[tuple[str, str], channels.Channel] = {}

    def channel(self, station_code: str, outlet: str) -> channels.Channel:
        key = (station_code, outlet)
        if key not in self._channels:
            options = self.stations[station_code].outlet(outlet)
            if options is None:
                raise Refusal(f"station {station_code} has no {outlet} in stations.toml")
            self._channels[key] = channels.open_channel(f"{outlet}.{options.type}", options)
        return self._channels[key]

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

    def run_once(self, now: datetime, *, due_by: datetime | None = None) -> DispatchSummary:
        """Push everything due by ``due_by`` (default ``now``) once; returns what happened."""
        summary = DispatchSummary()
        with unit_of_work(self.sessions) as session:
            missed = outbox.mark_missed(session, now=now, grace=timedelta(minutes=self.settings.grace_minutes),
                                        actor=self.worker)
        if missed:
            summary.counts[DeliveryState.MISSED] += len(missed)
        for delivery_id in missed:
            log.warning("delivery %s missed its slot", delivery_id)
        while True:
            with unit_of_work(self.sessions) as session:
                ids = outbox.claim_due(session, now=now, due_by=due_by or now, worker=self.worker,
                                       limit=self.settings.claim_batch,
                                       lease=timedelta(minutes=self.settings.lease_minutes))
            if not ids:
                return summary
            for delivery_id in ids:
                summary.counts[self.push(delivery_id, now)] += 1

    def push(self, delivery_id: str, now: datetime) -> str:
        """Build, check and push one claimed delivery; returns its new state."""
        with unit_of_work(self.sessions) as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            try:
                payload, skipped = self._payload(session, delivery, now)
            except (Refusal, IntegrityError) as refusal:
                log.error("ALERT: delivery %s refused: %s", delivery_id, refusal)
                outbox.record_refused(session, delivery, reason=str(refusal), now=now, actor=self.worker)
                return DeliveryState.REFUSED
            channel = self.channel(payload.station_code, payload.outlet)
        try:
            receipt = channel.deliver(payload)
        except channels.ChannelError as error:
            transient = isinstance(error, channels.TransientError)
            retry_after = getattr(error, "retry_after", None)
            message = f"{type(error).__name__}: {error}"
        except Exception as error:  # an adapter bug must not kill the dispatcher; retry it like a transient
            log.exception("channel %s crashed on delivery %s", payload.outlet, delivery_id)
            transient, retry_after, message = True, None, f"{type(error).__name__}: {error}"
        else:
            with unit_of_work(self.sessions) as session:
                delivery = session.get(Delivery, delivery_id)
                assert delivery is not None
                outbox.record_delivered(session, delivery, now=now, actor=self.worker, receipt={
                    "location": receipt.location, "status": receipt.status, "remote_id": receipt.remote_id,
                    "details": dict(receipt.details), "skipped": skipped, "at": now.isoformat(),
                })
            log.info("delivered %s %s to %s", payload.outlet, delivery_id, receipt.location)
            return DeliveryState.DELIVERED
        with unit_of_work(self.sessions) as session:
            delivery = session.get(Delivery, delivery_id)
            assert delivery is not None
            state = outbox.record_failure(
                session, delivery, error=message, transient=transient, now=now,
                max_attempts=self.settings.max_attempts, base_s=self.settings.retry_base_s, rng=self.rng,
                actor=self.worker, retry_after=retry_after)
        log.warning("delivery %s failed (%s): %s", delivery_id, state, message)
        return state

    def _payload(self, session: Session, delivery: Delivery, now: datetime) -> tuple[channels.Delivery, list[str]]:
        station = self.stations.get(delivery.station.code)
        if station is None:
            raise Refusal(f"station {delivery.station.code} is no longer in stations.toml")
        moment = now if delivery.outlet == "board" else max(now, delivery.start_at)
        names = dict(session.execute(select(Campaign.code, Campaign.name)).all())
        revisions: list[Revision] = []
        skipped: list[str] = []
        for airing in delivery.airings:
            if airing.removed:
                continue
            reason = check_airable(session, airing.revision_id, moment)  # raises on tampering
            if reason:
                skipped.append(reason)
                continue
            revision = session.get(Revision, airing.revision_id)
            assert revision is not None
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
                slides.extend(channels.Slide(f"{ref}-{n}", part.text, part.seconds, revision.title, campaign,
                                             valid_until=until)
                              for n, part in enumerate(make_slides(revision.body, max_chars=chars,
                                                                   seconds=seconds), start=1))
            else:
                article = make_article(revision.body)
                articles.append(channels.Article(ref, revision.title, article.html, article.summary, campaign))
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
