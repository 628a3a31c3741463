"""The tables of the scheduler: stations, campaigns, slots, deliveries (the outbox), airings, emergencies and the
health of the devices behind each outlet."""

from __future__ import annotations

import itertools
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from content.db import Base, UTCDateTime


class DeliveryState:
    """Where a delivery is in the outbox.

    pending → sending → delivered; a transient failure puts it back to pending with a later
    ``next_attempt_at``; ``dead`` after a permanent error or too many attempts; ``refused``
    when integrity checks failed; ``missed`` when its slot passed beyond the grace period;
    ``superseded`` when a newer delivery of the same running board rotation replaced it before it
    went out (one that did go out stays ``delivered``, with ``superseded_at`` set).
    """

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    DEAD = "dead"
    REFUSED = "refused"
    MISSED = "missed"
    SUPERSEDED = "superseded"
    FINAL = ("delivered", "dead", "refused", "missed", "superseded")


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
    #: The commune centre it belongs to (content.centres); None without a centres.toml.
    centre: Mapped[str | None] = mapped_column(String(16))


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
    #: The centre that runs the campaign (its results roll up there); None: the root.
    centre: Mapped[str | None] = mapped_column(String(16))


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
    #: The live programs the slot relays (``scheduler.config.RelaySpec`` as dicts), None for none.
    relays: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)


#: The deliveries the one-per-instance rule holds for: neither superseded nor withdrawals.
LIVE_PUSH = "superseded_at IS NULL AND withdraws IS NULL"


class OutboxRow:
    """The columns every outbox row has, planned (:class:`Delivery`) or emergency (:class:`EmergencyDelivery`):
    its state, attempts and lease, what the receiver answered, and the payload of the first attempt."""

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


#: Counts up from a random start in each process: the first 8 hex digits of the delivery ids it makes.
_SEQUENCE = itertools.count(secrets.randbits(32))


def new_delivery_id() -> str:
    """A new delivery's id: 32 hex digits, 8 counting up then 24 random ones (96 bits: unique across processes).

    Ids made one after another sort together, so a plan's rows go to one end of each index instead of random
    places in it (a national week plans about a tenth faster, bench/plan_national.py); and they still differ in
    their first digits, which editors type to name a delivery (``loa delivery retry 3f2a9c10``). A UUIDv7 would
    start every id of a plan with the same 12 digits of its millisecond.
    """
    return f"{next(_SEQUENCE) % 2**32:08x}{secrets.token_hex(12)}"


class Delivery(OutboxRow, Base):
    """One slot instance on one outlet of one station: the unit the outbox pushes.

    ``id`` doubles as the idempotency key receivers see, so it never changes once created. A running
    board rotation whose content changed is pushed again as a new delivery of the same instance
    (``replaces`` names the one it supersedes, which gets ``superseded_at``); only one delivery per
    instance is not superseded.

    A withdrawal is a delivery too (``withdraws`` names the delivery whose articles it takes down once
    their piece is retired; ``scheduler.dispatch.withdrawals``): it goes through the same outbox, with its
    own id, due at once, starting and ending when it was asked for, and with no airings of its own.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("uq_deliveries_instance", "station_id", "outlet", "start_at", unique=True,
              sqlite_where=text(LIVE_PUSH), postgresql_where=text(LIVE_PUSH)),
        Index("ix_deliveries_due", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    outlet: Mapped[str] = mapped_column(String(16))
    slot_name: Mapped[str] = mapped_column(String(100))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When an editor last asked for a retry; the grace period then counts from this moment.
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The delivery of the same instance this one supersedes (a running board rotation pushed again).
    replaces: Mapped[str | None] = mapped_column(ForeignKey("deliveries.id", name="fk_deliveries_replaces"))
    #: When a newer delivery of the same instance took this one's place.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: For a withdrawal: the delivery whose posts or articles it takes down.
    withdraws: Mapped[str | None] = mapped_column(ForeignKey("deliveries.id", name="fk_deliveries_withdraws"),
                                                  index=True)

    station: Mapped[Station] = relationship()
    airings: Mapped[list[Airing]] = relationship(
        back_populates="delivery", order_by="Airing.position", cascade="all, delete-orphan"
    )


class Airing(Base):
    """A revision placed in a delivery at a position. ``removed`` airings are kept as
    tombstones so a re-plan does not put back what an editor took out. A pin that its piece's
    approved revision cannot take (it no longer fits, expired, was withdrawn) is ``removed`` and
    still ``pinned``, with ``held`` saying why; each re-plan tries it again."""

    __tablename__ = "airings"
    # One key for the revision and its piece: an airing's piece is its revision's (not only some piece), and a
    # plan's half a million airings pay one key check each for both (on PostgreSQL a check is a trigger per row).
    __table_args__ = (ForeignKeyConstraint(["revision_id", "piece_id"], ["revisions.id", "revisions.piece_id"]),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    piece_id: Mapped[int] = mapped_column(Integer, index=True)
    revision_id: Mapped[int] = mapped_column(Integer)
    campaign: Mapped[str | None] = mapped_column(String(64))
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Why a pinned airing is held out of its program (scheduler.planning.planner_types.Held), else None.
    held: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)

    delivery: Mapped[Delivery] = relationship(back_populates="airings")


class PlanRequest(Base):
    """A change that may alter what airs, waiting for the scheduler leader to re-plan it (see
    ``scheduler.planning.triggers``): written in the transaction of the change, marked done by the re-plan.

    ``stations`` / ``outlets`` are None for "all"; ``first_day`` None for "from today". ``unplaced`` keeps,
    for the request's piece, what the re-plan could not place and why (shown after an approval).
    """

    __tablename__ = "plan_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(32))
    piece_id: Mapped[int | None] = mapped_column(Integer, index=True)
    stations: Mapped[list[str] | None] = mapped_column(JSON)
    outlets: Mapped[list[str] | None] = mapped_column(JSON)
    first_day: Mapped[date | None] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unplaced: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class EmergencyState:
    """Where an emergency is: a ``draft`` waits for someone with the right to send it; ``active`` went out and
    repeats until ``until`` (then ``expired``) or its all-clear (``cleared``; a replaced one too)."""

    DRAFT = "draft"
    ACTIVE = "active"
    CLEARED = "cleared"
    EXPIRED = "expired"
    OPEN = ("draft", "active")


class Emergency(Base):
    """An emergency bulletin (khẩn cấp): pushed at once to every outlet of the stations it targets, outside any
    plan, repeated every ``repeat_every_s`` until ``until`` or its all-clear.

    ``seal`` (content.seals.emergency_seal) binds what is said and who issued it: a row altered in the database
    is refused at push time. ``speech_*`` is what loudspeakers play (the text spoken, or the uploaded recording
    normalised), rendered once ahead of the pushes and sealed on its own.
    """

    __tablename__ = "emergencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    audio_path: Mapped[str | None] = mapped_column(String(1000))
    audio_sha256: Mapped[str | None] = mapped_column(String(64))
    stream_url: Mapped[str | None] = mapped_column(String(1000))
    #: As asked (station codes, group names, ``*``) and as resolved when issued (station codes).
    targets: Mapped[list[str]] = mapped_column(JSON)
    stations: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    repeat_every_s: Mapped[int | None] = mapped_column(Integer)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default=EmergencyState.DRAFT, index=True)
    issued_by: Mapped[str] = mapped_column(String(100))
    sent_by: Mapped[str | None] = mapped_column(String(100))
    cleared_by: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(8), default="cli")
    cap_identifier: Mapped[str | None] = mapped_column(String(500), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Pushes made after the first, and when the next one is due (None: no more repeats).
    repeats: Mapped[int] = mapped_column(Integer, default=0)
    next_push_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replaced_by: Mapped[int | None] = mapped_column(ForeignKey("emergencies.id", name="fk_emergencies_replaced_by"))
    speech_path: Mapped[str | None] = mapped_column(String(1000))
    speech_sha256: Mapped[str | None] = mapped_column(String(64))
    speech_duration_s: Mapped[float | None] = mapped_column(Float)
    speech_seal: Mapped[str | None] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class EmergencyDelivery(OutboxRow, Base):
    """One push of an emergency (``kind`` alert, its ``repeat``-th repeat, or the all-clear) to one outlet of one
    station: the emergency outbox, beside ``deliveries`` but never planned, reported as an airing or superseded.

    States and the payload discipline are those of :class:`Delivery` (``id`` is the idempotency key, the first
    attempt's payload is stored sealed and re-sent as it is), plus ``cancelled``: an alert or repeat not yet out
    when its emergency was cleared or ended.
    """

    __tablename__ = "emergency_deliveries"
    __table_args__ = (
        Index("uq_emergency_deliveries_push", "emergency_id", "station_id", "outlet", "kind", "repeat", unique=True),
        Index("ix_emergency_deliveries_due", "state", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    emergency_id: Mapped[int] = mapped_column(ForeignKey("emergencies.id"), index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    outlet: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # "alert", "all_clear" or "end" (ran out without an all-clear)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    station: Mapped[Station] = relationship()
    emergency: Mapped[Emergency] = relationship()


class DeviceHealth(Base):
    """What was last heard from the device behind one outlet of one station: a heartbeat from a ``loa edge``
    agent or an ``http`` outlet, or the answer of a probe (Icecast listeners, the Anthias API, the WordPress
    REST root). One row per (station, outlet), overwritten by each beat; states are computed from ``last_seen_at``.
    """

    __tablename__ = "device_health"
    __table_args__ = (Index("uq_device_health_outlet", "station_id", "outlet", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    outlet: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(8))  # "edge", "http" or "probe"
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the last heartbeat's fields, as sent
    fault: Mapped[str | None] = mapped_column(Text)  # the device's own last error, or why the probe failed
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the open offline alert, if any

    station: Mapped[Station] = relationship()


class EdgeDevice(Base):
    """A ``loa edge`` agent enrolled for one outlet of one station: its bearer token (hashed) and its HMAC key
    (sealed under the install's secret, never stored in clear). A revoked device is refused from then on."""

    __tablename__ = "edge_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    outlet: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key: Mapped[str] = mapped_column(Text)  # Fernet token of the device key (scheduler.devices.edges)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(100))

    station: Mapped[Station] = relationship()


class EdgeEnrolment(Base):
    """A one-time enrolment code an admin made for one outlet of one station (kept hashed)."""

    __tablename__ = "edge_enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    outlet: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_id: Mapped[int | None] = mapped_column(ForeignKey("edge_devices.id"))


class AsPlayed(Base):
    """What an edge device says it played of one item of a delivery (proof of broadcast); ``seq`` numbers the
    device's records, so a record sent twice is stored once."""

    __tablename__ = "as_played"
    __table_args__ = (Index("uq_as_played_seq", "device_id", "seq", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("edge_devices.id"))
    seq: Mapped[int] = mapped_column(Integer)
    delivery_id: Mapped[str] = mapped_column(String(32), index=True)
    item: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    played_s: Mapped[float] = mapped_column(Float)
    complete: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
