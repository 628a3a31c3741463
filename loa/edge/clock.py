"""The agent's clock: the wall clock, or a rehearsal clock that starts at ``--now`` and runs ``--speed`` times as
fast; and loa's time as the agent estimates it (its clock minus the offset learnt from loa's signed answers)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class EdgeClock:
    """``now()`` is the device's clock; ``loa_now()`` its estimate of loa's, which programs are played by."""

    def __init__(self, start_at: datetime | None = None, speed: float = 1.0, offset_s: float = 0.0) -> None:
        self.speed = speed
        self._start_real = time.monotonic()
        self._start_at = start_at or datetime.now(UTC)
        self._wall = start_at is None and speed == 1.0
        self.offset_s = offset_s  # device clock minus loa's

    def now(self) -> datetime:
        if self._wall:
            return datetime.now(UTC)
        return self._start_at + timedelta(seconds=(time.monotonic() - self._start_real) * self.speed)

    def loa_now(self) -> datetime:
        return self.now() - timedelta(seconds=self.offset_s)

    def learn(self, server_time: datetime) -> None:
        """Take loa's time from a signed answer."""
        self.offset_s = (self.now() - server_time).total_seconds()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock (so a fast rehearsal clock waits less wall time)."""
        if seconds > 0:
            time.sleep(seconds / self.speed)
