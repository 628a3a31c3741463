"""Turns every audited change that may alter what airs into a plan request, in the change's own transaction.

Every change loa makes is audited (``content.audit.record``) in the transaction that makes it, so the audit
entry is the one place to notice them all, whichever process or entry point (web, API, CLI, worker) made
the change: ``install`` hooks a session factory so that, when a transaction holding such an entry commits,
it also holds a ``plan_requests`` row saying which stations, outlets and days to re-plan. On PostgreSQL the
commit also sends a NOTIFY on ``CHANNEL`` (a wake-up only); on SQLite the scheduler leader polls the
table's highest id, one primary-key lookup.

Why a table and not ``PRAGMA data_version``: the pragma moves with every commit of any kind (each push,
login or feed poll, the re-plan itself), so it would still need a query to learn whether anything that
airs changed, and it cannot say which stations; the row says what changed, costs one insert in a
transaction that writes anyway, and survives a restart (changes made while no leader ran are re-planned
when one starts).

The same hook queues, in the same transaction, the withdrawals of what a retired piece already published
(``scheduler.dispatch.withdrawals``): the outbox then takes it down like any push.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from content.models import AuditEvent, Piece, Revision
from scheduler.dispatch import withdrawals
from scheduler.models import Airing, Delivery, PlanRequest, Station

#: The channel the scheduler leader LISTENs on; the payload is empty, a wake-up only.
CHANNEL = "loa_plan"
#: Audit actions that change what airs: approval (also of a correction, or of an uploaded recording),
#: the rejection of a replacement, withdrawal, an editor's hand on the plan, and the catalog of slots
#: and campaigns after a config load. ``plan.change`` is the re-plan itself and never triggers one.
PIECE_ACTIONS = frozenset({"piece.approve", "piece.reject", "piece.retire"})
AIRING_ACTIONS = frozenset({"airing.pin", "airing.unpin", "airing.remove", "airing.restore", "airing.move"})
CATALOG_ACTIONS = frozenset({"config.sync", "slot.add"})
#: A bulletin sent down and taken in (scheduler.bulletins): accepted by a commune, or sent at priority level. Their
#: audit details name the receiving ``stations`` and the ``outlets``; a sending at another level names no station.
BULLETIN_ACTIONS = frozenset({"bulletin.send", "bulletin.accept"})
ACTIONS = PIECE_ACTIONS | AIRING_ACTIONS | CATALOG_ACTIONS | BULLETIN_ACTIONS
#: Piece actions after which something already published may have to come down (scheduler.dispatch.withdrawals):
#: a withdrawal, or an approval of a revision that no longer names an outlet.
WITHDRAWING = frozenset({"piece.retire", "piece.approve"})
_PENDING = "loa_plan_changes"
#: How long done requests are kept.
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Scope:
    """What a re-plan must cover: ``None`` stations or outlets mean all; ``None`` first_day means today."""

    stations: frozenset[str] | None = None
    outlets: frozenset[str] | None = None
    first_day: date | None = None

    def merge(self, other: Scope) -> Scope:
        def union(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
            return None if a is None or b is None else a | b

        first = None if self.first_day is None or other.first_day is None else min(self.first_day, other.first_day)
        return Scope(union(self.stations, other.stations), union(self.outlets, other.outlets), first)

    @classmethod
    def of(cls, row: PlanRequest) -> Scope:
        return cls(frozenset(row.stations) if row.stations is not None else None,
                   frozenset(row.outlets) if row.outlets is not None else None, row.first_day)


def _piece_scope(session: Session, piece_id: int) -> Scope | None:
    """The outlets of the piece's approved revision and of the revision just decided on; None when nothing of
    it can air (a first draft rejected)."""
    piece = session.get(Piece, piece_id)
    if piece is None:
        return None
    ids = {piece.approved_revision_id, piece.current_revision_id} - {None}
    if piece.approved_revision_id is None:
        return None
    outlets: set[str] = set()
    for channels in session.scalars(select(Revision.channels).where(Revision.id.in_(ids))):
        outlets.update(channels)
    return Scope(outlets=frozenset(outlets))


def _program_scope(session: Session, delivery_ids: Iterable[str], zone: ZoneInfo) -> Scope | None:
    rows = session.execute(select(Station.code, Delivery.outlet, Delivery.start_at).join(Station)
                           .where(Delivery.id.in_([d for d in delivery_ids if d]))).all()
    if not rows:
        return None
    return Scope(frozenset(r.code for r in rows), frozenset(r.outlet for r in rows),
                 min(r.start_at.astimezone(zone).date() for r in rows))


def scope_of(session: Session, action: str, subject: str, details: dict[str, Any], zone: ZoneInfo,
             ) -> tuple[Scope, int | None] | None:
    """(what to re-plan, the piece concerned) after the audited change, or None when nothing that airs changed."""
    if action in PIECE_ACTIONS:
        piece_id = int(subject.removeprefix("piece:"))
        scope = _piece_scope(session, piece_id)
        return (scope, piece_id) if scope else None
    if action in AIRING_ACTIONS:
        deliveries = [details.get("delivery"), details.get("from"), details.get("to")]
        if action != "airing.move":
            airing = session.get(Airing, int(subject.removeprefix("airing:")))
            deliveries.append(airing.delivery_id if airing else None)
        scope = _program_scope(session, [d for d in deliveries if d], zone)
        return (scope, details.get("piece")) if scope else None
    if action in CATALOG_ACTIONS:
        return Scope(), None
    if action in BULLETIN_ACTIONS:
        stations = details.get("stations") or []
        return (Scope(frozenset(stations), frozenset(details.get("outlets") or ())), details.get("piece")) \
            if stations else None
    return None


def request(session: Session, scope: Scope, *, action: str, now: datetime, piece_id: int | None = None,
            ) -> PlanRequest:
    """Queue a re-plan of ``scope`` in the caller's transaction (with a NOTIFY on PostgreSQL)."""
    row = PlanRequest(at=now, action=action, piece_id=piece_id, first_day=scope.first_day,
                      stations=sorted(scope.stations) if scope.stations is not None else None,
                      outlets=sorted(scope.outlets) if scope.outlets is not None else None)
    session.add(row)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
    return row


def install(factory: sessionmaker[Session], zone: ZoneInfo, committed: threading.Event | None = None) -> None:
    """Make every session of ``factory`` queue a plan request when it commits a change that may alter what airs;
    ``committed`` is set after such a commit (the wake-up of this process's own leader)."""

    @event.listens_for(factory, "after_flush")
    def noticed(session: Session, _context: Any) -> None:
        for obj in session.new:
            if isinstance(obj, AuditEvent) and obj.action in ACTIONS:
                session.info.setdefault(_PENDING, []).append(
                    (obj.action, obj.subject, dict(obj.details), obj.at, obj.actor))

    @event.listens_for(factory, "before_commit")
    def queue(session: Session) -> None:
        changes = session.info.pop(_PENDING, [])
        for action, subject, details, at, actor in changes:
            if action in WITHDRAWING:  # what already went out of the piece is taken down through the outbox
                withdrawals.queue(session, int(subject.removeprefix("piece:")), now=at, actor=actor)
            found = scope_of(session, action, subject, details, zone)
            if found is not None:
                request(session, found[0], action=action, now=at, piece_id=found[1])
                session.info["loa_plan_requested"] = True

    @event.listens_for(factory, "after_commit")
    def wake(session: Session) -> None:
        if session.info.pop("loa_plan_requested", False) and committed is not None:
            committed.set()

    @event.listens_for(factory, "after_rollback")
    def forget(session: Session) -> None:
        session.info.pop(_PENDING, None)
        session.info.pop("loa_plan_requested", None)


def newest(session: Session) -> int:
    """The highest request id: what a poller compares (one primary-key lookup)."""
    return session.scalar(select(func.max(PlanRequest.id))) or 0


def waiting(session: Session, after_id: int | None = None) -> list[PlanRequest]:
    """Requests not yet re-planned (with ``after_id``: only those newer than it), oldest first."""
    query = select(PlanRequest).where(PlanRequest.done_at.is_(None)).order_by(PlanRequest.id)
    if after_id is not None:
        query = query.where(PlanRequest.id > after_id)
    return list(session.scalars(query))


def mark_done(session: Session, ids: Iterable[int], *, now: datetime,
              unplaced: dict[int, list[dict[str, Any]]]) -> None:
    """Record that the requests ``ids`` were re-planned, each with what of its piece stayed unplaced and why."""
    ids = list(ids)
    for row in session.scalars(select(PlanRequest).where(PlanRequest.id.in_(ids))):
        row.done_at = now
        row.unplaced = unplaced.get(row.piece_id, []) if row.piece_id is not None else []
    # An answer is read within seconds of the change (and the piece page shows the last one): keep a day.
    session.execute(delete(PlanRequest).where(PlanRequest.done_at < now - KEEP))
