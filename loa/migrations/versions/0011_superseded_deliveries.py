"""a running board rotation is pushed again as a new delivery that supersedes the old one

Deliveries get ``replaces`` (the delivery of the same instance a new one supersedes) and
``superseded_at``; the one-delivery-per-instance rule now holds for deliveries not superseded.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LIVE = "superseded_at IS NULL"


def upgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deliveries_instance", type_="unique")
        batch_op.add_column(sa.Column("replaces", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", content.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key("fk_deliveries_replaces", "deliveries", ["replaces"], ["id"])
    op.create_index("uq_deliveries_instance", "deliveries", ["station_id", "outlet", "start_at"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))


def downgrade() -> None:
    op.drop_index("uq_deliveries_instance", table_name="deliveries")
    op.execute("DELETE FROM airings WHERE delivery_id IN (SELECT id FROM deliveries WHERE superseded_at IS NOT NULL)")
    op.execute("UPDATE deliveries SET replaces = NULL")
    op.execute("DELETE FROM deliveries WHERE superseded_at IS NOT NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_deliveries_replaces", type_="foreignkey")
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("replaces")
        batch_op.create_unique_constraint("uq_deliveries_instance", ["station_id", "outlet", "start_at"])
