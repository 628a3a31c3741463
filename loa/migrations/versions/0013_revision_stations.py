"""revision stations: the stations each revision of a piece targets (``*`` for every station)

Every existing revision gets one row ``*``: pieces written before stations existed went to every
station, and keep doing so. The ``*`` is stored rather than read from an absent row, so a revision
without rows (rows deleted in SQL) targets nothing and no longer matches its approved hash, instead
of silently meaning "everywhere".

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revision_stations",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["revision_id"], ["revisions.id"],
                                name=op.f("fk_revision_stations_revision_id_revisions")),
        sa.PrimaryKeyConstraint("revision_id", "station", name=op.f("pk_revision_stations")),
    )
    with op.batch_alter_table("revision_stations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revision_stations_station"), ["station"], unique=False)
    op.execute("INSERT INTO revision_stations (revision_id, station) SELECT id, '*' FROM revisions")


def downgrade() -> None:
    with op.batch_alter_table("revision_stations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_stations_station"))
    op.drop_table("revision_stations")
