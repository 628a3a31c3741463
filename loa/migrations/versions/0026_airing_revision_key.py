"""airings: one foreign key to (revision, piece) instead of one to each

An airing's piece must be its revision's piece, which two separate keys never said; and each key is a check per
row, half a million of them when a national week is planned (on PostgreSQL a trigger call each).

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("uq_revisions_id_piece_id", "revisions", ["id", "piece_id"], unique=True)
    with op.batch_alter_table("airings", schema=None) as batch_op:
        batch_op.drop_constraint("fk_airings_piece_id_pieces", type_="foreignkey")
        batch_op.drop_constraint("fk_airings_revision_id_revisions", type_="foreignkey")
        batch_op.create_foreign_key("fk_airings_revision_id_revisions", "revisions", ["revision_id", "piece_id"],
                                    ["id", "piece_id"])


def downgrade() -> None:
    with op.batch_alter_table("airings", schema=None) as batch_op:
        batch_op.drop_constraint("fk_airings_revision_id_revisions", type_="foreignkey")
        batch_op.create_foreign_key("fk_airings_revision_id_revisions", "revisions", ["revision_id"], ["id"])
        batch_op.create_foreign_key("fk_airings_piece_id_pieces", "pieces", ["piece_id"], ["id"])
    op.drop_index("uq_revisions_id_piece_id", table_name="revisions")
