"""The outbox and device figures ``/metrics`` reports, each read from the database in one short transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session, sessionmaker

from content.db import UTCDateTime, unit_of_work
from content.models import AuditEvent
from scheduler.config import StationSpec
from scheduler.devices.settings import DevicesSettings
from scheduler.models import Delivery, DeliveryState
from scheduler.views.deliveries import integrity_alerts

STATES = (DeliveryState.PENDING, DeliveryState.SENDING, *DeliveryState.FINAL)


@dataclass(frozen=True)
class OutboxFigures:
    by_state: dict[str, int]
    queue_age_s: float
    last_plan: datetime | None
    integrity_alerts: int = 0


def outbox_figures(sessions: sessionmaker[Session], now: datetime) -> OutboxFigures:
    with unit_of_work(sessions) as session:
        counts = dict(session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)).all())
        oldest = session.scalar(select(type_coerce(func.min(Delivery.due_at), UTCDateTime())).where(
            Delivery.state.in_((DeliveryState.PENDING, DeliveryState.SENDING)), Delivery.due_at <= now))
        last_plan = session.scalar(select(type_coerce(func.max(AuditEvent.at), UTCDateTime())).where(
            AuditEvent.action == "plan.change"))
        alerts = len(integrity_alerts(session, since=now - timedelta(days=7)))
    return OutboxFigures(
        by_state={state: counts.get(state, 0) for state in STATES} | counts,
        queue_age_s=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        last_plan=last_plan,
        integrity_alerts=alerts,
    )


@dataclass(frozen=True)
class DeviceFigures:
    by_state: dict[str, int]
    alerts: int


def device_figures(sessions: sessionmaker[Session], stations: Sequence[StationSpec], settings: DevicesSettings,
                   now: datetime) -> DeviceFigures:
    """The configured outlets' devices counted by state (every state, 0 when none), and the open alerts."""
    from scheduler.devices.alerts import open_alerts
    from scheduler.devices.roster import roster
    from scheduler.devices.states import DeviceState

    with unit_of_work(sessions) as session:
        rows = roster(session, stations, settings, now)
    counts = Counter(str(row.state) for row in rows)
    return DeviceFigures(by_state={str(state): counts[str(state)] for state in DeviceState},
                         alerts=len(open_alerts(rows)))
