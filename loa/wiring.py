"""Builds loa's services from settings: database, clock, planner, dispatcher, runtime."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from content.db import session_factory, unit_of_work
from loa import database
from loa.clock import Clock
from loa.settings import Settings
from scheduler.catalog import SyncReport, sync_config
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.planning import triggers
from scheduler.planning.replan import PlanChanges, Progress, replan
from scheduler.planning.triggers import Scope

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What a command or request needs, built once per process from the settings."""

    settings: Settings
    engine: Engine
    clock: Clock
    #: Set when this process commits a change that may alter what airs (see ``scheduler.planning.triggers``).
    plan_requested: threading.Event = field(default_factory=threading.Event)
    #: Where ``init`` wrote a new audit key, when it had to.
    created_key: Path | None = None
    #: One plan written at a time in this process (the API's, the live re-plan, the daily one): two that
    #: overlap would each rewrite programs the other just changed.
    plan_writing: threading.Lock = field(default_factory=threading.Lock)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from loa.audit_key import audit_key

        factory = session_factory(self.engine)
        factory.configure(info={"audit_key": audit_key(self.settings),  # content.audit seals entries with it
                                # who holds the emergency right (scheduler.emergencies.service)
                                "emergency_roles": tuple(self.settings.loa.emergency.roles)})
        triggers.install(factory, self.settings.zone, self.plan_requested)  # changes queue their re-plan
        return factory

    def now(self) -> datetime:
        return self.clock.now()

    def init(self, *, actor: str = "system") -> SyncReport:
        """Create or upgrade the schema and load stations, slots and campaigns from config.

        With no audit key set, a new one is written to ``var/audit.key`` first (``created_key`` says
        where) and an existing unsealed audit log starts being sealed from here on.
        """
        from content import audit
        from loa.audit_key import audit_key, create_key_file

        database.upgrade(self.engine)
        # The key must be known before the session factory is built; and a log sealed with a key this
        # process lacks gets no new one (its writes are refused, saying so, instead of breaking it for good).
        if "sessions" not in self.__dict__ and audit_key(self.settings) is None:
            with unit_of_work(session_factory(self.engine)) as session:
                sealed = audit.is_sealed(session)
            self.created_key = None if sealed else create_key_file(self.settings)
        if self.created_key is not None:
            with unit_of_work(self.sessions) as session:
                audit.start_sealing(session, actor=actor, at=self.now())
        with unit_of_work(self.sessions) as session:
            return sync_config(session, stations=self.settings.stations, slots=self.settings.slots,
                               campaigns=self.settings.campaigns, now=self.now(), actor=actor,
                               centres=self.settings.centres)

    def plan(self, *, days: int | None = None, first_day: date | None = None, actor: str = "system",
             progress: Progress | None = None, fresh: bool = False, stations_only: frozenset[str] | None = None,
             outlets_only: frozenset[str] | None = None) -> PlanChanges:
        """Re-plan: render the missing speech first (short transactions, none while speaking), then plan
        from the stored renditions in one short write transaction."""
        from content.render.program import program_overhead_s
        from scheduler.planning.prerender import render_airable

        settings = self.settings
        abbreviations = settings.loa.normalize.abbreviations
        render_airable(self.sessions, settings.render, now=self.now(), abbreviations=abbreviations,
                       progress=progress)
        overhead_s = program_overhead_s(None, settings.render) + settings.render.audio.gap_s  # decodes jingles
        with self.plan_writing, unit_of_work(self.sessions) as session:
            return replan(
                session, now=self.now(), zone=settings.zone, days=days or settings.dispatch.plan_days,
                first_day=first_day, render=settings.render, stations=settings.stations,
                lead_minutes=settings.dispatch.lead_minutes, blackout=settings.blackout,
                abbreviations=abbreviations, actor=actor, overhead_s=overhead_s, fresh=fresh,
                stations_only=stations_only, outlets_only=outlets_only,
            )

    def plan_scope(self, scope: Scope) -> PlanChanges | None:
        """Re-plan what ``scope`` covers, from its first day (never before today) to the end of the plan's days;
        None when that is beyond them."""
        today = self.now().astimezone(self.settings.zone).date()
        first = max(scope.first_day or today, today)
        days = self.settings.dispatch.plan_days - (first - today).days
        if days < 1:
            return None
        return self.plan(first_day=first, days=days, stations_only=scope.stations, outlets_only=scope.outlets)

    def dispatcher(self, worker: str | None = None) -> Dispatcher:
        return Dispatcher(
            self.sessions,
            stations={spec.code: spec for spec in self.settings.stations},
            render=self.settings.render,
            dispatch=self.settings.dispatch,
            zone=self.settings.zone,
            worker=worker or f"{socket.gethostname()}:{os.getpid()}",
            abbreviations=self.settings.loa.normalize.abbreviations,
            relays={spec.default_name(index): tuple(spec.relay) for index, spec in enumerate(self.settings.slots)
                    if spec.relay},
        )

    def close(self) -> None:
        self.engine.dispose()


def open_services(settings: Settings, *, now: datetime | None = None) -> Services:
    """Services for ``settings``; ``now`` runs the clock as if the process started at that moment."""
    return Services(settings=settings, engine=database.open_engine(settings.database_url),
                    clock=Clock(settings.zone, now))
