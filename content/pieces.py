"""The review workflow of pieces: add, edit (a new revision), submit, approve, reject, retire."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from content import audit, scope, seals
from content.errors import InputError, IntegrityError, NotAllowed, NotFound, Stale, StateError
from content.models import CHANNELS, LEVELS, Piece, PieceState, Review, Revision, RevisionStation, User
from content.text import clean_text
from content.users import require_role

MAX_TITLE = 300
MAX_CAMPAIGN = 64
MAX_BODY = 100_000  # characters; a bulletin is a few hundred words, a long article a few thousand
MAX_ID = 2**31 - 1  # the largest id every supported database stores
MAX_SLOGAN = 400  # characters of a slogan's body: still large type on an A3 poster


@dataclass(frozen=True)
class PieceContent:
    """Everything a revision holds, as typed by an editor; all of it is covered by the hash."""

    title: str
    body: str
    campaign: str | None = None
    channels: tuple[str, ...] = CHANNELS
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    priority: int = 5
    #: One of :data:`content.models.LEVELS`: normal, priority (leads its programs), emergency (never planned).
    level: str = "normal"
    #: A slogan (khẩu hiệu): a short piece that print outlets also make into an A3 poster.
    slogan: bool = False
    audio_sha256: str | None = None
    image_sha256: str | None = None
    #: Station codes the piece targets, ``("*",)`` for every station; None: the author's whole scope.
    stations: tuple[str, ...] | None = None
    # Only for error messages: where the content came from (a file name, a feed item).
    origin: str | None = field(default=None, compare=False)

    def checked(self) -> PieceContent:
        """The same content in NFC with surrounding space trimmed, or an InputError naming the field."""
        def where(name: str) -> str:
            return f"{self.origin}: {name}" if self.origin else name

        for name in ("title", "body", "campaign"):
            if "\x00" in (getattr(self, name) or ""):
                raise InputError("contains a NUL character (\\0), which no text holds; remove it", where=where(name))
        title = clean_text(self.title)
        body = clean_text(self.body)
        if not title:
            raise InputError("the title is empty", where=where("title"))
        if len(title) > MAX_TITLE:
            raise InputError("the title has {count} characters; at most {limit}", where=where("title"),
                             count=len(title), limit=MAX_TITLE)
        if not body:
            raise InputError("the body is empty", where=where("body"))
        if len(body) > MAX_BODY:
            raise InputError("the body has {count} characters; at most {limit}", where=where("body"),
                             count=len(body), limit=MAX_BODY)
        unknown = sorted(set(self.channels) - set(CHANNELS))
        if unknown or not self.channels:
            raise InputError("channels must be some of {known}; got {given}", where=where("channels"),
                             known=", ".join(CHANNELS), given=", ".join(self.channels))
        for name in ("valid_from", "valid_until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InputError("a time zone is required", where=where(name))
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise InputError("valid_until must be after valid_from", where=where("valid_until"))
        if self.slogan and len(body) > MAX_SLOGAN:
            raise InputError("a slogan has at most {limit} characters; this body has {count}", where=where("body"),
                             limit=MAX_SLOGAN, count=len(body))
        if not 1 <= self.priority <= 9:
            raise InputError("priority must be between 1 and 9; got {priority}", where=where("priority"),
                             priority=self.priority)
        if self.level not in LEVELS:
            raise InputError("level must be {known}; got {given}", where=where("level"), known=LEVELS,
                             given=str(self.level))
        campaign = clean_text(self.campaign or "") or None
        if campaign and len(campaign) > MAX_CAMPAIGN:
            raise InputError("a campaign code has at most {limit} characters", where=where("campaign"),
                             limit=MAX_CAMPAIGN)
        channels = tuple(c for c in CHANNELS if c in self.channels)
        valid_from = self.valid_from.astimezone(UTC) if self.valid_from else None
        valid_until = self.valid_until.astimezone(UTC) if self.valid_until else None
        stations = None if self.stations is None else scope.normalized(self.stations, where=where("stations"))
        return replace(self, title=title, body=body, campaign=campaign, channels=channels,
                       valid_from=valid_from, valid_until=valid_until, stations=stations)


def content_of(revision: Revision) -> PieceContent:
    """The content a stored revision holds."""
    return PieceContent(**{f.name: getattr(revision, f.name) for f in fields(PieceContent) if f.name != "origin"})


def content_hash(content: PieceContent) -> str:
    """SHA-256 of the canonical JSON of ``content``: what an approval vouches for."""
    document: dict[str, Any] = {}
    for f in fields(PieceContent):
        if f.name == "origin":
            continue
        value = getattr(content, f.name)
        if f.name == "stations" and (value is None or tuple(value) == scope.EVERYWHERE):
            continue  # every station: left out, so revisions hashed before pieces had stations keep their hash
        if f.name == "slogan" and not value:
            continue  # likewise: revisions hashed before the slogan mark keep their hash
        if f.name == "level":
            # Hashed as the urgent flag it replaced, so revisions approved before levels keep their hash (a
            # priority piece is what an urgent one was); emergency, which had no flag, is hashed by name.
            document["urgent"] = value == "priority"
            if value not in ("normal", "priority"):
                document["level"] = value
            continue
        if isinstance(value, datetime):
            value = value.astimezone(UTC).isoformat()  # the database gives times back in UTC
        elif isinstance(value, tuple | list):
            value = list(value)
        document[f.name] = value
    payload = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _new_revision(session: Session, piece: Piece, content: PieceContent, author: User, now: datetime) -> Revision:
    number = 1 + (session.scalar(
        select(Revision.number).where(Revision.piece_id == piece.id).order_by(Revision.number.desc()).limit(1)
    ) or 0)
    revision = Revision(
        piece_id=piece.id, number=number, title=content.title, body=content.body, campaign=content.campaign,
        channels=list(content.channels), valid_from=content.valid_from, valid_until=content.valid_until,
        priority=content.priority, level=content.level, slogan=content.slogan, audio_sha256=content.audio_sha256,
        image_sha256=content.image_sha256, sha256=content_hash(content), created_by_id=author.id,
        created_at=now, targets=[RevisionStation(station=code) for code in content.stations or scope.EVERYWHERE],
    )
    session.add(revision)
    session.flush()
    piece.current_revision = revision  # the relationship, not just the id: later reads in this session see it
    piece.updated_at = now
    return revision


def add_piece(
    session: Session, content: PieceContent, *, author: User, now: datetime, source_ref: str | None = None
) -> Piece:
    """Store a new piece as a draft with its first revision."""
    require_role(author, "editor", "approver")
    content = content.checked()
    if content.stations is None:
        content = replace(content, stations=scope.scope_of(author))
    scope.require_covers(author, content.stations or (), "tin mới")
    piece = Piece(state=PieceState.DRAFT, author_id=author.id, source_ref=source_ref, created_at=now, updated_at=now,
                  centre=scope.home(author))
    session.add(piece)
    session.flush()
    revision = _new_revision(session, piece, content, author, now)
    audit.record(session, actor=author.name, action="piece.create", subject=f"piece:{piece.id}", at=now,
                 details={"revision": revision.number, "sha256": revision.sha256, "title": content.title,
                          "stations": list(revision.stations)})
    return piece


def get_piece(session: Session, piece_id: int, actor: User | None = None) -> Piece:
    """The piece with ``piece_id``, with its revisions loaded, or NotFound; with an ``actor``, NotAllowed
    unless the actor's scope covers every station the piece targets (the one check of every action)."""
    if not 1 <= piece_id <= MAX_ID:  # a bigger number overflows the database's integer, and is no piece
        raise NotFound("no piece with id {id}", id=piece_id, hint="see `loa piece list`")
    piece = session.get(Piece, piece_id, options=[joinedload(Piece.current_revision),
                                                  joinedload(Piece.approved_revision)])
    if piece is None:
        raise NotFound("no piece with id {id}", id=piece_id, hint="see `loa piece list`")
    if actor is not None:
        scope.require_reaches(actor, piece, f"tin {piece_id}")
        scope.require_covers(actor, scope.piece_stations(piece), f"tin {piece_id}", piece.centre)
    return piece


def list_pieces(session: Session, states: Iterable[str] | None = None, actor: User | None = None) -> list[Piece]:
    """Pieces, newest first, optionally only those in ``states`` and only those ``actor``'s scope covers."""
    query = select(Piece).options(joinedload(Piece.current_revision)).order_by(Piece.id.desc())
    if actor is not None:
        query = query.where(scope.visible_clause(actor))
    if states:
        query = query.where(Piece.state.in_(list(states)))
    return list(session.scalars(query).unique())


def edit_piece(session: Session, piece_id: int, changes: dict[str, Any], *, actor: User, now: datetime) -> Revision:
    """A new revision with ``changes`` applied; an approved piece keeps airing its approved
    revision until the new one is approved."""
    require_role(actor, "editor", "approver")
    piece = get_piece(session, piece_id, actor)
    if piece.state == PieceState.RETIRED:
        raise StateError("piece {id} is retired; retired pieces cannot be edited", id=piece_id)
    assert piece.current_revision is not None
    unknown = sorted(set(changes) - {f.name for f in fields(PieceContent)})
    if unknown:
        raise InputError("unknown field {name!r}", where=unknown[0], name=unknown[0])
    content = replace(content_of(piece.current_revision), **changes).checked()
    scope.require_covers(actor, content.stations or (), f"bản sửa của tin {piece_id}", piece.centre)
    if content_hash(content) == piece.current_revision.sha256:
        raise InputError("nothing changed: the edit is identical to the current revision")
    revision = _new_revision(session, piece, content, actor, now)
    piece.state = PieceState.DRAFT
    audit.record(session, actor=actor.name, action="piece.edit", subject=f"piece:{piece.id}", at=now,
                 details={"revision": revision.number, "sha256": revision.sha256, "changed": sorted(changes)})
    return revision


def submit(session: Session, piece_id: int, *, actor: User, now: datetime) -> Piece:
    """Send the current revision for review."""
    require_role(actor, "editor", "approver")
    piece = get_piece(session, piece_id, actor)
    if piece.state not in (PieceState.DRAFT, PieceState.REJECTED):
        raise StateError("piece {id} is {state}; only drafts and rejected pieces can be submitted", id=piece_id,
                         state=piece.state)
    piece.state = PieceState.SUBMITTED
    piece.updated_at = now
    audit.record(session, actor=actor.name, action="piece.submit", subject=f"piece:{piece.id}", at=now,
                 details={"revision_id": piece.current_revision_id})
    return piece


_DECISION_ACTIONS = {PieceState.APPROVED: "piece.approve", PieceState.REJECTED: "piece.reject"}


@dataclass(frozen=True)
class Seen:
    """The revision a reviewer had in front of them: its id and, optionally, its SHA-256."""

    revision_id: int | None = None
    sha256: str | None = None


def _check_seen(piece: Piece, revision: Revision, seen: Seen | None) -> None:
    if seen is None:
        return
    if (seen.revision_id is not None and seen.revision_id != revision.id) or \
            (seen.sha256 is not None and seen.sha256.strip().lower() != revision.sha256):
        shown = f"revision id {seen.revision_id}" if seen.revision_id is not None else f"sha256 {seen.sha256}"
        raise Stale(f"piece {piece.id} changed since it was opened: you saw {shown}, it is now revision "
                    f"{revision.number} (id {revision.id}, sha256 {revision.sha256}); read it again before "
                    "deciding", piece_id=piece.id, seen=(seen.revision_id, seen.sha256),
                    current=(revision.id, revision.sha256))


def _decide(session: Session, piece_id: int, decision: str, *, actor: User, now: datetime, note: str,
            seen: Seen | None) -> Piece:
    require_role(actor, "approver")
    piece = get_piece(session, piece_id, actor)
    revision = session.get(Revision, piece.current_revision_id)
    assert revision is not None
    if actor.id in (piece.author_id, revision.created_by_id):
        raise NotAllowed("{name} wrote piece {id}; another approver must review it", name=actor.name, id=piece_id)
    if piece.state != PieceState.SUBMITTED:
        raise StateError("piece {id} is {state}; only submitted pieces can be reviewed", id=piece_id, state=piece.state)
    _check_seen(piece, revision, seen)
    if content_hash(content_of(revision)) != revision.sha256:
        raise IntegrityError("revision {revision} of piece {id} does not match its own hash; it was altered in "
                             "the database", revision=revision.id, id=piece_id)
    review = Review(revision_id=revision.id, reviewer_id=actor.id, decision=decision, note=note,
                    sha256=revision.sha256, created_at=now)
    seals.seal_review(session, review, piece.id)
    session.add(review)
    if decision == PieceState.APPROVED:
        piece.approved_revision = revision
        piece.approved_sha256 = revision.sha256
    piece.state = decision
    piece.updated_at = now
    audit.record(session, actor=actor.name, action=_DECISION_ACTIONS[decision],
                 subject=f"piece:{piece.id}", at=now,
                 details={"revision_id": revision.id, "sha256": revision.sha256, "note": note})
    return piece


def approve(session: Session, piece_id: int, *, actor: User, now: datetime, note: str = "",
            seen: Seen | None = None) -> Piece:
    """Approve the submitted revision; its hash is stored, sealed, and checked again before every push.

    ``seen`` names the revision the approver read; if the piece changed since, Stale is raised.
    """
    return _decide(session, piece_id, PieceState.APPROVED, actor=actor, now=now, note=clean_text(note), seen=seen)


def reject(session: Session, piece_id: int, *, actor: User, now: datetime, note: str,
           seen: Seen | None = None) -> Piece:
    """Send the submitted revision back to its author with a note saying why."""
    if not clean_text(note):
        raise InputError("a rejection needs a note saying why", where="note")
    return _decide(session, piece_id, PieceState.REJECTED, actor=actor, now=now, note=clean_text(note), seen=seen)


def retire(session: Session, piece_id: int, *, actor: User, now: datetime, note: str = "") -> Piece:
    """Withdraw a piece: it is never planned or pushed again."""
    require_role(actor, "approver", "editor")
    piece = get_piece(session, piece_id, actor)
    if piece.state == PieceState.RETIRED:
        raise StateError("piece {id} is already retired", id=piece_id)
    piece.state = PieceState.RETIRED
    piece.updated_at = now
    audit.record(session, actor=actor.name, action="piece.retire", subject=f"piece:{piece.id}", at=now,
                 details={"note": clean_text(note)})
    return piece


def airable_revisions(session: Session) -> list[Revision]:
    """The approved revision of every piece that is not retired, oldest piece first."""
    query = (
        select(Revision)
        .join(Piece, Piece.approved_revision_id == Revision.id)
        .where(Piece.state != PieceState.RETIRED)
        .order_by(Revision.piece_id)
    )
    return list(session.scalars(query))


def retired_among(session: Session, piece_ids: Iterable[int]) -> set[int]:
    """Which of ``piece_ids`` have been retired (withdrawn) since they were pushed."""
    ids = set(piece_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Piece.id).where(Piece.id.in_(ids), Piece.state == PieceState.RETIRED)))


def check_airable(session: Session, revision_id: int, at: datetime) -> str | None:
    """Why the revision must not go out at ``at``, or None when it may.

    Raises IntegrityError when the stored content no longer matches the approved hash: that is
    tampering, not workflow, and the caller must refuse the whole push.
    """
    revision = session.get(Revision, revision_id)
    if revision is None:
        return f"revision {revision_id} no longer exists"
    piece = session.get(Piece, revision.piece_id)
    assert piece is not None
    if piece.state == PieceState.RETIRED:
        return f"piece {piece.id} was retired"
    if piece.approved_revision_id != revision.id:
        return f"revision {revision.number} of piece {piece.id} is not the approved one"
    actual = content_hash(content_of(revision))
    if actual != piece.approved_sha256 or revision.sha256 != piece.approved_sha256:
        raise IntegrityError("piece {id} revision {number}: stored content does not match the approved SHA-256; "
                             "it was altered after approval", id=piece.id, number=revision.number)
    seals.check_approval(session, piece, revision, actual)  # the hashes above can be recomputed; the seal cannot
    if revision.valid_until is not None and revision.valid_until <= at:
        return f"piece {piece.id} expired at {revision.valid_until.isoformat()}"
    return None
