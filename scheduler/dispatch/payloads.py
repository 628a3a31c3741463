"""Builds what a delivery pushes: its pieces checked at the outlet's moment, then spoken clips, jingles
and the assembled program, or slides, or articles.

Speech synthesis and program assembly are slow, so :meth:`Payloads.render_ahead` does them first with
no transaction open; building the payload inside the dispatcher's transaction then only reads what is
stored (a rendition or program still missing there is :class:`NotReady`, never rendered under the lock).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload, sessionmaker

import channels
from channels import snapshot
from content import seals
from content.config import RenderSettings
from content.db import unit_of_work
from content.errors import NotFound
from content.media import find_media
from content.models import Rendition, Revision
from content.render.article import make_article
from content.render.program import Jingle, ProgramPart, assemble_program, find_program, program_jingles
from content.render.renditions import find_speech, render_speech
from content.render.slides import make_slides
from scheduler.config import RelaySpec, StationSpec
from scheduler.dispatch.batch import Batch
from scheduler.models import Airing, Delivery, DeliveryState
from scheduler.outlets import RULES, Form, Outlet, SlideProfile, rules_of
from scheduler.planning.succession import predecessors

log = logging.getLogger(__name__)


class Refusal(Exception):
    """The delivery must not go out; the message says why."""


class NotReady(Exception):
    """A speech rendition or the assembled program is not stored (the program changed after it was
    rendered ahead); the delivery is prepared again, after rendering, instead of rendering here."""


@dataclass(frozen=True)
class Contents:
    """What a delivery's payload is made of: its station and the approved revisions that may go out."""

    station: StationSpec
    revisions: tuple[Revision, ...]
    skipped: tuple[str, ...]  # why each left-out piece is left out


class Payloads:
    """Payloads of first attempts, and the stored payloads of retries re-checked."""

    def __init__(self, *, stations: Mapping[str, StationSpec], render: RenderSettings, zone: ZoneInfo,
                 abbreviations: Mapping[str, str] | None = None,
                 relays: Mapping[str, Sequence[RelaySpec]] | None = None) -> None:
        self.stations = stations
        #: The live programs each slot relays, by slot name, from schedule.toml (never from the database, so a
        #: database writer cannot point a slot at another stream); the payload that carries them is sealed.
        self.relays = dict(relays or {})
        self.render = render
        self.zone = zone
        self.abbreviations = dict(abbreviations or {})

    def contents(self, batch: Batch, delivery: Delivery, now: datetime) -> Contents:
        """The station and revisions of ``delivery`` that may go out, checked at its outlet's moment;
        Refusal when nothing may."""
        station = self.stations.get(delivery.station.code)
        if station is None:
            raise Refusal(f"station {delivery.station.code} is no longer in stations.toml")
        moment = rules_of(delivery.outlet).check_moment(now, delivery.start_at)
        revisions: list[Revision] = []
        skipped: list[str] = []
        for airing in delivery.airings:
            if airing.removed:
                continue
            reason = batch.airable(airing.revision_id, moment)  # raises on tampering
            if reason:
                skipped.append(reason)
            else:
                revisions.append(batch.revision(airing.revision_id))
        if not revisions and not self.relays.get(delivery.slot_name):  # a relay goes out without pieces
            raise Refusal("nothing approved is left to push" + (f": {'; '.join(skipped)}" if skipped else ""))
        return Contents(station, tuple(revisions), tuple(skipped))

    # --- before the transaction: the slow part --------------------------------------------------------

    def render_ahead(self, sessions: sessionmaker[Session], ids: Sequence[str], now: datetime) -> dict[str, str]:
        """Render the speech and assemble the programs the first push of these deliveries needs, with no
        transaction open while it runs (on SQLite one would hold the only write lock). Returns the
        deliveries whose rendering failed, with the error; those that cannot be built for another
        reason are left to :meth:`checked`, which says why."""
        spoken = [str(outlet) for outlet, rules in RULES.items() if rules.form is Form.SPEECH]
        wanted: dict[str, tuple[Delivery, Contents]] = {}
        with unit_of_work(sessions) as session:
            batch = Batch(session)
            for delivery in session.scalars(
                    select(Delivery).where(Delivery.id.in_(ids), Delivery.payload.is_(None),
                                           Delivery.outlet.in_(spoken))
                    .options(selectinload(Delivery.airings), joinedload(Delivery.station))).all():
                try:
                    wanted[delivery.id] = (delivery, self.contents(batch, delivery, now))
                except Exception:  # refused, or failing, when prepared: it says why there
                    continue
        if not wanted:
            return {}
        renditions = render_speech(sessions, [r.id for _, c in wanted.values() for r in c.revisions], self.render,
                                   now=now, abbreviations=self.abbreviations)
        failed: dict[str, str] = {}
        for delivery_id, (delivery, contents) in wanted.items():
            try:
                found = [renditions[revision.id] for revision in contents.revisions]
                for error in found:
                    if isinstance(error, Exception):
                        raise error
                clips = self._clips(contents.revisions, [r for r in found if isinstance(r, Rendition)])
                if clips:  # a program that only relays a live stream has nothing to assemble
                    self._program(delivery, contents.station, clips, build=True)
            except Exception as error:
                log.error("delivery %s: rendering its program failed: %s", delivery_id, error)
                failed[delivery_id] = f"rendering failed: {type(error).__name__}: {error}"
        return failed

    # --- inside the transaction: from what is stored ----------------------------------------------------

    def checked(self, batch: Batch, delivery: Delivery,
                now: datetime) -> tuple[channels.Delivery, dict[str, object] | None]:
        """The payload to send: the stored one on a retry (after re-checking its pieces), else built now
        from stored renditions and returned with the document to store (the second item, None on a retry)."""
        moment = rules_of(delivery.outlet).check_moment(now, delivery.start_at)
        if delivery.payload is None:
            contents = self.contents(batch, delivery, now)
            payload = self.build(batch, delivery, contents)
            included = sorted({revision.id for revision in contents.revisions})
            return payload, {"delivery": snapshot.dump(payload), "revisions": included,
                             "skipped": list(contents.skipped)}
        seals.check_payload(batch.session, delivery.id, delivery.payload, delivery.payload_seal)  # raises
        for revision_id in delivery.payload.get("revisions", []):
            reason = batch.airable(revision_id, moment)  # raises on tampering
            if reason:
                raise Refusal(f"{reason} since the first attempt; the program as first pushed must not go out "
                              "again (re-plan and retry to push the rest)")
        return snapshot.load(delivery.payload["delivery"]), None

    def build(self, batch: Batch, delivery: Delivery, contents: Contents) -> channels.Delivery:
        """The channel payload of ``contents``, in the form of the delivery's outlet."""
        station, form = contents.station, rules_of(delivery.outlet).form
        for reason in contents.skipped:
            log.warning("delivery %s: left out a piece: %s", delivery.id, reason)
        start_at = delivery.start_at.astimezone(self.zone)
        payload = channels.Delivery(id=delivery.id, station_code=station.code, station_name=station.name,
                                    outlet=delivery.outlet, start_at=start_at,
                                    end_at=delivery.end_at.astimezone(self.zone),
                                    replaces=predecessors(batch.session, delivery))
        if form is Form.SPEECH:
            renditions = [find_speech(batch.session, revision, self.render) for revision in contents.revisions]
            if any(rendition is None for rendition in renditions):
                raise NotReady(f"delivery {delivery.id}: a speech rendition is not stored yet")
            for revision, rendition in zip(contents.revisions, renditions, strict=True):
                assert rendition is not None
                seals.check_rendition(batch.session, rendition, revision)  # raises when redirected
            clips = self._clips(contents.revisions, [r for r in renditions if r is not None])
            streams = streams_of(self.relays.get(delivery.slot_name, ()), len(clips))
            if not clips:  # only the relay: no program to assemble, and no jingles (the planner counts none)
                return replace(payload, streams=streams)
            intro, outro = program_jingles(self.render)
            return replace(payload, clips=clips, program=self._program(delivery, station, clips, build=False),
                           intro=_jingle(intro, "intro", "Nhạc hiệu mở đầu"),
                           outro=_jingle(outro, "outro", "Nhạc hiệu kết thúc"), streams=streams)
        names = batch.campaign_names()
        if form is Form.SLIDES:
            profile = rules_of(delivery.outlet).slides or SlideProfile()
            chars, seconds = profile.of(station.outlet(delivery.outlet))
            return replace(payload, slides=tuple(
                slide for revision in contents.revisions
                for slide in self._slides(revision, names.get(revision.campaign or "", ""), chars, seconds)))
        addresses = portal_addresses(batch.session, delivery.station_id, contents.revisions) \
            if rules_of(delivery.outlet).links_portal else {}
        articles = []
        for revision in contents.revisions:
            image = self._image(revision)
            articles.append(article_of(revision, names.get(revision.campaign or "", ""), image,
                                       portal=on_portal(station, revision), portal_url=addresses.get(ref_of(revision)),
                                       feed_image=self._feed_image(revision, image)))
        return replace(payload, articles=tuple(articles))

    # --- the parts --------------------------------------------------------------------------------------

    @staticmethod
    def _clips(revisions: Sequence[Revision], renditions: Sequence[Rendition]) -> tuple[channels.AudioClip, ...]:
        return tuple(channels.AudioClip(_ref(revision), revision.title, Path(rendition.path), rendition.sha256,
                                        rendition.duration_s)
                     for revision, rendition in zip(revisions, renditions, strict=True))

    def _program(self, delivery: Delivery, station: StationSpec, clips: Sequence[channels.AudioClip], *,
                 build: bool) -> channels.AudioClip:
        """The whole program as one MP3: assembled (slow, ffmpeg) when ``build``, else looked up."""
        start = delivery.start_at.astimezone(self.zone)
        parts = [ProgramPart(clip.title, clip.path, clip.sha256) for clip in clips]
        where = dict(station=station.name, day=start.date(), title=f"{station.name} {start:%H:%M %d/%m/%Y}")
        built = assemble_program(parts, self.render, **where) if build else find_program(parts, self.render, **where)
        if built is None:
            raise NotReady(f"delivery {delivery.id}: its program is not assembled yet")
        return channels.AudioClip(f"program-{delivery.id}", f"{station.name} {start:%H:%M}", built.path,
                                  built.sha256, built.duration_s)

    def _slides(self, revision: Revision, campaign: str, chars: int, seconds: int) -> list[channels.Slide]:
        until = revision.valid_until.astimezone(self.zone) if revision.valid_until else None
        image = self._image(revision)
        return [channels.Slide(f"{_ref(revision)}-{n}", part.text, part.seconds, revision.title, campaign,
                               image_path=image if n == 1 else None, valid_until=until)
                for n, part in enumerate(make_slides(revision.body, max_chars=chars, seconds=seconds), start=1)]

    def _image(self, revision: Revision) -> Path | None:
        """The uploaded image approved with ``revision`` (its SHA-256 is covered by the content hash)."""
        if not revision.image_sha256 or self.render.media_dir is None:
            return None
        try:
            return find_media(self.render.media_dir, revision.image_sha256)
        except NotFound as gone:  # the approved image was deleted from disk: refuse rather than push less
            raise Refusal(f"piece {revision.piece_id}: its approved image is missing: {gone}") from gone

    def _feed_image(self, revision: Revision, image: Path | None) -> channels.Picture | None:
        """``image`` as a feed encloses it: its rendition ``FEED_IMAGE_WIDTH`` pixels wide, made once (the one
        loa's web app serves the feeds' readers)."""
        if image is None or not revision.image_sha256:
            return None
        from PIL import Image

        from channels.portal.feed_media import FEED_IMAGE_WIDTH
        from content.render.images import image_rendition

        path = image_rendition(image, revision.image_sha256, FEED_IMAGE_WIDTH, self.render.renditions_dir)
        with Image.open(path) as picture:
            width, height = picture.size
        return channels.Picture(path, width, height, "image/png" if path.suffix == ".png" else "image/jpeg")


def article_of(revision: Revision, campaign_name: str, image: Path | None, *, portal: bool = True,
               portal_url: str | None = None, feed_image: channels.Picture | None = None) -> channels.Article:
    """What a portal, social or print outlet is handed of ``revision``: its sanitised article (``portal``: whether
    it is also published on the station's portal, for a social post to link to; ``portal_url``: that article's
    address, when the portal's push recorded it; ``feed_image``: the image as feeds enclose it)."""
    article = make_article(revision.body)
    return channels.Article(_ref(revision), revision.title, article.html, article.summary, campaign_name,
                            image_path=image, slogan=revision.slogan, portal=portal,
                            portal_url=portal_url if portal else None, feed_image=feed_image)


def portal_addresses(session: Session, station_id: int, revisions: Sequence[Revision]) -> dict[str, str]:
    """The address each of ``revisions`` has on the station's portal, by article ref, as the receipt of the portal
    delivery that published it recorded (``details.posts[]``: a WordPress post's ``ref`` and ``link``); the latest
    standing push wins. A revision the portal has not published yet (its slot comes later, or its push is still
    failing) has none: the post then takes its outlet's ``link_template``, since a WordPress post's address is
    only known once WordPress has answered (its slug comes from the portal delivery's id, which a re-plan may
    change before it goes out)."""
    if not revisions:
        return {}
    rows = session.execute(
        select(Delivery.id, Delivery.receipt).join(Airing, Airing.delivery_id == Delivery.id)
        .where(Airing.revision_id.in_([revision.id for revision in revisions]), Airing.removed.is_(False),
               Delivery.station_id == station_id, Delivery.outlet == str(Outlet.PORTAL),
               Delivery.state == DeliveryState.DELIVERED, Delivery.withdraws.is_(None),
               Delivery.superseded_at.is_(None), Delivery.receipt.is_not(None))
        .order_by(Delivery.delivered_at, Delivery.id))
    receipts = dict(rows.all())  # one per delivery (it holds several of the pieces), in the order they went out
    refs = {ref_of(revision) for revision in revisions}
    found: dict[str, str] = {}
    for receipt in receipts.values():
        for post in ((receipt or {}).get("details") or {}).get("posts") or ():
            ref, link = post.get("ref"), post.get("link")
            if ref in refs and isinstance(link, str) and link.startswith(("http://", "https://")):
                found[ref] = link
    return found


def on_portal(station: StationSpec, revision: Revision) -> bool:
    """Whether ``revision`` is also published on ``station``'s portal (the station has one and the revision's
    channels name it): a social post links to the portal article only then."""
    return station.portal is not None and "portal" in (revision.channels or ())


def streams_of(relays: Sequence[RelaySpec], clips: int) -> tuple[channels.Stream, ...]:
    """The live programs of a slot as the channel items of a program of ``clips`` pieces, each at its place."""
    def position(relay: RelaySpec) -> int:
        if relay.position == "first":
            return 0
        return clips if relay.position == "last" else min(int(relay.position), clips)
    return tuple(channels.Stream(relay.url, relay.name, float(relay.length_s), position(relay)) for relay in relays)


def ref_of(revision: Revision) -> str:
    """The ref of ``revision``'s article, clips and slides in a payload: ``piece-12-r2``."""
    return f"piece-{revision.piece_id}-r{revision.number}"


_ref = ref_of


_REF = re.compile(r"^piece-(\d+)-r\d+")


def piece_of(ref: str) -> int | None:
    """The piece an article, clip or slide ``ref`` made by this module belongs to (None for a jingle's)."""
    match = _REF.match(ref)
    return int(match[1]) if match else None


def _jingle(jingle: Jingle | None, ref: str, title: str) -> channels.AudioClip | None:
    return None if jingle is None else channels.AudioClip(ref, title, jingle.path, jingle.sha256, jingle.duration_s)
