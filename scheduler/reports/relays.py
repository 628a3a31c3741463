"""The relay part of the results report (tiếp sóng): one line per live program a delivered loudspeaker program
relayed, with its planned minutes and, where the outlet measured it (Icecast), the minutes it actually played,
its gaps and what took over when the stream went down."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Delivery, DeliveryState, Station

SECTION_TITLE = "Tiếp sóng"
HEADERS = ("Mã xã", "Xã", "Buổi phát", "Chương trình tiếp sóng", "Địa chỉ luồng", "Số phút dự kiến",
           "Số phút đã phát", "Số lần gián đoạn", "Thay thế khi mất sóng")
#: What took over a relay that went down, in words.
FALLBACKS = {"program": "phần còn lại của chương trình", "filler": "nhạc đệm", "none": "không có"}


@dataclass(frozen=True)
class RelayLine:
    station: str
    station_name: str
    start_at: datetime
    name: str
    url: str
    planned_s: float
    played_s: float | None  # None: the outlet plays it by itself (a playlist, a platform) and did not say
    gaps: int
    fallback: str | None

    @property
    def planned_minutes(self) -> float:
        return round(self.planned_s / 60, 1)

    @property
    def played_minutes(self) -> float | None:
        return None if self.played_s is None else round(self.played_s / 60, 1)

    def to_dict(self) -> dict[str, Any]:
        return {"station": self.station, "station_name": self.station_name, "start_at": self.start_at.isoformat(),
                "name": self.name, "url": self.url, "planned_minutes": self.planned_minutes,
                "played_minutes": self.played_minutes, "gaps": self.gaps, "fallback": self.fallback}


def build_relays(session: Session, *, start_at: datetime, end_at: datetime, names: dict[str, str],
                 stations: Sequence[str] | None = None) -> list[RelayLine]:
    """The relays of the loudspeaker programs delivered from ``start_at`` to ``end_at``, in time order: what was
    relayed comes from the sealed payload, what played from the receipt."""
    query = (select(Station.code, Delivery.start_at, Delivery.payload, Delivery.receipt)
             .join(Station, Station.id == Delivery.station_id)
             .where(Delivery.state == DeliveryState.DELIVERED, Delivery.outlet == "loudspeaker",
                    Delivery.payload.is_not(None), Delivery.start_at >= start_at, Delivery.start_at < end_at)
             .order_by(Delivery.start_at, Station.code))
    if stations:
        query = query.where(Station.code.in_(list(stations)))
    out = []
    for code, start, payload, receipt in session.execute(query):
        streams = ((payload or {}).get("delivery") or {}).get("streams") or []
        measured = (((receipt or {}).get("details") or {}).get("relays")) or []
        for index, stream in enumerate(streams):
            played = measured[index] if index < len(measured) else None
            out.append(RelayLine(code, names.get(code, code), start, str(stream.get("name", "")),
                                 str(stream.get("url", "")), float(stream.get("duration_s", 0.0)),
                                 float(played["played_s"]) if played else None,
                                 len(played.get("gaps") or []) if played else 0,
                                 played.get("fallback") if played else None))
    return out


def relay_rows(lines: Sequence[RelayLine], zone: str) -> list[list[Any]]:
    """The lines as rows under :data:`HEADERS` (times in the report's zone)."""
    local = ZoneInfo(zone)
    return [[line.station, line.station_name, f"{line.start_at.astimezone(local):%d/%m/%Y %H:%M}", line.name, line.url,
             line.planned_minutes, "" if line.played_minutes is None else line.played_minutes, line.gaps,
             FALLBACKS.get(line.fallback or "", "")] for line in lines]
