"""Migration 0008 gives an existing audit log its checkpoint, so it verifies right after the upgrade."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text

from content import audit
from content.db import session_factory, unit_of_work
from content.models import AuditEvent
from loa import database


def test_an_existing_log_is_checkpointed_at_its_last_entry(tmp_path) -> None:
    engine = database.open_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = database.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        previous = audit.GENESIS
        for n in (1, 2, 3):
            event = AuditEvent(id=n, at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=n), actor="lan",
                               action="piece.edit", subject=f"piece:{n}", details={}, prev_hash=previous)
            previous = hashlib.sha256(audit.canonical(event)).hexdigest()
            connection.execute(text(
                "INSERT INTO audit_events (id, at, actor, action, subject, details, prev_hash, hash) "
                "VALUES (:id, :at, 'lan', 'piece.edit', :subject, '{}', :prev, :hash)"),
                {"id": n, "at": event.at.replace(tzinfo=None), "subject": event.subject, "prev": event.prev_hash,
                 "hash": previous})
    database.upgrade(engine)
    with unit_of_work(session_factory(engine)) as session:
        report = audit.verify(session)
        assert report.ok, report.reason
        assert (report.checked, report.head_id, report.head_hash) == (3, 3, previous)
        session.execute(text("DELETE FROM audit_events WHERE id = 3"))
        assert audit.verify(session).broken_at == 3
    engine.dispose()
