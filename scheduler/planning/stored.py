"""The programs a re-plan finds stored, read as plain rows: a national week is tens of thousands of
deliveries and hundreds of thousands of airings, too many to hold as ORM objects (each carries its
payload and its change tracking). Only a program the re-plan supersedes is loaded as a
:class:`~scheduler.models.Delivery`; the others are changed with plain UPDATE and DELETE statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from scheduler.models import Airing, Delivery, Station

#: The delivery ids an IN list names at a time (SQLite's bound-parameter limit is 32,766; PostgreSQL's 65,535).
_CHUNK = 5_000
#: Rows fetched at a time while reading: the rows are turned into small objects as they come, not held twice.
_BATCH = 10_000


@dataclass(slots=True, eq=False)
class StoredAiring:
    """One airing of a stored program, as its row holds it."""

    id: int
    position: int
    piece_id: int
    revision_id: int
    campaign: str | None
    seconds: float
    pinned: bool
    removed: bool
    held: dict[str, Any] | None


@dataclass(slots=True, eq=False)
class StoredProgram:
    """A stored delivery of the planned outbox: what the planner needs to know of it, and its airings in
    program order."""

    id: str
    outlet: str
    slot_name: str
    start_at: datetime
    end_at: datetime
    due_at: datetime
    state: str
    has_payload: bool
    superseded_at: datetime | None
    airings: list[StoredAiring] = field(default_factory=list)


def read(session: Session, since: datetime, until: datetime) -> list[tuple[str, StoredProgram]]:
    """(station code, program) of every live planned delivery starting in [since, until), with its airings:
    two queries, whatever the number of programs."""
    rows = session.execute(
        select(Station.code, Delivery.id, Delivery.outlet, Delivery.slot_name, Delivery.start_at, Delivery.end_at,
               Delivery.due_at, Delivery.state, Delivery.payload.is_not(None), Delivery.superseded_at)
        .join(Station, Delivery.station_id == Station.id)
        .where(Delivery.start_at >= since, Delivery.start_at < until, Delivery.superseded_at.is_(None),
               Delivery.withdraws.is_(None)).execution_options(yield_per=_BATCH))
    programs = [(code, StoredProgram(*values)) for code, *values in rows]
    by_id = {program.id: program for _, program in programs}
    airings: defaultdict[str, list[StoredAiring]] = defaultdict(list)
    for delivery_id, *values in session.execute(
            select(Airing.delivery_id, Airing.id, Airing.position, Airing.piece_id, Airing.revision_id,
                   Airing.campaign, Airing.seconds, Airing.pinned, Airing.removed, Airing.held)
            .join(Delivery, Airing.delivery_id == Delivery.id)
            .where(Delivery.start_at >= since, Delivery.start_at < until, Delivery.superseded_at.is_(None),
                   Delivery.withdraws.is_(None)).execution_options(yield_per=_BATCH)):
        airings[delivery_id].append(StoredAiring(*values))
    for delivery_id, found in airings.items():
        found.sort(key=lambda airing: airing.position)
        by_id[delivery_id].airings = found
    return programs


def update_program(session: Session, program_id: str, **values: Any) -> None:
    """Set columns of one stored delivery."""
    session.execute(update(Delivery).where(Delivery.id == program_id).values(**values))


def update_airing(session: Session, airing_id: int, **values: Any) -> None:
    """Set columns of one stored airing."""
    session.execute(update(Airing).where(Airing.id == airing_id).values(**values))


def delete_unpinned(session: Session, program_id: str) -> None:
    """Delete the airings of a program that the planner places afresh (neither pinned nor removed)."""
    session.execute(delete(Airing).where(Airing.delivery_id == program_id, Airing.pinned.is_(False),
                                         Airing.removed.is_(False)))


def delete_programs(session: Session, program_ids: Iterable[str]) -> None:
    """Delete never-attempted deliveries and their airings (nothing else refers to a delivery not yet tried)."""
    ids = list(program_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(delete(Airing).where(Airing.delivery_id.in_(chunk)))
        session.execute(delete(Delivery).where(Delivery.id.in_(chunk)))
