"""Keeps the stations, campaigns and slots tables in step with the configuration files."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from content.centre_config import CentreSpec
from content.centres import sync_centres
from scheduler.config import CampaignSpec, SlotSpec, StationSpec, relays_seconds
from scheduler.models import Campaign, Slot, Station
from scheduler.planning.calendar import CampaignRule, SlotRule, StationRule


@dataclass(frozen=True)
class SyncReport:
    stations: int
    campaigns: int
    slots: int
    changed: tuple[str, ...]


def _upsert(session: Session, model: type, key: str, rows: dict[str, dict]) -> list[str]:
    changed = []
    existing = {getattr(row, key): row for row in session.scalars(select(model))}
    for code, values in rows.items():
        row = existing.get(code)
        if row is None:
            session.add(model(**{key: code}, **values))
            changed.append(f"added {model.__tablename__[:-1]} {code}")
            continue
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
                changed.append(f"changed {model.__tablename__[:-1]} {code}: {name}")
    return changed


def sync_config(
    session: Session,
    *,
    stations: Sequence[StationSpec],
    slots: Sequence[SlotSpec],
    campaigns: Sequence[CampaignSpec],
    now: datetime,
    actor: str = "system",
    centres: Sequence[CentreSpec] = (),
) -> SyncReport:
    """Make the tables match the configuration; idempotent. Stations and centres that left the
    configuration are deactivated, not deleted, so their history stays reportable."""
    changed = sync_centres(session, centres, {spec.code: spec.centre for spec in stations})
    changed += _upsert(session, Station, "code", {
        spec.code: dict(name=spec.name, province=spec.province, groups=list(spec.groups),
                        outlets=spec.outlets, active=True, centre=spec.centre)
        for spec in stations
    })
    configured = {spec.code for spec in stations}
    for row in session.scalars(select(Station).where(Station.active.is_(True))):
        if row.code not in configured:
            row.active = False
            changed.append(f"deactivated station {row.code}")
    changed += _upsert(session, Campaign, "code", {
        spec.code: dict(name=spec.name, yearly=spec.yearly, date_from=spec.date_from, date_to=spec.date_to,
                        lead_days=spec.lead_days, priority=spec.priority, per_day=spec.per_day,
                        outlets=list(spec.outlets), centre=spec.centre)
        for spec in campaigns
    })
    slot_rows = {
        spec.default_name(index): dict(outlet=spec.outlet, stations=spec.station_selectors,
                                       weekdays=list(spec.weekdays), at=spec.at, length_s=spec.length_s,
                                       once_on=spec.on, source="config",
                                       relays=[relay.model_dump() for relay in spec.relay] or None)
        for index, spec in enumerate(slots)
    }
    changed += _upsert(session, Slot, "name", slot_rows)
    for row in session.scalars(select(Slot).where(Slot.source == "config")):
        if row.name not in slot_rows:
            session.delete(row)
            changed.append(f"removed slot {row.name}")
    session.flush()
    if changed:
        audit.record(session, actor=actor, action="config.sync", subject="config", at=now,
                     details={"changes": changed[:200], "count": len(changed)})
    return SyncReport(len(stations), len(campaigns), len(slot_rows), tuple(changed))


def add_one_off_slot(session: Session, *, name: str, outlet: str, stations: list[str], on: date, at: str,
                     length_s: int, source: str, now: datetime, actor: str) -> Slot:
    """A slot that happens once (a special program, or the demo's first push)."""
    slot = session.scalar(select(Slot).where(Slot.name == name))
    if slot is None:
        slot = Slot(name=name)
        session.add(slot)
    slot.outlet, slot.stations, slot.weekdays = outlet, stations, []
    slot.at, slot.length_s, slot.once_on, slot.source = at, length_s, on, source
    session.flush()
    audit.record(session, actor=actor, action="slot.add", subject=f"slot:{name}", at=now,
                 details={"outlet": outlet, "on": on.isoformat(), "at": at, "length_s": length_s})
    return slot


def load_rules(session: Session) -> tuple[list[StationRule], list[SlotRule], dict[str, CampaignRule]]:
    """The active stations, every slot and every campaign as plain values for the planner."""
    stations = [
        StationRule(row.code, tuple(row.groups), tuple(row.outlets))
        for row in session.scalars(select(Station).where(Station.active.is_(True)).order_by(Station.code))
    ]
    slots = [
        SlotRule(row.name, row.outlet, tuple(row.stations), tuple(row.weekdays), row.at, row.length_s, row.once_on,
                 relays_s=relays_seconds(row.relays))
        for row in session.scalars(select(Slot).order_by(Slot.name))
    ]
    return stations, slots, campaign_rules(session)


def campaign_rules(session: Session, codes: Collection[str] | None = None) -> dict[str, CampaignRule]:
    """Every campaign's calendar (or those of ``codes``) as the planner reads it, by code."""
    query = select(Campaign) if codes is None else select(Campaign).where(Campaign.code.in_(sorted(codes)))
    return {row.code: CampaignRule(row.code, row.priority, row.yearly, row.date_from, row.date_to, row.lead_days,
                                   row.per_day, tuple(row.outlets))
            for row in session.scalars(query)}
