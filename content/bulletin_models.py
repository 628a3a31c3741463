"""The tables of bulletins sent down (issue 19): one row per sending, one receipt per commune that receives it.

The workflow lives in ``scheduler.bulletins``; the tables are content's, so that the scope (``content.scope``) can
let a commune read a piece sent down to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from content.db import Base, UTCDateTime


class ReceiptState:
    """What a commune did with a bulletin sent down to it.

    normal:    received → (appraised →) accepted | scheduled | declined
    priority:  planned (at once, nothing to do)
    emergency: alerted (the emergency went out to its stations)

    ``scheduled`` is accepted with the chosen programs pinned. Only ``accepted``, ``scheduled`` and ``planned``
    put the bulletin in the commune's plan.
    """

    RECEIVED = "received"
    APPRAISED = "appraised"
    ACCEPTED = "accepted"
    SCHEDULED = "scheduled"
    DECLINED = "declined"
    PLANNED = "planned"
    ALERTED = "alerted"
    OPEN = ("received", "appraised")
    IN_PLAN = ("accepted", "scheduled", "planned")


class Bulletin(Base):
    """An approved revision sent down from ``from_centre`` to the centres in ``targets`` at ``level``.

    It carries the approval with it: the revision and its content hash as approved, checked against the
    approval's seal when sent and again by every receiving plan; ``seal`` (content.seals.bulletin_seal) binds
    who sent what, where and at which level, so a row altered in the database is refused.
    """

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    piece_id: Mapped[int] = mapped_column(ForeignKey("pieces.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    from_centre: Mapped[str] = mapped_column(String(16))
    #: The centres as chosen (a district stands for its communes).
    targets: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    sent_by: Mapped[str] = mapped_column(String(80))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    emergency_id: Mapped[int | None] = mapped_column(ForeignKey("emergencies.id"))
    seal: Mapped[str | None] = mapped_column(String(64))

    receipts: Mapped[list[BulletinReceipt]] = relationship(back_populates="bulletin", order_by="BulletinReceipt.centre")


class BulletinReceipt(Base):
    """One commune's copy of a bulletin: its entry in the inbox "Bản tin cấp trên" and what was decided."""

    __tablename__ = "bulletin_receipts"
    __table_args__ = (
        UniqueConstraint("bulletin_id", "centre"),
        Index("ix_bulletin_receipts_inbox", "centre", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id"), index=True)
    #: The commune centre that received it, and the chosen centre it came through (itself, or its district).
    centre: Mapped[str] = mapped_column(String(16))
    via: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why it was declined (required), or the appraisal's note.
    reason: Mapped[str | None] = mapped_column(Text)
    appraised_by: Mapped[str | None] = mapped_column(String(80))
    appraised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The programs (delivery ids) an editor scheduled it into, for ``scheduled``.
    programs: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)

    bulletin: Mapped[Bulletin] = relationship(back_populates="receipts")
