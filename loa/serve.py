"""``loa serve``: the web app, the scheduler runtime and the dispatcher in one process."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from content.errors import StateError
from loa.wiring import Services

log = logging.getLogger(__name__)


@contextmanager
def only_server(services: Services) -> Iterator[None]:
    """On SQLite, one ``loa serve`` per database file: a second one is refused with the first's pid.

    (On PostgreSQL several may run; the scale-out work elects one scheduler leader among them.)
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
            holder = handle.read().strip() or "another process"
            raise StateError(f"another `loa serve` (pid {holder}) is already running on {url.database}; "
                             "stop it first, or use PostgreSQL to run several") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def run_server(services: Services, *, host: str | None = None, port: int | None = None) -> None:
    """Start the runtime, then serve HTTP until interrupted; the runtime stops with the server."""
    import uvicorn

    from loa.logs import configure_logging
    from loa.web import create_app
    from scheduler.runtime import Runtime

    configure_logging()
    settings = services.settings
    host, port = host or settings.loa.web.host, port or settings.loa.web.port
    with only_server(services):
        services.init()  # also proves the database is usable before the port is bound
        runtime = Runtime(
            sessions=services.sessions, dispatcher=services.dispatcher(), replan=services.plan,
            clock=services.now, zone=settings.zone, settings=settings.dispatch, offset=services.clock.offset,
        )
        runtime.start()
        from loa.ingest_jobs import add_feed_jobs

        add_feed_jobs(runtime.scheduler, services)  # [[feed]] polls, the first one right away
        log.info("scheduler started; serving on http://%s:%s", host, port)
        try:
            uvicorn.run(create_app(services), host=host, port=port, log_level="info")
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
