"""What a revision, or a planned social or print program, becomes on those outlets, made by the outlets' own
adapters: each platform's post, and the first page of the bulletin (or poster) as a PNG cached by its content."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import channels
from channels import snapshot
from channels.social.common import Post, marker
from content import scope
from content.config import RenderSettings
from content.errors import ConfigError
from content.models import Revision
from scheduler.config import StationSpec
from scheduler.dispatch.batch import Batch
from scheduler.dispatch.payloads import Contents, Payloads, Refusal, article_of, on_portal, ref_of
from scheduler.models import Delivery

#: How wide the first page is drawn: twice a 360 px card, sharp on a phone's screen.
PAGE_WIDTH = 720
#: Changes when the drawing changes, so that pages drawn before are not taken for new ones.
DRAWING = "1"
#: The delivery id a preview stands for: the marker that ends a real post differs, its length does not.
PREVIEW_ID = "preview"


@dataclass(frozen=True)
class SocialPreview:
    """One platform's post of a revision, as the outlet of ``station`` (the first of that kind) would send it."""

    kind: str  # "facebook", "zalo" or "viber"
    station: str  # the commune's name
    post: Post
    revision_id: int  # whose image the card shows


@dataclass(frozen=True)
class PrintPreview:
    """The first page of what a print outlet makes of a revision: ``what`` is "bulletin" or "poster"; ``key``
    addresses its PNG (the same edition, the same key)."""

    what: str
    station: str
    key: str


def stations_of(revision: Revision, stations: Sequence[StationSpec], outlet: str) -> list[StationSpec]:
    """The stations ``revision`` targets that have ``outlet``, when the revision goes to that outlet at all."""
    if outlet not in revision.channels:
        return []
    codes = set(revision.stations)
    return [s for s in stations if (scope.ALL in codes or s.code in codes) and s.outlet(outlet) is not None]


def social_posts(revision: Revision, stations: Sequence[StationSpec], campaign_name: str,
                 image: Path | None) -> list[SocialPreview]:
    """One post per social kind among the revision's stations, composed by the kind's adapter."""
    article = article_of(revision, campaign_name, image)
    tag = marker(PREVIEW_ID, article.ref)
    previews: dict[str, SocialPreview] = {}
    for station in stations_of(revision, stations, "social"):
        options = station.outlet("social")
        kind = str(options.type)
        if kind in previews:
            continue
        channel = channels.open_channel(f"social.{kind}", options)
        try:
            post = channel.compose(replace(article, portal=on_portal(station, revision)), tag)  # no portal: no link
            previews[kind] = SocialPreview(kind, station.name, post, revision.id)
        finally:
            channel.close()
    return list(previews.values())


def _editions(revision: Revision, stations: Sequence[StationSpec], campaign_name: str, *, now: datetime,
              zone: ZoneInfo) -> tuple[StationSpec, dict[str, Any]] | None:
    """The first print station of ``revision`` and what its outlet makes of the revision alone this week:
    ``{"bulletin": edition}``, plus ``"poster"`` when it makes a poster of it (a slogan)."""
    targets = stations_of(revision, stations, "print")
    if not targets:
        return None
    station = targets[0]
    options = station.outlet("print")
    channel = channels.open_channel(f"print.{options.type}", options)
    day = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = day - timedelta(days=day.weekday())
    delivery = channels.Delivery(id=PREVIEW_ID, station_code=station.code, station_name=station.name,
                                 outlet="print", start_at=monday, end_at=monday + timedelta(days=7),
                                 articles=(article_of(revision, campaign_name, None),))
    return station, _made(channel, delivery, dated=False)


def _made(channel: Any, delivery: channels.Delivery, *, dated: bool = True) -> dict[str, Any]:
    """What a print ``channel`` makes of ``delivery``: ``{"bulletin": edition}``, plus ``"poster"`` when some of
    its pieces are slogans; with ``dated`` False the edition carries no date of making (a piece's preview is
    the same page all week)."""
    edition = channel.edition(delivery)
    if not dated:
        edition = replace(edition, made_at=None)
    made = {"bulletin": edition}
    slogans = channel.slogans(edition)
    if slogans.pieces:
        made["poster"] = slogans
    return made


def print_previews(revision: Revision, stations: Sequence[StationSpec], campaign_name: str, *, now: datetime,
                   zone: ZoneInfo) -> list[PrintPreview]:
    """The pages a print outlet would make of ``revision``: a one-piece bulletin for its first station with a
    print outlet, dated this week, and its A3 poster when that outlet makes one of it. Nothing is drawn here."""
    found = _editions(revision, stations, campaign_name, now=now, zone=zone)
    if found is None:
        return []
    station, made = found
    return [PrintPreview(what, station.name, _key(what, edition)) for what, edition in made.items()]


def print_page_png(revision: Revision, stations: Sequence[StationSpec], campaign_name: str, what: str, *,
                   now: datetime, zone: ZoneInfo, cache_dir: Path) -> Path | None:
    """The PNG of the first page of the ``what`` :func:`print_previews` lists, drawn once and kept under
    ``cache_dir/print`` by its content; None when the revision has no such page."""
    found = _editions(revision, stations, campaign_name, now=now, zone=zone)
    if found is None or what not in found[1]:
        return None
    return _drawn(what, found[1][what], cache_dir)


def _drawn(what: str, edition: Any, cache_dir: Path) -> Path:
    """The PNG of the first page of ``edition`` (a bulletin, or the ``poster`` sheet), drawn the first time."""
    from channels.print import layout
    from channels.print.poster import render_posters
    from channels.print.preview import first_page_png

    key = _key(what, edition)
    path = cache_dir / "print" / key[:2] / f"{key}.png"
    if path.is_file():
        return path
    try:
        pdf, _pages = (render_posters if what == "poster" else layout.render)(edition)
    except FileNotFoundError as missing:  # the fonts, as the print outlet itself says
        raise ConfigError("a font file of the printed bulletin is missing ({missing}); install fonts-noto-core",
                          missing=str(missing)) from missing
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".png")
    with os.fdopen(handle, "wb") as out:
        out.write(first_page_png(pdf, PAGE_WIDTH))
    os.replace(temporary, path)  # atomic: two requests drawing it at once both leave a whole file
    return path


def _key(what: str, edition: Any) -> str:
    """The content address of a drawn page: what it is, how it is drawn, and everything the edition prints."""
    document = json.dumps({"what": what, "drawing": DRAWING, "width": PAGE_WIDTH, "edition": snapshot.dump(edition)},
                          sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(document.encode()).hexdigest()


# --- a planned program of a social or print outlet (the calendar's preview) ------------------------------------

@dataclass(frozen=True)
class ProgramOutput:
    """What a social or print program pushes: ``station`` (its settings), ``payload`` (the channel delivery) and
    the revision id of each article ref in it (the cards show the revision's image)."""

    station: StationSpec
    payload: channels.Delivery
    revisions: Mapping[str, int]


def program_output(session: Any, delivery: Delivery, stations: Sequence[StationSpec], *, render: RenderSettings,
                   zone: ZoneInfo) -> ProgramOutput:
    """The payload of a social or print ``delivery``: the one stored at its first push when it was pushed (what
    went out), else the one the dispatcher's payload builder makes now of its planned pieces (the plan: nothing is
    checked against the clock). Refusal when its station left stations.toml or an approved image is missing."""
    by_code = {s.code: s for s in stations}
    station = by_code.get(delivery.station.code)
    if station is None or station.outlet(delivery.outlet) is None:
        raise Refusal(f"station {delivery.station.code} has no {delivery.outlet} outlet in stations.toml any more")
    batch = Batch(session)
    revisions = tuple(batch.revision(a.revision_id) for a in delivery.airings if not a.removed)
    refs = {ref_of(revision): revision.id for revision in revisions}
    if delivery.payload is not None:
        return ProgramOutput(station, snapshot.load(delivery.payload["delivery"]), refs)
    payloads = Payloads(stations=by_code, render=render, zone=zone)
    payload = payloads.build(batch, delivery, Contents(station, revisions, ()))
    return ProgramOutput(station, payload, refs)


def program_posts(output: ProgramOutput) -> list[SocialPreview]:
    """Each article of a social program as its outlet's adapter posts it, marker included."""
    options = output.station.outlet("social")
    kind = str(options.type)
    channel = channels.open_channel(f"social.{kind}", options)
    try:
        return [SocialPreview(kind, output.station.name,
                              channel.compose(article, marker(output.payload.id, article.ref)),
                              output.revisions.get(article.ref, 0))
                for article in output.payload.articles]
    finally:
        channel.close()


def _program_made(output: ProgramOutput) -> dict[str, Any]:
    options = output.station.outlet("print")
    channel = channels.open_channel(f"print.{options.type}", options)
    try:
        return _made(channel, output.payload) if output.payload.articles else {}
    finally:
        channel.close()


def program_pages(output: ProgramOutput) -> list[PrintPreview]:
    """The first pages a print program makes: the week's bulletin, and the slogan posters when it has slogans.
    Nothing is drawn here."""
    return [PrintPreview(what, output.station.name, _key(what, edition))
            for what, edition in _program_made(output).items()]


def program_page_png(output: ProgramOutput, what: str, cache_dir: Path) -> Path | None:
    """The PNG of the first page of the ``what`` :func:`program_pages` lists (drawn once per content); None when
    the program makes no such page."""
    made = _program_made(output)
    return _drawn(what, made[what], cache_dir) if what in made else None
