"""The planner: places approved revisions into slot instances, in memory, deterministically."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from scheduler.calendar import CampaignRule, Instance, campaign_active

InstanceKey = tuple[str, str, datetime]  # station code, outlet, start (UTC)


def key_of(instance: Instance) -> InstanceKey:
    return (instance.station_code, instance.outlet, instance.start_at)


@dataclass(frozen=True)
class Candidate:
    """An airable revision with what the planner needs to rank and fit it.

    ``seconds`` maps ``"loudspeaker"`` to the measured program time of its speech, and
    ``"board:<profile>"`` to its display time on boards of that profile; a missing entry means
    the piece cannot be measured for that outlet.
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


@dataclass(frozen=True)
class PlannedItem:
    piece_id: int
    revision_id: int
    campaign: str | None
    seconds: float
    pinned: bool = False


@dataclass(frozen=True)
class Existing:
    """What is already stored for one instance: ``frozen`` when its delivery has left the
    pending state (it is never changed), else its pinned items and removed pieces."""

    frozen: bool
    items: tuple[PlannedItem, ...] = ()
    removed: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Unplaced:
    piece_id: int
    title: str
    outlet: str
    stations: int
    reason: str


@dataclass
class PlanResult:
    programs: dict[InstanceKey, list[PlannedItem]]
    unplaced: list[Unplaced]


@dataclass(frozen=True)
class PlanInputs:
    instances: Sequence[Instance]
    candidates: Sequence[Candidate]
    campaigns: Mapping[str, CampaignRule]
    existing: Mapping[InstanceKey, Existing] = field(default_factory=dict)
    published: frozenset[tuple[str, int]] = frozenset()  # (station, piece) already on a portal
    board_profiles: Mapping[str, str] = field(default_factory=dict)  # station → board profile
    gap_s: float = 1.0


def _seconds_key(instance: Instance, inputs: PlanInputs) -> str:
    if instance.outlet == "board":
        return f"board:{inputs.board_profiles.get(instance.station_code, '')}"
    return instance.outlet


def _in_validity(candidate: Candidate, instance: Instance) -> bool:
    if instance.outlet == "board":  # a rotation shows whatever is valid at some point of it
        return ((candidate.valid_from is None or candidate.valid_from < instance.end_at)
                and (candidate.valid_until is None or candidate.valid_until > instance.start_at))
    return ((candidate.valid_from is None or candidate.valid_from <= instance.start_at)
            and (candidate.valid_until is None or candidate.valid_until > instance.start_at))


def _campaign_ok(candidate: Candidate, instance: Instance, campaigns: Mapping[str, CampaignRule]) -> bool:
    if candidate.campaign is None:
        return True
    rule = campaigns.get(candidate.campaign)
    return rule is not None and instance.outlet in rule.outlets and campaign_active(rule, instance.day)


def _rank(candidate: Candidate, instance: Instance, campaigns: Mapping[str, CampaignRule],
          aired: Counter[int]) -> tuple:
    rule = campaigns.get(candidate.campaign or "")
    return (not candidate.urgent, -(rule.priority if rule else 0), -candidate.priority,
            aired[candidate.piece_id], candidate.piece_id)


def _why_not(candidate: Candidate, outlet: str, instances: Sequence[Instance], inputs: PlanInputs) -> str:
    mine = [i for i in instances if i.outlet == outlet]
    if not mine:
        return f"no {outlet} slot in these days"
    if candidate.campaign and candidate.campaign not in inputs.campaigns:
        return f"campaign {candidate.campaign!r} is not configured in campaigns.toml"
    if not any(_campaign_ok(candidate, i, inputs.campaigns) for i in mine):
        return f"campaign {candidate.campaign!r} is not on between {mine[0].day} and {mine[-1].day}"
    if not any(_in_validity(candidate, i) for i in mine):
        return "outside its validity window for these days"
    seconds = [candidate.seconds.get(_seconds_key(i, inputs)) for i in mine]
    if all(s is None for s in seconds):
        return "its length could not be measured (rendering failed)"
    longest = max(i.length_s for i in mine)
    shortest_need = min(s for s in seconds if s is not None)
    if shortest_need > longest:
        return f"it lasts {shortest_need:.0f} s, longer than every slot ({longest} s)"
    if outlet == "portal":
        return "already published on these portals"
    return "no room: the slots were full of higher-ranked pieces"


def plan(inputs: PlanInputs) -> PlanResult:
    """Place candidates into instances. The same inputs always give the same result."""
    programs: dict[InstanceKey, list[PlannedItem]] = {}
    placed: dict[tuple[int, str], set[str]] = defaultdict(set)  # (piece, outlet) → stations
    published = set(inputs.published)
    by_group = groupby(sorted(inputs.instances, key=lambda i: (i.station_code, i.outlet, i.start_at)),
                       key=lambda i: (i.station_code, i.outlet))
    for (station, outlet), group in by_group:
        aired: Counter[int] = Counter()
        eligible_all = [c for c in inputs.candidates if outlet in c.channels]
        for instance in group:
            key = key_of(instance)
            existing = inputs.existing.get(key, Existing(frozen=False))
            aired.update(item.piece_id for item in existing.items)
            if existing.frozen:
                continue
            items = [item for item in existing.items if item.pinned]
            taken = {item.piece_id for item in items}
            skey = _seconds_key(instance, inputs)
            total = sum(item.seconds for item in items) + inputs.gap_s * max(len(items) - 1, 0)
            eligible = [
                c for c in eligible_all
                if c.piece_id not in taken and c.piece_id not in existing.removed
                and _in_validity(c, instance) and _campaign_ok(c, instance, inputs.campaigns)
            ]
            eligible.sort(key=lambda c: _rank(c, instance, inputs.campaigns, aired))
            for candidate in eligible:
                if outlet == "portal":
                    if (station, candidate.piece_id) in published:
                        continue
                    published.add((station, candidate.piece_id))
                    seconds = 0.0
                else:
                    measured = candidate.seconds.get(skey)
                    if measured is None:
                        continue
                    need = measured + (inputs.gap_s if items else 0.0)
                    if total + need > instance.length_s:
                        continue
                    total += need
                    seconds = measured
                items.append(PlannedItem(candidate.piece_id, candidate.revision_id, candidate.campaign, seconds))
                aired[candidate.piece_id] += 1
                placed[(candidate.piece_id, outlet)].add(station)
            for item in items:
                placed[(item.piece_id, outlet)].add(station)
            programs[key] = items
    return PlanResult(programs, _unplaced(inputs, placed))


def _unplaced(inputs: PlanInputs, placed: Mapping[tuple[int, str], set[str]]) -> list[Unplaced]:
    stations_by_outlet: dict[str, set[str]] = defaultdict(set)
    for instance in inputs.instances:
        stations_by_outlet[instance.outlet].add(instance.station_code)
    out = []
    for candidate in inputs.candidates:
        for outlet in sorted(candidate.channels):
            missing = stations_by_outlet.get(outlet, set()) - placed.get((candidate.piece_id, outlet), set())
            if outlet == "portal":
                missing -= {s for s, piece in inputs.published if piece == candidate.piece_id}
            if missing or not stations_by_outlet.get(outlet):
                out.append(Unplaced(candidate.piece_id, candidate.title, outlet, len(missing),
                                    _why_not(candidate, outlet, inputs.instances, inputs)))
    return out

