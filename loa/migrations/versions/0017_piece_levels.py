"""piece levels: the three levels of Circular 39/2020/TT-BTTTT replace the urgent flag

``revisions.level`` is ``normal``, ``priority`` or ``emergency``; a revision that was urgent becomes
``priority`` (what urgent did: lead the programs). The content hash is unchanged by this (content.pieces
hashes ``priority`` as the old ``urgent: true``), so approvals, seals and the audit log stay valid.

On SQLite the column is dropped in place (ALTER TABLE … DROP COLUMN, SQLite 3.35 or newer) rather than by
copying the table: pieces, reviews and renditions reference revisions, and the copy's DROP TABLE would break
their foreign keys.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("level", sa.String(length=16), nullable=False, server_default="normal"))
    op.execute(sa.text("UPDATE revisions SET level = 'priority' WHERE urgent = :yes").bindparams(yes=True))
    with op.batch_alter_table("revisions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("urgent")


def downgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("urgent", sa.Boolean(), nullable=False, server_default="0"))
    # An emergency piece had no urgent flag to come from; it goes back as a normal one.
    op.execute(sa.text("UPDATE revisions SET urgent = :yes WHERE level = 'priority'").bindparams(yes=True))
    with op.batch_alter_table("revisions", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("level")
