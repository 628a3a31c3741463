"""Device alerts: a device unreachable shortly before one of its slots raises one alert, cleared when it returns.

The open alert is ``DeviceHealth.alerted_at``: set once when the alert fires (so it never fires twice),
cleared by the first word heard from the device after it ("back online"). Both are audited in the same
transaction; the caller sends the returned notices (webhook, e-mail) after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import audit
from scheduler.config import StationSpec
from scheduler.devices.roster import DeviceRow, roster
from scheduler.devices.settings import DevicesSettings
from scheduler.models import DeviceHealth, Station


@dataclass(frozen=True)
class DeviceNotice:
    """An alert raised (``"offline"``) or cleared (``"back"``) about one outlet's device, at ``at``."""

    kind: Literal["offline", "back"]
    station_code: str
    station_name: str
    outlet: str
    at: datetime
    last_seen_at: datetime | None
    next_slot_at: datetime | None
    fault: str | None = None
    state: str = ""

    @property
    def id(self) -> str:
        """The same on every attempt to send this notice (the webhook's idempotency key)."""
        return f"device-{self.kind}-{self.station_code}-{self.outlet}-{int(self.at.timestamp())}"

    def document(self) -> dict[str, Any]:
        """The notice as the alert webhook receives it."""
        def moment(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {"id": self.id, "event": f"device.{self.kind}", "station": self.station_code,
                "station_name": self.station_name, "outlet": self.outlet, "state": self.state, "at": moment(self.at),
                "last_seen_at": moment(self.last_seen_at), "next_slot_at": moment(self.next_slot_at),
                "fault": self.fault}


def _notice(kind: Literal["offline", "back"], row: DeviceRow, now: datetime) -> DeviceNotice:
    return DeviceNotice(kind=kind, station_code=row.station_code, station_name=row.station_name, outlet=row.outlet,
                        at=now, last_seen_at=row.last_seen_at, next_slot_at=row.next_slot_at, fault=row.fault,
                        state=str(row.state))


def alert_due(row: DeviceRow, now: datetime, before: timedelta) -> bool:
    """Whether ``row``'s device must raise an alert now: unreachable, no alert open, a slot within ``before``."""
    return (row.alerted_at is None and row.unreachable and row.next_slot_at is not None
            and now < row.next_slot_at <= now + before)


def cleared(row: DeviceRow) -> bool:
    """Whether ``row``'s open alert ends: the device was heard from since it fired, and is reachable."""
    return (row.alerted_at is not None and row.last_seen_at is not None and row.last_seen_at > row.alerted_at
            and not row.unreachable)


def _changes(session: Session, stations: Sequence[StationSpec], settings: DevicesSettings,
             now: datetime) -> list[tuple[DeviceRow, str]]:
    before = timedelta(minutes=settings.alert_before_slot_minutes)
    rows = roster(session, stations, settings, now)
    return [(row, "offline") for row in rows if alert_due(row, now, before)] + [
        (row, "back") for row in rows if cleared(row)]


def alerts_to_review(session: Session, stations: Sequence[StationSpec], settings: DevicesSettings,
                     now: datetime) -> bool:
    """Whether an alert is due or one can be cleared at ``now`` (a read: the write waits until there is one)."""
    return bool(_changes(session, stations, settings, now))


def review_alerts(session: Session, stations: Sequence[StationSpec], settings: DevicesSettings,
                  now: datetime) -> list[DeviceNotice]:
    """Raise the alerts due at ``now`` and clear those whose device returned; the notices to send."""
    changes = _changes(session, stations, settings, now)
    if not changes:
        return []
    ids = dict(session.execute(select(Station.code, Station.id).where(
        Station.code.in_({row.station_code for row, _ in changes}))).all())
    notices = []
    for row, kind in changes:
        health = session.scalar(select(DeviceHealth).where(DeviceHealth.station_id == ids[row.station_code],
                                                           DeviceHealth.outlet == row.outlet))
        if health is None:
            continue
        health.alerted_at = now if kind == "offline" else None
        notice = _notice(kind, row, now)  # type: ignore[arg-type]
        audit.record(session, actor="system", action=f"device.{'alert' if kind == 'offline' else 'back'}",
                     subject=f"{row.station_code}/{row.outlet}", at=now,
                     details={key: value for key, value in notice.document().items() if key != "id"})
        notices.append(notice)
    session.flush()
    return notices


def open_alerts(rows: Sequence[DeviceRow]) -> list[DeviceRow]:
    """The rows with an alert open, for Today and ``/metrics``."""
    return [row for row in rows if row.alerted_at is not None]
