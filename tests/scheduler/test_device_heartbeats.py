"""A heartbeat is kept as the outlet device's latest word: one row per outlet, its fault named, an unknown
station refused by name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from content.db import unit_of_work
from content.errors import NotFound
from scheduler.devices.heartbeats import Heartbeat, record_heartbeat
from scheduler.models import DeviceHealth

T0 = datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


def test_each_beat_overwrites_the_last_of_its_outlet_and_names_a_fault(services):
    with unit_of_work(services.sessions) as session:
        record_heartbeat(session, station="99001", outlet="loudspeaker", source="edge", now=T0,
                         beat=Heartbeat(version="1.0", clock_offset_s=0.4, disk_free_bytes=2_000_000_000,
                                        cache_until=T0 + timedelta(days=7), audio_output="ok", volume=80))
    with unit_of_work(services.sessions) as session:
        record_heartbeat(session, station="99001", outlet="loudspeaker", source="edge", now=T0 + timedelta(seconds=30),
                         beat=Heartbeat(version="1.0", audio_output="fault"))
    with unit_of_work(services.sessions) as session:
        assert session.scalar(select(func.count()).select_from(DeviceHealth)) == 1
        row = session.scalar(select(DeviceHealth))
        assert row.last_seen_at == T0 + timedelta(seconds=30)
        assert row.beat == {"version": "1.0", "audio_output": "fault"}
        assert row.fault == "audio output: fault"


def test_a_beat_from_an_unknown_station_is_refused_by_its_code(services):
    with unit_of_work(services.sessions) as session, pytest.raises(NotFound, match="88888"):
        record_heartbeat(session, station="88888", outlet="board", source="http", now=T0, beat=Heartbeat())
