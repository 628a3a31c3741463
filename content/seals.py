"""The HMAC seals that bind approvals, renditions and stored payloads to what was approved.

Whoever can write the database can recompute a SHA-256, but not an HMAC under the audit key, which
lives outside the database (``LOA_AUDIT_KEY``, the web secret key, or ``var/audit.key``; see
``loa.audit_key``). The shell puts it in ``session.info["audit_key"]``; every seal here is made and
checked with it, each over a text that starts with what it seals so one seal never fits another kind:

- an approval (``reviews.seal``): piece, revision, content hash, reviewer, decision and time;
- a speech rendition (``renditions.seal``): its key (revision hash and render settings), the revision
  hash, the file's path, its SHA-256 and duration;
- a delivery's stored payload (``deliveries.payload_seal``): the delivery id and the payload document.

With no key set nothing is sealed or checked (the audit log is then unsealed too); ``loa init``
creates a key, so an installation has one unless someone removed it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.errors import ConfigError, IntegrityError
from content.models import AuditEvent, Piece, Rendition, Review, Revision

APPROVED = "approved"


def key_of(session: Session) -> bytes | None:
    """The key this process seals with, or None when none is set."""
    key = session.info.get("audit_key")
    return key if isinstance(key, bytes) else None


def _seal(key: bytes, *parts: object) -> str:
    text = "\x1f".join(str(part) for part in parts)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _same(stored: str | None, expected: str) -> bool:
    return stored is not None and hmac.compare_digest(stored, expected)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# --- approvals ------------------------------------------------------------------------------------------

def review_seal(key: bytes, review: Review, piece_id: int, sha256: str) -> str:
    """The seal of ``review`` of a revision of ``piece_id`` whose content hash is ``sha256``."""
    return _seal(key, "review", piece_id, review.revision_id, sha256, review.reviewer_id, review.decision,
                 _utc(review.created_at))


def seal_review(session: Session, review: Review, piece_id: int) -> None:
    """Seal a review as it is written (nothing when no key is set)."""
    if (key := key_of(session)) is not None:
        review.seal = review_seal(key, review, piece_id, review.sha256)


def approval_of(session: Session, revision_id: int) -> Review | None:
    """The latest approving review of a revision."""
    return session.scalar(select(Review).where(Review.revision_id == revision_id, Review.decision == APPROVED)
                          .order_by(Review.id.desc()).limit(1))


def check_approval(session: Session, piece: Piece, revision: Revision, actual_sha256: str) -> None:
    """Raise IntegrityError unless the revision's approval carries a seal over this piece, this revision
    and ``actual_sha256`` (its content hash, recomputed from what is stored). Nothing without a key."""
    key = key_of(session)
    if key is None:
        return
    review = approval_of(session, revision.id)
    where = {"piece": piece.id, "revision": revision.number}
    if review is None:
        raise IntegrityError("piece {piece} revision {revision}: no approval of this revision is stored; it was "
                             "marked approved in the database", **where)
    if review.seal is None:
        raise IntegrityError("piece {piece} revision {revision}: its approval carries no seal (written in the "
                             "database without the key, or before seals: an admin runs `loa audit seal-approvals` "
                             "once after upgrading)", **where)
    if review.sha256 != actual_sha256:  # the seal covers the content hash, not this record of it: compare too
        raise IntegrityError("piece {piece} revision {revision}: its approval records content sha256 {recorded}…, "
                             "not the stored content's {actual}…; the approval was altered in the database", **where,
                             recorded=review.sha256[:12], actual=actual_sha256[:12])
    if not _same(review.seal, review_seal(key, review, piece.id, actual_sha256)):
        raise IntegrityError("piece {piece} revision {revision}: its approval's seal does not match the stored "
                             "content, approver or time; the content or the approval was altered in the database",
                             **where)


# --- renditions -----------------------------------------------------------------------------------------

def rendition_seal(key: bytes, rendition: Rendition, revision_sha256: str) -> str:
    return _seal(key, "rendition", rendition.key, revision_sha256, rendition.kind, rendition.path,
                 rendition.sha256, f"{float(rendition.duration_s):.3f}")


def seal_rendition(session: Session, rendition: Rendition, revision_sha256: str) -> None:
    """Seal a rendition as it is stored (nothing when no key is set)."""
    if (key := key_of(session)) is not None:
        rendition.seal = rendition_seal(key, rendition, revision_sha256)


def check_rendition(session: Session, rendition: Rendition, revision: Revision) -> None:
    """Raise IntegrityError unless the rendition's seal binds its path, file hash and duration to
    ``revision`` (whose hash the caller has checked). Nothing without a key."""
    key = key_of(session)
    if key is None:
        return
    if not _same(rendition.seal, rendition_seal(key, rendition, revision.sha256)):
        if rendition.seal is None:
            raise IntegrityError("piece {piece} revision {revision}: its speech rendition carries no seal ({path}); "
                                 "it was altered in the database", piece=revision.piece_id, revision=revision.number,
                                 path=rendition.path)
        raise IntegrityError("piece {piece} revision {revision}: its speech rendition has a seal that does not match "
                             "its file ({path}); it was altered in the database", piece=revision.piece_id,
                             revision=revision.number, path=rendition.path)


# --- stored payloads ------------------------------------------------------------------------------------

def payload_seal(key: bytes, delivery_id: str, payload: dict[str, Any]) -> str:
    document = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return _seal(key, "payload", delivery_id, hashlib.sha256(document.encode()).hexdigest())


def seal_payload(session: Session, delivery_id: str, payload: dict[str, Any]) -> str | None:
    """The seal to store beside a delivery's payload (None when no key is set)."""
    key = key_of(session)
    return None if key is None else payload_seal(key, delivery_id, payload)


def check_payload(session: Session, delivery_id: str, payload: dict[str, Any], seal: str | None) -> None:
    """Raise IntegrityError unless ``seal`` is the seal of this delivery's stored payload. Nothing without a key."""
    key = key_of(session)
    if key is None:
        return
    if not _same(seal, payload_seal(key, delivery_id, payload)):
        if seal is None:
            raise IntegrityError("delivery {delivery}: its stored payload carries no seal; it was written or edited "
                                 "in the database, not by loa", delivery=delivery_id)
        raise IntegrityError("delivery {delivery}: its stored payload does not match its seal; it was written or "
                             "edited in the database, not by loa", delivery=delivery_id)


# --- emergencies -----------------------------------------------------------------------------------------

def emergency_seal(key: bytes, emergency_id: int, content: dict[str, Any]) -> str:
    """The seal of an emergency: its id and what it says, to whom, when and by whom (``content``, plain data)."""
    document = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return _seal(key, "emergency", emergency_id, hashlib.sha256(document.encode()).hexdigest())


def speech_seal(key: bytes, emergency_seal_value: str, path: str, sha256: str, duration_s: float) -> str:
    """The seal of what an emergency's loudspeakers play, bound to the emergency's own seal."""
    return _seal(key, "emergency-speech", emergency_seal_value, path, sha256, f"{float(duration_s):.3f}")


def check_emergency(session: Session, emergency_id: int, content: dict[str, Any], seal: str | None) -> None:
    """Raise IntegrityError unless ``seal`` is the seal of this emergency as stored. Nothing without a key."""
    key = key_of(session)
    if key is None:
        return
    if not _same(seal, emergency_seal(key, emergency_id, content)):
        if seal is None:
            raise IntegrityError("emergency {emergency}: the stored emergency carries no seal; it was written or "
                                 "edited in the database, not by loa", emergency=emergency_id)
        raise IntegrityError("emergency {emergency}: the stored emergency does not match its seal; it was written or "
                             "edited in the database, not by loa", emergency=emergency_id)


def check_speech(session: Session, emergency_id: int, emergency_seal_value: str | None, path: str, sha256: str,
                 duration_s: float, seal: str | None) -> None:
    """Raise IntegrityError unless ``seal`` binds this loudspeaker audio to the emergency. Nothing without a key."""
    key = key_of(session)
    if key is None:
        return
    if not _same(seal, speech_seal(key, emergency_seal_value or "", path, sha256, duration_s)):
        raise IntegrityError("emergency {emergency}: its loudspeaker audio ({path}) does not match its seal; it was "
                             "edited in the database, not by loa", emergency=emergency_id, path=path)


# --- bulletins sent down ---------------------------------------------------------------------------------

def bulletin_seal(key: bytes, bulletin_id: int, content: dict[str, Any]) -> str:
    """The seal of a bulletin sent down: its id and which revision and hash went where, at which level, by whom."""
    document = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return _seal(key, "bulletin", bulletin_id, hashlib.sha256(document.encode()).hexdigest())


def check_bulletin(session: Session, bulletin_id: int, content: dict[str, Any], seal: str | None) -> None:
    """Raise IntegrityError unless ``seal`` is the seal of this bulletin as stored. Nothing without a key."""
    key = key_of(session)
    if key is None:
        return
    if not _same(seal, bulletin_seal(key, bulletin_id, content)):
        raise IntegrityError("bulletin {bulletin}: what was sent down no longer matches its seal; it was written or "
                             "edited in the database, not by loa", bulletin=bulletin_id)


# --- audit verify and upgrades ------------------------------------------------------------------------

def approval_problems(session: Session) -> list[str]:
    """Every approved piece whose approval differs from its last ``piece.approve`` audit entry, or (with a
    key) whose approval seal does not hold; for ``loa audit verify``, after the chain itself is checked."""
    from content.pieces import content_hash, content_of

    latest: dict[str, AuditEvent] = {}
    retired: set[str] = set()
    for event in session.scalars(select(AuditEvent).where(AuditEvent.action.in_(("piece.approve", "piece.retire")))
                                 .order_by(AuditEvent.id)):
        if event.action == "piece.retire":
            retired.add(event.subject)
        else:
            latest[event.subject] = event
    problems = []
    pieces = session.scalars(select(Piece).where(Piece.approved_revision_id.is_not(None)).order_by(Piece.id))
    for piece in pieces:
        if f"piece:{piece.id}" in retired and piece.state != "retired":
            problems.append(f"piece {piece.id}: retired in the audit log but {piece.state} in the database")
        revision = session.get(Revision, piece.approved_revision_id)
        if revision is None:
            problems.append(f"piece {piece.id}: its approved revision {piece.approved_revision_id} is missing")
            continue
        actual = content_hash(content_of(revision))
        event = latest.get(f"piece:{piece.id}")
        if event is None:
            problems.append(f"piece {piece.id}: marked approved, but the audit log holds no approval of it")
        elif (event.details.get("revision_id"), event.details.get("sha256")) != (revision.id, actual):
            problems.append(f"piece {piece.id}: approved revision {revision.id} with content sha256 {actual[:12]}…, "
                            f"but audit entry {event.id} approved revision {event.details.get('revision_id')} "
                            f"with sha256 {str(event.details.get('sha256'))[:12]}…")
        elif actual != piece.approved_sha256:
            problems.append(f"piece {piece.id}: its content no longer matches the approved sha256")
        try:
            check_approval(session, piece, revision, actual)
        except IntegrityError as error:
            problems.append(str(error))
    return problems


def seal_existing(session: Session) -> dict[str, int]:
    """Seal the reviews and renditions stored before seals existed (once, after upgrading; the admin vouches
    for them): each review whose stored hashes agree with its revision's content, each rendition whose file
    matches its hash. Rows that disagree stay unsealed (so refused at push) and are counted as ``refused``."""
    from pathlib import Path

    from content.pieces import content_hash, content_of
    from content.render.renditions import file_sha256

    key = key_of(session)
    if key is None:
        raise ConfigError("LOA_AUDIT_KEY: no audit key is set, so there is nothing to seal with; set "
                          "LOA_AUDIT_KEY or run loa init (which creates var/audit.key)")
    counts = {"reviews": 0, "renditions": 0, "refused": 0}
    for review in session.scalars(select(Review).where(Review.seal.is_(None))):
        revision = session.get(Revision, review.revision_id)
        if revision is None or not content_hash(content_of(revision)) == revision.sha256 == review.sha256:
            counts["refused"] += 1
            continue
        review.seal = review_seal(key, review, revision.piece_id, review.sha256)
        counts["reviews"] += 1
    for rendition in session.scalars(select(Rendition).where(Rendition.seal.is_(None))):
        revision = session.get(Revision, rendition.revision_id)
        path = Path(rendition.path)
        if revision is None or not path.is_file() or file_sha256(path) != rendition.sha256:
            counts["refused"] += 1
            continue
        rendition.seal = rendition_seal(key, rendition, revision.sha256)
        counts["renditions"] += 1
    return counts


# --- key rotation -------------------------------------------------------------------------------------

def reseal(session: Session, old: bytes, new: bytes) -> dict[str, int]:
    """Re-seal under ``new`` every review and rendition whose seal holds under ``old`` (``loa audit
    rotate-key``). A seal that does not hold is left as it is, so what was refused stays refused, and is
    counted as ``kept_broken``; unsealed rows stay unsealed."""
    counts = {"reviews": 0, "renditions": 0, "kept_broken": 0}
    for review, piece_id in session.execute(select(Review, Revision.piece_id).join(
            Revision, Revision.id == Review.revision_id).where(Review.seal.is_not(None))):
        if _same(review.seal, review_seal(old, review, piece_id, review.sha256)):
            review.seal = review_seal(new, review, piece_id, review.sha256)
            counts["reviews"] += 1
        else:
            counts["kept_broken"] += 1
    for rendition, revision_sha256 in session.execute(select(Rendition, Revision.sha256).join(
            Revision, Revision.id == Rendition.revision_id).where(Rendition.seal.is_not(None))):
        if _same(rendition.seal, rendition_seal(old, rendition, revision_sha256)):
            rendition.seal = rendition_seal(new, rendition, revision_sha256)
            counts["renditions"] += 1
        else:
            counts["kept_broken"] += 1
    return counts
