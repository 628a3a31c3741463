"""Asks the devices that cannot run an agent (Icecast, Anthias, WordPress) whether they answer, and records it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel, ChannelError
from channels.registry import open_channel
from content.db import unit_of_work
from scheduler.config import StationSpec
from scheduler.devices.heartbeats import Heartbeat, record_heartbeat
from scheduler.devices.roster import watch_of

log = logging.getLogger(__name__)


class Prober:
    """Holds one adapter per probed outlet (its HTTP session kept between rounds) and probes them all each round."""

    def __init__(self, stations: Sequence[StationSpec]) -> None:
        self.targets = [(spec.code, outlet, f"{outlet}.{options.type}", options)
                        for spec in stations for outlet in spec.outlets
                        if (options := spec.outlet(outlet)) is not None
                        and watch_of(f"{outlet}.{options.type}") == "probe"]
        self._channels: dict[tuple[str, str], Channel] = {}

    def _channel(self, kind: str, options: object) -> Channel:
        key = (kind, repr(options))
        if key not in self._channels:
            self._channels[key] = open_channel(kind, options)  # type: ignore[arg-type]
        return self._channels[key]

    def probe_one(self, station: str, outlet: str, kind: str, options: object) -> tuple[Heartbeat, dict[str, Any]]:
        """What one probe heard, as a heartbeat (the device's version, or the fault when it did not answer) and
        the device's answer as it gave it (an Icecast mount's listeners)."""
        try:
            answer = self._channel(kind, options).probe(station)
        except ChannelError as error:
            return Heartbeat(last_error=f"probe: {error}"), {}
        except Exception as error:  # an adapter bug must not stop the other probes
            log.exception("probe of %s/%s failed", station, outlet)
            return Heartbeat(last_error=f"probe: {error.__class__.__name__}: {error}"), {}
        return Heartbeat(version=str(answer.get("version")) if answer.get("version") else None), answer

    def run(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> int:
        """Probe every target once (no transaction open meanwhile) and record each answer; how many were probed."""
        for station, outlet, kind, options in self.targets:
            beat, answer = self.probe_one(station, outlet, kind, options)
            with unit_of_work(sessions) as session:
                row = record_heartbeat(session, station=station, outlet=outlet, source="probe", beat=beat, now=now())
                if answer:
                    row.beat = {**row.beat, "probe": answer}
            if beat.last_error:
                log.warning("device %s/%s: %s", station, outlet, beat.last_error)
        return len(self.targets)

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
