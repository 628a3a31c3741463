"""revision slogan: a per-piece mark that the piece is a slogan (khẩu hiệu), made into an A3 poster by print outlets

Existing revisions are not slogans (``0``); the mark is left out of the content hash when unset, so their
hashes and approvals stay as they were.

Revision ID: 0020
Revises: 0016
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slogan", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("revisions", schema=None) as batch_op:
        batch_op.drop_column("slogan")
