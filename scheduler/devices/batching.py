"""Group commit of heartbeats: beats arriving together are written in one transaction, each caller still waiting
until its own beat is stored.

A thousand devices beating every 30 s send one beat every 30 ms; one transaction each would queue them behind the
database's single writer (SQLite) for the time of a commit each. Here the first caller to find no write under way
writes every beat waiting at that moment, in one transaction (two queries and one flush; a beat from an unknown
station is refused alone);
callers arriving meanwhile wait and are written together by the next one of them. Without contention a beat is
written alone, at once, as before.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.db import unit_of_work
from content.errors import NotFound
from scheduler.devices.heartbeats import Heartbeat, Source, apply_beat
from scheduler.models import DeviceHealth, Station


@dataclass
class _Waiting:
    station: str
    outlet: str
    source: Source
    beat: Heartbeat
    now: datetime
    done: bool = False
    error: Exception | None = None


class BeatWriter:
    """Writes heartbeats through ``sessions``, grouping those that arrive while a write is under way."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._ready = threading.Condition()
        self._waiting: list[_Waiting] = []
        self._writing = False

    def record(self, *, station: str, outlet: str, source: Source, beat: Heartbeat, now: datetime) -> None:
        """Store the beat (as :func:`~scheduler.devices.heartbeats.record_heartbeat` does); returns once it is
        committed, raises what refused it."""
        mine = _Waiting(station, outlet, source, beat, now)
        with self._ready:
            self._waiting.append(mine)
            while not mine.done and self._writing:
                self._ready.wait()
            if mine.done:
                if mine.error is not None:
                    raise mine.error
                return
            self._writing = True
            batch, self._waiting = self._waiting, []
        try:
            self._write(batch)
        finally:
            with self._ready:
                for waiting in batch:
                    waiting.done = True
                self._writing = False
                self._ready.notify_all()
        if mine.error is not None:
            raise mine.error

    def _write(self, batch: list[_Waiting]) -> None:
        try:
            with unit_of_work(self.sessions) as session:
                record_all(session, batch)
        except Exception as error:  # the transaction itself failed: every beat in it is refused
            for waiting in batch:
                waiting.error = waiting.error or error


def record_all(session: Session, batch: list[_Waiting]) -> None:
    """:func:`record_heartbeat` for every beat of ``batch`` in two queries and one flush; a beat from a station
    loa does not know gets its refusal in ``error`` (the others are stored)."""
    codes = {waiting.station for waiting in batch}
    ids = dict(session.execute(select(Station.code, Station.id).where(Station.code.in_(codes))).all())
    rows = {(row.station_id, row.outlet): row for row in session.scalars(
        select(DeviceHealth).where(DeviceHealth.station_id.in_(set(ids.values()))))}
    for waiting in batch:
        station_id = ids.get(waiting.station)
        if station_id is None:
            waiting.error = NotFound("no station with code {code!r}", code=waiting.station)
            continue
        row = rows.get((station_id, waiting.outlet))
        if row is None:
            row = rows[(station_id, waiting.outlet)] = DeviceHealth(station_id=station_id, outlet=waiting.outlet)
            session.add(row)
        apply_beat(row, source=waiting.source, beat=waiting.beat, now=waiting.now)
    session.flush()
