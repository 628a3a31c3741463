"""plan requests: changes that may alter what airs, queued for the scheduler leader's re-plan

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import content.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', content.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('piece_id', sa.Integer(), nullable=True),
    sa.Column('stations', sa.JSON(), nullable=True),
    sa.Column('outlets', sa.JSON(), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('done_at', content.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unplaced', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_requests'))
    )
    op.create_index(op.f('ix_plan_requests_piece_id'), 'plan_requests', ['piece_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_plan_requests_piece_id'), table_name='plan_requests')
    op.drop_table('plan_requests')
