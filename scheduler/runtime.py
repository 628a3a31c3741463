"""The APScheduler runtime: fires the dispatcher at each due time, sweeps retries, re-plans daily."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.db import unit_of_work
from scheduler.config import DispatchSettings
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.models import Delivery, DeliveryState

log = logging.getLogger(__name__)
HORIZON = timedelta(hours=36)


class Runtime:
    """Owns one BackgroundScheduler. ``clock`` gives loa's notion of now; ``offset`` is how far
    that is from the real clock APScheduler fires on (non-zero only when rehearsing with --now)."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        dispatcher: Dispatcher,
        replan: Callable[[], object],
        clock: Callable[[], datetime],
        zone: ZoneInfo,
        settings: DispatchSettings,
        offset: timedelta = timedelta(0),
    ) -> None:
        self.sessions = sessions
        self.dispatcher = dispatcher
        self.replan = replan
        self.clock = clock
        self.offset = offset
        self.settings = settings
        # Misfire settings match [dispatch] grace_minutes, the rule SPEC §9 sets for slots:
        # - misfire_grace_time = grace: a due-time job that fires late (process suspended, machine
        #   asleep, executor busy) still runs if it is at most grace_minutes late, exactly as the
        #   outbox would still push that slot. Later than that APScheduler skips the job, and it
        #   does not matter: the next sweep (every poll_seconds) runs the dispatcher, whose
        #   mark_missed records such a slot as missed instead of pushing it hours late.
        # - coalesce = True: several missed fire times of one job (e.g. the sweep after a long
        #   pause) collapse into one run; one run_once already pushes everything due.
        # - max_instances = 1: a slow run is never overlapped by the next one of the same job.
        # Jobs are in memory: the schedule of due times is rebuilt from the outbox at every start
        # and sweep, so nothing depends on APScheduler remembering missed runs across restarts.
        self.scheduler = BackgroundScheduler(
            timezone=zone,
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": settings.grace_minutes * 60 or 1},
        )

    def start(self) -> None:
        self.dispatcher.emergencies.warm_up()
        self.scheduler.add_job(self.dispatch_due, IntervalTrigger(seconds=self.settings.poll_seconds),
                               id="sweep", name="push due deliveries and retries")
        self.scheduler.add_job(self.dispatch_emergencies, IntervalTrigger(seconds=self.settings.emergency_poll_s),
                               id="emergencies", name="push emergencies, their repeats and all-clears")
        self.scheduler.add_job(self.plan_ahead, CronTrigger(hour=0, minute=5), id="replan",
                               name="re-plan the coming days")
        self.scheduler.start()
        self.scheduler.add_job(self.dispatch_due, id="first-run", name="push what is due at start")
        self.schedule_due_times()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=True)
        self.dispatcher.close()

    def dispatch_due(self) -> None:
        try:
            summary = self.dispatcher.run_once(self.clock())
            if summary.total:
                log.info("dispatch: %s", dict(summary.counts))
        except Exception:
            log.exception("dispatch run failed; the next sweep tries again")
        self.schedule_due_times()

    def dispatch_emergencies(self) -> None:
        """The emergency lane alone, every ``emergency_poll_s``: an emergency issued anywhere goes out within
        about a second, whatever the planned lane is doing."""
        try:
            counts = self.dispatcher.run_emergencies(self.clock())
            if counts:
                log.info("emergencies: %s", dict(counts))
        except Exception:
            log.exception("emergency dispatch failed; trying again in %s s", self.settings.emergency_poll_s)

    def plan_ahead(self) -> None:
        try:
            self.replan()
        except Exception:
            log.exception("daily re-plan failed; the existing plan stays")
        self.schedule_due_times()

    def schedule_due_times(self) -> None:
        """One date job per distinct due time in the next hours, fired at ``start - lead``."""
        now = self.clock()
        with unit_of_work(self.sessions) as session:
            due_times = session.scalars(
                select(Delivery.due_at).where(Delivery.state == DeliveryState.PENDING,
                                              Delivery.due_at > now, Delivery.due_at <= now + HORIZON)
                .distinct()
            ).all()
        for due_at in due_times:
            self.scheduler.add_job(self.dispatch_due, DateTrigger(run_date=due_at - self.offset),
                                   id=f"due-{due_at.isoformat()}", name=f"push deliveries due {due_at}",
                                   replace_existing=True)
