"""Notices plan requests made by any process (this one, the CLI, a worker, another serve) and hands them
to the leader's live planner: PostgreSQL LISTEN/NOTIFY, else a poll of the requests' counter."""

from __future__ import annotations

import logging
import select as selectors
import threading
from typing import Any

from content.db import unit_of_work
from loa.wiring import Services
from scheduler.live import LivePlanner
from scheduler.planning import triggers
from scheduler.planning.triggers import Scope

log = logging.getLogger(__name__)
#: How often the requests' counter is read when nothing woke the watcher.
POLL_S = 1.0
_STEP_S = 0.25


class Watcher:
    """A thread that reads new plan requests whenever it is woken (a commit in this process, a NOTIFY) or,
    every ``poll_s``, when the highest request id moved; each request is handed to ``planner`` once."""

    def __init__(self, services: Services, planner: LivePlanner, *, poll_s: float = POLL_S) -> None:
        self.services, self.planner, self.poll_s = services, planner, poll_s
        self.stop_event = threading.Event()
        self.last = -1
        self.seen: set[int] = set()
        self.connection: Any = None
        self._thread: threading.Thread | None = None

    @property
    def postgresql(self) -> bool:
        return self.services.engine.url.get_backend_name() == "postgresql"

    def start(self) -> Watcher:
        if self.postgresql:
            import psycopg

            url = self.services.engine.url
            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(conninfo, autocommit=True, application_name="loa serve (plan requests)")
            self.connection.execute(f"LISTEN {triggers.CHANNEL}")
        self._thread = threading.Thread(target=self._loop, name="plan-requests", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.services.plan_requested.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.connection is not None:
            self.connection.close()

    def check(self, *, woken: bool = True) -> int:
        """Hand over the requests not handed over yet; returns how many. Unless ``woken``, only when the
        counter moved (one primary-key lookup)."""
        with unit_of_work(self.services.sessions) as session:
            top = triggers.newest(session)
            if top == self.last and not woken:
                return 0
            rows = triggers.waiting(session)
            fresh = [(row.id, Scope.of(row)) for row in rows if row.id not in self.seen]
        self.last = top
        self.seen = {row.id for row in rows}
        self.planner.add(fresh)
        return len(fresh)

    def _loop(self) -> None:
        woken = True  # at start: whatever was requested while no leader ran
        while not self.stop_event.is_set():
            try:
                self.check(woken=woken)
            except Exception:
                log.warning("reading plan requests failed; trying again", exc_info=True)
            woken = self._wait()

    def _wait(self) -> bool:
        """Sleep up to ``poll_s``; True when woken by a commit here or a NOTIFY."""
        waited = 0.0
        while waited < self.poll_s and not self.stop_event.is_set():
            if self.connection is not None:
                selectors.select([self.connection.fileno()], [], [], _STEP_S)
                if list(self.connection.notifies(timeout=0)):
                    self.services.plan_requested.clear()
                    return True
            if self.services.plan_requested.wait(0 if self.connection is not None else _STEP_S):
                self.services.plan_requested.clear()
                return True
            waited += _STEP_S
        return False


def start_live(services: Services, scheduler: Any, *, after: Any, offset: Any) -> tuple[LivePlanner, Watcher]:
    """The live planner on ``scheduler`` (the leader's runtime) and its watcher, started."""
    settings = services.settings.dispatch
    planner = LivePlanner(sessions=services.sessions, scheduler=scheduler, replan=services.plan_scope,
                          clock=services.now, offset=offset, quiet_s=settings.replan_quiet_s,
                          longest_s=settings.replan_longest_s, after=after)
    watcher = Watcher(services, planner).start()
    planner.schedule_expiry()
    return planner, watcher
