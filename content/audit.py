"""The append-only audit log: every change is an entry chained to the one before by SHA-256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from content.models import AuditEvent

GENESIS = "0" * 64
_PG_AUDIT_LOCK = 0x6C6F6131  # "loa1": serialises appends across PostgreSQL writers


def canonical(event: AuditEvent) -> bytes:
    """The bytes an entry's hash covers: every field but the hash itself, in a fixed form."""
    document = {
        "id": event.id,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": event.details,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one entry in the caller's transaction, so it commits or rolls back with the change."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    event = AuditEvent(
        id=(last.id + 1) if last else 1,
        at=at.astimezone(UTC),
        actor=actor,
        action=action,
        subject=subject,
        details=details or {},
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = hashlib.sha256(canonical(event)).hexdigest()
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the chain: how many entries were read and the first bad one."""

    checked: int
    broken_at: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session) -> ChainReport:
    """Walk the log in order and report the first entry whose hash or link does not hold."""
    previous_hash = GENESIS
    expected_id = 1
    checked = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        if event.id != expected_id:
            return ChainReport(checked, event.id, f"entry {expected_id} is missing before entry {event.id}")
        if event.prev_hash != previous_hash:
            return ChainReport(checked, event.id, f"entry {event.id} does not link to the entry before it")
        if hashlib.sha256(canonical(event)).hexdigest() != event.hash:
            return ChainReport(checked, event.id, f"entry {event.id} was changed after it was written")
        previous_hash = event.hash
        expected_id += 1
        checked += 1
    return ChainReport(checked)
