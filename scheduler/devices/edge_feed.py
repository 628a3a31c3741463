"""What an enrolled edge device may pull: its outlet's published programs or board rotations (re-checked: approved,
sealed), the emergencies in force for its station, the files they play, and the as-played records it sends back.

A program is *published* for the device when the outbox delivered it through the ``edge`` channel: its payload is
stored sealed on the delivery (``Delivery.payload``), exactly as any other outlet's. Each pull re-checks it as the
dispatcher re-checks a retry: the payload's seal, and every piece still approved and valid at the program's moment;
a program that fails is withheld (and said why), never listed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from channels import snapshot
from content import seals
from content.errors import InputError, IntegrityError
from scheduler.dispatch.batch import Batch
from scheduler.emergencies import service as emergencies
from scheduler.models import AsPlayed, Delivery, DeliveryState, EdgeDevice, Emergency, EmergencyState
from scheduler.outlets import rules_of

log = logging.getLogger(__name__)
#: The most days ahead a device may ask for at once.
MAX_DAYS = 14
#: How long after an all-clear a device still sees the cleared emergency (to stop its repeats and say so).
CLEARED_SHOWN = timedelta(hours=1)
#: Renders (or finds) the all-clear message of an emergency: ``(path, sha256, duration_s)``, or None when none can be.
AllClearAudio = Callable[[Emergency], tuple[Path, str, float] | None]


@dataclass(frozen=True)
class Item:
    """One file of a program or emergency, as a device fetches and plays it."""

    delivery_id: str
    item: str
    title: str
    sha256: str
    duration_s: float
    path: Path

    def public(self) -> dict[str, Any]:
        return {"item": self.item, "title": self.title, "sha256": self.sha256, "duration_s": round(self.duration_s, 3)}


@dataclass
class Feed:
    """A device's programs, emergencies and withheld programs, and every file they may fetch (by SHA-256)."""

    programs: list[dict[str, Any]] = field(default_factory=list)
    #: A board outlet's rotations: slides (text, seconds, image by SHA-256) whose images are the ``items``.
    rotations: list[dict[str, Any]] = field(default_factory=list)
    emergencies: list[dict[str, Any]] = field(default_factory=list)
    withheld: list[dict[str, str]] = field(default_factory=list)
    files: dict[str, Item] = field(default_factory=dict)


def _program_items(delivery: Delivery, payload: dict[str, Any]) -> list[Item]:
    pushed = snapshot.load(payload["delivery"])
    clips = [c for c in (pushed.intro, *pushed.clips, pushed.outro) if c is not None]
    return [Item(delivery.id, clip.ref, clip.title, clip.sha256.lower(), clip.duration_s, Path(clip.path))
            for clip in clips]


def _rotation(delivery: Delivery, payload: dict[str, Any]) -> tuple[dict[str, Any], list[Item]]:
    """A board rotation as the ``http`` board's payload has it, each slide image named by the SHA-256 it was approved
    with (``content.media`` stores an upload as ``<sha256>.<ext>``, the hash covered by the content hash)."""
    pushed = snapshot.load(payload["delivery"])
    slides, items = [], []
    for slide in pushed.slides:
        sha = None
        if slide.image_path is not None:
            sha = Path(slide.image_path).stem.lower()
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise IntegrityError("slide {ref}: its image is not named by its SHA-256", ref=slide.ref)
            items.append(Item(delivery.id, slide.ref, slide.title, sha, 0.0, Path(slide.image_path)))
        slides.append({"ref": slide.ref, "title": slide.title, "campaign": slide.campaign, "text": slide.text,
                       "seconds": slide.seconds, "image_sha256": sha,
                       "valid_until": slide.valid_until.isoformat() if slide.valid_until else None})
    entry = {"delivery_id": delivery.id, "start_at": delivery.start_at.isoformat(),
             "end_at": delivery.end_at.isoformat(), "slides": slides}
    return entry, items


def published(session: Session, device: EdgeDevice, *, now: datetime, days: int,
              all_clear_audio: AllClearAudio | None = None) -> Feed:
    """The programs of ``device``'s outlet delivered for it that end after ``now`` and start within ``days``."""
    days = max(1, min(days, MAX_DAYS))
    feed = Feed()
    query = (select(Delivery).where(Delivery.station_id == device.station_id, Delivery.outlet == device.outlet,
                                    Delivery.state == DeliveryState.DELIVERED, Delivery.superseded_at.is_(None),
                                    Delivery.withdraws.is_(None), Delivery.payload.is_not(None),
                                    Delivery.end_at > now, Delivery.start_at < now + timedelta(days=days))
             .order_by(Delivery.start_at))
    batch = Batch(session)
    for delivery in session.scalars(query):
        assert delivery.payload is not None
        try:
            seals.check_payload(session, delivery.id, delivery.payload, delivery.payload_seal)
            moment = rules_of(delivery.outlet).check_moment(now, delivery.start_at)
            reasons = [r for r in (batch.airable(rid, moment) for rid in delivery.payload.get("revisions", [])) if r]
            rotation = _rotation(delivery, delivery.payload) if device.outlet == "board" else None
        except IntegrityError as error:
            log.error("delivery %s withheld from edge %s: %s", delivery.id, device.id, error)
            feed.withheld.append({"delivery_id": delivery.id, "reason": "integrity: " + str(error)})
            continue
        if reasons:
            feed.withheld.append({"delivery_id": delivery.id, "reason": "; ".join(reasons)})
            continue
        if rotation is not None:
            entry, items = rotation
            feed.files.update((item.sha256, item) for item in items)
            feed.rotations.append({**entry, "items": [i.public() for i in items]})
            continue
        items = _program_items(delivery, delivery.payload)
        for item in items:
            feed.files[item.sha256] = item
        feed.programs.append({"delivery_id": delivery.id, "start_at": delivery.start_at.isoformat(),
                              "end_at": delivery.end_at.isoformat(), "items": [i.public() for i in items]})
    feed.emergencies, emergency_files = in_force(session, device, now=now, all_clear_audio=all_clear_audio)
    feed.files.update(emergency_files)
    return feed


def in_force(session: Session, device: EdgeDevice, *, now: datetime, all_clear_audio: AllClearAudio | None = None,
             ) -> tuple[list[dict[str, Any]], dict[str, Item]]:
    """The emergencies under way for ``device``'s station (``scheduler.emergencies.service.active``) and those cleared
    within :data:`CLEARED_SHOWN` (``cleared``: repeats stop, the all-clear message plays), sealed ones only, with the
    files of their speech and all-clear."""
    code = device.station.code
    found: list[dict[str, Any]] = []
    files: dict[str, Item] = {}
    cleared = session.scalars(select(Emergency).where(Emergency.state == EmergencyState.CLEARED,
                                                      Emergency.cleared_at > now - CLEARED_SHOWN,
                                                      Emergency.cleared_at <= now, Emergency.sent_at.is_not(None))
                              .order_by(Emergency.cleared_at.desc()))
    for emergency in [*emergencies.active(session, now), *cleared]:
        if code not in (emergency.stations or []):
            continue
        try:
            emergencies.check_sealed(session, emergency)
        except IntegrityError as error:
            log.error("emergency %s withheld from edge %s: %s", emergency.id, device.id, error)
            continue
        found.append(_emergency(emergency, files, all_clear_audio))
    return found, files


def _emergency(emergency: Emergency, files: dict[str, Item], all_clear_audio: AllClearAudio | None) -> dict[str, Any]:
    ref = f"emergency-{emergency.id}"
    items = []
    if emergency.speech_sha256 and emergency.speech_path:
        item = Item(ref, "speech", emergency.title, emergency.speech_sha256.lower(), emergency.speech_duration_s or 0.0,
                    Path(emergency.speech_path))
        files[item.sha256] = item
        items.append(item.public())
    cleared = emergency.state == EmergencyState.CLEARED
    all_clear = []
    if cleared and all_clear_audio is not None and (audio := all_clear_audio(emergency)) is not None:
        item = Item(ref, "all_clear", f"Hết cảnh báo: {emergency.title}", audio[1].lower(), audio[2], audio[0])
        files[item.sha256] = item
        all_clear.append(item.public())
    return {"delivery_id": ref, "id": emergency.id, "title": emergency.title, "text": emergency.text,
            "starts_at": emergency.starts_at.isoformat(),
            "until": emergency.until.isoformat() if emergency.until else None,
            "repeat_every_s": emergency.repeat_every_s, "cleared": cleared,
            "cleared_at": emergency.cleared_at.isoformat() if cleared and emergency.cleared_at else None,
            "stream_url": emergency.stream_url, "items": items, "all_clear": all_clear}


# --- as-played records -------------------------------------------------------------------------------------

_RECORD_KEYS = ("seq", "delivery_id", "item", "started_at", "ended_at", "played_s", "complete")


def _record(raw: Any, index: int) -> dict[str, Any]:
    where = f"records[{index}]"
    if not isinstance(raw, dict) or any(key not in raw for key in _RECORD_KEYS):
        raise InputError("a record needs {keys}", where=where, keys=", ".join(_RECORD_KEYS))
    try:
        record = {"seq": int(raw["seq"]), "delivery_id": str(raw["delivery_id"])[:32], "item": str(raw["item"])[:100],
                  "started_at": datetime.fromisoformat(raw["started_at"]),
                  "ended_at": datetime.fromisoformat(raw["ended_at"]),
                  "played_s": float(raw["played_s"]), "complete": bool(raw["complete"])}
    except (TypeError, ValueError) as error:
        raise InputError("a record field is malformed: {error}", where=where, error=str(error)) from None
    if record["started_at"].tzinfo is None or record["ended_at"].tzinfo is None or record["played_s"] < 0:
        raise InputError("times need a zone offset and played_s must not be negative", where=where)
    return record


def store_played(session: Session, device: EdgeDevice, raw_records: Iterable[Any], *, now: datetime) -> int:
    """Keep the device's as-played records; a ``seq`` already stored is ignored (a resend after a lost answer).
    Returns the highest ``seq`` stored for the device (0 when none), which the device may forget up to."""
    records = [_record(raw, n) for n, raw in enumerate(raw_records)]
    if records:
        seqs = [r["seq"] for r in records]
        seen = set(session.scalars(select(AsPlayed.seq).where(AsPlayed.device_id == device.id,
                                                              AsPlayed.seq.in_(seqs))))
        ours = {d for d in session.scalars(select(Delivery.id).where(
            Delivery.id.in_([r["delivery_id"] for r in records]), Delivery.station_id == device.station_id))}
        for record in records:
            if record["seq"] in seen:
                continue
            seen.add(record["seq"])
            if record["delivery_id"] not in ours and not record["delivery_id"].startswith("emergency-"):
                log.warning("edge %s played %s, not a delivery of its station", device.id, record["delivery_id"])
            session.add(AsPlayed(device_id=device.id, received_at=now, **record))
        session.flush()
    top = session.scalar(select(AsPlayed.seq).where(AsPlayed.device_id == device.id)
                         .order_by(AsPlayed.seq.desc()).limit(1))
    return int(top or 0)


def device_of(session: Session, device_id: int) -> EdgeDevice | None:
    return session.scalar(select(EdgeDevice).where(EdgeDevice.id == device_id).options(joinedload(EdgeDevice.station)))
