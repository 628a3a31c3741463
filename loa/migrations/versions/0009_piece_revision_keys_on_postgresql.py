"""add the pieces → revisions foreign keys that the first schema left out on PostgreSQL

They are ``use_alter`` keys (pieces and revisions point at each other), which CREATE TABLE
includes on SQLite but leaves for a later ALTER on PostgreSQL; this is that ALTER.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KEYS = ("fk_pieces_current_revision", "current_revision_id"), ("fk_pieces_approved_revision", "approved_revision_id")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite created them with the table
    for name, column in KEYS:
        op.create_foreign_key(name, "pieces", "revisions", [column], ["id"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _column in KEYS:
        op.drop_constraint(name, "pieces", type_="foreignkey")
