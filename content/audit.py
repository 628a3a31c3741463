"""The append-only audit log: every change is an entry chained to the one before by SHA-256.

Anchoring. The hash chain alone finds an entry edited, deleted or inserted in the middle, but not
entries cut off the end, nor forged entries appended with hashes recomputed. So:

- a one-row checkpoint (``audit_head``) names the last entry and its hash, rewritten with each
  append in the same transaction: a log that ends before or after it was cut or extended outside loa;
- with an audit key (``session.info["audit_key"]``, set by the shell from ``LOA_AUDIT_KEY`` or derived
  from the web secret key), each entry and the checkpoint carry an HMAC-SHA256 seal of their hash:
  whoever writes to the database without the key cannot append, rewrite or re-anchor entries
  undetected. Entries written before a key was set stay unsealed and are counted as such;
- seals cannot start mid-chain by themselves: loa refuses to append with a key to a log that has
  unsealed entries, until ``start_sealing`` (``loa init`` creating a key, or ``loa audit
  seal-approvals``) writes a sealed ``audit.seal-start`` entry naming how many unsealed entries come
  before it and the hash of the last one. A log whose seals were stripped and whose chain was
  recomputed therefore fails ``verify`` (and every write) instead of being re-sealed by the next write;
- ``verify(expect=(id, hash))`` checks the log against a head kept outside the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, text, update
from sqlalchemy.orm import Session

from content.errors import ConfigError, IntegrityError
from content.models import AuditEvent, AuditHead

GENESIS = "0" * 64
SEAL_START = "audit.seal-start"
_PG_AUDIT_LOCK = 0x6C6F6131  # "loa1": serialises appends across PostgreSQL writers
_HEAD = 1


def canonical(event: AuditEvent) -> bytes:
    """The bytes an entry's hash covers: every field but the hash itself, in a fixed form."""
    return _canonical(event.id, event.at, event.actor, event.action, event.subject, event.details, event.prev_hash)


def _canonical(entry_id: int, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any],
               prev_hash: str) -> bytes:
    document = {
        "id": entry_id,
        "at": at.astimezone(UTC).isoformat(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "details": details,
        "prev_hash": prev_hash,
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal_of(key: bytes, what: str) -> str:
    return hmac.new(key, what.encode(), hashlib.sha256).hexdigest()


def _head_text(last_id: int, last_hash: str) -> str:
    return f"head:{last_id}:{last_hash}"


def _key(session: Session, key: bytes | None) -> bytes | None:
    return key if key is not None else session.info.get("audit_key")


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
    key = _key(session, None)
    head = session.get(AuditHead, _HEAD)
    _check_key(head, key, starting=action == SEAL_START)
    event.seal = seal_of(key, event.hash) if key else None
    session.add(event)
    if head is None:
        head = AuditHead(id=_HEAD)
        session.add(head)
    head.last_id, head.last_hash = event.id, event.hash
    head.seal = seal_of(key, _head_text(event.id, event.hash)) if key else None
    session.flush()
    return event


@dataclass(frozen=True)
class Entry:
    """One entry to append with ``record_many``."""

    actor: str
    action: str
    subject: str
    at: datetime
    details: dict[str, Any]


def record_many(session: Session, entries: list[Entry]) -> None:
    """Append many entries in the caller's transaction: the same chain and seals as one ``record`` each,
    written with one lock, one read of the last entry, one multi-row insert and one checkpoint update."""
    if not entries:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    session.flush()  # entries added through ``record`` but not yet written come first
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    key = _key(session, None)
    head = session.get(AuditHead, _HEAD)
    _check_key(head, key)
    last_id, last_hash = (last.id, last.hash) if last else (0, GENESIS)
    rows = []
    for entry in entries:
        last_id += 1
        at = entry.at.astimezone(UTC)
        digest = hashlib.sha256(_canonical(last_id, at, entry.actor, entry.action, entry.subject, entry.details,
                                           last_hash)).hexdigest()
        rows.append({"id": last_id, "at": at, "actor": entry.actor, "action": entry.action,
                     "subject": entry.subject, "details": entry.details, "prev_hash": last_hash, "hash": digest,
                     "seal": seal_of(key, digest) if key else None})
        last_hash = digest
    session.execute(insert(AuditEvent.__table__), rows)
    if head is None:
        head = AuditHead(id=_HEAD)
        session.add(head)
    head.last_id, head.last_hash = last_id, last_hash
    head.seal = seal_of(key, _head_text(last_id, last_hash)) if key else None
    session.flush()


def is_sealed(session: Session) -> bool:
    """Whether the log's checkpoint carries a seal (some key sealed it)."""
    head = session.get(AuditHead, _HEAD)
    return head is not None and head.seal is not None


def start_sealing(session: Session, *, actor: str, at: datetime) -> AuditEvent | None:
    """With a key, seal an unsealed log from here on: a sealed ``audit.seal-start`` entry pins the
    unsealed entries before it (their count and the last hash). None when the log is empty or sealed."""
    key = _key(session, None)
    if key is None:
        raise ConfigError("LOA_AUDIT_KEY: no audit key is set, so the audit log cannot be sealed")
    head = session.get(AuditHead, _HEAD)
    if head is None or head.seal is not None:
        return None
    return record(session, actor=actor, action=SEAL_START, subject="audit", at=at,
                  details={"unsealed": head.last_id, "last_hash": head.last_hash})


def _check_key(head: AuditHead | None, key: bytes | None, *, starting: bool = False) -> None:
    """Refuse to append with no key, or another key, to a sealed log: that would break it for good; and
    refuse to start sealing an unsealed log silently: its seals may have been stripped."""
    if head is None:
        return
    if head.seal is None:
        if key is not None and not starting:
            raise ConfigError(
                "LOA_AUDIT_KEY: the audit log's {count} entries carry no seal but this process has an "
                "audit key: either the key is new, or someone stripped the seals and recomputed the chain. "
                "Check with `loa audit verify --expect ID:HASH` against a head you kept, then start sealing "
                "with `loa audit seal-approvals`", count=head.last_id)
        return
    if key is None:
        raise ConfigError("LOA_AUDIT_KEY: the audit log is sealed but this process has no audit key; set "
                          "LOA_AUDIT_KEY (or the web secret key) as for loa serve")
    if not hmac.compare_digest(head.seal, seal_of(key, _head_text(head.last_id, head.last_hash))):
        raise ConfigError("LOA_AUDIT_KEY: the audit key differs from the one that sealed the audit log (or its "
                          "last entry was rewritten); run loa audit verify")


def reseal(session: Session, old: bytes, new: bytes) -> int:
    """Re-seal every sealed entry and the checkpoint under ``new`` (``loa audit rotate-key``), after checking
    the whole log under ``old``: a broken log is refused (ConfigError), never laundered under a new key.
    Unsealed entries before the start of sealing stay unsealed. How many entries were re-sealed."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_AUDIT_LOCK})
    report = verify(session, key=old)
    if not report.ok:
        raise ConfigError("LOA_AUDIT_KEY: the audit log does not verify under the current key, so it is not "
                          "re-sealed: {reason}", reason=report.problem or report.reason)
    rows = [{"entry_id": entry_id, "new_seal": seal_of(new, digest)} for entry_id, digest in session.execute(
        select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.seal.is_not(None)))]
    if rows:
        table = AuditEvent.__table__
        session.execute(update(table).where(table.c.id == bindparam("entry_id"))
                        .values(seal=bindparam("new_seal")), rows)
    head = session.get(AuditHead, _HEAD)
    if head is not None and head.seal is not None:
        head.seal = seal_of(new, _head_text(head.last_id, head.last_hash))
    session.flush()
    return len(rows)


@dataclass(frozen=True)
class ChainReport:
    """The result of checking the chain: how many entries were read and the first bad one.

    ``unsealed`` counts entries written before an audit key was set; ``sealed_unchecked`` counts
    sealed entries that could not be checked because no key was given. ``reason`` is the English text of
    ``problem``, which carries the template and parameters a reader's language is rendered from.
    """

    checked: int
    broken_at: int | None = None
    reason: str = ""
    head_id: int | None = None
    head_hash: str = ""
    unsealed: int = 0
    sealed_unchecked: int = 0
    problem: IntegrityError | None = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session, *, key: bytes | None = None, expect: tuple[int, str] | None = None) -> ChainReport:
    """Walk the log in order and report the first entry whose hash, link or seal does not hold,
    then check that the log ends where its checkpoint says. With ``expect`` (an entry id and hash kept
    outside the database, e.g. from an earlier ``loa audit verify``), that entry must be in the log as kept."""
    key = _key(session, key)
    previous_hash = GENESIS
    expected_id = 1
    checked = unsealed = unchecked = 0
    sealing = False

    def broken(at: int, problem: IntegrityError) -> ChainReport:
        return ChainReport(checked, at, problem.text, unsealed=unsealed, sealed_unchecked=unchecked, problem=problem)

    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)).yield_per(1000):
        if event.id != expected_id:
            return broken(event.id, IntegrityError("entry {missing} is missing before entry {entry}",
                                                   missing=expected_id, entry=event.id))
        if event.prev_hash != previous_hash:
            return broken(event.id, IntegrityError("entry {entry} does not link to the entry before it",
                                                   entry=event.id))
        if hashlib.sha256(canonical(event)).hexdigest() != event.hash:
            return broken(event.id, IntegrityError("entry {entry} was changed after it was written", entry=event.id))
        if event.seal is None:
            if sealing and key:
                return broken(event.id, IntegrityError("entry {entry} carries no seal though the entries before it "
                                                       "do: it was written without the audit key", entry=event.id))
            unsealed += 1
        elif key is None:
            unchecked += 1
        elif not hmac.compare_digest(event.seal, seal_of(key, event.hash)):
            return broken(event.id, IntegrityError("entry {entry} has a wrong seal: it was written without the audit "
                                                   "key (or the key changed)", entry=event.id))
        elif not sealing and unsealed and not _starts_sealing(event, unsealed, previous_hash):
            return broken(event.id, IntegrityError("seals start mid-chain at entry {entry} with no sealed start of "
                                                   "sealing naming the {unsealed} unsealed entries before it: their "
                                                   "seals were stripped and the chain recomputed", entry=event.id,
                                                   unsealed=unsealed))
        if expect is not None and event.id == expect[0] and event.hash != expect[1]:
            return broken(event.id, IntegrityError("entry {entry} is not the one you kept (sha256 {sha256}): the log "
                                                   "was rewritten from there or before", entry=event.id,
                                                   sha256=expect[1]))
        sealing = sealing or event.seal is not None
        previous_hash = event.hash
        expected_id += 1
        checked += 1
    last_id = expected_id - 1
    if expect is not None and expect[0] > last_id:
        return broken(last_id, IntegrityError("entry {entry} that you kept is missing: the log was cut or rewritten",
                                              entry=expect[0]))
    head = session.get(AuditHead, _HEAD)
    if head is None:
        if checked:
            missing = IntegrityError("the checkpoint of the last entry is missing: the log's end cannot be trusted")
            return broken(last_id, missing)
        return ChainReport(0)
    if head.last_id > last_id:
        return broken(last_id + 1, IntegrityError("entries {first}..{last} are missing from the end of the log",
                                                  first=last_id + 1, last=head.last_id))
    if head.last_id < last_id:
        return broken(head.last_id + 1, IntegrityError("entry {entry} was added after the last entry loa wrote",
                                                       entry=head.last_id + 1))
    if head.last_hash != previous_hash:
        return broken(last_id, IntegrityError("entry {entry} is not the last entry loa wrote", entry=last_id))
    if key is not None:
        if head.seal is None:  # with a key, loa seals the checkpoint at every append
            return broken(last_id, IntegrityError("the checkpoint carries no seal: its seals were stripped, or the "
                                                  "audit key was set after the last entry (then `loa audit "
                                                  "seal-approvals` starts sealing)"))
        if head.seal is not None and not hmac.compare_digest(head.seal, seal_of(key, _head_text(
                head.last_id, head.last_hash))):
            return broken(last_id, IntegrityError("the checkpoint has a wrong seal: it was rewritten without the "
                                                  "audit key"))
    return ChainReport(checked, head_id=head.last_id, head_hash=head.last_hash, unsealed=unsealed,
                       sealed_unchecked=unchecked)


def _starts_sealing(event: AuditEvent, unsealed: int, previous_hash: str) -> bool:
    """Whether a log's first sealed entry is the start of sealing that pins the unsealed entries before it."""
    return (event.action == SEAL_START and event.details.get("unsealed") == unsealed
            and event.details.get("last_hash") == previous_hash)


def entries(
    session: Session,
    *,
    actor: str | None = None,
    subject: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> Iterator[AuditEvent]:
    """Entries in order, filtered by exact actor, subject (``piece:12``, or ``piece`` for every piece),
    action (``piece.approve``, or ``piece`` for every piece action) and time (``since`` included,
    ``until`` excluded). With ``limit``, the latest ``limit`` entries that match."""
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if subject:
        query = query.where(or_(AuditEvent.subject == subject,
                                AuditEvent.subject.startswith(f"{subject}:", autoescape=True)))
    if action:
        query = query.where(or_(AuditEvent.action == action,
                                AuditEvent.action.startswith(f"{action}.", autoescape=True)))
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    if limit:
        latest = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
        yield from reversed(latest)
        return
    yield from session.scalars(query.order_by(AuditEvent.id)).yield_per(1000)
