"""trust seals: an HMAC on each review, rendition and stored payload, under the audit key

Rows written before this migration carry no seal; with a key set, pushes refuse them until an admin
runs ``loa audit seal-approvals`` once (README, "Seals").

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = (("reviews", "seal"), ("renditions", "seal"), ("deliveries", "payload_seal"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=64), nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
