"""A per-outlet circuit breaker, so one dead endpoint does not hold up the pushes to the others."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta


class CircuitBreaker:
    """Closed while the outlet answers; open for ``cooldown`` after ``threshold`` transient failures in a row.

    Once the cooldown has passed it is half-open: one push goes through as a probe; success closes
    the circuit, another failure opens it again for a full cooldown. Times come from the caller
    (loa's clock), so tests drive it with a fake clock.
    """

    def __init__(self, threshold: int, cooldown: timedelta) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.open_until: datetime | None = None
        self._probing = False
        self._lock = threading.Lock()

    def allows(self, now: datetime) -> bool:
        """Whether a push may start now (reserving the probe when half-open)."""
        with self._lock:
            if self.open_until is None:
                return True
            if now < self.open_until or self._probing:
                return False
            self._probing = True
            return True

    def record(self, ok: bool, now: datetime) -> None:
        """Report how a push that :meth:`allows` let through ended (``ok``: the outlet answered)."""
        with self._lock:
            self._probing = False
            if ok:
                self.failures, self.open_until = 0, None
                return
            self.failures += 1
            if self.failures >= self.threshold:
                self.open_until = now + self.cooldown

    def reopens_at(self, now: datetime) -> datetime:
        """When a push refused now should be tried again."""
        with self._lock:
            return self.open_until if self.open_until and self.open_until > now else now + self.cooldown
