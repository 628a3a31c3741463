"""Re-plans the coming days: reads what is airable and stored, runs the planner, writes the
changed programs and their deliveries in one transaction (the outbox pattern)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from content import audit
from content.config import RenderSettings
from content.models import Revision
from content.pieces import airable_revisions
from content.render.program import program_overhead_s
from content.render.renditions import ensure_speech
from content.render.slides import make_slides
from scheduler.catalog import load_rules
from scheduler.config import StationSpec
from scheduler.dispatch import notify
from scheduler.models import Airing, Delivery, DeliveryState, Station
from scheduler.outlets import RULES, Form, Outlet, rules_of
from scheduler.planning import calendar
from scheduler.planning.calendar import Instance
from scheduler.planning.changes import AiringKey, PlanChanges, diff
from scheduler.planning.planner import Candidate, Existing, InstanceKey, PlanInputs, PlannedItem, key_of, plan

__all__ = ["PlanChanges", "Progress", "board_profile", "replan"]

log = logging.getLogger(__name__)
#: Told (done, total) as candidates are measured; rendering speech is the slow part of a plan.
Progress = Callable[[int, int], None]


def board_profile(spec: StationSpec) -> tuple[int, int] | None:
    """(characters per slide, seconds per slide) of a station's board, or None without a board."""
    options, slides = spec.board, RULES[Outlet.BOARD].slides
    if options is None or slides is None:
        return None
    return slides.of(options)


def _candidates(session: Session, revisions: Sequence[Revision], render: RenderSettings,
                profiles: set[tuple[int, int]], now: datetime,
                abbreviations: Mapping[str, str], progress: Progress | None = None) -> list[Candidate]:
    out = []
    for done, revision in enumerate(revisions):
        if progress:
            progress(done, len(revisions))
        seconds: dict[str, float] = {}
        for rules in (rules_of(channel) for channel in revision.channels):
            if rules.form is Form.SPEECH:
                try:
                    seconds[rules.duration_key()] = ensure_speech(session, revision, render, now=now,
                                                                  abbreviations=abbreviations).duration_s
                except Exception:  # one bad piece must not stop the plan; it is reported unplaced
                    log.exception("could not render revision %s for planning", revision.id)
            elif rules.form is Form.SLIDES:
                for chars, per_slide in profiles:
                    slides = make_slides(revision.body, max_chars=chars, seconds=per_slide)
                    seconds[rules.duration_key((chars, per_slide))] = float(sum(s.seconds for s in slides))
        out.append(Candidate(
            piece_id=revision.piece_id, revision_id=revision.id, title=revision.title,
            campaign=revision.campaign, channels=frozenset(revision.channels),
            valid_from=revision.valid_from, valid_until=revision.valid_until,
            priority=revision.priority, urgent=revision.urgent, seconds=seconds,
            stations=frozenset(revision.stations),
        ))
    if progress:
        progress(len(revisions), len(revisions))
    return out


def _stored(session: Session, since: datetime, *, fresh: bool = False,
            ) -> tuple[dict[InstanceKey, Delivery], dict[InstanceKey, Existing]]:
    stored: dict[InstanceKey, Delivery] = {}
    existing: dict[InstanceKey, Existing] = {}
    rows = session.execute(select(Delivery, Station.code).join(Station).where(Delivery.start_at >= since)).all()
    for delivery, code in rows:
        key = (code, delivery.outlet, delivery.start_at)
        stored[key] = delivery
        live = [a for a in delivery.airings if not a.removed]
        # A delivery already attempted keeps its program: its stored payload is what retries re-send.
        frozen = delivery.state != DeliveryState.PENDING or delivery.payload is not None

        def item(a: Airing) -> PlannedItem:
            return PlannedItem(a.piece_id, a.revision_id, a.campaign, a.seconds, a.pinned)

        existing[key] = Existing(
            frozen=frozen,
            items=tuple(item(a) for a in live if frozen or a.pinned),
            removed=frozenset(a.piece_id for a in delivery.airings if a.removed),
            kept=() if frozen or fresh else tuple(item(a) for a in live if not a.pinned),
        )
    return stored, existing


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
    overhead_s: float | None = None,
    fresh: bool = False,
) -> PlanChanges:
    """Recompute the plan from ``first_day`` (default: today) for ``days`` days.

    Delivered, in-flight and failed deliveries are never touched; pinned airings stay; removed
    airings stay removed; what the last plan placed stays while it may still air there.
    ``overhead_s`` is the fixed time of every loudspeaker program besides its pieces and the gaps
    between them; by default the jingles as rendered plus the gap after the last piece, since a
    program is laid out ``intro · (piece · gap)… · outro``.
    ``fresh`` recomputes the programs not yet sent as if nothing had been planned (pins and
    removals still hold), for when newly approved pieces should take the room of older ones.
    """
    first_day = first_day or now.astimezone(zone).date()
    if overhead_s is None:
        overhead_s = program_overhead_s(session, render) + render.audio.gap_s
    changes = PlanChanges(first_day, first_day + timedelta(days=days - 1), zone=zone)
    station_rules, slot_rules, campaigns = load_rules(session)
    for rule in sorted(campaigns.values(), key=lambda r: r.code):
        for year in calendar.leap_day_fallbacks(rule, changes.first_day, changes.last_day):
            changes.warnings.append(f"campaign {rule.code!r} ({rule.yearly}): {year} has no 29 February; "
                                    "its window uses 28 February that year")
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
    stored, existing = _stored(session, window_start, fresh=fresh)
    # A pending program whose time has passed is the dispatcher's now (pushed late or marked missed, by
    # its outlet's lateness rule), not the planner's to move or delete.
    replanned = {key for key, d in stored.items()
                 if d.state == DeliveryState.PENDING and d.payload is None and d.end_at > now}
    published = frozenset(
        (code, piece_id)
        for code, outlet, start, piece_id in session.execute(
            select(Station.code, Delivery.outlet, Delivery.start_at, Airing.piece_id)
            .join(Delivery, Airing.delivery_id == Delivery.id).join(Station)
            .where(Delivery.outlet.in_([str(o) for o, rules in RULES.items() if rules.once_per_station]),
                   Airing.removed.is_(False))
        )
        if (code, outlet, start) not in replanned
    )
    result = plan(PlanInputs(
        instances=instances, candidates=candidates, campaigns=campaigns, existing=existing,
        published=published, board_profiles={code: f"{c}/{s}" for code, (c, s) in profiles.items()},
        gap_s=render.audio.gap_s, overhead_s=overhead_s,
    ))
    changes.unplaced = result.unplaced
    changes.shortfalls = result.shortfalls

    before: list[AiringKey] = [(*key, a.piece_id) for key in replanned for a in stored[key].airings if not a.removed]
    after: list[AiringKey] = [(*key, item.piece_id) for key, items in result.programs.items() for item in items]
    titles = {c.piece_id: c.title for c in candidates}
    gone = {piece for *_, piece in before} - titles.keys()
    if gone:
        titles.update(session.execute(select(Revision.piece_id, Revision.title)
                                      .where(Revision.piece_id.in_(gone)).order_by(Revision.number)).all())
    changes.record(diff(before, after, titles))
    _write(session, changes, result.programs, stored, replanned,
           {key_of(instance): instance for instance in instances}, station_ids, now, timedelta(minutes=lead_minutes))
    audit.record(session, actor=actor, action="plan.change", subject="plan", at=now, details=changes.counts())
    if changes.deliveries_created or changes.programs_changed:
        notify.outbox_changed(session)  # wakes the workers when this commits
    return changes


def _write(session: Session, changes: PlanChanges, programs: Mapping[InstanceKey, list[PlannedItem]],
           stored: Mapping[InstanceKey, Delivery], replanned: set[InstanceKey], by_key: Mapping[InstanceKey, Instance],
           station_ids: Mapping[str, int], now: datetime, lead: timedelta) -> None:
    """Store the changed programs and their deliveries with bulk inserts, in the caller's transaction."""
    new_deliveries: list[dict] = []
    filled: list[tuple[str, list[PlannedItem]]] = []  # programs whose unpinned airings are (re)written
    for key, items in programs.items():
        delivery = stored.get(key)
        if delivery is not None:
            instance = by_key[key]
            if (delivery.end_at, delivery.slot_name) != (instance.end_at, instance.slot_name):  # the slot changed
                delivery.end_at, delivery.slot_name, delivery.updated_at = instance.end_at, instance.slot_name, now
            live = [a for a in delivery.airings if not a.removed]
            if [(a.piece_id, a.revision_id, a.pinned) for a in live] == [
                    (i.piece_id, i.revision_id, i.pinned) for i in items]:
                continue
            session.execute(delete(Airing).where(Airing.delivery_id == delivery.id, Airing.pinned.is_(False),
                                                 Airing.removed.is_(False)))
            pinned = {a.piece_id: a for a in live if a.pinned}
            for position, item in enumerate(items):
                if item.pinned and item.piece_id in pinned:
                    pinned[item.piece_id].position = position
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
        filled.append((delivery_id, items))

    # Pending deliveries whose instance is gone (slot removed, blackout) or left empty.
    for key in replanned:
        delivery = stored[key]
        if key not in programs or (not programs[key] and not any(a.removed for a in delivery.airings)):
            session.delete(delivery)
            changes.deliveries_deleted += 1
    session.flush()
    if new_deliveries:
        session.execute(insert(Delivery), new_deliveries)
    rows = (dict(delivery_id=delivery_id, position=position, piece_id=item.piece_id, revision_id=item.revision_id,
                 campaign=item.campaign, seconds=item.seconds, pinned=False, removed=False)
            for delivery_id, items in filled for position, item in enumerate(items) if not item.pinned)
    while chunk := list(islice(rows, 20_000)):  # a province plans millions of rows: bounded memory
        session.execute(insert(Airing), chunk)
    changes.deliveries_created = len(new_deliveries)
