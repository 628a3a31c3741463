"""The planner's rules the editor relies on: targets, priority pieces, overhead, stability, fairness."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduler.planning.calendar import CampaignRule, Instance, campaign_active
from scheduler.planning.planner import Candidate, Existing, PlanInputs, PlannedItem, key_of, plan

from conftest import ZONE

DAY = date(2026, 11, 23)  # a Monday
ON = {"on": CampaignRule("on", 5, date_from=date(2026, 1, 1), date_to=date(2027, 12, 31), per_day=2)}


def inst(station: str = "99001", *, day: date = DAY, at: time = time(6), length_s: int = 600,
         outlet: str = "loudspeaker") -> Instance:
    start = datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
    return Instance(start, station, outlet, f"{outlet}-{at:%H%M}", start + timedelta(seconds=length_s), day)


def cand(piece_id: int, seconds: float = 100.0, *, campaign: str | None = None, priority: int = 5,
         level: str = "normal", valid_until: datetime | None = None, valid_from: datetime | None = None) -> Candidate:
    return Candidate(piece_id, piece_id * 10, f"Tin {piece_id}", campaign, frozenset({"loudspeaker"}), valid_from,
                     valid_until, priority, level, {"loudspeaker": seconds})


def week(station: str = "99001", *, days: int = 7, slots: tuple[time, ...] = (time(6), time(17)),
         length_s: int = 600) -> list[Instance]:
    return [inst(station, day=DAY + timedelta(days=d), at=at, length_s=length_s) for d in range(days) for at in slots]


def run(instances, candidates, campaigns=None, **kwargs):
    return plan(PlanInputs(instances=instances, candidates=candidates, campaigns=campaigns or {}, **kwargs))


def ids(result, instance) -> list[int]:
    return [item.piece_id for item in result.programs.get(key_of(instance), [])]


def kept_from(result, instances, frozen=()) -> dict:
    """What replan() hands the planner after storing ``result``: pending programs as kept items."""
    return {key_of(i): Existing(frozen=key_of(i) in frozen, items=tuple(result.programs.get(key_of(i), []))
                                if key_of(i) in frozen else (), kept=() if key_of(i) in frozen
                                else tuple(result.programs.get(key_of(i), [])))
            for i in instances}


# --- capacity with the program's fixed overhead ------------------------------------------------------

def test_jingle_overhead_counts_against_the_slot() -> None:
    instance = inst(length_s=300)
    assert ids(run([instance], [cand(1), cand(2), cand(3)], gap_s=0.0), instance) == [1, 2, 3]
    assert ids(run([instance], [cand(1), cand(2), cand(3)], gap_s=0.0, overhead_s=100.0), instance) == [1, 2]


def test_piece_too_long_once_the_overhead_is_counted_says_so() -> None:
    result = run([inst(length_s=300)], [cand(1, 250)], gap_s=0.0, overhead_s=60.0)
    assert result.unplaced[0].code == "too_long"
    assert "310 s" in result.unplaced[0].reason


# --- campaign targets -----------------------------------------------------------------------------------

def test_target_is_met_every_day_and_spread_over_the_days_programs() -> None:
    instances = week(length_s=250)  # two pieces of 100 s per program
    candidates = [cand(1, campaign="high"), cand(2, campaign="high"), cand(3, campaign="high"),
                  cand(4, campaign="on"), cand(5, campaign="on")]
    campaigns = {"on": CampaignRule("on", 1, date_from=date(2026, 1, 1), date_to=date(2027, 1, 1), per_day=2),
                 "high": CampaignRule("high", 9, date_from=date(2026, 1, 1), date_to=date(2027, 1, 1))}
    result = run(instances, candidates, campaigns)
    for morning, evening in zip(instances[::2], instances[1::2], strict=True):
        assert sum(1 for p in ids(result, morning) if p in (4, 5)) == 1
        assert sum(1 for p in ids(result, evening) if p in (4, 5)) == 1
    assert result.shortfalls == []


def test_no_pieces_for_a_campaign_is_an_unmet_target_with_its_reason() -> None:
    result = run(week(days=2), [cand(1)], ON)
    assert {(s.day, s.code, s.placed, s.wanted) for s in result.shortfalls} == {
        (DAY, "no_pieces", 0, 2), (DAY + timedelta(days=1), "no_pieces", 0, 2)}
    assert "no approved piece" in result.shortfalls[0].reason


def test_pieces_longer_than_the_programs_are_an_unmet_target() -> None:
    result = run(week(days=1, length_s=300), [cand(1, 400, campaign="on")], ON)
    assert [(s.code, s.placed) for s in result.shortfalls] == [("too_long", 0)]


def test_too_few_pieces_for_the_target() -> None:
    campaigns = {"on": CampaignRule("on", 5, date_from=date(2026, 1, 1), date_to=date(2027, 1, 1), per_day=3)}
    result = run(week(days=1), [cand(1, campaign="on")], campaigns)
    assert [(s.code, s.placed, s.wanted) for s in result.shortfalls] == [("too_few_pieces", 2, 3)]
    assert result.shortfalls[0].station == "99001"


def test_higher_priority_campaign_filling_the_slots_leaves_the_target_unmet() -> None:
    campaigns = {
        "high": CampaignRule("high", 9, date_from=date(2026, 1, 1), date_to=date(2027, 1, 1), per_day=2),
        "low": CampaignRule("low", 1, date_from=date(2026, 1, 1), date_to=date(2027, 1, 1), per_day=1),
    }
    instances = week(days=1, length_s=100)  # one piece per program
    result = run(instances, [cand(1, campaign="high"), cand(2, campaign="high"), cand(3, campaign="low")], campaigns)
    assert [(s.campaign, s.code) for s in result.shortfalls] == [("low", "full")]
    assert sorted(p for i in instances for p in ids(result, i)) == [1, 2]


def test_target_is_only_counted_on_days_the_campaign_is_on() -> None:
    week_rule = {"tuan": CampaignRule("tuan", 7, yearly="10-01..10-07", per_day=2)}
    instances = [inst(day=d) for d in (date(2026, 9, 30), date(2026, 10, 1))]
    result = run(instances, [cand(1, campaign="tuan")], week_rule)
    assert [(s.day, s.code) for s in result.shortfalls] == [(date(2026, 10, 1), "too_few_pieces")]


# --- priority pieces ----------------------------------------------------------------------------------------

def test_priority_piece_goes_first_and_displaces_the_lowest_ranked() -> None:
    instance = inst(length_s=250)
    first = run([instance], [cand(1, priority=8), cand(2, priority=2)])
    assert ids(first, instance) == [1, 2]
    again = run([instance], [cand(1, priority=8), cand(2, priority=2), cand(3, level="priority", priority=1)],
                existing=kept_from(first, [instance]))
    assert ids(again, instance) == [3, 1]
    assert [(u.piece_id, u.code) for u in again.unplaced] == [(2, "no_room")]


def test_priority_piece_never_displaces_a_pinned_one() -> None:
    instance = inst(length_s=150)
    pinned = Existing(frozen=False, items=(PlannedItem(1, 10, None, 100.0, pinned=True),))
    result = run([instance], [cand(1), cand(2, level="priority")], existing={key_of(instance): pinned})
    assert ids(result, instance) == [1]
    assert result.unplaced[0].piece_id == 2


# --- spread over the day ----------------------------------------------------------------------------------

def test_a_piece_is_spread_over_the_days_slots() -> None:
    instances = week(days=1, length_s=250)
    result = run(instances, [cand(1), cand(2), cand(3), cand(4)])
    assert sorted(ids(result, instances[0]) + ids(result, instances[1])) == [1, 2, 3, 4]


# --- properties -------------------------------------------------------------------------------------------

@st.composite
def scenarios(draw):
    stations = [f"9900{n}" for n in range(draw(st.integers(1, 3)))]
    slots = draw(st.lists(st.sampled_from([time(6), time(11), time(17), time(20)]), min_size=1, max_size=3,
                          unique=True))
    length = draw(st.integers(60, 1200))
    days = draw(st.integers(1, 7))
    instances = [inst(s, day=DAY + timedelta(days=d), at=at, length_s=length)
                 for s in stations for d in range(days) for at in sorted(slots)]
    campaigns = {
        code: CampaignRule(code, draw(st.integers(1, 9)), yearly=draw(st.sampled_from(["11-20..11-30",
                                                                                         "11-25..12-05",
                                                                                         "01-01..12-31"])),
                           per_day=draw(st.integers(0, 3)))
        for code in draw(st.lists(st.sampled_from(["a", "b", "c"]), max_size=3, unique=True))
    }
    n = draw(st.integers(0, 14))
    candidates = []
    for piece in range(1, n + 1):
        until = draw(st.one_of(st.none(), st.integers(0, days * 24).map(
            lambda h: datetime.combine(DAY, time(0), tzinfo=ZONE) + timedelta(hours=h))))
        candidates.append(cand(piece, draw(st.floats(5, 700)), campaign=draw(st.sampled_from([None, *campaigns])),
                               priority=draw(st.integers(1, 9)),
                               level="priority" if draw(st.booleans()) and piece % 5 == 0 else "normal",
                               valid_until=until))
    gap = draw(st.sampled_from([0.0, 1.0]))
    overhead = draw(st.sampled_from([0.0, 20.0]))
    return instances, candidates, campaigns, gap, overhead


def _check_program(instance, items, by_piece, campaigns, gap, overhead) -> None:
    if items:
        total = overhead + sum(i.seconds for i in items) + gap * (len(items) - 1)
        assert total <= instance.length_s + 1e-6
    assert len({i.piece_id for i in items}) == len(items)
    for item in items:
        if item.pinned:
            continue
        candidate = by_piece[item.piece_id]  # only airable candidates are ever placed
        assert candidate.valid_until is None or candidate.valid_until > instance.start_at
        if candidate.campaign:
            assert campaign_active(campaigns[candidate.campaign], instance.day)


@hypothesis_settings(max_examples=120, deadline=None)
@given(scenarios())
def test_every_plan_keeps_the_rules(scenario) -> None:
    instances, candidates, campaigns, gap, overhead = scenario
    result = run(instances, candidates, campaigns, gap_s=gap, overhead_s=overhead)
    by_piece = {c.piece_id: c for c in candidates}
    for instance in instances:
        _check_program(instance, result.programs.get(key_of(instance), []), by_piece, campaigns, gap, overhead)
    again = run(list(reversed(instances)), list(reversed(candidates)), campaigns, gap_s=gap, overhead_s=overhead)
    assert again.programs == result.programs and again.shortfalls == result.shortfalls


@hypothesis_settings(max_examples=80, deadline=None)
@given(scenarios(), st.data())
def test_replanning_keeps_delivered_and_pinned_airings_and_changes_only_what_it_must(scenario, data) -> None:
    instances, candidates, campaigns, gap, overhead = scenario
    first = run(instances, candidates, campaigns, gap_s=gap, overhead_s=overhead)
    # Re-planning what was stored, with nothing changed, changes nothing.
    same = run(instances, candidates, campaigns, gap_s=gap, overhead_s=overhead, existing=kept_from(first, instances))
    assert same.programs == first.programs

    frozen = {key_of(i) for i in data.draw(st.lists(st.sampled_from(instances), max_size=4))}
    existing = kept_from(first, instances, frozen)
    pins = data.draw(st.lists(st.sampled_from(instances), max_size=3, unique=True))
    for instance in pins:
        key = key_of(instance)
        if key in frozen or not first.programs.get(key):
            continue
        head, *rest = existing[key].kept
        existing[key] = Existing(False, items=(PlannedItem(head.piece_id, head.revision_id, head.campaign,
                                                           head.seconds, pinned=True),), kept=tuple(rest))
    newcomer = cand(99, data.draw(st.floats(5, 300)), priority=data.draw(st.integers(1, 9)))
    second = run(instances, [*candidates, newcomer], campaigns, gap_s=gap, overhead_s=overhead, existing=existing)
    by_piece = {c.piece_id: c for c in [*candidates, newcomer]}
    for instance in instances:
        key = key_of(instance)
        if key in frozen:
            assert key not in second.programs  # never touched
            continue
        items = second.programs.get(key, [])
        _check_program(instance, items, by_piece, campaigns, gap, overhead)
        pinned = [item for item in existing[key].items if item.pinned]
        assert [item for item in items if item.pinned] == pinned
        if 99 not in {item.piece_id for item in items}:
            assert {i.piece_id for i in items} == {i.piece_id for i in first.programs.get(key, [])}


@hypothesis_settings(max_examples=60, deadline=None)
@given(pieces=st.integers(1, 12), per_program=st.integers(1, 4), slots=st.integers(1, 3),
       per_day=st.integers(0, 3), seconds=st.sampled_from([30.0, 100.0]))
def test_equal_pieces_of_a_campaign_share_airtime_within_one(pieces, per_program, slots, per_day, seconds) -> None:
    campaigns = {"on": CampaignRule("on", 5, date_from=date(2026, 1, 1), date_to=date(2027, 1, 1), per_day=per_day)}
    times = (time(6), time(11), time(17))[:slots]
    instances = [*week("99001", slots=times, length_s=int(seconds * per_program)),
                 *week("99002", slots=times, length_s=int(seconds * per_program))]
    result = run(instances, [cand(p, seconds, campaign="on") for p in range(1, pieces + 1)], campaigns, gap_s=0.0)
    for station in ("99001", "99002"):
        counts = Counter({p: 0 for p in range(1, pieces + 1)})
        counts.update(item.piece_id for i in instances if i.station_code == station
                      for item in result.programs.get(key_of(i), []))
        assert max(counts.values()) - min(counts.values()) <= 1
