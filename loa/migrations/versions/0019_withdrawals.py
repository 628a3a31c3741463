"""withdrawals: a delivery may take down what an earlier one put up (its piece retired)

Deliveries get ``withdraws`` (the delivery whose articles or posts a withdrawal takes down); the
one-delivery-per-instance rule holds for deliveries that are neither superseded nor withdrawals.

Revision ID: 0019
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BEFORE = "superseded_at IS NULL"
AFTER = "superseded_at IS NULL AND withdraws IS NULL"


def _instance_index(where: str) -> None:
    op.create_index("uq_deliveries_instance", "deliveries", ["station_id", "outlet", "start_at"], unique=True,
                    sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade() -> None:
    op.drop_index("uq_deliveries_instance", table_name="deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdraws", sa.String(length=32), nullable=True))
        batch_op.create_foreign_key("fk_deliveries_withdraws", "deliveries", ["withdraws"], ["id"])
        batch_op.create_index("ix_deliveries_withdraws", ["withdraws"], unique=False)
    _instance_index(AFTER)


def downgrade() -> None:
    op.drop_index("uq_deliveries_instance", table_name="deliveries")
    op.execute("DELETE FROM deliveries WHERE withdraws IS NOT NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_withdraws")
        batch_op.drop_constraint("fk_deliveries_withdraws", type_="foreignkey")
        batch_op.drop_column("withdraws")
    _instance_index(BEFORE)
