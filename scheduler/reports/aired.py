"""What edge devices say was aired, beside what was pushed: each delivered loudspeaker airing of an outlet served by a
``loa edge`` device is *aired* (played whole), *partial* (cut short: a kill, a power cut, an emergency) or *not
aired* (pushed but never played: the device was off, its cache refused the file, the record has not come back yet).
Airings never pushed are the report's missed and failed."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from content.models import Revision
from scheduler.models import Airing, AsPlayed, Delivery, DeliveryState, EdgeDevice, Station
from scheduler.outlets import Outlet

_PIECE = re.compile(r"^piece-(\d+)-r\d+")
AIRED, PARTIAL, NOT_AIRED = "aired", "aired_partial", "not_aired"  # the Counts fields they add to


def outcomes(session: Session, scope: Sequence[Any],
             skip: Collection[int] = ()) -> Iterator[tuple[str, str | None, str, str, float]]:
    """``(station, campaign, level, outcome, seconds played)`` for every delivered, live loudspeaker airing in
    ``scope`` whose outlet an edge device serves (or served); the level is that of the revision aired. The airings
    in ``skip`` (those an emergency cut: the report counts them apart) are left out."""
    served = select(EdgeDevice.station_id).where(EdgeDevice.outlet == Outlet.LOUDSPEAKER)
    live = and_(Airing.delivery_id == Delivery.id, Airing.removed.is_(False))
    airings = session.execute(
        select(Station.code, Airing.campaign, Airing.piece_id, Delivery.id, Revision.level, Airing.id)
        .select_from(Delivery).join(Station, Station.id == Delivery.station_id).join(Airing, live)
        .join(Revision, Revision.id == Airing.revision_id)
        .where(Delivery.state == DeliveryState.DELIVERED, Delivery.outlet == Outlet.LOUDSPEAKER,
               Delivery.superseded_at.is_(None), Delivery.station_id.in_(served), *scope)).all()
    if not airings:
        return
    played: dict[tuple[str, int], tuple[float, bool]] = {}
    ids = sorted({row[3] for row in airings})
    for start in range(0, len(ids), 5000):
        for delivery_id, item, seconds, complete in session.execute(
                select(AsPlayed.delivery_id, AsPlayed.item, AsPlayed.played_s, AsPlayed.complete)
                .where(AsPlayed.delivery_id.in_(ids[start:start + 5000]))):
            match = _PIECE.match(item)
            if match:
                key = (delivery_id, int(match[1]))
                before = played.get(key, (0.0, False))
                played[key] = (max(before[0], seconds), before[1] or complete)
    for code, campaign, piece_id, delivery_id, level, airing_id in airings:
        if airing_id in skip:
            continue
        seconds, complete = played.get((delivery_id, piece_id), (0.0, False))
        outcome = AIRED if complete else PARTIAL if seconds > 0 else NOT_AIRED
        yield code, campaign, level, outcome, seconds
