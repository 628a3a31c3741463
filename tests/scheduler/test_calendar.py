"""Calendars: when a campaign is on, and which slot instances the slots make over some days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.planning.calendar import CampaignRule, SlotRule, StationRule, campaign_active, instances

from conftest import MONDAY, ZONE

ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)
LEARNING_WEEK = CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07")
TET = CampaignRule("tet", 5, yearly="12-20..01-10")
STATIONS = (
    StationRule("99001", ("demo", "vung-thap"), ("loudspeaker", "board", "portal")),
    StationRule("99002", ("demo", "vung-thap"), ("loudspeaker", "board", "portal")),
    StationRule("99003", ("demo", "vung-cao"), ("loudspeaker", "board", "portal")),
)


def slot(name: str = "sang", *, outlet: str = "loudspeaker", stations: tuple[str, ...] = ("*",),
         weekdays: tuple[int, ...] = ALL_DAYS, at: str = "06:00", length_s: int = 1800,
         once_on: date | None = None) -> SlotRule:
    return SlotRule(name, outlet, stations, weekdays, at, length_s, once_on)


# --- campaign windows ------------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "day", "active"), [
    (LEARNING_WEEK, date(2026, 9, 30), False),
    (LEARNING_WEEK, date(2026, 10, 1), True),
    (LEARNING_WEEK, date(2026, 10, 4), True),
    (LEARNING_WEEK, date(2026, 10, 7), True),
    (LEARNING_WEEK, date(2026, 10, 8), False),
    (LEARNING_WEEK, date(2031, 10, 3), True),
    (LEARNING_WEEK, date(2026, 4, 3), False),
    (CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07", lead_days=7), date(2026, 9, 23), False),
    (CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07", lead_days=7), date(2026, 9, 24), True),
    (CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07", lead_days=7), date(2026, 10, 8), False),
    (TET, date(2026, 12, 19), False),
    (TET, date(2026, 12, 20), True),
    (TET, date(2026, 12, 25), True),
    (TET, date(2026, 12, 31), True),
    (TET, date(2027, 1, 1), True),
    (TET, date(2027, 1, 5), True),
    (TET, date(2027, 1, 10), True),
    (TET, date(2027, 1, 11), False),
    (TET, date(2027, 1, 15), False),
    (TET, date(2027, 6, 15), False),
    (CampaignRule("tet", 5, yearly="12-20..01-10", lead_days=5), date(2026, 12, 15), True),
    (CampaignRule("tet", 5, yearly="12-20..01-10", lead_days=5), date(2026, 12, 14), False),
])
def test_campaign_active(rule: CampaignRule, day: date, active: bool) -> None:
    assert campaign_active(rule, day) is active


@pytest.mark.parametrize(("day", "active"), [
    (date(2027, 2, 27), False),
    (date(2027, 2, 28), True),   # no 29 February in 2027: the window starts on the 28th
    (date(2027, 3, 1), True),
    (date(2027, 3, 2), False),
    (date(2028, 2, 28), False),  # a leap year starts on the 29th
    (date(2028, 2, 29), True),
    (date(2028, 3, 1), True),
])
def test_leap_day_window_in_common_and_leap_years(day: date, active: bool) -> None:
    assert campaign_active(CampaignRule("nhuan", 5, yearly="02-29..03-01"), day) is active


@pytest.mark.parametrize(("lead_days", "day", "active"), [
    (0, date(2026, 12, 31), False),
    (0, date(2027, 1, 1), True),
    (0, date(2027, 12, 31), True),
    (0, date(2028, 1, 1), False),
    (3, date(2026, 12, 29), True),
    (3, date(2026, 12, 28), False),
])
def test_one_off_window(lead_days: int, day: date, active: bool) -> None:
    rule = CampaignRule("guong-dien-hinh", 4, date_from=date(2027, 1, 1), date_to=date(2027, 12, 31),
                        lead_days=lead_days)
    assert campaign_active(rule, day) is active


month_days = st.dates(min_value=date(2027, 1, 1), max_value=date(2027, 12, 31)).map(lambda d: (d.month, d.day))


@given(start=month_days, end=month_days, day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_yearly_window_matches_month_day_comparison(start, end, day) -> None:
    """Any yearly window (also across the year end) holds exactly the days between its ends."""
    rule = CampaignRule("x", 5, yearly=f"{start[0]:02d}-{start[1]:02d}..{end[0]:02d}-{end[1]:02d}")
    today = (day.month, day.day)
    expected = start <= today <= end if start <= end else (today >= start or today <= end)
    assert campaign_active(rule, day) is expected


@given(lead=st.integers(0, 90), offset=st.integers(-120, 30))
def test_lead_days_open_the_window_exactly_that_many_days_early(lead: int, offset: int) -> None:
    day = date(2026, 10, 1) + timedelta(days=offset)
    rule = CampaignRule("tuan-hoc-tap", 7, yearly="10-01..10-07", lead_days=lead)
    assert campaign_active(rule, day) is (-lead <= offset <= 6)


# --- slot instances ---------------------------------------------------------------------------------

def test_local_time_is_converted_to_utc() -> None:
    """06:00 in Asia/Ho_Chi_Minh (UTC+7) is 23:00 UTC the day before; 17:00 is 10:00 UTC."""
    found = instances([slot(), slot("chieu", at="17:00")], STATIONS[:1], first_day=date(2026, 11, 23), days=1,
                      zone=ZONE)
    assert [(i.slot_name, i.start_at, i.end_at, i.day) for i in found] == [
        ("sang", datetime(2026, 11, 22, 23, 0, tzinfo=UTC), datetime(2026, 11, 22, 23, 30, tzinfo=UTC),
         date(2026, 11, 23)),
        ("chieu", datetime(2026, 11, 23, 10, 0, tzinfo=UTC), datetime(2026, 11, 23, 10, 30, tzinfo=UTC),
         date(2026, 11, 23)),
    ]
    assert all(i.start_at.utcoffset() == timedelta(0) for i in found)
    assert found[0].length_s == 1800


def test_zone_with_daylight_saving_keeps_the_wall_clock_time() -> None:
    paris = ZoneInfo("Europe/Paris")
    found = instances([slot(at="06:00")], STATIONS[:1], first_day=date(2026, 3, 28), days=2, zone=paris)
    assert [i.start_at.astimezone(paris).strftime("%H:%M") for i in found] == ["06:00", "06:00"]
    assert [i.start_at.hour for i in found] == [5, 4]


def test_days_filter_keeps_only_those_weekdays() -> None:
    found = instances([slot(weekdays=(0, 1, 2, 3, 4))], STATIONS[:1], first_day=MONDAY.date(), days=14, zone=ZONE)
    assert len(found) == 10
    assert {i.day.weekday() for i in found} == {0, 1, 2, 3, 4}


def test_blackout_dates_are_skipped() -> None:
    first = MONDAY.date()
    found = instances([slot(), slot("bang-tin", outlet="board", at="00:00", length_s=86400)], STATIONS,
                      first_day=first, days=3, zone=ZONE, blackout=[first + timedelta(days=1)])
    assert {i.day for i in found} == {first, first + timedelta(days=2)}
    assert len(found) == 2 * 2 * 3  # two days, two slots, three stations


def test_one_off_slot_happens_only_on_its_day() -> None:
    on = MONDAY.date() + timedelta(days=2)
    found = instances([slot("dac-biet", weekdays=(), once_on=on, at="19:30")], STATIONS, first_day=MONDAY.date(),
                      days=7, zone=ZONE)
    assert [(i.station_code, i.day) for i in found] == [("99001", on), ("99002", on), ("99003", on)]
    assert found[0].start_at == datetime(2026, 11, 25, 12, 30, tzinfo=UTC)


def test_one_off_slot_outside_the_days_gives_nothing() -> None:
    found = instances([slot(weekdays=(), once_on=date(2026, 12, 25))], STATIONS, first_day=MONDAY.date(), days=7,
                      zone=ZONE)
    assert found == []


@pytest.mark.parametrize(("selectors", "codes"), [
    (("*",), ["99001", "99002", "99003"]),
    (("99002",), ["99002"]),
    (("99001", "99003"), ["99001", "99003"]),
    (("vung-thap",), ["99001", "99002"]),
    (("vung-cao", "99001"), ["99001", "99003"]),
    (("demo",), ["99001", "99002", "99003"]),
    (("khong-co",), []),
])
def test_station_selectors_by_code_group_or_star(selectors: tuple[str, ...], codes: list[str]) -> None:
    found = instances([slot(stations=selectors)], STATIONS, first_day=MONDAY.date(), days=1, zone=ZONE)
    assert [i.station_code for i in found] == codes


def test_stations_without_the_outlet_are_left_out() -> None:
    stations = (*STATIONS[:2], StationRule("99003", ("demo",), ("board",)))
    found = instances([slot(), slot("bang-tin", outlet="board", at="00:00", length_s=86400)], stations,
                      first_day=MONDAY.date(), days=1, zone=ZONE)
    assert sorted((i.station_code, i.outlet) for i in found) == [
        ("99001", "board"), ("99001", "loudspeaker"), ("99002", "board"), ("99002", "loudspeaker"),
        ("99003", "board")]


def test_two_slots_at_the_same_moment_on_one_outlet_make_one_instance() -> None:
    found = instances([slot("a"), slot("b", stations=("vung-thap",)), slot("c", outlet="board")], STATIONS,
                      first_day=MONDAY.date(), days=2, zone=ZONE)
    loudspeaker = [(i.station_code, i.day) for i in found if i.outlet == "loudspeaker"]
    assert len(loudspeaker) == len(set(loudspeaker)) == 6
    # the same moment on another outlet is another program
    assert len([i for i in found if i.outlet == "board"]) == 6


def test_instances_are_in_time_order() -> None:
    found = instances([slot("chieu", at="17:00"), slot("sang", at="06:00")], STATIONS, first_day=MONDAY.date(),
                      days=3, zone=ZONE)
    assert found == sorted(found)
    assert [i.start_at for i in found] == sorted(i.start_at for i in found)
    assert len(found) == 2 * 3 * 3


# --- the provincial plans' calendars ---------------------------------------------------------------------

READING_DAY = CampaignRule("van-hoa-doc", 6, yearly="04-14..04-28", lead_days=7)


@pytest.mark.parametrize(("day", "active"), [
    (date(2026, 4, 6), False),   # two weeks before 21 April, before the lead days
    (date(2026, 4, 7), True),    # the lead week opens
    (date(2026, 4, 14), True),
    (date(2026, 4, 21), True),   # Reading Culture Day itself
    (date(2026, 4, 28), True),
    (date(2026, 4, 29), False),  # the week after
    (date(2027, 4, 21), True),   # every year
])
def test_reading_culture_day_with_the_weeks_around_it(day: date, active: bool) -> None:
    assert campaign_active(READING_DAY, day) is active


def test_leap_day_fallback_years_are_named() -> None:
    from scheduler.planning.calendar import leap_day_fallbacks

    rule = CampaignRule("nhuan", 5, yearly="02-29..03-01")
    assert leap_day_fallbacks(rule, date(2027, 2, 1), date(2029, 3, 1)) == [2027, 2029]
    assert leap_day_fallbacks(LEARNING_WEEK, date(2027, 2, 1), date(2029, 3, 1)) == []


def test_loa_plan_warns_when_29_february_falls_back_and_skips_blackout_days(cli, config_dir) -> None:
    with (config_dir / "campaigns.toml").open("a", encoding="utf-8") as file:
        file.write('\n[[campaign]]\ncode = "nhuan"\nname = "Ngày nhuận"\nyearly = "02-29..03-01"\n')
    schedule = (config_dir / "schedule.toml").read_text(encoding="utf-8")
    (config_dir / "schedule.toml").write_text(schedule.replace("blackout = []", "blackout = [2027-02-28]"),
                                              encoding="utf-8")
    now = datetime(2027, 2, 26, 0, 30, tzinfo=ZONE).isoformat()  # a Friday
    cli("init", now=now)
    planned = cli.json("plan", "--days", "3", now=now)
    assert planned["warnings"] == ["campaign 'nhuan' (02-29..03-01): 2027 has no 29 February; "
                                   "its window uses 28 February that year"]
    # Friday has 4 slots per commune (portal on weekdays), Saturday 3, Sunday is a blackout day
    assert planned["instances"] == 3 * (4 + 3)
    assert "warning: campaign 'nhuan'" in cli("plan", "--days", "3", now=now).stdout
