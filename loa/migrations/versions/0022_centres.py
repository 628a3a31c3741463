"""centres: the tree of centres (province, districts, communes) and who and what belongs to which

A ``centres`` table synced from centres.toml (with a materialised ``path`` for subtree queries), and a ``centre``
column on users, pieces, stations and campaigns. Existing rows get none: they belong to the root, so an install
upgraded without a centres.toml behaves as before.

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_BELONGING = ("users", "pieces", "stations", "campaigns")
_INDEXED = ("users", "pieces")


def upgrade() -> None:
    op.create_table(
        "centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent", sa.String(length=16), nullable=True),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("stations", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centres")),
        sa.UniqueConstraint("code", name=op.f("uq_centres_code")),
    )
    op.create_index(op.f("ix_centres_path"), "centres", ["path"], unique=False)
    for table in _BELONGING:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("centre", sa.String(length=16), nullable=True))
            if table in _INDEXED:
                batch_op.create_index(f"ix_{table}_centre", ["centre"], unique=False)


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN in place (SQLite ≥ 3.35, PostgreSQL), not batch mode: re-creating ``users`` on
    # SQLite would drop a table that pieces and revisions point at, which its foreign keys refuse
    for table in _BELONGING:
        if table in _INDEXED:
            op.drop_index(f"ix_{table}_centre", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN centre")
    op.drop_index(op.f("ix_centres_path"), table_name="centres")
    op.drop_table("centres")
