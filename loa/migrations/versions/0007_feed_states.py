"""feed states: ETag and Last-Modified per polled feed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content.db

revision = '0007'
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feed_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('etag', sa.String(length=300), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('checked_at', content.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_result', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feed_states')),
    sa.UniqueConstraint('url', name=op.f('uq_feed_states_url'))
    )


def downgrade() -> None:
    op.drop_table('feed_states')
