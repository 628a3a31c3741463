"""The outlet kinds are written once: the channels a piece may go to, each with its rules and its config place."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from content.models import CHANNELS
from scheduler.config import StationSpec
from scheduler.outlets import RULES, Outlet, rules_of

START = datetime(2026, 11, 23, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def test_the_outlet_kinds_are_the_channels_a_piece_may_go_to():
    assert [str(outlet) for outlet in Outlet] == list(CHANNELS)


def test_every_outlet_kind_has_its_rules_and_its_table_in_stations_toml():
    assert set(RULES) == set(Outlet)
    for outlet, rules in RULES.items():
        assert rules.outlet is outlet
        assert outlet in StationSpec.model_fields


def test_an_unknown_outlet_is_refused_naming_the_known_ones():
    with pytest.raises(KeyError, match="loudspeaker, board, portal"):
        rules_of("radio")


def test_a_board_rotation_is_a_window_and_a_program_is_checked_at_its_start():
    board, loudspeaker = rules_of("board"), rules_of("loudspeaker")
    end = START + timedelta(hours=24)
    valid_from_noon = START + timedelta(hours=6)
    assert board.valid_in(valid_from_noon, None, START, end)  # shown from noon in today's rotation
    assert not loudspeaker.valid_in(valid_from_noon, None, START, START + timedelta(minutes=30))
    early, late = START - timedelta(hours=1), START + timedelta(hours=1)
    assert board.check_moment(late, START) == late and board.check_moment(early, START) == early
    assert loudspeaker.check_moment(early, START) == START and loudspeaker.check_moment(late, START) == late

