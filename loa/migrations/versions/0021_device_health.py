"""device health: what was last heard from the device behind each outlet (edge and http heartbeats, probes)

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.db import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_health",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("outlet", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("beat", sa.JSON(), nullable=False),
        sa.Column("fault", sa.Text(), nullable=True),
        sa.Column("alerted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["station_id"], ["stations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_device_health_outlet", "device_health", ["station_id", "outlet"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_device_health_outlet", table_name="device_health")
    op.drop_table("device_health")
