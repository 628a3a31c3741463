"""The upcoming schedule as editors read it: programs per station and outlet with their items."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, true
from sqlalchemy.orm import Session, selectinload

from content.models import Revision
from scheduler.bulletins.planning import level_at, received_levels
from scheduler.config import parse_length
from scheduler.models import Delivery, Slot, Station
from scheduler.planning.planner_types import Held


@dataclass(frozen=True)
class ItemView:
    airing_id: int
    piece_id: int
    revision_id: int
    title: str
    campaign: str | None
    seconds: float
    pinned: bool
    held: Held | None = None  # a pin held out of the program: it does not air, and why
    leads: bool = False  # a priority item on this station: it airs ahead of the others


@dataclass(frozen=True)
class ProgramView:
    delivery_id: str
    station_code: str
    station_name: str
    outlet: str
    slot_name: str
    start_at: datetime
    end_at: datetime
    state: str
    attempts: int
    last_error: str | None
    items: tuple[ItemView, ...]
    #: Airings an editor took out (or moved away), which can be restored; only the calendar reads them.
    removed: tuple[ItemView, ...] = ()
    held: tuple[ItemView, ...] = ()  # pins their piece's approved revision cannot take (not in the push)
    #: The live programs the slot relays: (name, url, seconds).
    relays: tuple[tuple[str, str, float], ...] = ()

    @property
    def total_s(self) -> float:
        """The program's planned time: its pieces and the live programs it relays."""
        return sum(item.seconds for item in self.items) + sum(seconds for *_, seconds in self.relays)

    @property
    def length_s(self) -> float:
        return (self.end_at - self.start_at).total_seconds()

    def to_dict(self) -> dict:
        return {
            "delivery": self.delivery_id, "station": self.station_code, "station_name": self.station_name,
            "outlet": self.outlet, "slot": self.slot_name, "start_at": self.start_at.isoformat(),
            "end_at": self.end_at.isoformat(), "state": self.state, "attempts": self.attempts,
            "last_error": self.last_error, "total_s": round(self.total_s, 1), "length_s": self.length_s,
            "items": [{"airing": i.airing_id, "piece": i.piece_id, "revision": i.revision_id, "title": i.title,
                       "campaign": i.campaign, "seconds": round(i.seconds, 1), "pinned": i.pinned}
                      for i in self.items],
            "held": [{"airing": i.airing_id, "piece": i.piece_id, "revision": i.revision_id, "title": i.title,
                      "seconds": round(i.seconds, 1), "reason": i.held.reason, **i.held.to_dict()}
                     for i in self.held if i.held is not None],
            "relays": [{"name": name, "url": url, "seconds": seconds} for name, url, seconds in self.relays],
        }


def slot_relays(session: Session) -> dict[str, tuple[tuple[str, str, float], ...]]:
    """The live programs each slot relays, by slot name: (name, url, seconds)."""
    return {name: tuple((str(r.get("name", "")), str(r.get("url", "")), float(parse_length(str(r["length"]))))
                        for r in stored)
            for name, stored in session.execute(select(Slot.name, Slot.relays)) if stored}


def titles_and_leads(session: Session, revision_ids: Collection[int]) -> tuple[
        dict[int, str], Callable[[int, str], bool]]:
    """The title of each revision, and whether one leads the programs of a station (a priority item there:
    its own level, or the level a bulletin of it was taken in at; ``scheduler.bulletins.planning``)."""
    rows = session.execute(select(Revision.id, Revision.title, Revision.level)
                           .where(Revision.id.in_(sorted(revision_ids)))).all() if revision_ids else []
    levels = {row.id: row.level for row in rows}
    received = received_levels(session, revision_ids, checked=False) if revision_ids else {}

    def leads(revision_id: int, station: str) -> bool:
        return level_at(received, revision_id, station, levels.get(revision_id, "normal")) == "priority"

    return {row.id: row.title for row in rows}, leads


def upcoming(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    station: str | None = None,
    outlet: str | None = None,
    superseded: bool = False,
) -> list[ProgramView]:
    """Programs that end after ``start`` and begin before ``end``, in time order; with ``superseded``
    also the deliveries a newer push of the same window replaced (not on the plan any more)."""
    query = (
        select(Delivery, Station)
        .join(Station)
        .where(Delivery.end_at > start, Delivery.start_at < end, Delivery.withdraws.is_(None),
               true() if superseded else Delivery.superseded_at.is_(None))
        .options(selectinload(Delivery.airings))
        .order_by(Delivery.start_at, Station.code, Delivery.outlet)
    )
    if station:
        query = query.where(Station.code == station)
    if outlet:
        query = query.where(Delivery.outlet == outlet)
    rows = session.execute(query).all()
    revision_ids = {a.revision_id for delivery, _ in rows for a in delivery.airings}
    titles, leads = titles_and_leads(session, revision_ids)
    relays = slot_relays(session)
    return [
        ProgramView(
            delivery.id, st.code, st.name, delivery.outlet, delivery.slot_name, delivery.start_at,
            delivery.end_at, delivery.state, delivery.attempts, delivery.last_error,
            tuple(ItemView(a.id, a.piece_id, a.revision_id, titles.get(a.revision_id, "?"), a.campaign,
                           a.seconds, a.pinned, leads=leads(a.revision_id, st.code))
                  for a in delivery.airings if not a.removed),
            tuple(ItemView(a.id, a.piece_id, a.revision_id, titles.get(a.revision_id, "?"), a.campaign,
                           a.seconds, a.pinned, Held.of(a.held)) for a in delivery.airings if a.removed and a.held),
            relays=relays.get(delivery.slot_name, ()),
        )
        for delivery, st in rows
    ]


