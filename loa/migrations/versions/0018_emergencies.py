"""emergencies: the emergency bulletins and their own outbox (emergency_deliveries)

Revision ID: 0018
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.db import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "emergencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audio_path", sa.String(length=1000), nullable=True),
        sa.Column("audio_sha256", sa.String(length=64), nullable=True),
        sa.Column("stream_url", sa.String(length=1000), nullable=True),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("stations", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("repeat_every_s", sa.Integer(), nullable=True),
        sa.Column("until", UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("sent_by", sa.String(length=100), nullable=True),
        sa.Column("cleared_by", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("cap_identifier", sa.String(length=500), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.Column("repeats", sa.Integer(), nullable=False),
        sa.Column("next_push_at", UTCDateTime(), nullable=True),
        sa.Column("replaced_by", sa.Integer(), nullable=True),
        sa.Column("speech_path", sa.String(length=1000), nullable=True),
        sa.Column("speech_sha256", sa.String(length=64), nullable=True),
        sa.Column("speech_duration_s", sa.Float(), nullable=True),
        sa.Column("speech_seal", sa.String(length=64), nullable=True),
        sa.Column("seal", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["replaced_by"], ["emergencies.id"], name="fk_emergencies_replaced_by"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergencies")),
    )
    op.create_index(op.f("ix_emergencies_state"), "emergencies", ["state"], unique=False)
    op.create_index(op.f("ix_emergencies_cap_identifier"), "emergencies", ["cap_identifier"], unique=False)
    op.create_table(
        "emergency_deliveries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("emergency_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("outlet", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("payload_seal", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["emergency_id"], ["emergencies.id"],
                                name=op.f("fk_emergency_deliveries_emergency_id_emergencies")),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"],
                                name=op.f("fk_emergency_deliveries_station_id_stations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_deliveries")),
    )
    op.create_index(op.f("ix_emergency_deliveries_emergency_id"), "emergency_deliveries", ["emergency_id"],
                    unique=False)
    op.create_index("uq_emergency_deliveries_push", "emergency_deliveries",
                    ["emergency_id", "station_id", "outlet", "kind", "repeat"], unique=True)
    op.create_index("ix_emergency_deliveries_due", "emergency_deliveries", ["state", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("emergency_deliveries")
    op.drop_table("emergencies")
