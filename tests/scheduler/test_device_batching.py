"""Heartbeats posted at once by many devices are all stored (grouped into shared transactions), each caller told
only of its own refusal: a beat from an unknown station fails alone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from content.db import unit_of_work
from content.errors import NotFound
from scheduler.devices.batching import BeatWriter
from scheduler.devices.heartbeats import Heartbeat
from scheduler.models import DeviceHealth, Station

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_beats_sent_together_are_all_stored_and_an_unknown_station_fails_alone(services):
    writer = BeatWriter(services.sessions)
    refused: list[str] = []

    def device(station: str, outlet: str, n: int) -> None:
        try:
            for beat in range(n):
                writer.record(station=station, outlet=outlet, source="http", now=T0,
                              beat=Heartbeat(version=f"1.{beat}", audio_output="fault" if outlet == "board" else "ok"))
        except NotFound as error:
            refused.append(str(error))

    threads = [threading.Thread(target=device, args=(code, outlet, 20))
               for code in ("99001", "99002", "99003") for outlet in ("loudspeaker", "board", "portal")]
    threads.append(threading.Thread(target=device, args=("88888", "board", 1)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert refused == ["no station with code '88888'"]
    with unit_of_work(services.sessions) as session:
        rows = {(code, row.outlet): row for code, row in session.execute(
            select(Station.code, DeviceHealth).join(Station, Station.id == DeviceHealth.station_id))}
    assert len(rows) == 9
    assert {row.beat["version"] for row in rows.values()} == {"1.19"}  # each device's last beat is the one kept
    assert rows[("99002", "board")].fault == "audio output: fault" and rows[("99002", "portal")].fault is None


def test_a_lone_beat_from_an_unknown_station_is_refused_by_name(services):
    with pytest.raises(NotFound, match="88888"):
        BeatWriter(services.sessions).record(station="88888", outlet="board", source="http", now=T0,
                                             beat=Heartbeat())
