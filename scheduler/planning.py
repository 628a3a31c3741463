"""Re-plans the coming days: reads what is airable and stored, runs the planner, writes the
changed programs and their deliveries in one transaction (the outbox pattern)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from content import audit
from content.config import RenderSettings
from content.models import Revision
from content.pieces import airable_revisions
from content.render.renditions import ensure_speech
from content.render.slides import make_slides
from scheduler import calendar
from scheduler.catalog import load_rules
from scheduler.config import StationSpec
from scheduler.models import Airing, Delivery, DeliveryState, Station
from scheduler.planner import (
    Candidate,
    Existing,
    InstanceKey,
    PlanInputs,
    PlannedItem,
    Unplaced,
    key_of,
    plan,
)

log = logging.getLogger(__name__)
#: Told (done, total) as candidates are measured; rendering speech is the slow part of a plan.
Progress = Callable[[int, int], None]


@dataclass
class PlanChanges:
    """What a re-plan did, for the editor: counts, and what could not be placed and why."""

    first_day: date
    last_day: date
    instances: int = 0
    programs_changed: int = 0
    airings_added: int = 0
    airings_dropped: int = 0
    deliveries_created: int = 0
    deliveries_deleted: int = 0
    unplaced: list[Unplaced] = field(default_factory=list)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["first_day"], data["last_day"] = self.first_day.isoformat(), self.last_day.isoformat()
        return data


def board_profile(spec: StationSpec) -> tuple[int, int] | None:
    """(characters per slide, seconds per slide) of a station's board, or None without a board."""
    options = spec.board
    if options is None:
        return None
    return int(getattr(options, "slide_chars", 280)), int(getattr(options, "slide_seconds", 15))


def _candidates(session: Session, revisions: Sequence[Revision], render: RenderSettings,
                profiles: set[tuple[int, int]], now: datetime,
                abbreviations: Mapping[str, str], progress: Progress | None = None) -> list[Candidate]:
    out = []
    for done, revision in enumerate(revisions):
        if progress:
            progress(done, len(revisions))
        seconds: dict[str, float] = {}
        if "loudspeaker" in revision.channels:
            try:
                seconds["loudspeaker"] = ensure_speech(session, revision, render, now=now,
                                                       abbreviations=abbreviations).duration_s
            except Exception:  # one bad piece must not stop the plan; it is reported unplaced
                log.exception("could not render revision %s for planning", revision.id)
        if "board" in revision.channels:
            for chars, per_slide in profiles:
                slides = make_slides(revision.body, max_chars=chars, seconds=per_slide)
                seconds[f"board:{chars}/{per_slide}"] = float(sum(s.seconds for s in slides))
        out.append(Candidate(
            piece_id=revision.piece_id, revision_id=revision.id, title=revision.title,
            campaign=revision.campaign, channels=frozenset(revision.channels),
            valid_from=revision.valid_from, valid_until=revision.valid_until,
            priority=revision.priority, urgent=revision.urgent, seconds=seconds,
        ))
    if progress:
        progress(len(revisions), len(revisions))
    return out


def replan(
    session: Session,
    *,
    now: datetime,
    zone: ZoneInfo,
    days: int,
    render: RenderSettings,
    stations: Sequence[StationSpec],
    lead_minutes: int,
    blackout: Sequence[date] = (),
    first_day: date | None = None,
    abbreviations: Mapping[str, str] | None = None,
    actor: str = "system",
    progress: Progress | None = None,
) -> PlanChanges:
    """Recompute the plan from ``first_day`` (default: today) for ``days`` days.

    Delivered, in-flight and failed deliveries are never touched; pinned airings stay;
    removed airings stay removed.
    """
    first_day = first_day or now.astimezone(zone).date()
    changes = PlanChanges(first_day, first_day + timedelta(days=days - 1))
    station_rules, slot_rules, campaigns = load_rules(session)
    instances = [
        instance for instance in calendar.instances(slot_rules, station_rules, first_day=first_day, days=days,
                                                    zone=zone, blackout=blackout)
        if instance.end_at > now
    ]
    changes.instances = len(instances)
    station_ids = dict(session.execute(select(Station.code, Station.id)).all())

    profiles = {spec.code: profile for spec in stations if (profile := board_profile(spec))}
    candidates = _candidates(session, airable_revisions(session), render, set(profiles.values()), now,
                             abbreviations or {}, progress)

    window_start = min((i.start_at for i in instances), default=now)
    stored: dict[InstanceKey, Delivery] = {}
    rows = session.execute(
        select(Delivery, Station.code).join(Station).where(Delivery.start_at >= window_start)
    ).all()
    existing: dict[InstanceKey, Existing] = {}
    for delivery, code in rows:
        key = (code, delivery.outlet, delivery.start_at)
        stored[key] = delivery
        live = [a for a in delivery.airings if not a.removed]
        # A delivery already attempted keeps its program: its stored payload is what retries re-send.
        frozen = delivery.state != DeliveryState.PENDING or delivery.payload is not None
        existing[key] = Existing(
            frozen=frozen,
            items=tuple(PlannedItem(a.piece_id, a.revision_id, a.campaign, a.seconds, a.pinned)
                        for a in live if frozen or a.pinned),
            removed=frozenset(a.piece_id for a in delivery.airings if a.removed),
        )
    replanned = {key for key, d in stored.items() if d.state == DeliveryState.PENDING and d.payload is None}
    published = frozenset(
        (code, piece_id)
        for code, outlet, start, piece_id in session.execute(
            select(Station.code, Delivery.outlet, Delivery.start_at, Airing.piece_id)
            .join(Delivery, Airing.delivery_id == Delivery.id).join(Station)
            .where(Delivery.outlet == "portal", Airing.removed.is_(False))
        )
        if (code, outlet, start) not in replanned
    )
    result = plan(PlanInputs(
        instances=instances, candidates=candidates, campaigns=campaigns, existing=existing,
        published=published, board_profiles={code: f"{c}/{s}" for code, (c, s) in profiles.items()},
        gap_s=render.audio.gap_s,
    ))
    changes.unplaced = result.unplaced

    lead = timedelta(minutes=lead_minutes)
    by_key = {key_of(instance): instance for instance in instances}
    new_deliveries: list[dict] = []
    new_airings: list[dict] = []
    for key, items in result.programs.items():
        delivery = stored.get(key)
        fresh = [item for item in items if not item.pinned]
        if delivery is not None:
            current = [(a.piece_id, a.revision_id) for a in delivery.airings if not a.removed and not a.pinned]
            if current == [(i.piece_id, i.revision_id) for i in fresh]:
                continue
            changes.airings_dropped += len(current)
            session.execute(delete(Airing).where(Airing.delivery_id == delivery.id, Airing.pinned.is_(False),
                                                 Airing.removed.is_(False)))
            delivery_id = delivery.id
            delivery.updated_at = now
        else:
            if not items:
                continue
            instance = by_key[key]
            delivery_id = uuid.uuid4().hex
            new_deliveries.append(dict(
                id=delivery_id, station_id=station_ids[instance.station_code], outlet=instance.outlet,
                slot_name=instance.slot_name, start_at=instance.start_at, end_at=instance.end_at,
                due_at=instance.start_at - lead, state=DeliveryState.PENDING, attempts=0,
                created_at=now, updated_at=now,
            ))
        changes.programs_changed += 1
        offset = sum(1 for item in items if item.pinned)
        for position, item in enumerate(fresh, start=offset):
            new_airings.append(dict(delivery_id=delivery_id, position=position, piece_id=item.piece_id,
                                    revision_id=item.revision_id, campaign=item.campaign,
                                    seconds=item.seconds, pinned=False, removed=False))
        changes.airings_added += len(fresh)

    # Pending deliveries whose instance is gone (slot removed, blackout) or left empty.
    for key in replanned:
        delivery = stored[key]
        gone = key not in result.programs
        empty = not result.programs.get(key) and not any(a.removed for a in delivery.airings)
        if gone or empty:
            session.delete(delivery)
            changes.deliveries_deleted += 1
    session.flush()
    if new_deliveries:
        session.execute(insert(Delivery), new_deliveries)
    if new_airings:
        session.execute(insert(Airing), new_airings)
    changes.deliveries_created = len(new_deliveries)
    audit.record(session, actor=actor, action="plan.change", subject="plan", at=now, details={
        key: value for key, value in changes.to_dict().items() if key != "unplaced"
    })
    return changes
