"""Fills the programs of one station and outlet over the planned days: priority pieces, kept, targets, rotation.
Priority-level pieces (Circular 39/2020) are placed first, by rank, and lead; emergency ones are never placed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import groupby

from scheduler.outlets import rules_of
from scheduler.planning.calendar import CampaignRule, Instance, campaign_active
from scheduler.planning.planner_types import Candidate, Existing, Held, PlannedItem
from scheduler.planning.reasons import TARGET_REASONS  # why a target was not met, by code (re-exported here)


@dataclass(frozen=True)
class DayShortfall:
    """A campaign target not met on one day of one station and outlet."""

    day: date
    campaign: str
    wanted: int
    placed: int
    code: str

    @property
    def reason(self) -> str:
        return TARGET_REASONS[self.code]


@dataclass
class _Program:
    instance: Instance
    frozen: bool
    removed: frozenset[int]
    kept: tuple[PlannedItem, ...] = ()
    items: list[PlannedItem] = field(default_factory=list)
    protected: set[int] = field(default_factory=set)  # pieces that may not be displaced
    present: set[int] = field(default_factory=set)  # the pieces in ``items``
    used: float = 0.0
    held: list[PlannedItem] = field(default_factory=list)  # pins held out of the program, with why

    def pieces(self) -> set[int]:
        return self.present


@dataclass(frozen=True)
class GroupInputs:
    """One station's instances on one outlet and everything the rules need to fill them."""

    outlet: str
    instances: Sequence[Instance]  # in time order
    existing: Sequence[Existing]  # one per instance
    candidates: Sequence[Candidate]  # those with this outlet among their channels
    campaigns: Mapping[str, CampaignRule]
    seconds_key: str
    published: frozenset[int] = frozenset()  # pieces this station's portal already has
    gap_s: float = 1.0
    overhead_s: float = 0.0
    #: Planned items shared between groups, by (piece, seconds): a province has millions of airings.
    items: dict[tuple[int, float], PlannedItem] | None = None


def rank_class(candidate: Candidate, campaigns: Mapping[str, CampaignRule]) -> tuple[bool, int, int]:
    """Displacement and order, lowest first: priority level, campaign priority, piece priority (then rotation)."""
    rule = campaigns.get(candidate.campaign or "")
    return (not candidate.leads, -(rule.priority if rule else 0), -candidate.priority)


class _Group:
    def __init__(self, inputs: GroupInputs) -> None:
        self.inputs = inputs
        self.by_piece = {c.piece_id: c for c in inputs.candidates}
        self.aired: Counter[int] = Counter()
        self.aired_today: Counter[int] = Counter()
        self.last: dict[int, int] = {}  # piece → when it was last placed (a running number)
        self.sequence = 0
        self.published = set(inputs.published)
        self.rules = rules_of(inputs.outlet)
        self.once = self.rules.once_per_station  # each piece once per station (published), not in rotation
        self.timed = self.rules.timed  # pieces take measured seconds of the program's length
        self.overhead = self.rules.overhead_s(inputs.overhead_s)
        self._active: dict[tuple[str, date], bool] = {}
        self._klass = {c.piece_id: self._rank_class(c) for c in inputs.candidates}
        self._items = inputs.items if inputs.items is not None else {}

    # --- ranking -----------------------------------------------------------------------------------

    def _rank_class(self, candidate: Candidate) -> tuple[bool, int, int]:
        return rank_class(candidate, self.inputs.campaigns)

    def klass(self, candidate: Candidate) -> tuple[bool, int, int]:
        return self._klass[candidate.piece_id]  # rank_class, worked out once per piece

    def rank(self, candidate: Candidate) -> tuple:
        """Rotation among equals: fewest airings today, then over the window, then the least recently aired."""
        piece = candidate.piece_id
        return (*self.klass(candidate), self.aired_today[piece], self.aired[piece], self.last.get(piece, -1), piece)

    def item_klass(self, item: PlannedItem) -> tuple[bool, int, int]:
        return self._klass.get(item.piece_id, (True, 0, 0))

    # --- what may go where -------------------------------------------------------------------------

    def campaign_on(self, campaign: str, day: date) -> bool:
        key = (campaign, day)
        if key not in self._active:
            rule = self.inputs.campaigns.get(campaign)
            self._active[key] = (rule is not None and self.inputs.outlet in rule.outlets
                                 and campaign_active(rule, day))
        return self._active[key]

    def eligible(self, candidate: Candidate, program: _Program) -> bool:
        instance = program.instance
        if candidate.emergency or candidate.piece_id in program.removed:
            return False
        if candidate.campaign is not None and not self.campaign_on(candidate.campaign, instance.day):
            return False
        if self.once and candidate.piece_id in self.published:
            return False
        if self.timed and candidate.seconds.get(self.inputs.seconds_key) is None:
            return False
        return self.rules.valid_in(candidate.valid_from, candidate.valid_until, instance.start_at, instance.end_at)

    def seconds(self, candidate: Candidate) -> float:
        return float(candidate.seconds[self.inputs.seconds_key]) if self.timed else 0.0

    def need(self, program: _Program, seconds: float) -> float:
        return seconds + (self.inputs.gap_s if program.items else self.overhead)

    def fits(self, program: _Program, seconds: float) -> bool:
        return not self.timed or program.used + self.need(program, seconds) <= program.instance.length_s + 1e-9

    # --- changing a program ------------------------------------------------------------------------

    def add(self, program: _Program, candidate: Candidate, *, protect: bool = False) -> None:
        seconds = self.seconds(candidate)
        item = self._items.get((candidate.piece_id, seconds))
        if item is None or item.revision_id != candidate.revision_id:
            item = PlannedItem(candidate.piece_id, candidate.revision_id, candidate.campaign, seconds)
            self._items[(candidate.piece_id, seconds)] = item
        program.used += self.need(program, item.seconds)
        program.items.append(item)
        program.present.add(candidate.piece_id)
        if protect or candidate.leads:
            program.protected.add(candidate.piece_id)
        self.aired[candidate.piece_id] += 1
        self.aired_today[candidate.piece_id] += 1
        self.sequence += 1
        self.last[candidate.piece_id] = self.sequence
        if self.once:
            self.published.add(candidate.piece_id)

    def _recount(self, program: _Program) -> None:
        program.used = 0.0
        for index, item in enumerate(program.items):
            program.used += item.seconds + (self.inputs.gap_s if index else self.overhead)

    def make_room(self, program: _Program, candidate: Candidate) -> bool:
        """Take out unprotected pieces ranked strictly below ``candidate``, lowest first, if that makes
        it fit; otherwise change nothing."""
        if not self.timed:
            return True
        klass = self.klass(candidate)
        movable = sorted(
            (index for index, item in enumerate(program.items)
             if not item.pinned and item.piece_id not in program.protected and self.item_klass(item) > klass),
            key=lambda index: (self.item_klass(program.items[index]), index), reverse=True,
        )
        keep: list[PlannedItem | None] = list(program.items)
        for index in movable:
            keep[index] = None
            trial = [item for item in keep if item is not None]
            used = sum(item.seconds for item in trial) + (self.inputs.gap_s * (len(trial) - 1) + self.overhead
                                                          if trial else 0.0)
            need = self.seconds(candidate) + (self.inputs.gap_s if trial else self.overhead)
            if used + need <= program.instance.length_s + 1e-9:
                for item in program.items:
                    if item not in trial:
                        self.aired[item.piece_id] -= 1
                        self.aired_today[item.piece_id] -= 1
                program.items = trial
                program.present = {item.piece_id for item in trial}
                self._recount(program)
                return True
        return False


def _kept(group: _Group, program: _Program, previous: Sequence[PlannedItem]) -> None:
    """Keep what the last plan put here while it may still air here, so a re-plan changes only what
    it must: only priority pieces displace kept ones; other newcomers take the free room."""
    for item in previous:
        candidate = group.by_piece.get(item.piece_id)
        if candidate is None or item.piece_id in program.pieces() or not group.eligible(candidate, program):
            continue
        if group.fits(program, group.seconds(candidate)):
            group.add(program, candidate, protect=True)


def _target_rules(group: _Group, day: date) -> list[CampaignRule]:
    if not group.rules.daily_targets:
        return []
    return sorted((rule for rule in group.inputs.campaigns.values()
                   if rule.per_day > 0 and group.campaign_on(rule.code, day)),
                  key=lambda rule: (-rule.priority, rule.code))


def _count(programs: Sequence[_Program], code: str) -> int:
    return sum(1 for program in programs for item in program.items if item.campaign == code)


def _place_one(group: _Group, program: _Program, pool: Sequence[Candidate]) -> bool:
    present = program.pieces()
    for candidate in sorted((c for c in pool if c.piece_id not in present and group.eligible(c, program)),
                            key=group.rank):
        if group.fits(program, group.seconds(candidate)) or group.make_room(program, candidate):
            group.add(program, candidate, protect=True)
            return True
    return False


def _day(group: _Group, todays: list[_Program], day: date) -> list[DayShortfall]:
    """Fill one day's programs: priority pieces, kept, each campaign's share of its ``per_day`` target
    spread over the programs, then rotation; then a last try at targets still unmet."""
    open_programs = [p for p in todays if not p.frozen]
    for program in open_programs:
        _leading(group, program)
        _kept(group, program, program.kept)
    rules = _target_rules(group, day)
    pools = {rule.code: [c for c in group.inputs.candidates if c.campaign == rule.code] for rule in rules}
    quotas: dict[tuple[str, int], int] = {}
    for rule in rules:
        left = rule.per_day
        for program in todays:  # what already counts toward the target may not be displaced
            for item in program.items:
                if item.campaign == rule.code and left > 0:
                    program.protected.add(item.piece_id)
                    left -= 1
        if open_programs:
            share, extra = divmod(left, len(open_programs))
            for index in range(len(open_programs)):
                quotas[(rule.code, index)] = share + (1 if index < extra else 0)
    for index, program in enumerate(open_programs):
        for rule in rules:
            for _ in range(quotas[(rule.code, index)]):
                if not _place_one(group, program, pools[rule.code]):
                    break
        _fill(group, program)
    out = []
    for rule in rules:
        have = _count(todays, rule.code)
        while have < rule.per_day:
            ordered = sorted(open_programs, key=lambda p, code=rule.code: (_count([p], code), p.instance.start_at))
            if not any(_place_one(group, program, pools[rule.code]) for program in ordered):
                out.append(DayShortfall(day, rule.code, rule.per_day, have,
                                        _why_short(group, open_programs, pools[rule.code])))
                break
            have += 1
    return out


def _why_short(group: _Group, programs: list[_Program], pool: Sequence[Candidate]) -> str:
    usable = [(c, p) for p in programs for c in pool if group.eligible(c, p)]
    if not usable:
        return "no_pieces"
    if all(group.seconds(c) + group.overhead > p.instance.length_s for c, p in usable):
        return "too_long"
    if all(c.piece_id in p.pieces() for c, p in usable):
        return "too_few_pieces"
    return "full"


def _fill(group: _Group, program: _Program) -> None:
    """Rotation: the best-ranked pieces that still fit. (Displacing is no use here: what was placed
    before ranks at least as high, and kept or target pieces are protected.)"""
    present = program.pieces()
    choices = sorted((c for c in group.inputs.candidates if c.piece_id not in present and group.eligible(c, program)),
                     key=group.rank)
    if not group.timed:
        for candidate in choices:
            if candidate.piece_id not in group.published:
                group.add(program, candidate)
        return
    shortest = min((group.seconds(c) for c in choices), default=0.0)
    limit = program.instance.length_s + 1e-9
    for candidate in choices:
        if program.used + group.need(program, shortest) > limit:
            break  # not even the shortest piece fits any more
        if group.fits(program, group.seconds(candidate)):
            group.add(program, candidate)


def _leading(group: _Group, program: _Program) -> None:
    """Priority pieces go first, by rank, displacing the lowest-ranked pieces that are not pinned."""
    leading = sorted((c for c in group.inputs.candidates if c.leads and c.piece_id not in program.pieces()
                      and group.eligible(c, program)), key=group.rank)
    for candidate in leading:
        if group.fits(program, group.seconds(candidate)) or group.make_room(program, candidate):
            group.add(program, candidate)


def _order(group: _Group, program: _Program) -> list[PlannedItem]:
    """Priority pieces at the head (by rank), then pinned ones as they were, then by rank as placed."""
    def key(pair: tuple[int, PlannedItem]) -> tuple:
        index, item = pair
        candidate = group.by_piece.get(item.piece_id)
        leads = candidate is not None and candidate.leads and not item.pinned
        return (0 if leads else 1 if item.pinned else 2, () if item.pinned else group.item_klass(item), index)

    return [item for _, item in sorted(enumerate(program.items), key=key)]


def _keep(group: _Group, program: _Program, item: PlannedItem) -> None:
    program.items.append(item)
    program.present.add(item.piece_id)
    program.protected.add(item.piece_id)
    group.aired[item.piece_id] += 1
    if group.once:
        group.published.add(item.piece_id)


def _why_held(group: _Group, program: _Program, candidate: Candidate | None, check_room: bool) -> Held | None:
    """Why ``candidate`` (the piece's approved revision) cannot take its pin in ``program``, or None."""
    instance = program.instance
    if candidate is None:
        return Held("gone")
    if candidate.emergency:
        return Held("emergency")
    if candidate.campaign is not None and not group.campaign_on(candidate.campaign, instance.day):
        return Held("campaign_off")
    if group.timed and candidate.seconds.get(group.inputs.seconds_key) is None:
        return Held("not_measured")
    if not group.rules.valid_in(candidate.valid_from, candidate.valid_until, instance.start_at, instance.end_at):
        return Held("not_valid")
    seconds = group.seconds(candidate)
    if check_room and not group.fits(program, seconds):
        room = instance.length_s - program.used - (group.inputs.gap_s if program.items else group.overhead)
        return Held("no_room", seconds=seconds, room=max(room, 0.0), length=instance.length_s)
    return None


def _pins(group: _Group, program: _Program, pins: Sequence[PlannedItem]) -> None:
    """A pin belongs to the piece: the approved revision takes the pinned place if it may air there and,
    when it is not the revision pinned, if it fits beside the other pins; otherwise the pin is held out
    of the program (it does not air) with the reason, and tried again at the next re-plan."""
    settled = [item for item in pins if item.held is None and (c := group.by_piece.get(item.piece_id)) is not None
               and c.revision_id == item.revision_id]
    for item in settled:
        candidate = group.by_piece[item.piece_id]
        held = _why_held(group, program, candidate, check_room=False)
        if held is None:
            _keep(group, program, item)
        else:
            program.held.append(replace(item, held=held))
    group._recount(program)
    for item in pins:
        if item in settled:
            continue
        candidate = group.by_piece.get(item.piece_id)
        held = _why_held(group, program, candidate, check_room=True)
        if candidate is not None:
            item = PlannedItem(candidate.piece_id, candidate.revision_id, candidate.campaign,
                               group.seconds(candidate), pinned=True)
        if held is None:
            _keep(group, program, item)
            group._recount(program)
        else:
            program.held.append(replace(item, held=held))


def place_group(inputs: GroupInputs, progress: Callable[[], None] | None = None,
                ) -> tuple[list[list[PlannedItem] | None], list[DayShortfall]]:
    """The items of each instance (None for a frozen one, which is never changed; pins held out last, with
    ``held`` set) and the unmet targets."""
    group = _Group(inputs)
    programs = []
    for instance, existing in zip(inputs.instances, inputs.existing, strict=True):
        program = _Program(instance, existing.frozen, existing.removed, existing.kept)
        if existing.frozen:
            for item in existing.items:
                _keep(group, program, item)
        else:
            _pins(group, program, [item for item in existing.items if item.pinned])
        group._recount(program)
        programs.append(program)
    shortfalls: list[DayShortfall] = []
    for day, day_programs in groupby(programs, key=lambda p: p.instance.day):
        todays = list(day_programs)
        group.aired_today = Counter(item.piece_id for p in todays for item in p.items)
        shortfalls += _day(group, todays, day)
    return [None if p.frozen else _order(group, p) + p.held for p in programs], shortfalls
