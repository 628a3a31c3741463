"""The plain values the planner reads and writes: candidates, planned items, stored state, reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from scheduler.planning.reasons import HELD_REASONS  # why a pin is held out, by code (re-exported here)


@dataclass(frozen=True)
class Candidate:
    """An airable revision with what the planner needs to rank and fit it.

    ``seconds`` maps ``"loudspeaker"`` to the measured program time of its speech, and
    ``"board:<profile>"`` to its display time on boards of that profile; a missing entry means
    the piece cannot be measured for that outlet. ``stations`` are the station codes the piece
    targets, ``*`` for every station: it is placed nowhere else. ``level`` is the piece's level
    (Circular 39/2020): ``priority`` pieces lead the programs they are valid for, ``emergency`` ones are
    never placed (they go out through the emergency broadcast).
    """

    piece_id: int
    revision_id: int
    title: str
    campaign: str | None
    channels: frozenset[str]
    valid_from: datetime | None
    valid_until: datetime | None
    priority: int
    level: str
    seconds: Mapping[str, float] = field(default_factory=dict)
    stations: frozenset[str] = frozenset({"*"})
    #: The level the piece has on some stations instead of ``level``: a bulletin sent down from a higher centre
    #: at another level than its own (``scheduler.bulletins``), e.g. ``{"99001": "priority"}``.
    levels_at: Mapping[str, str] = field(default_factory=dict)

    @property
    def leads(self) -> bool:
        """A priority piece: placed first, displacing lower-ranked ones, and played first."""
        return self.level == "priority"

    @property
    def emergency(self) -> bool:
        """An emergency piece: it never enters the plan."""
        return self.level == "emergency"

    def targets(self, station: str) -> bool:
        """Whether the piece may air on ``station``."""
        return "*" in self.stations or station in self.stations

    def at(self, station: str) -> Candidate:
        """The candidate as ``station`` plans it: with the level it was sent down at there, if any."""
        level = self.levels_at.get(station, self.level)
        return self if level == self.level else replace(self, level=level, levels_at={})


@dataclass(frozen=True)
class Held:
    """Why a pinned piece's approved revision cannot take its pinned place; the pin waits for a re-plan
    where it can (more room, a shorter revision) or for the editor to unpin it."""

    code: str
    seconds: float = 0.0  # what the approved revision needs in the program (no_room)
    room: float = 0.0  # what the program has left beside the other pins (no_room)
    length: float = 0.0  # the program's length (no_room)

    @property
    def params(self) -> dict[str, float]:
        """What the sentence of ``code`` fills in (``scheduler.planning.reasons.HELD_REASONS``)."""
        return {"seconds": self.seconds, "room": self.room, "length": self.length} if self.code == "no_room" else {}

    @property
    def reason(self) -> str:
        return HELD_REASONS[self.code].format(seconds=self.seconds, room=self.room, length=self.length)

    def to_dict(self) -> dict:
        return {"code": self.code, "seconds": round(self.seconds, 1), "room": round(self.room, 1),
                "length": round(self.length, 1)}

    @classmethod
    def of(cls, data: Mapping[str, object]) -> Held:
        return cls(str(data["code"]), *(float(data.get(k) or 0.0) for k in ("seconds", "room", "length")))


@dataclass(frozen=True)
class PlannedItem:
    piece_id: int
    revision_id: int
    campaign: str | None
    seconds: float
    pinned: bool = False
    held: Held | None = None  # a pin held out of the program (it does not air), and why


@dataclass(frozen=True)
class Existing:
    """What is already stored for one instance.

    ``frozen`` when its delivery has left the pending state (it is never changed; ``items`` are
    what it holds). Otherwise ``items`` are the pinned items (held ones too), ``kept`` the rest of the last plan
    (kept while they may still air, so a re-plan changes only what it must) and ``removed`` the
    pieces an editor took out (never put back).
    """

    frozen: bool
    items: tuple[PlannedItem, ...] = ()
    removed: frozenset[int] = frozenset()
    kept: tuple[PlannedItem, ...] = ()


@dataclass(frozen=True)
class Unplaced:
    """A piece that did not reach every station of an outlet, with the reason in words and as a code with its
    parameters (``scheduler.planning.reasons.UNPLACED_REASONS``)."""

    piece_id: int
    title: str
    outlet: str
    stations: int
    reason: str
    code: str = ""
    params: Mapping[str, object] = field(default_factory=dict)


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
