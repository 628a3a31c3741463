"""The emergency part of the results report (khẩn cấp): counted apart from planned airings, from the emergency
outbox. Per emergency sent in the period: its communes, its reach (station × outlet pairs pushed, delivered,
failed) and each commune's first-accept latency; per commune the emergencies it received."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.models import DeliveryState, Emergency, EmergencyDelivery, Station

ALERT = "alert"  # scheduler.emergencies.fanout.ALERT (not imported: the reports do not load the push machinery)
FAILED = (DeliveryState.DEAD, DeliveryState.REFUSED)
CANCELLED = "cancelled"


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (the smallest value with at least ``share`` of the values at or below it);
    None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass(frozen=True)
class Reach:
    """Station × outlet pairs an emergency's alert was pushed to; a pair is delivered when one of its pushes
    (first or repeat) was accepted, failed when none was and one ended dead or refused, else still waiting."""

    pushed: int = 0
    delivered: int = 0
    failed: int = 0

    @property
    def waiting(self) -> int:
        return self.pushed - self.delivered - self.failed


@dataclass(frozen=True)
class EmergencyLine:
    id: int
    title: str
    state: str
    issued_at: datetime  # when it was sent (a draft counts from its sending)
    cleared_at: datetime | None
    stations: tuple[tuple[str, str], ...]  # targeted communes (code, name) the report covers
    reach: Reach
    #: Per targeted commune: seconds from sending to the first accepted alert push; None: not reached (yet).
    latency: dict[str, float | None]

    @property
    def reached(self) -> int:
        return sum(1 for value in self.latency.values() if value is not None)

    @property
    def p50(self) -> float | None:
        return percentile([v for v in self.latency.values() if v is not None], 0.50)

    @property
    def p95(self) -> float | None:
        return percentile([v for v in self.latency.values() if v is not None], 0.95)


@dataclass(frozen=True)
class StationLine:
    station: str
    station_name: str
    targeted: int  # emergencies of the period aimed at this commune
    received: int  # of them, those with an alert push accepted by one of its outlets
    p50: float | None  # its median first-accept latency over those


@dataclass
class EmergencySection:
    issued: int = 0  # emergencies sent in the period
    all_clears: int = 0  # all-clears given in the period (of emergencies that had been sent)
    emergencies: list[EmergencyLine] = field(default_factory=list)
    by_station: list[StationLine] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # every (emergency, commune) first-accept latency

    @property
    def p50(self) -> float | None:
        return percentile(self.latencies, 0.50)

    @property
    def p95(self) -> float | None:
        return percentile(self.latencies, 0.95)

    @property
    def reach(self) -> Reach:
        return Reach(sum(e.reach.pushed for e in self.emergencies), sum(e.reach.delivered for e in self.emergencies),
                     sum(e.reach.failed for e in self.emergencies))


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def section_to_dict(section: EmergencySection) -> dict[str, Any]:
    def reach(value: Reach) -> dict[str, int]:
        return {"pushed": value.pushed, "delivered": value.delivered, "failed": value.failed,
                "waiting": value.waiting}

    return {
        "issued": section.issued, "all_clears": section.all_clears, "reach": reach(section.reach),
        "latency_p50_s": _seconds(section.p50), "latency_p95_s": _seconds(section.p95),
        "emergencies": [{
            "id": e.id, "title": e.title, "state": e.state, "issued_at": e.issued_at.isoformat(),
            "cleared_at": e.cleared_at.isoformat() if e.cleared_at else None,
            "stations": [code for code, _ in e.stations], "reach": reach(e.reach), "stations_reached": e.reached,
            "latency_s": {code: _seconds(value) for code, value in e.latency.items()},
            "latency_p50_s": _seconds(e.p50), "latency_p95_s": _seconds(e.p95),
        } for e in section.emergencies],
        "by_station": [{"station": s.station, "station_name": s.station_name, "targeted": s.targeted,
                        "received": s.received, "latency_p50_s": _seconds(s.p50)} for s in section.by_station],
    }


def build_section(session: Session, *, start_at: datetime, end_at: datetime, names: dict[str, str],
                  stations: Sequence[str] | None) -> EmergencySection:
    """The emergencies sent in ``start_at`` ≤ t < ``end_at`` (UTC instants), seen from ``stations`` (None: all):
    an emergency aimed at none of them is left out, and its other communes count nowhere."""
    seen = set(stations) if stations is not None else None

    def visible(codes: Sequence[str]) -> list[str]:
        return [code for code in codes if seen is None or code in seen]

    section = EmergencySection()
    sent = session.scalars(select(Emergency).where(Emergency.sent_at >= start_at, Emergency.sent_at < end_at)
                           .order_by(Emergency.sent_at, Emergency.id)).all()
    sent = [e for e in sent if visible(e.stations)]
    cleared = session.execute(select(Emergency.stations).where(
        Emergency.sent_at.is_not(None), Emergency.cleared_at >= start_at, Emergency.cleared_at < end_at)).all()
    section.issued, section.all_clears = len(sent), sum(1 for (codes,) in cleared if visible(codes))
    if not sent:
        return section
    # One row per (emergency, commune, outlet, state): the first acceptance and how many pushes.
    pairs: dict[int, dict[tuple[str, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    first: dict[tuple[int, str], datetime] = {}
    rows = session.execute(
        select(EmergencyDelivery.emergency_id, Station.code, EmergencyDelivery.outlet, EmergencyDelivery.state,
               func.min(EmergencyDelivery.delivered_at))
        .join(Station, Station.id == EmergencyDelivery.station_id)
        .where(EmergencyDelivery.emergency_id.in_([e.id for e in sent]), EmergencyDelivery.kind == ALERT,
               EmergencyDelivery.state != CANCELLED)
        .group_by(EmergencyDelivery.emergency_id, Station.code, EmergencyDelivery.outlet, EmergencyDelivery.state))
    for emergency_id, code, outlet, state, delivered_at in rows:
        if seen is not None and code not in seen:
            continue
        pairs[emergency_id][(code, outlet)].add(state)
        if state == DeliveryState.DELIVERED and delivered_at is not None:
            key = (emergency_id, code)
            first[key] = min(first.get(key, delivered_at), delivered_at)
    targeted: dict[str, int] = defaultdict(int)
    received: dict[str, list[float]] = defaultdict(list)
    for emergency in sent:
        assert emergency.sent_at is not None
        mine = list(pairs[emergency.id].values())  # the states of each (commune, outlet) pair's pushes
        reach = Reach(pushed=len(mine), delivered=sum(1 for states in mine if DeliveryState.DELIVERED in states),
                      failed=sum(1 for states in mine
                                 if DeliveryState.DELIVERED not in states and not states.isdisjoint(FAILED)))
        codes = visible(emergency.stations)
        latency: dict[str, float | None] = {}
        for code in codes:
            targeted[code] += 1
            accepted = first.get((emergency.id, code))
            latency[code] = None if accepted is None else max(0.0, (accepted - emergency.sent_at).total_seconds())
            if latency[code] is not None:
                received[code].append(latency[code])  # type: ignore[arg-type]
                section.latencies.append(latency[code])  # type: ignore[arg-type]
        section.emergencies.append(EmergencyLine(
            id=emergency.id, title=emergency.title, state=emergency.state, issued_at=emergency.sent_at,
            cleared_at=emergency.cleared_at, stations=tuple((code, names.get(code, code)) for code in codes),
            reach=reach, latency=latency))
    section.by_station = [StationLine(code, names.get(code, code), targeted[code], len(received[code]),
                                      percentile(received[code], 0.50)) for code in sorted(targeted)]
    return section


#: The "Khẩn cấp" section as blocks of (title, headers, rows): CSV, XLSX and the terminal table all write these.
SECTION_TITLE = "Khẩn cấp"
NOT_REACHED = "chưa nhận"
STATE_WORDS = {"active": "đang phát", "cleared": "đã hết cảnh báo", "expired": "đã hết hạn", "draft": "bản nháp"}


def _figure(value: float | None) -> float | str:
    return "" if value is None else round(value, 1)


def blocks(section: EmergencySection, zone: str) -> list[tuple[str, tuple[str, ...], list[list[Any]]]]:
    from zoneinfo import ZoneInfo

    local = ZoneInfo(zone)

    def when(value: datetime | None) -> str:
        return "" if value is None else f"{value.astimezone(local):%d/%m/%Y %H:%M:%S}"

    reach = section.reach
    summary = [["Tin khẩn cấp đã phát", section.issued], ["Lần hết cảnh báo", section.all_clears],
               ["Lượt đẩy (xã × điểm phát)", reach.pushed], ["Đã nhận (xã × điểm phát)", reach.delivered],
               ["Thất bại (xã × điểm phát)", reach.failed],
               ["Độ trễ nhận đầu p50 (giây)", _figure(section.p50)],
               ["Độ trễ nhận đầu p95 (giây)", _figure(section.p95)]]
    emergencies = [[e.id, e.title, STATE_WORDS.get(e.state, e.state), when(e.issued_at), when(e.cleared_at),
                    ", ".join(f"{code} {name}" for code, name in e.stations), len(e.stations), e.reached,
                    e.reach.pushed, e.reach.delivered, e.reach.failed, _figure(e.p50), _figure(e.p95)]
                   for e in section.emergencies]
    latencies = [[e.id, e.title, code, name, NOT_REACHED if e.latency[code] is None else _figure(e.latency[code])]
                 for e in section.emergencies for code, name in e.stations]
    stations = [[s.station, s.station_name, s.targeted, s.received, _figure(s.p50)] for s in section.by_station]
    return [
        ("Tổng hợp khẩn cấp", ("Chỉ số", "Giá trị"), summary),
        ("Từng tin khẩn cấp", ("Số hiệu", "Tiêu đề", "Trạng thái", "Phát lúc", "Hết cảnh báo lúc", "Xã nhắm tới",
                               "Số xã", "Số xã đã nhận", "Lượt đẩy (xã × điểm phát)", "Đã nhận (xã × điểm phát)",
                               "Thất bại (xã × điểm phát)", "Độ trễ p50 (giây)", "Độ trễ p95 (giây)"), emergencies),
        ("Độ trễ nhận đầu theo xã", ("Số hiệu", "Tiêu đề", "Mã xã", "Xã", "Độ trễ nhận đầu (giây)"), latencies),
        ("Khẩn cấp theo xã", ("Mã xã", "Xã", "Tin khẩn cấp nhắm tới", "Tin khẩn cấp đã nhận",
                              "Độ trễ p50 (giây)"), stations),
    ]
