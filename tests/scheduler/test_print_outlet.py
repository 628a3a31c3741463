"""The print outlet in config and planning: a weekly edition per commune holding each piece once, like a portal."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from channels.print.pdf import PdfOptions
from scheduler.config import SlotSpec, StationSpec
from scheduler.outlets import Form, Lateness, rules_of
from scheduler.planning.calendar import Instance
from scheduler.planning.planner import Candidate, PlanInputs, key_of, plan

from conftest import ZONE

FRIDAY = date(2026, 11, 27)


def edition(station: str, day: date, outlet: str = "print") -> Instance:
    start = datetime.combine(day, time(7), tzinfo=ZONE).astimezone(UTC)
    return Instance(start, station, outlet, f"{outlet}-0700", start + timedelta(hours=12), day)


def cand(piece_id: int, valid_from: datetime | None = None,
         channels: tuple[str, ...] = ("portal", "print")) -> Candidate:
    return Candidate(piece_id, piece_id * 100, f"Tin số {piece_id}", None, frozenset(channels),
                     valid_from, None, 5, False, {})


def test_a_station_takes_a_print_outlet_and_its_settings_are_checked():
    spec = StationSpec(code="99001", name="Xã Tân Lập",
                       print={"type": "pdf", "dir": "var/out/print", "header": "TRUNG TÂM VĂN HÓA"})
    assert isinstance(spec.print, PdfOptions) and "print" in spec.outlets
    with pytest.raises(ValidationError, match=r"print[\s\S]*header"):
        StationSpec(code="99001", name="Xã Tân Lập", print={"type": "pdf", "dir": "var/out/print"})
    with pytest.raises(ValidationError, match=r"print\.pdf"):
        StationSpec(code="99001", name="Xã Tân Lập", print={"type": "docx", "dir": "x", "header": "y"})
    slot = SlotSpec(outlet="print", days="fri", at="07:00", length="12h")
    assert slot.weekdays == (4,)


def test_print_rules_are_a_portal_s():
    rules = rules_of("print")
    assert rules.form is Form.ARTICLES and rules.once_per_station and not rules.timed
    assert rules.lateness is Lateness.UNTIL_END


def test_each_weekly_edition_holds_what_is_new_since_the_last():
    editions = [edition(station, FRIDAY + timedelta(weeks=w)) for station in ("99001", "99002") for w in range(2)]
    second_week = datetime.combine(FRIDAY + timedelta(days=3), time(0), tzinfo=ZONE)
    result = plan(PlanInputs(instances=editions, candidates=[cand(1, channels=("print",)), cand(2, channels=("print",)),
                                                                 cand(3, valid_from=second_week, channels=("print",))],
                             campaigns={}))
    for station in ("99001", "99002"):
        first, second = (edition(station, FRIDAY + timedelta(weeks=w)) for w in range(2))
        assert sorted(item.piece_id for item in result.programs[key_of(first)]) == [1, 2]
        assert [item.piece_id for item in result.programs[key_of(second)]] == [3]
    assert result.unplaced == []


def test_a_piece_already_on_the_portal_is_still_printed_and_one_printed_is_not_printed_again():
    editions = [edition("99001", FRIDAY), edition("99001", FRIDAY, "portal")]
    published = frozenset({("99001", 1, "portal"), ("99001", 2, "print")})
    result = plan(PlanInputs(instances=editions, candidates=[cand(1), cand(2)], campaigns={}, published=published))
    assert [item.piece_id for item in result.programs[key_of(editions[0])]] == [1]
    assert [item.piece_id for item in result.programs[key_of(editions[1])]] == [2]
    assert result.unplaced == []
