"""bulletins sent down: a piece's approved revision sent from a centre to the communes below (bulletins), one
receipt per commune (its inbox entry and decision), and the centres' ``appraisal`` flag (thẩm định)

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.db import UTCDateTime

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("piece_id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("from_centre", sa.String(length=16), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sent_by", sa.String(length=80), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("emergency_id", sa.Integer(), nullable=True),
        sa.Column("seal", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["piece_id"], ["pieces.id"], name=op.f("fk_bulletins_piece_id_pieces")),
        sa.ForeignKeyConstraint(["revision_id"], ["revisions.id"], name=op.f("fk_bulletins_revision_id_revisions")),
        sa.ForeignKeyConstraint(["emergency_id"], ["emergencies.id"],
                                name=op.f("fk_bulletins_emergency_id_emergencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
    )
    op.create_index(op.f("ix_bulletins_piece_id"), "bulletins", ["piece_id"], unique=False)
    op.create_table(
        "bulletin_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("centre", sa.String(length=16), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("appraised_by", sa.String(length=80), nullable=True),
        sa.Column("appraised_at", UTCDateTime(), nullable=True),
        sa.Column("programs", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(["bulletin_id"], ["bulletins.id"],
                                name=op.f("fk_bulletin_receipts_bulletin_id_bulletins")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin_receipts")),
        sa.UniqueConstraint("bulletin_id", "centre", name=op.f("uq_bulletin_receipts_bulletin_id")),
    )
    op.create_index(op.f("ix_bulletin_receipts_bulletin_id"), "bulletin_receipts", ["bulletin_id"], unique=False)
    op.create_index("ix_bulletin_receipts_inbox", "bulletin_receipts", ["centre", "state"], unique=False)
    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.add_column(sa.Column("appraisal", sa.Boolean(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("centres", schema=None) as batch_op:
        batch_op.drop_column("appraisal")
    op.drop_table("bulletin_receipts")
    op.drop_table("bulletins")
