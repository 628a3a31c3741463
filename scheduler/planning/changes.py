"""What a re-plan changed, for the editor: airings added, moved and dropped, pins held out, and what fell short."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo

from scheduler.planning.planner_types import Held, Shortfall, Unplaced

#: Past this many, lists in the report are cut (the counts stay exact) so a province's first plan stays readable.
LIST_LIMIT = 1000
#: (station, outlet, start, piece): one airing as the change report compares them.
AiringKey = tuple[str, str, datetime, int]


@dataclass(frozen=True)
class AiringChange:
    """One piece that entered, left or moved within the programs of one station and outlet."""

    kind: str  # added, moved, dropped
    station: str
    outlet: str
    piece_id: int
    title: str
    start_at: datetime | None  # where it airs now (None when dropped)
    was_at: datetime | None = None  # where it aired before (moved, dropped)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "station": self.station, "outlet": self.outlet, "piece": self.piece_id,
                "title": self.title, "start_at": self.start_at.isoformat() if self.start_at else None,
                "was_at": self.was_at.isoformat() if self.was_at else None}


def diff(before: Iterable[AiringKey], after: Iterable[AiringKey], titles: Mapping[int, str]) -> list[AiringChange]:
    """Pair what left one program with what entered another for the same piece, station and outlet
    (a move); the rest were added or dropped."""
    old: dict[tuple[str, str, int], set[datetime]] = defaultdict(set)
    new: dict[tuple[str, str, int], set[datetime]] = defaultdict(set)
    for station, outlet, start, piece in before:
        old[(station, outlet, piece)].add(start)
    for station, outlet, start, piece in after:
        new[(station, outlet, piece)].add(start)
    out = []
    for key in sorted(old.keys() | new.keys()):
        station, outlet, piece = key
        left, entered = sorted(old[key] - new[key]), sorted(new[key] - old[key])
        title = titles.get(piece, f"piece {piece}")
        for was, now in zip(left, entered, strict=False):
            out.append(AiringChange("moved", station, outlet, piece, title, now, was))
        out.extend(AiringChange("added", station, outlet, piece, title, start) for start in entered[len(left):])
        out.extend(AiringChange("dropped", station, outlet, piece, title, None, was) for was in left[len(entered):])
    return out


@dataclass(frozen=True)
class HeldPin:
    """A pinned piece whose approved revision cannot take its pinned place, and why (it does not air there)."""

    station: str
    outlet: str
    start_at: datetime
    piece_id: int
    title: str
    held: Held

    @property
    def reason(self) -> str:
        return self.held.reason

    def to_dict(self) -> dict:
        return {"station": self.station, "outlet": self.outlet, "start_at": self.start_at.isoformat(),
                "piece": self.piece_id, "title": self.title, "reason": self.reason, **self.held.to_dict()}


@dataclass
class PlanChanges:
    """What a re-plan did: counts, each airing change, what could not be placed and unmet targets."""

    first_day: date
    last_day: date
    instances: int = 0
    programs_changed: int = 0
    airings_added: int = 0
    airings_moved: int = 0
    airings_dropped: int = 0
    deliveries_created: int = 0
    deliveries_deleted: int = 0
    #: Running programs pushed again (board rotations) as a new delivery superseding the one that went out.
    deliveries_superseded: int = 0
    changes: list[AiringChange] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    shortfalls: list[Shortfall] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    held: list[HeldPin] = field(default_factory=list)  # pins their piece's approved revision cannot take
    #: The priority-level pieces, (piece id, title), in the order they lead the programs they share.
    leading: list[tuple[int, str]] = field(default_factory=list)
    zone: tzinfo | None = None  # for showing times to the editor

    def record(self, changes: list[AiringChange]) -> None:
        for kind in ("added", "moved", "dropped"):
            setattr(self, f"airings_{kind}", sum(1 for change in changes if change.kind == kind))
        self.changes = changes

    def counts(self) -> dict:
        return {"first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "instances": self.instances, "programs_changed": self.programs_changed,
                "airings_added": self.airings_added, "airings_moved": self.airings_moved,
                "airings_dropped": self.airings_dropped, "deliveries_created": self.deliveries_created,
                "deliveries_deleted": self.deliveries_deleted,
                "deliveries_superseded": self.deliveries_superseded, "unplaced": len(self.unplaced),
                "shortfalls": len(self.shortfalls), "pins_held": len(self.held)}

    def seen_by(self, stations: Collection[str] | None, pieces: Collection[int]) -> PlanChanges:
        """The same re-plan as someone of one centre sees it: the lists narrowed to their ``stations`` (None: all)
        and the ``pieces`` they may see; the counts stay those of the whole plan."""
        def here(station: str) -> bool:
            return stations is None or station in stations

        return replace(self, changes=[c for c in self.changes if here(c.station) and c.piece_id in pieces],
                       unplaced=[u for u in self.unplaced if u.piece_id in pieces],
                       shortfalls=[s for s in self.shortfalls if here(s.station)],
                       held=[h for h in self.held if here(h.station) and h.piece_id in pieces],
                       leading=[(piece, title) for piece, title in self.leading if piece in pieces])

    def to_dict(self) -> dict:
        data = self.counts()
        data.update(
            added=[c.to_dict() for c in self.changes if c.kind == "added"][:LIST_LIMIT],
            moved=[c.to_dict() for c in self.changes if c.kind == "moved"][:LIST_LIMIT],
            dropped=[c.to_dict() for c in self.changes if c.kind == "dropped"][:LIST_LIMIT],
            unplaced=[{"piece": u.piece_id, "title": u.title, "outlet": u.outlet, "stations": u.stations,
                       "code": u.code, "params": dict(u.params), "reason": u.reason} for u in self.unplaced],
            unmet_targets=[s.to_dict() for s in self.shortfalls[:LIST_LIMIT]],
            unmet_targets_total=len(self.shortfalls),
            warnings=list(self.warnings),
            pins_held=[h.to_dict() for h in self.held[:LIST_LIMIT]],
            leading=[{"piece": piece, "title": title} for piece, title in self.leading],
            truncated=max(self.airings_added, self.airings_moved, self.airings_dropped,
                          len(self.shortfalls)) > LIST_LIMIT,
        )
        return data
