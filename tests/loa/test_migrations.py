"""The Alembic migrations create exactly the schema the models describe, and upgrading is idempotent."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import content.models  # noqa: F401 - registers tables
import scheduler.models  # noqa: F401 - registers tables
from content.db import Base
from loa import database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path) -> str:
    """An empty database on each engine loa supports: the migrations must build the same schema on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'm.db'}"
    return request.getfixturevalue("postgres_url")


def test_latest_migration_matches_the_models(empty_url):
    engine = database.open_engine(empty_url)
    database.upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_twice_changes_nothing(empty_url):
    engine = database.open_engine(empty_url)
    database.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    database.upgrade(engine)
    assert set(inspect(engine).get_table_names()) == tables
    engine.dispose()
    assert {"pieces", "revisions", "reviews", "audit_events", "deliveries", "airings"} <= tables
