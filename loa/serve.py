"""``loa serve``: the web app, the scheduler runtime and the dispatcher in one process."""

from __future__ import annotations

import logging
import signal
import threading

from content.db import unit_of_work
from loa.wiring import Services

log = logging.getLogger(__name__)


def run_server(services: Services, *, host: str | None = None, port: int | None = None) -> None:
    """Start the runtime, then serve HTTP until interrupted; the runtime stops with the server."""
    import uvicorn

    from loa.logs import configure_logging
    from loa.web import create_app
    from scheduler.runtime import Runtime

    configure_logging()
    settings = services.settings
    services.init()
    with unit_of_work(services.sessions):
        pass  # fail fast, before binding the port, if the database is unusable
    runtime = Runtime(
        sessions=services.sessions, dispatcher=services.dispatcher(), replan=services.plan,
        clock=services.now, zone=settings.zone, settings=settings.dispatch, offset=services.clock.offset,
    )
    runtime.start()
    log.info("scheduler started; serving on http://%s:%s", host or settings.loa.web.host,
             port or settings.loa.web.port)
    try:
        uvicorn.run(create_app(services), host=host or settings.loa.web.host, port=port or settings.loa.web.port,
                    log_level="info")
    finally:
        runtime.shutdown()


def run_worker(services: Services) -> None:
    """Poll the outbox and push what is due until SIGTERM or SIGINT; the current push finishes first."""
    from loa.logs import configure_logging

    configure_logging()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    dispatcher = services.dispatcher()
    log.info("worker %s started", dispatcher.worker)
    try:
        while not stop.is_set():
            try:
                summary = dispatcher.run_once(services.now())
                if summary.total:
                    log.info("dispatch: %s", dict(summary.counts))
            except Exception:
                log.exception("dispatch run failed; trying again")
            stop.wait(services.settings.dispatch.poll_seconds)
    finally:
        dispatcher.close()
        log.info("worker stopped")
