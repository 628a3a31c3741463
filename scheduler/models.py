"""The tables of the scheduler: stations, campaigns, slots, deliveries (the outbox) and airings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from content.db import Base, UTCDateTime


class DeliveryState:
    """Where a delivery is in the outbox.

    pending → sending → delivered; a transient failure puts it back to pending with a later
    ``next_attempt_at``; ``dead`` after a permanent error or too many attempts; ``refused``
    when integrity checks failed; ``missed`` when its slot passed beyond the grace period.
    """

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"
    REFUSED = "refused"
    MISSED = "missed"
    FINAL = ("delivered", "dead", "refused", "missed")


class Station(Base):
    """One commune and its outlets (settings live in stations.toml; this row is for joins)."""

    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(100), default="")
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    outlets: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Campaign(Base):
    """A theme with a calendar window, a priority and a target of airings per day."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    yearly: Mapped[str | None] = mapped_column(String(16))
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    lead_days: Mapped[int] = mapped_column(Integer, default=0)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    per_day: Mapped[int] = mapped_column(Integer, default=0)
    outlets: Mapped[list[str]] = mapped_column(JSON, default=list)


class Slot(Base):
    """A recurring (or one-off) window on one outlet of some stations."""

    __tablename__ = "slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    outlet: Mapped[str] = mapped_column(String(16))
    stations: Mapped[list[str]] = mapped_column(JSON)
    weekdays: Mapped[list[int]] = mapped_column(JSON)
    at: Mapped[str] = mapped_column(String(5))
    length_s: Mapped[int] = mapped_column(Integer)
    once_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="config")


class Delivery(Base):
    """One slot instance on one outlet of one station: the unit the outbox pushes.

    ``id`` doubles as the idempotency key receivers see, so it never changes once created.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("station_id", "outlet", "start_at", name="uq_deliveries_instance"),
        Index("ix_deliveries_due", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    outlet: Mapped[str] = mapped_column(String(16))
    slot_name: Mapped[str] = mapped_column(String(100))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The exact channel payload of the first attempt (channels.snapshot); every retry re-sends it.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    payload_seal: Mapped[str | None] = mapped_column(String(64))  # content.seals, set when the payload is stored
    #: When an editor last asked for a retry; the grace period then counts from this moment.
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    station: Mapped[Station] = relationship()
    airings: Mapped[list[Airing]] = relationship(
        back_populates="delivery", order_by="Airing.position", cascade="all, delete-orphan"
    )


class Airing(Base):
    """A revision placed in a delivery at a position. ``removed`` airings are kept as
    tombstones so a re-plan does not put back what an editor took out."""

    __tablename__ = "airings"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    piece_id: Mapped[int] = mapped_column(ForeignKey("pieces.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id"))
    campaign: Mapped[str | None] = mapped_column(String(64))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)

    delivery: Mapped[Delivery] = relationship(back_populates="airings")
