"""Fast reads for the web app: pooled read-only SQLite connections that never take the write lock,
and a schedule cache that stays valid until the audit log (which every change writes to) moves on."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from content.db import session_factory, unit_of_work
from content.models import AuditEvent


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (deferred: readers never block)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def read_engine(engine: Engine) -> Engine:
    """For SQLite, a pooled engine on the same file whose connections can only read and begin deferred,
    so page views neither wait for nor hold the write lock; other databases use ``engine`` itself."""
    if engine.url.get_backend_name() != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    reader = create_engine(engine.url, pool_size=8, max_overflow=24, connect_args={"check_same_thread": False})
    event.listen(reader, "connect", _read_only)
    event.listen(reader, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    return reader


class Reads:
    """Read sessions plus a small cache of computed views keyed on the audit log's last entry."""

    def __init__(self, engine: Engine, size: int = 256) -> None:
        self.engine = read_engine(engine)
        self.sessions: sessionmaker[Session] = session_factory(self.engine)
        self._cache: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size
        self._version: int | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        with unit_of_work(self.sessions) as session:
            yield session

    def cached(self, session: Session, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``, reused while no change has been audited since (every state change is audited;
        a claim by the dispatcher is the one change that shows a moment later, with its outcome)."""
        version = session.scalar(select(func.max(AuditEvent.id)))
        full_key = (version, *key)
        with self._lock:
            if full_key in self._cache:
                self._cache.move_to_end(full_key)
                return self._cache[full_key]
        value = compute()
        with self._lock:
            if version != self._version:
                if self._version is not None and (version is None or version < self._version):
                    return value  # computed on a snapshot older than what is cached now: use it, keep nothing
                # Entries of older versions are never asked for again; big ones (a week's HTML) would pile up.
                self._cache.clear()
                self._version = version
            self._cache[full_key] = value
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._cache)

    def close(self) -> None:
        self.engine.dispose()
