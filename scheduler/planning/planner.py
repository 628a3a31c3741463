"""The planner: places approved revisions into slot instances, in memory, deterministically."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby

from scheduler.outlets import OUTLETS, rules_of
from scheduler.planning.calendar import CampaignRule, Instance, campaign_active
from scheduler.planning.placement import GroupInputs, place_group, rank_class
from scheduler.planning.planner_types import Candidate, Existing, PlannedItem, Shortfall, Unplaced
from scheduler.planning.reasons import sentence

__all__ = ["LEADING_RULE", "Candidate", "Existing", "InstanceKey", "PlanInputs", "PlanResult", "PlannedItem",
           "Shortfall", "Unplaced", "key_of", "leading_order", "plan"]

InstanceKey = tuple[str, str, datetime]  # station code, outlet, start (UTC)
_OPEN = Existing(frozen=False)


def key_of(instance: Instance) -> InstanceKey:
    return (instance.station_code, instance.outlet, instance.start_at)


@dataclass
class PlanResult:
    programs: dict[InstanceKey, list[PlannedItem]]
    unplaced: list[Unplaced]
    shortfalls: list[Shortfall] = field(default_factory=list)
    #: The priority-level pieces, in the order they lead a program they share (see :func:`leading_order`).
    leading: list[Candidate] = field(default_factory=list)


#: How priority-level pieces are ordered among themselves, in words (plan report, API).
LEADING_RULE = ("priority pieces lead every program they are valid for; among them: higher campaign priority "
                "first, then higher piece priority, then the one aired least that day, then the lower piece id")


def leading_order(candidates: Iterable[Candidate], campaigns: Mapping[str, CampaignRule]) -> list[Candidate]:
    """The priority-level pieces by the planner's rank: campaign priority, piece priority, then piece id (within
    one program, the one aired least that day goes before an equal one aired more)."""
    return sorted((c for c in candidates if c.leads), key=lambda c: (*rank_class(c, campaigns), c.piece_id))


@dataclass(frozen=True)
class PlanInputs:
    instances: Sequence[Instance]
    candidates: Sequence[Candidate]
    campaigns: Mapping[str, CampaignRule]
    existing: Mapping[InstanceKey, Existing] = field(default_factory=dict)
    #: (station, piece, outlet) already out on that once-per-station outlet; a (station, piece) pair: on all of them.
    published: frozenset[tuple[str, int] | tuple[str, int, str]] = frozenset()
    board_profiles: Mapping[str, str] = field(default_factory=dict)  # station → board profile
    gap_s: float = 1.0
    #: Fixed seconds of every loudspeaker program that has items (jingles), besides the pieces and gaps.
    overhead_s: float = 0.0


def _seconds_key(outlet: str, station: str, inputs: PlanInputs) -> str:
    return rules_of(outlet).duration_key(inputs.board_profiles.get(station, ""))


def _published_by_outlet(entries: Iterable[tuple]) -> dict[tuple[str, str], set[int]]:
    """(station, outlet) → pieces already out there, from ``PlanInputs.published``."""
    once = [outlet for outlet in OUTLETS if rules_of(outlet).once_per_station]
    published: dict[tuple[str, str], set[int]] = defaultdict(set)
    for station, piece, *outlet in entries:
        for name in outlet or once:
            published[(station, name)].add(piece)
    return published


def plan(inputs: PlanInputs) -> PlanResult:
    """Place candidates into instances. The same inputs always give the same result.

    Priority-level pieces lead the programs they are valid for on every outlet; emergency-level ones are never
    placed and are reported unplaced with the code ``emergency``.

    Stations whose instances, stored state and portal history are alike get the same programs,
    so each distinct kind of station is worked out once.
    """
    programs: dict[InstanceKey, list[PlannedItem]] = {}
    shortfalls: list[Shortfall] = []
    placed: dict[tuple[int, str], set[str]] = defaultdict(set)  # (piece, outlet) → stations
    candidates = sorted(inputs.candidates, key=lambda c: c.piece_id)
    by_outlet = {outlet: [c for c in candidates if outlet in c.channels] for outlet in OUTLETS}
    # Pieces for some stations only (most target all): each group is planned without those not for it.
    narrow = {outlet: [c for c in found if "*" not in c.stations] for outlet, found in by_outlet.items()}
    levelled = {outlet: [c for c in found if c.levels_at] for outlet, found in by_outlet.items()}
    published = _published_by_outlet(inputs.published)
    memo: dict[tuple, tuple] = {}
    shared: dict[tuple[int, float], PlannedItem] = {}
    ordered = sorted(inputs.instances, key=lambda i: (i.station_code, i.outlet, i.start_at))
    for (station, outlet), group in groupby(ordered, key=lambda i: (i.station_code, i.outlet)):
        instances = list(group)
        existing = tuple(inputs.existing.get(key_of(i), _OPEN) for i in instances)
        mine = frozenset(published.get((station, outlet), ())) if rules_of(outlet).once_per_station else frozenset()
        seconds_key = _seconds_key(outlet, station, inputs)
        elsewhere = frozenset(c.piece_id for c in narrow.get(outlet, ()) if not c.targets(station))
        # Bulletins sent down at another level than their own have that level on the receiving stations.
        relevelled = tuple((c.piece_id, c.levels_at[station]) for c in levelled.get(outlet, ())
                           if station in c.levels_at)
        signature = (outlet, seconds_key, mine, existing, elsewhere, relevelled,
                     tuple((i.start_at, i.end_at, i.day) for i in instances))
        if signature not in memo:
            pool = [c.at(station) for c in by_outlet.get(outlet, []) if c.piece_id not in elsewhere]
            items, short = place_group(GroupInputs(
                outlet=outlet, instances=instances, existing=existing, candidates=pool,
                campaigns=inputs.campaigns, seconds_key=seconds_key, published=mine, gap_s=inputs.gap_s,
                overhead_s=inputs.overhead_s, items=shared,
            ))
            pieces = frozenset(item.piece_id for program in items for item in program or ())
            pieces |= frozenset(item.piece_id for e in existing for item in e.items)
            memo[signature] = (items, short, pieces)
        items, short, pieces = memo[signature]
        for instance, program in zip(instances, items, strict=True):
            if program is not None:
                programs[key_of(instance)] = list(program)
        shortfalls.extend(Shortfall(station, outlet, s.day, s.campaign, s.wanted, s.placed, s.code, s.reason)
                          for s in short)
        for piece in pieces:
            placed[(piece, outlet)].add(station)
    return PlanResult(programs, _unplaced(inputs, candidates, placed), shortfalls,
                      leading_order(candidates, inputs.campaigns))


# --- what could not be placed, and why ---------------------------------------------------------------

def _in_validity(candidate: Candidate, instance: Instance) -> bool:
    return rules_of(instance.outlet).valid_in(candidate.valid_from, candidate.valid_until, instance.start_at,
                                              instance.end_at)


def _campaign_ok(candidate: Candidate, instance: Instance, campaigns: Mapping[str, CampaignRule]) -> bool:
    if candidate.campaign is None:
        return True
    rule = campaigns.get(candidate.campaign)
    return rule is not None and instance.outlet in rule.outlets and campaign_active(rule, instance.day)


def _why_not(candidate: Candidate, outlet: str, mine: Sequence[tuple[Instance, str]],
             inputs: PlanInputs) -> tuple[str, dict[str, object]]:
    """(code, parameters) of ``UNPLACED_REASONS``; ``mine`` holds one instance per distinct time and board
    profile."""
    if candidate.emergency:
        return "emergency", {}
    if not mine:
        return "no_slot", {"outlet": outlet}
    if candidate.campaign and candidate.campaign not in inputs.campaigns:
        return "campaign_unknown", {"campaign": candidate.campaign}
    days = sorted(i.day for i, _ in mine)
    if not any(_campaign_ok(candidate, i, inputs.campaigns) for i, _ in mine):
        return "campaign_off", {"campaign": candidate.campaign, "first": days[0].isoformat(),
                                "last": days[-1].isoformat()}
    if not any(_in_validity(candidate, i) for i, _ in mine):
        return "not_valid", {}
    rules = rules_of(outlet)
    if rules.once_per_station:
        return "published", {"outlet": outlet}
    seconds = [candidate.seconds.get(key) for _, key in mine]
    if all(s is None for s in seconds):
        return "not_measured", {}
    overhead = rules.overhead_s(inputs.overhead_s)
    longest = max(i.length_s for i, _ in mine)
    shortest_need = min(s for s in seconds if s is not None) + overhead
    if shortest_need > longest:
        return "too_long", {"seconds": round(shortest_need, 1), "longest": longest}
    return "no_room", {}


def _distinct(inputs: PlanInputs, outlet: str, candidate: Candidate) -> list[tuple[Instance, str]]:
    """One instance per distinct time and board profile among the stations ``candidate`` targets."""
    found: dict[tuple, tuple[Instance, str]] = {}
    for instance in inputs.instances:
        if instance.outlet == outlet and candidate.targets(instance.station_code):
            key = _seconds_key(outlet, instance.station_code, inputs)
            found.setdefault((instance.start_at, instance.end_at, key), (instance, key))
    return sorted(found.values(), key=lambda pair: (pair[0].start_at, pair[1]))


def _unplaced(inputs: PlanInputs, candidates: Sequence[Candidate],
              placed: Mapping[tuple[int, str], set[str]]) -> list[Unplaced]:
    stations_by_outlet: dict[str, set[str]] = defaultdict(set)
    distinct: dict[str, dict[tuple, tuple[Instance, str]]] = defaultdict(dict)
    for instance in inputs.instances:
        stations_by_outlet[instance.outlet].add(instance.station_code)
        key = _seconds_key(instance.outlet, instance.station_code, inputs)
        distinct[instance.outlet].setdefault((instance.start_at, instance.end_at, key), (instance, key))
    mine = {outlet: sorted(found.values(), key=lambda pair: (pair[0].start_at, pair[1]))
            for outlet, found in distinct.items()}
    already: dict[tuple[int, str], set[str]] = defaultdict(set)
    for (station, outlet), pieces in _published_by_outlet(inputs.published).items():
        for piece in pieces:
            already[(piece, outlet)].add(station)
    out = []
    for candidate in candidates:
        for outlet in sorted(candidate.channels):
            targeted = {s for s in stations_by_outlet.get(outlet, set()) if candidate.targets(s)}
            missing = targeted - placed.get((candidate.piece_id, outlet), set())
            if rules_of(outlet).once_per_station:
                missing -= already.get((candidate.piece_id, outlet), set())
            if missing or not targeted:
                ours = mine.get(outlet, []) if "*" in candidate.stations else _distinct(inputs, outlet, candidate)
                code, params = _why_not(candidate, outlet, ours, inputs)
                out.append(Unplaced(candidate.piece_id, candidate.title, outlet, len(missing),
                                    sentence("unplaced", code, params), code, params))
    return out
