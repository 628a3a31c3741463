"""``loa serve``: the web app, the scheduler runtime and the dispatcher in one process."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from content.errors import StateError
from loa.wiring import Services

log = logging.getLogger(__name__)


@contextmanager
def only_server(services: Services) -> Iterator[None]:
    """On SQLite, one ``loa serve`` per database file: a second one is refused with the first's pid.

    (On PostgreSQL several may run; ``loa.leader`` elects the one that runs the scheduler.)
    """
    url = services.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    lock_path = Path(f"{url.database}.serve.lock")
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            if not holder:
                raise StateError("another `loa serve` is already running on {database}; stop it first, or use "
                                 "PostgreSQL to run several", database=url.database) from None
            raise StateError("another `loa serve` (pid {pid}) is already running on {database}; stop it first, or "
                             "use PostgreSQL to run several", pid=holder, database=url.database) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def announce_first_admin(services: Services, base_url: str) -> None:
    """While no admin can sign in (a new installation), say where to create the first one in the browser:
    a one-time link, replaced at every start, so no password is typed on a command line."""
    from content.accounts import RESET_HOURS, first_admin_link
    from content.db import unit_of_work

    with unit_of_work(services.sessions) as session:
        token = first_admin_link(session, now=services.now())
    if token:
        log.warning("no admin can sign in yet: open %s/reset/%s within %d hours to create the first admin",
                    base_url.rstrip("/"), token, RESET_HOURS)


def run_server(services: Services, *, host: str | None = None, port: int | None = None) -> None:
    """Serve HTTP until interrupted; the scheduler runtime runs while this process is the leader.

    On SQLite this process leads at once (it is the only one); on PostgreSQL it leads while it holds the
    advisory lock, and otherwise serves the web app and waits to take over.
    """
    import uvicorn

    from loa.alerts import add_alert_feed_jobs
    from loa.device_jobs import add_device_jobs
    from loa.ingest_jobs import add_feed_jobs
    from loa.leader import Leadership
    from loa.live import start_live
    from loa.logs import configure_logging
    from loa.web import create_app
    from scheduler.runtime import Runtime

    configure_logging(services.settings.zone)
    settings = services.settings
    host, port = host or settings.loa.web.host, port or settings.loa.web.port
    runtimes: list[tuple[Runtime, Any]] = []
    probers: list[Any] = []
    guard = threading.Lock()

    def lead() -> None:
        with guard:
            planners: list[Any] = []  # the daily re-plan waits for a live one under way, and the other way round
            runtime = Runtime(
                sessions=services.sessions, dispatcher=services.dispatcher(),
                replan=lambda: planners[0].exclusive(services.plan),
                clock=services.now, zone=settings.zone, settings=settings.dispatch, offset=services.clock.offset,
            )
            runtime.start()
            planner, watcher = start_live(services, runtime.scheduler, after=runtime.schedule_due_times,
                                          offset=services.clock.offset)  # changes reach the plan by themselves
            planners.append(planner)
            add_feed_jobs(runtime.scheduler, services)  # [[feed]] polls, the first one right away
            add_alert_feed_jobs(runtime.scheduler, services)  # [[alert_feed]] polls (CAP), likewise
            probers.append(add_device_jobs(runtime.scheduler, services))  # device probes and offline alerts
            runtimes.append((runtime, watcher))
        log.info("scheduler started")

    def step_down() -> None:
        with guard:
            while runtimes:
                runtime, watcher = runtimes.pop()
                watcher.stop()
                runtime.shutdown()
            while probers:
                probers.pop().close()
        log.info("scheduler stopped; this process no longer leads")

    with only_server(services):
        services.init()  # also proves the database is usable before the port is bound
        announce_first_admin(services, settings.loa.web.base_url if host == settings.loa.web.host
                             and port == settings.loa.web.port else f"http://{host}:{port}")
        leadership = Leadership(services.engine, on_gain=lead, on_loss=step_down,
                                retry_s=float(os.environ.get("LOA_LEADER_RETRY_S", "2")))
        leadership.start()
        log.info("serving on http://%s:%s", host, port)
        app = create_app(services)
        app.state.leadership = leadership
        try:
            uvicorn.run(app, host=host, port=port, log_level="info")
        finally:
            leadership.shutdown()  # the scheduler stops before another process may take the lock


def run_worker(services: Services) -> None:
    """``loa worker`` (see ``loa.worker``)."""
    from loa.worker import run_worker as run

    run(services)
