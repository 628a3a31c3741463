"""A slot's live relay is on the calendar and in the program preview, counted in the program's time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from scheduler.models import Delivery, Station
from scheduler.views.schedule import upcoming
from scheduler.views.week import programs_between

from servers.relay_world import RELAY_NAME, RELAY_URL, relay_slot

TOMORROW = date(2026, 11, 24)


@pytest.fixture
def config_dir(config_dir):
    """The demo configuration with a morning slot that only relays the province's program."""
    (config_dir / "schedule.toml").write_text(relay_slot("sang", "loudspeaker", length="15m", slot_length="15m"),
                                              encoding="utf-8")
    return config_dir


def test_the_program_preview_and_the_calendar_show_the_relay(web):
    web.services.plan(days=2)
    zone = web.services.settings.zone
    start = datetime.combine(TOMORROW, time(0), tzinfo=zone)
    with unit_of_work(web.services.sessions) as session:
        delivery_id = session.scalar(select(Delivery.id).join(Station).where(Station.code == "99001",
                                                                             Delivery.outlet == "loudspeaker"))
        [program] = upcoming(session, start=start, end=start + timedelta(days=1), station="99001")
        assert program.relays == ((RELAY_NAME, RELAY_URL, 900.0),)
        assert program.total_s == program.length_s == 900.0  # the relay fills the slot: not over, not empty
        assert programs_between(session, start=start, end=start + timedelta(days=1), station="99001") == [program]

    client = web.client("lan")
    page = client.get(f"/previews/program/{delivery_id}")
    assert page.status_code == 200
    assert f"tiếp sóng trực tiếp: {RELAY_NAME}" in page.text and RELAY_URL in page.text
    assert "quá giờ" not in page.text
    day = client.get(f"/calendar?day={TOMORROW.isoformat()}&station=99001")
    assert day.status_code == 200, day.text[:500]
    assert f"tiếp sóng trực tiếp: {RELAY_NAME}" in day.text
