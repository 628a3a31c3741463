"""Record what a device said about itself: one heartbeat overwrites the last one of its outlet."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.errors import NotFound
from scheduler.models import DeviceHealth, Station

Source = Literal["edge", "http", "probe"]


@dataclass(frozen=True)
class Heartbeat:
    """The fields a heartbeat carries; each is ``None`` when the device does not know it.

    ``clock_offset_s`` is the device clock minus loa's (positive: the device is ahead); ``cache_until`` the
    end of the last slot it holds files for; ``audio_output`` ``"ok"``, ``"fault"`` or ``"unknown"``.
    """

    version: str | None = None
    clock_offset_s: float | None = None
    cache_until: datetime | None = None
    disk_free_bytes: int | None = None
    last_error: str | None = None
    audio_output: str | None = None
    volume: int | None = None

    def fields(self) -> dict[str, Any]:
        """The beat as stored: JSON values, unknown fields left out."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is not None:
                out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def record_heartbeat(session: Session, *, station: str, outlet: str, source: Source, beat: Heartbeat,
                     now: datetime) -> DeviceHealth:
    """Store ``beat`` as the latest word from ``station``'s ``outlet`` device, seen at ``now``."""
    station_id = session.scalar(select(Station.id).where(Station.code == station))
    if station_id is None:
        raise NotFound("no station with code {code!r}", code=station)
    row = session.scalar(select(DeviceHealth).where(DeviceHealth.station_id == station_id,
                                                     DeviceHealth.outlet == outlet))
    if row is None:
        row = DeviceHealth(station_id=station_id, outlet=outlet)
        session.add(row)
    apply_beat(row, source=source, beat=beat, now=now)
    session.flush()
    return row


def apply_beat(row: DeviceHealth, *, source: Source, beat: Heartbeat, now: datetime) -> None:
    """Make ``row`` say what ``beat`` said, heard from ``source`` at ``now`` (its fault named)."""
    row.source, row.last_seen_at, row.beat = source, now, beat.fields()
    row.fault = beat.last_error or (f"audio output: {beat.audio_output}" if beat.audio_output == "fault" else None)
