"""Every configured outlet of the given stations with the state of the device behind it and its next slot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from channels.registry import channel_class
from content.db import UTCDateTime
from scheduler.config import StationSpec
from scheduler.devices.settings import DevicesSettings
from scheduler.devices.states import DeviceState, clock_offset, clock_skewed, state_of, unreachable
from scheduler.models import Delivery, DeviceHealth, Station


@dataclass(frozen=True)
class DeviceRow:
    """One outlet of one station as the devices page shows it (``watch``: how loa hears from its device:
    ``"http"`` heartbeats, ``"probe"``, or ``None`` for an outlet loa writes to itself, unless an edge speaks)."""

    station_code: str
    station_name: str
    outlet: str
    kind: str
    watch: str | None
    state: DeviceState
    last_seen_at: datetime | None = None
    source: str | None = None
    version: str | None = None
    clock_offset_s: float | None = None
    skewed: bool = False
    fault: str | None = None
    alerted_at: datetime | None = None
    next_slot_at: datetime | None = None
    beat: dict[str, Any] | None = None

    @property
    def unreachable(self) -> bool:
        return unreachable(self.state, self.source)


def watch_of(kind: str) -> str | None:
    """How loa hears from the device behind an outlet of ``kind`` by itself: its heartbeats, or a probe."""
    try:
        cls = channel_class(kind)
    except KeyError:
        return None
    return "http" if cls.beats else "probe" if cls.probed else None


def next_slots(session: Session, now: datetime) -> dict[tuple[str, str], datetime]:
    """(station code, outlet) → the start of its next planned slot after ``now`` (planned pushes, not take-downs)."""
    rows = session.execute(
        select(Station.code, Delivery.outlet, type_coerce(func.min(Delivery.start_at), UTCDateTime()))
        .join(Station, Station.id == Delivery.station_id)
        .where(Delivery.start_at > now, Delivery.superseded_at.is_(None), Delivery.withdraws.is_(None))
        .group_by(Station.code, Delivery.outlet))
    return {(code, outlet): start for code, outlet, start in rows}


def roster(session: Session, stations: Sequence[StationSpec], settings: DevicesSettings,
           now: datetime) -> list[DeviceRow]:
    """A row per configured outlet of ``stations``, in their order: its device's state at ``now``."""
    codes = {spec.code for spec in stations}
    health = {(code, row.outlet): row for row, code in session.execute(
        select(DeviceHealth, Station.code).join(Station, Station.id == DeviceHealth.station_id))
        if code in codes}
    slots = next_slots(session, now)
    out = []
    for spec in stations:
        for outlet in spec.outlets:
            options = spec.outlet(outlet)
            kind = f"{outlet}.{options.type}" if options is not None else outlet
            seen = health.get((spec.code, outlet))
            beat = dict(seen.beat or {}) if seen is not None else {}
            out.append(DeviceRow(
                station_code=spec.code, station_name=spec.name, outlet=outlet, kind=kind, watch=watch_of(kind),
                state=state_of(seen.last_seen_at if seen else None, seen.source if seen else None,
                               seen.fault if seen else None, now, settings),
                last_seen_at=seen.last_seen_at if seen else None, source=seen.source if seen else None,
                version=beat.get("version"), clock_offset_s=clock_offset(beat),
                skewed=clock_skewed(beat, settings.max_clock_skew_s), fault=seen.fault if seen else None,
                alerted_at=seen.alerted_at if seen else None, next_slot_at=slots.get((spec.code, outlet)),
                beat=beat or None))
    return out
