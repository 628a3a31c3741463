"""Alembic environment: runs loa's migrations on the connection or URL it is given."""

from __future__ import annotations

from alembic import context

import content.models  # noqa: F401 - registers the content tables on Base.metadata
import scheduler.models  # noqa: F401 - registers the scheduler tables on Base.metadata
from content.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("loa migrations run online only: use `loa init`")
run_migrations_online()
