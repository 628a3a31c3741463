"""The levels of Circular 39/2020 in the planner: priority pieces lead every program they are valid for, on every
outlet kind, in the planner's order; emergency pieces never enter the plan."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from scheduler.outlets import OUTLETS
from scheduler.planning.calendar import CampaignRule, Instance
from scheduler.planning.planner import LEADING_RULE, Candidate, Existing, PlanInputs, PlannedItem, key_of, plan

from conftest import ZONE

DAY = date(2026, 4, 20)  # van-hoa-doc is on
CAMPAIGNS = {"van-hoa-doc": CampaignRule("van-hoa-doc", 6, yearly="04-14..04-28")}
STATIONS = ("99001", "99002")
#: One program of each outlet kind, as the slots give them: (start, length).
SLOTS = {"loudspeaker": (time(6), 400), "board": (time(0), 86400), "portal": (time(7, 30), 3600),
         "social": (time(8), 3600), "print": (time(9), 3600)}


def inst(outlet: str, station: str = "99001", *, day: date = DAY) -> Instance:
    at, length = SLOTS[outlet]
    start = datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
    return Instance(start, station, outlet, f"{outlet}-{at:%H%M}", start + timedelta(seconds=length), day)


def cand(piece_id: int, seconds: float = 100.0, *, level: str = "normal", priority: int = 5,
         campaign: str | None = None, valid_from: datetime | None = None) -> Candidate:
    return Candidate(piece_id, piece_id * 10, f"Tin {piece_id}", campaign, frozenset(OUTLETS), valid_from, None,
                     priority, level, {"loudspeaker": seconds, "board:": seconds})


def run(instances, candidates, **kwargs):
    return plan(PlanInputs(instances=instances, candidates=candidates, campaigns=CAMPAIGNS, **kwargs))


def ids(result, instance) -> list[int]:
    return [item.piece_id for item in result.programs.get(key_of(instance), []) if item.held is None]


@pytest.mark.parametrize("outlet", OUTLETS)
def test_a_priority_piece_leads_the_program_on_every_outlet(outlet) -> None:
    instances = [inst(outlet, station) for station in STATIONS]
    normal = [cand(1, priority=9, campaign="van-hoa-doc"), cand(2, priority=8), cand(3, priority=7)]
    result = run(instances, [*normal, cand(9, priority=1, level="priority")])
    for instance in instances:
        assert ids(result, instance)[0] == 9
    assert not [u for u in result.unplaced if u.piece_id == 9 and u.outlet == outlet]


@pytest.mark.parametrize("outlet", ["loudspeaker", "board"])
def test_a_priority_piece_displaces_the_lowest_ranked_kept_piece_on_timed_outlets(outlet) -> None:
    instance = inst(outlet)
    short = replace_length(instance, 250)
    first = run([short], [cand(1, priority=9), cand(2, priority=2)])
    assert ids(first, short) == [1, 2]
    kept = {key_of(short): Existing(frozen=False, kept=tuple(first.programs[key_of(short)]))}
    again = run([short], [cand(1, priority=9), cand(2, priority=2), cand(3, level="priority", priority=1)],
                existing=kept)
    assert ids(again, short) == [3, 1]
    assert [(u.piece_id, u.code) for u in again.unplaced if u.outlet == outlet] == [(2, "no_room")]


def replace_length(instance: Instance, seconds: int) -> Instance:
    return Instance(instance.start_at, instance.station_code, instance.outlet, instance.slot_name,
                    instance.start_at + timedelta(seconds=seconds), instance.day)


@pytest.mark.parametrize("outlet", OUTLETS)
def test_priority_pieces_lead_in_the_planners_order_which_the_result_states(outlet) -> None:
    """Among priority pieces: campaign priority, then piece priority, then the lower piece id."""
    instance = inst(outlet)
    candidates = [cand(1, 50, priority=9), cand(2, 50, level="priority", priority=3),
                  cand(3, 50, level="priority", priority=3, campaign="van-hoa-doc"),
                  cand(4, 50, level="priority", priority=8), cand(5, 50, level="priority", priority=3)]
    result = run([instance], candidates)
    assert ids(result, instance) == [3, 4, 2, 5, 1]
    assert [c.piece_id for c in result.leading] == [3, 4, 2, 5]
    assert "campaign priority" in LEADING_RULE and "piece priority" in LEADING_RULE


def test_a_priority_piece_leads_only_the_programs_it_is_valid_for() -> None:
    early, late = inst("loudspeaker"), inst("loudspeaker", day=DAY + timedelta(days=1))
    from_tomorrow = datetime.combine(DAY + timedelta(days=1), time(0), tzinfo=ZONE)
    result = run([early, late], [cand(1), cand(2, level="priority", valid_from=from_tomorrow)])
    assert (ids(result, early), ids(result, late)) == ([1], [2, 1])


def test_an_emergency_piece_never_enters_the_plan_and_is_reported_on_each_outlet() -> None:
    instances = [inst(outlet, station) for outlet in OUTLETS for station in STATIONS]
    result = run(instances, [cand(1), cand(7, 10, level="emergency", priority=9)])
    assert all(7 not in ids(result, instance) for instance in instances)
    assert all(ids(result, instance) == [1] for instance in instances)
    found = sorted((u.outlet, u.stations, u.code) for u in result.unplaced)
    assert found == sorted((outlet, len(STATIONS), "emergency") for outlet in OUTLETS)
    assert all("emergency broadcast" in u.reason for u in result.unplaced)
    assert result.leading == []


def test_an_emergency_piece_already_planned_or_pinned_leaves_the_program() -> None:
    """A piece whose approved revision became an emergency: its kept airing goes, its pin is held out, saying why."""
    loudspeaker, board = inst("loudspeaker"), inst("board")
    existing = {
        key_of(loudspeaker): Existing(frozen=False, kept=(PlannedItem(7, 70, None, 10.0),)),
        key_of(board): Existing(frozen=False, items=(PlannedItem(7, 70, None, 10.0, pinned=True),)),
    }
    result = run([loudspeaker, board], [cand(1), cand(7, 10, level="emergency")], existing=existing)
    assert ids(result, loudspeaker) == [1] and ids(result, board) == [1]
    held = [item for item in result.programs[key_of(board)] if item.held is not None]
    assert [(item.piece_id, item.held.code) for item in held] == [(7, "emergency")]
    assert "emergency broadcast" in held[0].held.reason
