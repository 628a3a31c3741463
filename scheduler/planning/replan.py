"""Re-plans the coming days: reads what is airable and stored, runs the planner, writes the
changed programs and their deliveries in one transaction (the outbox pattern)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit, scope
from content.bulk import insert_rows
from content.centres import tree_of
from content.config import RenderSettings
from content.models import Piece, Revision
from content.pieces import airable_revisions
from content.render.program import program_overhead_s
from content.render.renditions import find_speech
from content.render.slides import make_slides
from scheduler.bulletins import planning as sent_down
from scheduler.catalog import load_rules
from scheduler.config import StationSpec
from scheduler.dispatch import notify
from scheduler.models import Airing, Delivery, DeliveryState, Station, new_delivery_id
from scheduler.outlets import RULES, Form, Outlet, rules_of
from scheduler.planning import calendar, succession
from scheduler.planning import stored as stored_rows
from scheduler.planning.calendar import Instance
from scheduler.planning.changes import AiringKey, HeldPin, PlanChanges, diff
from scheduler.planning.planner import Candidate, Existing, InstanceKey, PlanInputs, PlannedItem, key_of, plan
from scheduler.planning.planner_types import Held
from scheduler.planning.stored import StoredAiring, StoredProgram

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
    tree = tree_of(session)
    # A piece of a centre below the root airs only on its subtree's stations, ``*`` included.
    centre_of = {} if tree.implicit else {piece: centre for piece, centre in session.execute(
        select(Piece.id, Piece.centre).where(Piece.centre.is_not(None), Piece.centre != tree.root))}
    for done, revision in enumerate(revisions):
        if progress:
            progress(done, len(revisions))
        seconds: dict[str, float] = {}
        for rules in (rules_of(channel) for channel in revision.channels):
            if rules.form is Form.SPEECH:
                # Measured from the stored rendition only: speech is rendered before the plan's write
                # transaction (scheduler.planning.prerender). Without one the piece is reported unmeasured.
                rendition = find_speech(session, revision, render)
                if rendition is None:
                    log.warning("revision %s has no speech rendered; it is not placed on loudspeakers", revision.id)
                else:
                    seconds[rules.duration_key()] = rendition.duration_s
            elif rules.form is Form.SLIDES:
                for chars, per_slide in profiles:
                    slides = make_slides(revision.body, max_chars=chars, seconds=per_slide)
                    seconds[rules.duration_key((chars, per_slide))] = float(sum(s.seconds for s in slides))
        out.append(Candidate(
            piece_id=revision.piece_id, revision_id=revision.id, title=revision.title,
            campaign=revision.campaign, channels=frozenset(revision.channels),
            valid_from=revision.valid_from, valid_until=revision.valid_until,
            priority=revision.priority, level=revision.level, seconds=seconds,
            stations=scope.airs_on(tree, revision.stations, centre_of.get(revision.piece_id)),
        ))
    if progress:
        progress(len(revisions), len(revisions))
    return out


def _stored(session: Session, since: datetime, until: datetime, now: datetime, *, fresh: bool = False,
            ) -> tuple[dict[InstanceKey, StoredProgram], dict[InstanceKey, Existing]]:
    """The programs stored for instances starting in [since, until): those beyond the window are not this
    re-plan's to change (a re-plan of one day keeps the days after it)."""
    stored: dict[InstanceKey, StoredProgram] = {}
    existing: dict[InstanceKey, Existing] = {}
    for code, program in stored_rows.read(session, since, until):
        key = (code, program.outlet, program.start_at)
        stored[key] = program
        live = [a for a in program.airings if not a.removed]
        # A delivery already attempted keeps its program: its stored payload is what retries re-send;
        # unless its outlet follows the day (a running board rotation), then a changed one is pushed again.
        frozen = succession.attempted(program) and not succession.replaceable(program, now)

        def item(a: StoredAiring) -> PlannedItem:
            return PlannedItem(a.piece_id, a.revision_id, a.campaign, a.seconds, a.pinned,
                               Held.of(a.held) if a.held else None)

        held = [a for a in program.airings if a.removed and a.pinned and a.held]  # pins tried again
        existing[key] = Existing(
            frozen=frozen,
            items=tuple(item(a) for a in live if frozen or a.pinned) + (() if frozen else tuple(map(item, held))),
            removed=frozenset(a.piece_id for a in program.airings if a.removed and a not in held),
            kept=() if frozen or fresh else tuple(item(a) for a in live if not a.pinned),
        )
    return stored, existing


def _within(station: str, outlet: str, stations: Collection[str] | None, outlets: Collection[str] | None) -> bool:
    return (stations is None or station in stations) and (outlets is None or outlet in outlets)


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
    stations_only: Collection[str] | None = None,
    outlets_only: Collection[str] | None = None,
) -> PlanChanges:
    """Recompute the plan from ``first_day`` (default: today) for ``days`` days.

    Delivered, in-flight and failed deliveries are never touched; pinned airings stay; removed
    airings stay removed; what the last plan placed stays while it may still air there.
    ``overhead_s`` is the fixed time of every loudspeaker program besides its pieces and the gaps
    between them; by default the jingles as rendered plus the gap after the last piece, since a
    program is laid out ``intro · (piece · gap)… · outro``.
    ``fresh`` recomputes the programs not yet sent as if nothing had been planned (pins and
    removals still hold), for when newly approved pieces should take the room of older ones.
    ``stations_only`` / ``outlets_only`` limit the re-plan to those programs (the rest is left as it is).
    Speech is measured from stored renditions, never synthesised here (this runs in a write
    transaction): render first with :func:`scheduler.planning.prerender.render_airable`.
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
        if instance.end_at > now and _within(instance.station_code, instance.outlet, stations_only, outlets_only)
    ]
    changes.instances = len(instances)
    station_ids = dict(session.execute(select(Station.code, Station.id)).all())

    profiles = {spec.code: profile for spec in stations if (profile := board_profile(spec))}
    candidates = _candidates(session, airable_revisions(session), render, set(profiles.values()), now,
                             abbreviations or {}, progress)
    candidates = sent_down.widen(session, candidates)  # bulletins taken in by communes below the piece's centre

    window_start = min((i.start_at for i in instances), default=now)
    window_end = datetime.combine(changes.last_day + timedelta(days=1), time(0), tzinfo=zone)
    stored, existing = _stored(session, window_start, window_end, now, fresh=fresh)
    stored = {key: d for key, d in stored.items() if _within(key[0], key[1], stations_only, outlets_only)}
    # A pending program whose time has passed is the dispatcher's now (pushed late or marked missed, by
    # its outlet's lateness rule), not the planner's to move or delete.
    replanned = {key for key, d in stored.items()
                 if d.state == DeliveryState.PENDING and not d.has_payload and d.end_at > now}
    published = frozenset(
        (code, piece_id, outlet)
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
    changes.leading = [(c.piece_id, c.title) for c in result.leading]
    changes.shortfalls = result.shortfalls

    running = {key for key, d in stored.items() if succession.replaceable(d, now)}
    before: list[AiringKey] = [(*key, a.piece_id) for key in replanned | running
                               for a in stored[key].airings if not a.removed]
    after: list[AiringKey] = [(*key, item.piece_id) for key, items in result.programs.items() for item in items
                              if item.held is None]
    titles = {c.piece_id: c.title for c in candidates}
    held = [(key, item) for key, items in result.programs.items() for item in items if item.held is not None]
    gone = ({piece for *_, piece in before} | {item.piece_id for _, item in held}) - titles.keys()
    if gone:
        titles.update(session.execute(select(Revision.piece_id, Revision.title)
                                      .where(Revision.piece_id.in_(gone)).order_by(Revision.number)).all())
    changes.record(diff(before, after, titles))
    changes.held = [HeldPin(code, outlet, start, item.piece_id, titles.get(item.piece_id, f"piece {item.piece_id}"),
                            item.held) for (code, outlet, start), item in sorted(held, key=lambda pair: pair[0])
                    if item.held is not None]
    specs = {spec.code: spec for spec in stations}

    def lead(station: str, outlet: str) -> timedelta:
        spec = specs.get(station)
        return spec.lead(outlet, lead_minutes) if spec is not None else timedelta(minutes=lead_minutes)

    _write(session, changes, result.programs, stored, replanned,
           {key_of(instance): instance for instance in instances}, station_ids, now, lead, actor)
    audit.record(session, actor=actor, action="plan.change", subject="plan", at=now, details=changes.counts())
    if changes.deliveries_created or changes.programs_changed:
        notify.outbox_changed(session)  # wakes the workers when this commits
    return changes


def _write(session: Session, changes: PlanChanges, programs: Mapping[InstanceKey, list[PlannedItem]],
           stored: Mapping[InstanceKey, StoredProgram], replanned: set[InstanceKey],
           by_key: Mapping[InstanceKey, Instance], station_ids: Mapping[str, int], now: datetime,
           lead: Callable[[str, str], timedelta], actor: str) -> None:
    """Store the changed programs and their deliveries with bulk inserts, in the caller's transaction; each is due
    ``lead(station, outlet)`` before its start."""
    new_deliveries: list[dict] = []
    filled: list[tuple[str, list[PlannedItem]]] = []  # programs whose unpinned airings are (re)written
    for key, items in programs.items():
        program = stored.get(key)
        if program is not None and succession.replaceable(program, now):  # pushed, and still on screen
            if _changed(program, items, by_key[key]) and items:
                succession.supersede(session, session.get_one(Delivery, program.id), items,
                                     end_at=by_key[key].end_at, slot_name=by_key[key].slot_name, now=now,
                                     actor=actor)
                changes.programs_changed += 1
                changes.deliveries_superseded += 1
            continue
        if program is not None:
            instance = by_key[key]
            if (program.end_at, program.slot_name) != (instance.end_at, instance.slot_name):  # the slot changed
                stored_rows.update_program(session, program.id, end_at=instance.end_at,
                                           slot_name=instance.slot_name, updated_at=now)
            due_at = instance.start_at - lead(instance.station_code, instance.outlet)
            if key in replanned and program.due_at != due_at:  # the outlet's lead changed
                stored_rows.update_program(session, program.id, due_at=due_at, updated_at=now)
            live = [a for a in program.airings if not a.removed]
            held = [a for a in program.airings if a.removed and a.pinned and a.held]
            if [(a.piece_id, a.revision_id, a.pinned) for a in live] == [
                    (i.piece_id, i.revision_id, i.pinned) for i in items if i.held is None] and \
                    [(a.piece_id, a.revision_id, a.held) for a in held] == [
                    (i.piece_id, i.revision_id, i.held.to_dict()) for i in items if i.held is not None]:
                continue
            stored_rows.delete_unpinned(session, program.id)
            pinned = {a.piece_id: a for a in live + held if a.pinned}
            for position, item in enumerate(items):
                if item.pinned and item.piece_id in pinned:  # a pin follows its piece: revision, length, held
                    stored_rows.update_airing(
                        session, pinned[item.piece_id].id, position=position, revision_id=item.revision_id,
                        campaign=item.campaign, seconds=item.seconds, removed=item.held is not None,
                        held=item.held.to_dict() if item.held else None)
            delivery_id = program.id
            stored_rows.update_program(session, program.id, updated_at=now)
        else:
            if not items and not by_key[key].relays_s:  # a slot that relays a live program airs without pieces
                continue
            instance = by_key[key]
            delivery_id = new_delivery_id()
            new_deliveries.append(dict(
                id=delivery_id, station_id=station_ids[instance.station_code], outlet=instance.outlet,
                slot_name=instance.slot_name, start_at=instance.start_at, end_at=instance.end_at,
                due_at=instance.start_at - lead(instance.station_code, instance.outlet),
                state=DeliveryState.PENDING, attempts=0,
                created_at=now, updated_at=now,
            ))
        changes.programs_changed += 1
        filled.append((delivery_id, items))

    # Pending deliveries whose instance is gone (slot removed, blackout) or left empty.
    emptied = [stored[key].id for key in replanned
               if key not in programs or (not programs[key] and not any(a.removed for a in stored[key].airings)
                                          and not by_key[key].relays_s)]
    stored_rows.delete_programs(session, emptied)
    changes.deliveries_deleted += len(emptied)
    session.flush()
    insert_rows(session, Delivery.__table__, new_deliveries)
    insert_rows(session, Airing.__table__, (
        dict(delivery_id=delivery_id, position=position, piece_id=item.piece_id, revision_id=item.revision_id,
             campaign=item.campaign, seconds=item.seconds, pinned=False, removed=False, held=None)
        for delivery_id, items in filled for position, item in enumerate(items) if not item.pinned))
    changes.deliveries_created = len(new_deliveries)


def _changed(program: StoredProgram, items: Sequence[PlannedItem], instance: Instance) -> bool:
    """Whether a stored program differs from the planned ``items`` or its slot changed."""
    live = [(a.piece_id, a.revision_id, a.pinned) for a in program.airings if not a.removed]
    return (live != [(i.piece_id, i.revision_id, i.pinned) for i in items]
            or (program.end_at, program.slot_name) != (instance.end_at, instance.slot_name))
