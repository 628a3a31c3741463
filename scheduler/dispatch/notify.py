"""Tells sleeping ``loa worker`` processes that the outbox changed, through PostgreSQL NOTIFY."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

#: The channel workers LISTEN on; the payload is empty, a wake-up only.
CHANNEL = "loa_outbox"


def outbox_changed(session: Session) -> None:
    """Queue a wake-up for the workers, sent when the caller's transaction commits (nothing on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
