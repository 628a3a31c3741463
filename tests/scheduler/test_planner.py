"""The planner: what goes into each program, in which order, and what cannot be placed and why."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from scheduler.planning.calendar import CampaignRule, Instance
from scheduler.planning.planner import Candidate, Existing, PlanInputs, PlannedItem, key_of, plan
from scheduler.planning.planner_types import Held

from conftest import ZONE

DAY = date(2026, 11, 23)  # a Monday; no yearly campaign is on
ALL = ("loudspeaker", "board", "portal")
CAMPAIGNS = {
    "tuan-hoc-tap": CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07"),
    "van-hoa-doc": CampaignRule("van-hoa-doc", 6, yearly="04-14..04-28", lead_days=7),
    "guong-dien-hinh": CampaignRule("guong-dien-hinh", 4, date_from=date(2026, 1, 1), date_to=date(2027, 12, 31)),
}


def inst(station: str = "99001", *, outlet: str = "loudspeaker", day: date = DAY, at: time = time(6),
         length_s: int = 1800, name: str | None = None) -> Instance:
    start = datetime.combine(day, at, tzinfo=ZONE).astimezone(UTC)
    return Instance(start, station, outlet, name or f"{outlet}-{at:%H%M}", start + timedelta(seconds=length_s), day)


def cand(piece_id: int, seconds: float = 60.0, *, campaign: str | None = None, priority: int = 5,
         level: str = "normal", channels: tuple[str, ...] = ("loudspeaker",), valid_from: datetime | None = None,
         valid_until: datetime | None = None, board: dict[str, float] | None = None) -> Candidate:
    return Candidate(piece_id, piece_id * 100, f"Tin số {piece_id}", campaign, frozenset(channels), valid_from,
                     valid_until, priority, level, {"loudspeaker": seconds, **(board or {})})


def run(instances, candidates, **kwargs):
    return plan(PlanInputs(instances=instances, candidates=candidates, campaigns=kwargs.pop("campaigns", CAMPAIGNS),
                           **kwargs))


def pieces(result, instance: Instance) -> list[int]:
    return [item.piece_id for item in result.programs[key_of(instance)]]


def days(n: int, **kwargs) -> list[Instance]:
    return [inst(day=DAY + timedelta(days=i), **kwargs) for i in range(n)]


# --- the length of a program ----------------------------------------------------------------------

def program_seconds(items, gap_s: float) -> float:
    return sum(item.seconds for item in items) + gap_s * max(len(items) - 1, 0)


def test_program_is_filled_up_to_its_length_with_gaps_counted() -> None:
    """600 s slot, 1 s gaps: 200 + 1 + 200 + 1 + 198 = 600 fits exactly; nothing more does."""
    instance = inst(length_s=600)
    result = run([instance], [cand(1, 200), cand(2, 200), cand(3, 198), cand(4, 1)], gap_s=1.0)
    assert pieces(result, instance) == [1, 2, 3]
    assert program_seconds(result.programs[key_of(instance)], 1.0) == 600


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    durations=st.lists(st.floats(min_value=0.5, max_value=2000, allow_nan=False), min_size=0, max_size=25),
    lengths=st.lists(st.integers(min_value=30, max_value=3600), min_size=1, max_size=6),
    gap_s=st.sampled_from([0.0, 0.5, 1.0, 3.0]),
)
def test_no_loudspeaker_program_is_longer_than_its_slot(durations: list[float], lengths: list[int],
                                                        gap_s: float) -> None:
    instances = [inst(day=DAY + timedelta(days=i), length_s=length) for i, length in enumerate(lengths)]
    candidates = [cand(i + 1, seconds) for i, seconds in enumerate(durations)]
    result = run(instances, candidates, gap_s=gap_s)
    for instance in instances:
        items = result.programs.get(key_of(instance), [])
        total = program_seconds(items, gap_s)
        assert total <= instance.length_s + 1e-6
        assert len({item.piece_id for item in items}) == len(items)
        # nothing that still fits was left out
        left = [c for c in candidates if c.piece_id not in {item.piece_id for item in items}]
        for candidate in left:
            need = candidate.seconds["loudspeaker"] + (gap_s if items else 0.0)
            assert total + need > instance.length_s - 1e-6


# --- determinism ------------------------------------------------------------------------------------

STATIONS = ("99001", "99002", "99003")
RICH_INSTANCES = [
    inst(station, outlet=outlet, day=DAY + timedelta(days=d), at=at, length_s=length)
    for station in STATIONS for d in range(3)
    for outlet, at, length in (("loudspeaker", time(6), 400), ("loudspeaker", time(17), 400),
                               ("board", time(0), 86400), ("portal", time(7, 30), 3600))
]
RICH_CANDIDATES = [
    cand(1, 120, channels=ALL, board={"board:": 30}),
    cand(2, 90, priority=8, channels=ALL, board={"board:": 45}),
    cand(3, 200, campaign="guong-dien-hinh", channels=ALL, board={"board:": 15}),
    cand(4, 150, campaign="tuan-hoc-tap", channels=ALL),
    cand(5, 60, level="priority", channels=("loudspeaker", "portal")),
    cand(6, 100, priority=2, channels=ALL, board={"board:": 60}),
    cand(7, 500, channels=("loudspeaker",)),
    cand(8, 80, valid_until=datetime.combine(DAY + timedelta(days=1), time(12), tzinfo=ZONE), channels=ALL,
         board={"board:": 30}),
]


def test_same_inputs_give_the_same_plan() -> None:
    first = run(RICH_INSTANCES, RICH_CANDIDATES)
    second = run(list(RICH_INSTANCES), list(RICH_CANDIDATES))
    assert first.programs == second.programs
    assert first.unplaced == second.unplaced
    assert any(first.programs.values())


@hypothesis_settings(max_examples=30, deadline=None)
@given(candidates=st.permutations(RICH_CANDIDATES), instances=st.permutations(RICH_INSTANCES))
def test_order_of_inputs_does_not_change_the_programs(candidates, instances) -> None:
    expected = run(RICH_INSTANCES, RICH_CANDIDATES)
    assert run(instances, candidates).programs == expected.programs


@hypothesis_settings(max_examples=30, deadline=None)
@given(candidates=st.permutations(RICH_CANDIDATES))
def test_order_of_candidates_does_not_change_what_is_reported_unplaced(candidates) -> None:
    instances = sorted(RICH_INSTANCES)  # in calendar order, as calendar.instances() gives them
    expected = run(instances, RICH_CANDIDATES)
    result = run(instances, candidates)
    assert sorted(result.unplaced, key=repr) == sorted(expected.unplaced, key=repr)


# --- what may be placed --------------------------------------------------------------------------------

def test_campaign_pieces_are_placed_only_while_their_campaign_is_on() -> None:
    rule = {"tuan-hoc-tap": CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07")}
    instances = [inst(day=day) for day in (date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 7),
                                           date(2026, 10, 8))]
    result = run(instances, [cand(1, campaign="tuan-hoc-tap"), cand(2)], campaigns=rule)
    assert [pieces(result, i) for i in instances] == [[2], [1, 2], [1, 2], [2]]


def test_campaign_pieces_respect_the_campaigns_outlets() -> None:
    rule = {"tuan-hoc-tap": CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07", outlets=("board",))}
    loudspeaker = inst(day=date(2026, 10, 2))
    board = inst(outlet="board", day=date(2026, 10, 2), at=time(0), length_s=86400)
    result = run([loudspeaker, board], [cand(1, campaign="tuan-hoc-tap", channels=ALL, board={"board:": 30})],
                 campaigns=rule)
    assert pieces(result, loudspeaker) == []
    assert pieces(result, board) == [1]


def test_pieces_of_an_unknown_campaign_are_not_placed() -> None:
    instance = inst()
    result = run([instance], [cand(1, campaign="khong-co")])
    assert pieces(result, instance) == []
    assert "not configured" in result.unplaced[0].reason


def test_pieces_are_placed_only_inside_their_validity_window() -> None:
    instances = days(4)
    starts_tuesday = cand(1, valid_from=instances[1].start_at)
    ends_wednesday = cand(2, valid_until=instances[2].start_at)  # expires as Wednesday's program starts
    result = run(instances, [starts_tuesday, ends_wednesday])
    assert [pieces(result, i) for i in instances] == [[2], [1, 2], [1], [1]]


def test_pieces_go_only_to_their_channels() -> None:
    loudspeaker, portal = inst(), inst(outlet="portal", at=time(7, 30))
    result = run([loudspeaker, portal], [cand(1, channels=("portal",)), cand(2, channels=("loudspeaker",))])
    assert (pieces(result, loudspeaker), pieces(result, portal)) == ([2], [1])


def test_piece_that_cannot_be_measured_is_not_placed() -> None:
    board = inst(outlet="board", at=time(0), length_s=86400)
    result = run([board], [cand(1, channels=("board",), board={"board:280/15": 30})],
                 board_profiles={"99001": "240/20"})
    assert pieces(result, board) == []
    assert "could not be measured" in result.unplaced[0].reason


def test_board_uses_the_display_time_of_the_stations_board_profile() -> None:
    board = inst(outlet="board", at=time(0), length_s=100)
    result = run([board], [cand(1, 5000, channels=("board",), board={"board:280/15": 60}),
                           cand(2, 1, channels=("board",), board={"board:280/15": 60})],
                 board_profiles={"99001": "280/15"})
    assert pieces(result, board) == [1]
    assert [item.seconds for item in result.programs[key_of(board)]] == [60]


# --- order --------------------------------------------------------------------------------------------

def test_priority_level_first_then_campaign_priority_then_piece_priority() -> None:
    instance = inst(length_s=3600)
    candidates = [
        cand(1, priority=9),
        cand(2, priority=1, campaign="guong-dien-hinh"),       # campaign priority 4
        cand(3, priority=5, campaign="van-hoa-doc"),            # campaign priority 6 (in its window below)
        cand(4, priority=1, level="priority"),
        cand(5, priority=3),
        cand(6, priority=9, campaign="guong-dien-hinh"),
    ]
    april = inst(day=date(2026, 4, 20), length_s=3600)
    result = run([instance, april], candidates)
    assert pieces(result, april) == [4, 3, 6, 2, 1, 5]
    assert pieces(result, instance) == [4, 6, 2, 1, 5]


def test_priority_piece_takes_the_only_room() -> None:
    instance = inst(length_s=100)
    result = run([instance], [cand(1, 90, priority=9), cand(2, 90, priority=1, level="priority")])
    assert pieces(result, instance) == [2]


def test_more_pieces_than_fit_rotate_fairly() -> None:
    instances = [inst(day=DAY + timedelta(days=d), at=at, length_s=250) for d in range(5)
                 for at in (time(6), time(17))]
    candidates = [cand(i, 100) for i in range(1, 8)]  # two fit a 250 s program
    result = run(instances, candidates)
    counts = Counter(item.piece_id for items in result.programs.values() for item in items)
    assert sum(counts.values()) == 2 * len(instances)
    assert set(counts) == set(range(1, 8))
    assert max(counts.values()) - min(counts.values()) <= 1


def test_the_same_piece_is_never_twice_in_one_program() -> None:
    instance = inst(length_s=3600)
    pinned = Existing(frozen=False, items=(PlannedItem(1, 100, None, 60.0, pinned=True),))
    result = run([instance], [cand(1), cand(2)], existing={key_of(instance): pinned})
    assert pieces(result, instance) == [1, 2]


# --- what is already stored -------------------------------------------------------------------------

def test_pinned_items_stay_first_and_count_against_the_length() -> None:
    instance = inst(length_s=300)
    pinned = PlannedItem(9, 900, None, 100.0, pinned=True)
    result = run([instance], [cand(1, 150, priority=9), cand(2, 150), cand(9, 100)],
                 existing={key_of(instance): Existing(frozen=False, items=(pinned,))})
    assert result.programs[key_of(instance)] == [pinned, PlannedItem(1, 100, None, 150.0)]


def test_a_pin_whose_piece_can_no_longer_air_is_held_out_and_takes_no_room() -> None:
    instance = inst(length_s=300)
    pinned = PlannedItem(9, 900, None, 100.0, pinned=True)  # no longer a candidate at all (withdrawn)
    result = run([instance], [cand(1, 150, priority=9), cand(2, 140)],
                 existing={key_of(instance): Existing(frozen=False, items=(pinned,))})
    assert result.programs[key_of(instance)] == [PlannedItem(1, 100, None, 150.0), PlannedItem(2, 200, None, 140.0),
                                                 replace(pinned, held=Held("gone"))]


def test_a_pin_takes_the_new_revision_if_it_fits_beside_the_other_pins() -> None:
    instance = inst(length_s=300)
    pins = (PlannedItem(8, 800, None, 100.0, pinned=True), PlannedItem(9, 900, None, 100.0, pinned=True))
    fits = run([instance], [cand(8, 100), Candidate(9, 901, "Tin số 9", None, frozenset(ALL[:1]), None, None, 5,
                                                    False, {"loudspeaker": 198.0}), cand(1, 10)],
               existing={key_of(instance): Existing(frozen=False, items=pins)}, gap_s=1.0)
    assert fits.programs[key_of(instance)] == [pins[0], PlannedItem(9, 901, None, 198.0, pinned=True)]
    too_long = run([instance], [cand(8, 100), Candidate(9, 901, "Tin số 9", None, frozenset(ALL[:1]), None, None, 5,
                                                        False, {"loudspeaker": 199.5}), cand(1, 10)],
                   existing={key_of(instance): Existing(frozen=False, items=pins)}, gap_s=1.0)
    assert too_long.programs[key_of(instance)] == [pins[0], PlannedItem(1, 100, None, 10.0), PlannedItem(
        9, 901, None, 199.5, pinned=True, held=Held("no_room", seconds=199.5, room=199.0, length=300))]


def test_frozen_instances_are_untouched_and_count_for_rotation() -> None:
    monday, tuesday = days(2, length_s=100)
    delivered = Existing(frozen=True, items=(PlannedItem(1, 100, None, 60.0),))
    result = run([monday, tuesday], [cand(1, 60), cand(2, 60)], existing={key_of(monday): delivered})
    assert key_of(monday) not in result.programs
    assert pieces(result, tuesday) == [2]


def test_removed_pieces_are_not_put_back() -> None:
    monday, tuesday = days(2)
    removed = Existing(frozen=False, removed=frozenset({1}))
    result = run([monday, tuesday], [cand(1), cand(2)], existing={key_of(monday): removed})
    assert pieces(result, monday) == [2]
    assert pieces(result, tuesday) == [1, 2]


# --- portals ---------------------------------------------------------------------------------------------

def test_portal_publishes_each_piece_once_per_station() -> None:
    portal = [inst(station, outlet="portal", day=DAY + timedelta(days=d), at=time(7, 30), length_s=3600)
              for station in ("99001", "99002") for d in range(3)]
    result = run(portal, [cand(1, channels=("portal",)), cand(2, channels=("portal",))])
    for station in ("99001", "99002"):
        published = [item.piece_id for i in portal if i.station_code == station
                     for item in result.programs.get(key_of(i), [])]
        assert sorted(published) == [1, 2]
    assert result.unplaced == []


def test_portal_skips_what_is_already_published() -> None:
    portal = [inst(station, outlet="portal", day=DAY + timedelta(days=d), at=time(7, 30))
              for station in ("99001", "99002") for d in range(2)]
    result = run(portal, [cand(1, channels=("portal",))], published=frozenset({("99001", 1)}))
    placed = [(i.station_code, item.piece_id) for i in portal for item in result.programs.get(key_of(i), [])]
    assert placed == [("99002", 1)]
    assert result.unplaced == []


# --- what could not be placed ---------------------------------------------------------------------------

@pytest.mark.parametrize(("candidates", "piece_id", "reason"), [
    ([cand(1, campaign="tuan-hoc-tap")], 1, "campaign 'tuan-hoc-tap' is not on"),
    ([cand(1, 4000)], 1, "longer than every slot"),
    ([cand(1, 1000), cand(2, 1000)], 2, "no room"),
    ([cand(1, valid_until=datetime(2026, 1, 1, tzinfo=UTC))], 1, "outside its validity window"),
    ([cand(1, channels=("loudspeaker", "portal"))], 1, "no portal slot"),
])
def test_unplaced_pieces_are_reported_with_the_reason(candidates, piece_id: int, reason: str) -> None:
    result = run([inst()], candidates)
    unplaced = [u for u in result.unplaced if u.piece_id == piece_id]
    assert len(unplaced) == 1
    assert reason in unplaced[0].reason
    assert unplaced[0].title == f"Tin số {piece_id}"
    assert all(u.piece_id == piece_id for u in result.unplaced)


def test_campaign_not_on_names_the_first_and_last_day() -> None:
    result = run(days(3), [cand(1, campaign="tuan-hoc-tap")])
    assert result.unplaced[0].reason == "campaign 'tuan-hoc-tap' is not on between 2026-11-23 and 2026-11-25"


def test_unplaced_counts_the_stations_missed() -> None:
    instances = [inst(station, length_s=100) for station in STATIONS]
    result = run(instances, [cand(1, 500)])
    assert [(u.piece_id, u.outlet, u.stations) for u in result.unplaced] == [(1, "loudspeaker", 3)]

