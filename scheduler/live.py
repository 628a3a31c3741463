"""The live re-plan: plan requests gathered for a quiet moment, then one re-plan of what they touch, by the leader."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from content.db import unit_of_work
from content.models import Piece, PieceState, Revision
from scheduler.planning import triggers
from scheduler.planning.changes import PlanChanges
from scheduler.planning.triggers import Scope

log = logging.getLogger(__name__)
#: After a failed re-plan, try the same requests again this much later.
RETRY_S = 30.0


class Debounce:
    """When to re-plan, given when requests came: ``quiet`` after the last one, but never later than
    ``longest`` after the first one still waiting (a steady stream of approvals cannot starve the plan)."""

    def __init__(self, quiet: timedelta, longest: timedelta) -> None:
        self.quiet, self.longest = quiet, longest
        self.scope: Scope | None = None
        self.first_at: datetime | None = None

    def add(self, scope: Scope, at: datetime) -> datetime:
        """Take a request at ``at``; returns when the re-plan should run."""
        self.scope = scope if self.scope is None else self.scope.merge(scope)
        self.first_at = self.first_at or at
        return min(at + self.quiet, self.first_at + self.longest)

    def take(self) -> Scope | None:
        """What to re-plan now (merged), or None when nothing waits; starts a new gathering."""
        scope, self.scope, self.first_at = self.scope, None, None
        return scope


class LivePlanner:
    """Runs ``replan(scope)`` once per burst of requests, in ``scheduler``'s threads, one re-plan at a time.

    ``clock`` is loa's notion of now; ``offset`` its distance from the real clock APScheduler fires on.
    After a run the requests are marked done with what of their piece stayed unplaced, ``after`` is called
    (the runtime schedules the new due times), and the next expiry of an airing piece is scheduled as a
    request of its own.
    """

    def __init__(self, *, sessions: sessionmaker[Session], scheduler: BaseScheduler,
                 replan: Callable[[Scope], PlanChanges | None], clock: Callable[[], datetime],
                 offset: timedelta = timedelta(0), quiet_s: float = 1.0, longest_s: float = 5.0,
                 after: Callable[[], Any] | None = None) -> None:
        self.sessions, self.scheduler, self.replan = sessions, scheduler, replan
        self.clock, self.offset, self.after = clock, offset, after
        self.debounce = Debounce(timedelta(seconds=quiet_s), timedelta(seconds=longest_s))
        self.ids: list[int] = []
        self.guard = threading.Lock()  # the gathering state
        self.running = threading.Lock()  # one re-plan at a time, the daily one included
        self.runs = 0

    def add(self, requests: Sequence[tuple[int | None, Scope]], *, delay_s: float | None = None) -> None:
        """Gather ``(request id or None, scope)`` pairs and (re)arm the re-plan."""
        if not requests:
            return
        now = self.clock()
        with self.guard:
            fire = now
            for request_id, scope in requests:
                fire = self.debounce.add(scope, now)
                if request_id is not None:
                    self.ids.append(request_id)
            if delay_s is not None:
                fire = now + timedelta(seconds=delay_s)
            # Up to two instances: one running, one waiting for it, so that requests arriving during a
            # run are never skipped by APScheduler's max_instances.
            self.scheduler.add_job(self.run, DateTrigger(run_date=fire - self.offset), id="live-replan",
                                   name="re-plan what changed", replace_existing=True, max_instances=2)

    def run(self) -> None:
        """Re-plan what has gathered, if anything."""
        with self.running:
            with self.guard:
                scope, ids, self.ids = self.debounce.take(), self.ids, []
            if scope is None:
                return
            try:
                changes = self.replan(scope)
                with unit_of_work(self.sessions) as session:
                    triggers.mark_done(session, ids, now=self.clock(), unplaced=_unplaced(changes, scope))
            except Exception as error:
                if isinstance(error, OperationalError):  # the database busy or away a moment: an expected retry
                    log.warning("live re-plan could not write (%s); trying again in %.0f s", error.orig, RETRY_S)
                elif isinstance(error, InterruptedError):  # the service stopping under it
                    log.warning("live re-plan interrupted (%s); trying again in %.0f s", error, RETRY_S)
                else:
                    log.exception("live re-plan failed; trying again in %.0f s", RETRY_S)
                self.add([(i, scope) for i in ids] or [(None, scope)], delay_s=RETRY_S)
                return
            self.runs += 1
            if changes is not None:
                log.info("re-planned %s: %s", _describe(scope), changes.counts())
        if self.after is not None:
            self.after()
        self.schedule_expiry()

    def exclusive(self, work: Callable[[], Any]) -> Any:
        """Run ``work`` (the daily re-plan) while no live re-plan runs."""
        with self.running:
            return work()

    def schedule_expiry(self) -> None:
        """A request at the next moment an airing piece expires, so the plan lets go of it."""
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            row = session.execute(
                select(Revision.valid_until, Revision.channels)
                .join(Piece, Piece.approved_revision_id == Revision.id)
                .where(Piece.state != PieceState.RETIRED, Revision.valid_until > now)
                .order_by(Revision.valid_until).limit(1)).first()
        if row is None:
            return
        scope = Scope(outlets=frozenset(row.channels))
        self.scheduler.add_job(self.add, DateTrigger(run_date=row.valid_until - self.offset),
                               args=[[(None, scope)]], id="expiry-replan", name="re-plan at the next expiry",
                               replace_existing=True)


def _unplaced(changes: PlanChanges | None, scope: Scope) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for u in changes.unplaced if changes is not None else ():
        if scope.outlets is None or u.outlet in scope.outlets:  # other outlets were not planned this time
            out.setdefault(u.piece_id, []).append({"outlet": u.outlet, "stations": u.stations, "code": u.code,
                                                   "params": dict(u.params), "reason": u.reason})
    return out


def _describe(scope: Scope) -> str:
    stations = "every station" if scope.stations is None else ", ".join(sorted(scope.stations))
    outlets = "every outlet" if scope.outlets is None else ", ".join(sorted(scope.outlets))
    return f"{stations} / {outlets} from {scope.first_day or 'today'}"
