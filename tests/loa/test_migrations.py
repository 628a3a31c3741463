"""The Alembic migrations create exactly the schema the models describe, and upgrading is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import content.models  # noqa: F401 - registers tables
import scheduler.models  # noqa: F401 - registers tables
from content.db import Base
from loa import database


def test_latest_migration_matches_the_models(tmp_path):
    engine = database.open_engine(f"sqlite:///{tmp_path / 'm.db'}")
    database.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                Base.metadata)
    assert diff == []


def test_upgrade_twice_changes_nothing(tmp_path):
    engine = database.open_engine(f"sqlite:///{tmp_path / 'm.db'}")
    database.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    database.upgrade(engine)
    assert set(inspect(engine).get_table_names()) == tables
    assert {"pieces", "revisions", "reviews", "audit_events", "deliveries", "airings"} <= tables
