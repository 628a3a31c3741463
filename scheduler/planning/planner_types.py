"""The plain values the planner reads and writes: candidates, planned items, stored state, reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(frozen=True)
class Candidate:
    """An airable revision with what the planner needs to rank and fit it.

    ``seconds`` maps ``"loudspeaker"`` to the measured program time of its speech, and
    ``"board:<profile>"`` to its display time on boards of that profile; a missing entry means
    the piece cannot be measured for that outlet. ``stations`` are the station codes the piece
    targets, ``*`` for every station: it is placed nowhere else.
    """

    piece_id: int
    revision_id: int
    title: str
    campaign: str | None
    channels: frozenset[str]
    valid_from: datetime | None
    valid_until: datetime | None
    priority: int
    urgent: bool
    seconds: Mapping[str, float] = field(default_factory=dict)
    stations: frozenset[str] = frozenset({"*"})

    def targets(self, station: str) -> bool:
        """Whether the piece may air on ``station``."""
        return "*" in self.stations or station in self.stations


@dataclass(frozen=True)
class PlannedItem:
    piece_id: int
    revision_id: int
    campaign: str | None
    seconds: float
    pinned: bool = False


@dataclass(frozen=True)
class Existing:
    """What is already stored for one instance.

    ``frozen`` when its delivery has left the pending state (it is never changed; ``items`` are
    what it holds). Otherwise ``items`` are the pinned items, ``kept`` the rest of the last plan
    (kept while they may still air, so a re-plan changes only what it must) and ``removed`` the
    pieces an editor took out (never put back).
    """

    frozen: bool
    items: tuple[PlannedItem, ...] = ()
    removed: frozenset[int] = frozenset()
    kept: tuple[PlannedItem, ...] = ()


@dataclass(frozen=True)
class Unplaced:
    """A piece that did not reach every station of an outlet, with the reason in words and as a code."""

    piece_id: int
    title: str
    outlet: str
    stations: int
    reason: str
    code: str = ""


@dataclass(frozen=True)
class Shortfall:
    """A campaign's ``per_day`` target not met for one station, outlet and day."""

    station: str
    outlet: str
    day: date
    campaign: str
    wanted: int
    placed: int
    code: str
    reason: str

    def to_dict(self) -> dict:
        return {"station": self.station, "outlet": self.outlet, "day": self.day.isoformat(),
                "campaign": self.campaign, "wanted": self.wanted, "placed": self.placed, "code": self.code,
                "reason": self.reason}
