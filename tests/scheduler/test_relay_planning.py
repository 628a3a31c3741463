"""A slot's relay takes its length out of the room the slot's pieces have, like a piece of that length."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import InputError
from content.users import get_user
from loa.settings import load_settings
from loa.wiring import open_services
from scheduler.models import Airing, Delivery, Slot
from scheduler.planning import calendar
from scheduler.planning.calendar import SlotRule, StationRule
from scheduler.planning.editing import move_airing
from scheduler.planning.planner import Candidate, PlanInputs, key_of, plan

from conftest import MONDAY, ZONE
from servers.outbox_world import approved_revision
from servers.relay_world import RELAY_URL, relay_slot

DAY = date(2026, 11, 24)


def _program(relays_s: int) -> list[int]:
    slot = SlotRule("sang", "loudspeaker", ("*",), tuple(range(7)), "06:00", 1800, relays_s=relays_s)
    [instance] = calendar.instances([slot], [StationRule("99001", (), ("loudspeaker",))], first_day=DAY, days=1,
                                    zone=ZONE)
    candidates = [Candidate(n, n * 10, f"Tin {n}", None, frozenset({"loudspeaker"}), None, None, 5, "normal",
                            {"loudspeaker": 500.0}) for n in (1, 2, 3)]
    result = plan(PlanInputs(instances=[instance], candidates=candidates, campaigns={}, gap_s=1.0))
    return [item.piece_id for item in result.programs.get(key_of(instance), [])]


def test_a_relay_leaves_its_pieces_only_the_rest_of_the_slot() -> None:
    assert _program(0) == [1, 2, 3]  # 3 × 500 s + gaps in 30 minutes
    assert _program(900) == [1]  # a 15-minute relay leaves 900 s: one piece of 500 s, not two
    assert _program(1500) == []  # 300 s left: no piece of 500 s fits


def test_a_planned_week_leaves_out_a_piece_the_relay_leaves_no_room_for(config_dir: Path) -> None:
    (config_dir / "schedule.toml").write_text(relay_slot("sang", "loudspeaker", length="29m55s"), encoding="utf-8")
    services = open_services(load_settings(config_dir, env={}), now=MONDAY)
    try:
        services.init()
        revision = approved_revision(services, MONDAY)
        changes = services.plan(days=2)
        with unit_of_work(services.sessions) as session:
            [slot] = session.scalars(select(Slot)).all()
            assert slot.relays == [{"url": RELAY_URL, "length": "29m55s", "name": "Chương trình phát thanh tỉnh",
                                    "position": "first"}]
            assert session.scalars(select(Airing).where(Airing.revision_id == revision)).all() == []
        [unplaced] = [u for u in changes.unplaced if u.outlet == "loudspeaker"]
        assert unplaced.code == "too_long" and unplaced.params["longest"] == 5
    finally:
        services.close()

    # The province shortens its program to 15 minutes: the piece fits beside it, in tomorrow's morning program.
    (config_dir / "schedule.toml").write_text(relay_slot("sang", "loudspeaker", length="15m"), encoding="utf-8")
    services = open_services(load_settings(config_dir, env={}), now=MONDAY)
    try:
        services.init()
        services.plan(days=2)
        tomorrow = datetime.combine(DAY, time(6), tzinfo=ZONE).astimezone(UTC)
        with unit_of_work(services.sessions) as session:
            deliveries = session.scalars(select(Delivery).where(Delivery.outlet == "loudspeaker")).all()
            assert {d.station.code for d in deliveries} == {"99001", "99002", "99003"}
            for delivery in deliveries:
                assert delivery.start_at == tomorrow and delivery.end_at == tomorrow + timedelta(minutes=30)
                assert [a.revision_id for a in delivery.airings if not a.removed] == [revision]
    finally:
        services.close()


def test_a_slot_that_only_relays_is_planned_and_its_playlist_is_the_stream(config_dir: Path) -> None:
    """No piece fits beside a relay that fills the slot: the program still goes out, with the relay alone."""
    (config_dir / "schedule.toml").write_text(relay_slot("sang", "loudspeaker", length="15m", slot_length="15m"),
                                              encoding="utf-8")
    services = open_services(load_settings(config_dir, env={}), now=MONDAY)
    try:
        services.init()
        approved_revision(services, MONDAY)  # approved, but there is no room for it
        services.plan(days=2)
        tomorrow = datetime.combine(DAY, time(6), tzinfo=ZONE)
        dispatcher = services.dispatcher("test")
        try:
            counts = dispatcher.run_once(tomorrow - timedelta(minutes=1)).counts
        finally:
            dispatcher.close()
        assert counts == {"delivered": 3}  # the three communes of the demo
        with unit_of_work(services.sessions) as session:
            delivery = session.scalars(select(Delivery).where(Delivery.outlet == "loudspeaker")).first()
            assert delivery is not None and delivery.airings == []
            assert delivery.payload["delivery"]["streams"][0]["url"] == RELAY_URL
        playlist = config_dir.parent / "var/out/loudspeaker/99001" / f"{DAY.isoformat()}" / "0600.m3u8"
        assert playlist.read_text(encoding="utf-8").splitlines() == [
            "#EXTM3U", "#EXTINF:900,Chương trình phát thanh tỉnh", RELAY_URL]
    finally:
        services.close()


def test_an_editor_cannot_move_a_piece_into_the_time_a_relay_takes(config_dir: Path) -> None:
    evening = ('\n[[slot]]\nname = "chieu"\noutlet = "loudspeaker"\nstations = "*"\ndays = "mon-sun"\n'
               'at = "17:00"\nlength = "30m"\n')
    (config_dir / "schedule.toml").write_text(relay_slot("sang", "loudspeaker", length="29m55s") + evening,
                                              encoding="utf-8")
    services = open_services(load_settings(config_dir, env={}), now=MONDAY)
    try:
        services.init()
        revision = approved_revision(services, MONDAY)
        services.plan(days=2)
        tomorrow = datetime.combine(DAY, time(6), tzinfo=ZONE).astimezone(UTC)
        with unit_of_work(services.sessions) as session:
            [airing] = session.scalars(select(Airing).join(Delivery).where(
                Airing.revision_id == revision, Delivery.start_at > tomorrow)
                .where(Delivery.station.has(code="99001"))).all()
            morning = session.scalar(select(Delivery.id).where(
                Delivery.start_at == tomorrow, Delivery.station.has(code="99001")))
            airing_id = airing.id
        with (pytest.raises(InputError, match=r"no room for piece .* holds 0 s of 5 s"),
              unit_of_work(services.sessions) as session):
            move_airing(session, airing_id, delivery_id=morning, actor=get_user(session, "bien-tap"), now=MONDAY,
                        zone=ZONE)
    finally:
        services.close()
