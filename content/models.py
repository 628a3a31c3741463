"""The tables of content: users, pieces, their immutable revisions, reviews, renditions, audit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from content.db import Base, UTCDateTime

#: ``appraiser``: a member of a centre's editorial board, who appraises (thẩm định) bulletins sent down to it.
ROLES = ("editor", "approver", "admin", "appraiser")
CHANNELS = ("loudspeaker", "board", "portal", "social", "print")
#: The levels of Circular 39/2020/TT-BTTTT (the same as ``channels.LEVELS``): ``normal`` pieces are planned by
#: rank, ``priority`` ones lead every program they are valid for, ``emergency`` ones never enter the plan (they go
#: out through the emergency broadcast).
LEVELS = ("normal", "priority", "emergency")
#: Their names in the circular, for the Vietnamese texts written outside the web app's catalogs (API, CLI).
LEVEL_NAMES = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}


class PieceState:
    """States of a piece. ``approved`` pieces may air; editing one opens a new revision that
    goes through review again while the last approved revision keeps airing."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    stations: Mapped[list[str]] = mapped_column(JSON, default=list)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: A disabled account cannot sign in, and its sessions and API tokens stop working; it stays in the
    #: audit log and as the author of its pieces.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    #: The centre the user works for (content.centres); their roles reach it and the centres below it. None, or a
    #: centre no longer configured: the root.
    centre: Mapped[str | None] = mapped_column(String(16), index=True)


class Centre(Base):
    """One centre of the tree (centres.toml, synced like the stations); ``path`` makes subtree queries a prefix."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent: Mapped[str | None] = mapped_column(String(16))
    #: The codes from the root down to this centre, ``/P/D1/C1/``: its subtree is every path starting so.
    path: Mapped[str] = mapped_column(String(400), index=True)
    #: The station codes that belong to this centre itself (not those of the centres below it).
    stations: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Bulletins sent down here are appraised (thẩm định) before they may be accepted (``appraisal = true``).
    appraisal: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class Piece(Base):
    """One item of content. Its content lives in revisions; the piece holds the workflow state."""

    __tablename__ = "pieces"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source_ref: Mapped[str | None] = mapped_column(String(500), unique=True)
    current_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", use_alter=True, name="fk_pieces_current_revision")
    )
    approved_revision_id: Mapped[int | None] = mapped_column(
        ForeignKey("revisions.id", use_alter=True, name="fk_pieces_approved_revision")
    )
    approved_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The centre of its author when it was made: who may see, change and approve it, and what ``*`` airs on.
    #: None, or a centre no longer configured: the root.
    centre: Mapped[str | None] = mapped_column(String(16), index=True)

    author: Mapped[User] = relationship()
    current_revision: Mapped[Revision | None] = relationship(foreign_keys=[current_revision_id])
    approved_revision: Mapped[Revision | None] = relationship(foreign_keys=[approved_revision_id])


class Revision(Base):
    """An immutable snapshot of a piece's content; ``sha256`` covers every field that is aired."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("piece_id", "number"),
                      # what an airing's key refers to (scheduler.models.Airing)
                      Index("uq_revisions_id_piece_id", "id", "piece_id", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    piece_id: Mapped[int] = mapped_column(ForeignKey("pieces.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    campaign: Mapped[str | None] = mapped_column(String(64))
    channels: Mapped[list[str]] = mapped_column(JSON)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[int] = mapped_column(Integer, default=5)
    level: Mapped[str] = mapped_column(String(16), default="normal", server_default="normal")
    #: A slogan (khẩu hiệu): print outlets also make it into an A3 poster.
    slogan: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    audio_sha256: Mapped[str | None] = mapped_column(String(64))
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    piece: Mapped[Piece] = relationship(foreign_keys=[piece_id])
    targets: Mapped[list[RevisionStation]] = relationship(
        lazy="selectin", order_by="RevisionStation.station", cascade="all, delete-orphan")

    @property
    def stations(self) -> tuple[str, ...]:
        """The station codes this revision targets; ``("*",)`` is every station of the centre."""
        return tuple(t.station for t in self.targets)


class RevisionStation(Base):
    """One station a revision targets (``*``: every station). Part of the revision, so covered by its hash:
    moving a piece to other stations is an edit that needs approval again."""

    __tablename__ = "revision_stations"

    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), primary_key=True)
    station: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class Review(Base):
    """An approver's decision on one revision, with the hash of exactly what was decided on."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seal: Mapped[str | None] = mapped_column(String(64))  # content.seals: binds piece, revision, hash, reviewer, time

    reviewer: Mapped[User] = relationship()


class Rendition(Base):
    """What a revision became for one outlet, content-addressed by ``key``; rendered once."""

    __tablename__ = "renditions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    engine: Mapped[str] = mapped_column(String(32), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    seal: Mapped[str | None] = mapped_column(String(64))  # content.seals: binds key, revision hash, file, duration


class AuditEvent(Base):
    """One entry of the append-only audit log; ``hash`` chains it to the entry before."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(120), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(64))  # HMAC of ``hash`` with the audit key, when one is set


class AuditHead(Base):
    """The one-row checkpoint of the audit log's last entry, so cutting entries off its end is found."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    last_id: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(64))


class FeedState(Base):
    """What loa last heard from one polled feed, for conditional GET (ETag, Last-Modified)."""

    __tablename__ = "feed_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500), unique=True)
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_result: Mapped[str] = mapped_column(Text, default="")


class ApiToken(Base):
    """A bearer token another system uses for the JSON API, acting as its user; only its SHA-256 is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PasswordReset(Base):
    """A one-time link an admin makes so that a user sets a new password, or, with no user, the link that
    creates the first admin on a new installation; only its SHA-256 is kept."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class LoginSession(Base):
    """A web sign-in, referenced from the signed cookie by a random token kept here only as its SHA-256;
    ending it (logout, password change) stops a saved cookie from reading or writing anything."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_why: Mapped[str | None] = mapped_column(String(16))


class LoginThrottle(Base):
    """Failed logins counted per typed user name (``user:…``) and per client address (``addr:…``)."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CalendarLink(Base):
    """The key inside a user's calendar subscription address; a new key makes every old address stop working."""

    __tablename__ = "calendar_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


from content.bulletin_models import Bulletin, BulletinReceipt  # noqa: E402,F401 - registers bulletins' tables
