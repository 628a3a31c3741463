"""slot relays: the live programs (province or district radio) a loudspeaker slot relays by URL, with their lengths

Existing slots relay nothing (NULL); ``loa init`` writes the relays of schedule.toml here, and the planner counts
their length in the slot like a piece's.

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relays", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("slots", schema=None) as batch_op:
        batch_op.drop_column("relays")
