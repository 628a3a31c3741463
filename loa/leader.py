"""Scheduler leadership among several `loa serve` on PostgreSQL: a session-level advisory lock on its connection."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)
#: The advisory lock key ("loaL"); only the session holding it runs the scheduler jobs.
LEADER_KEY = 0x6C6F614C


class Leadership:
    """Try to take the lock every ``retry_s`` seconds; run ``on_gain`` when taken and ``on_loss`` if the lock's
    connection dies (PostgreSQL frees the lock of a dead session, so a crashed leader frees it too).

    On SQLite there is only ever one ``loa serve`` per file (see ``loa.serve.only_server``): it leads at once.
    """

    def __init__(self, engine: Engine, *, on_gain: Callable[[], None], on_loss: Callable[[], None],
                 retry_s: float = 2.0) -> None:
        self.url = engine.url
        self.on_gain, self.on_loss = on_gain, on_loss
        self.retry_s = retry_s
        self.leader = False
        self.stop = threading.Event()
        self.connection: Any = None
        self._thread: threading.Thread | None = None

    @property
    def postgresql(self) -> bool:
        return self.url.get_backend_name() == "postgresql"

    def start(self) -> None:
        if not self.postgresql:
            self._gain()
            return
        self._thread = threading.Thread(target=self._loop, name="leadership", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop campaigning, stop the scheduler if this process leads (``on_loss``), then free the lock."""
        self.stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.leader:
            self.leader = False
            self.on_loss()
        self._close()

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                if self.leader:
                    self.connection.execute("SELECT 1")  # still alive, so still holding the lock
                else:
                    self._try()
            except Exception as error:
                log.warning("leadership connection failed (%s); stepping down and trying again", error)
                self._close()
                if self.leader:
                    self.leader = False
                    self.on_loss()
            self.stop.wait(self.retry_s)

    def _try(self) -> None:
        import psycopg

        if self.connection is None:
            conninfo = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(conninfo, autocommit=True, application_name="loa serve (leadership)")
        taken = self.connection.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_KEY,)).fetchone()[0]
        if taken:
            self._gain()

    def _gain(self) -> None:
        self.leader = True
        log.info("this process is the scheduler leader")
        self.on_gain()

    def _close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:  # a dead connection may fail to close; the server drops its lock anyway
                log.debug("closing the leadership connection failed", exc_info=True)
            self.connection = None
